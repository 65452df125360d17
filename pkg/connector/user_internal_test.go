package connector

import (
	"testing"

	"github.com/conductorone/baton-rocketchat/pkg/client"
)

// A deactivated user's profile says whether the sync lists its team
// memberships, so that no team grants never read as no teams.
func TestUserProfileSaysWhereTeamMembershipsComeFrom(t *testing.T) {
	for _, tc := range []struct {
		name        string
		active      bool
		teamsListed bool
		want        string // "" for no note
	}{
		{name: "active", active: true, want: ""},
		{name: "active, listed flag ignored", active: true, teamsListed: true, want: ""},
		{name: "deactivated, listed", active: false, teamsListed: true, want: teamMembershipsNote(true)},
		{name: "deactivated, not listed", active: false, want: teamMembershipsNote(false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := userProfile(&client.User{ID: "u1", Username: "u1", Active: tc.active}, tc.teamsListed)
			got, _ := p["team_memberships"].(string)
			if got != tc.want {
				t.Errorf("team_memberships = %q, want %q", got, tc.want)
			}
		})
	}
}

// The budget of deactivated users whose teams a sync reads: all of them, or
// the first budget in listing order.
func TestTeamsListedFor(t *testing.T) {
	for _, tc := range []struct {
		budget, rank int
		want         bool
	}{
		{budget: allDeactivated, rank: 0, want: true},
		{budget: allDeactivated, rank: 100000, want: true},
		{budget: 0, rank: 0, want: false},
		{budget: 10, rank: 9, want: true},
		{budget: 10, rank: 10, want: false},
	} {
		if got := teamsListedFor(tc.budget, tc.rank); got != tc.want {
			t.Errorf("teamsListedFor(%d, %d) = %v, want %v", tc.budget, tc.rank, got, tc.want)
		}
	}
}
