package connector

import (
	"testing"

	"github.com/conductorone/baton-rocketchat/pkg/client"
)

// A deactivated user's team memberships are not listed by Rocket.Chat, and
// the profile says so rather than letting no team grants read as no teams.
func TestUserProfileSaysWhenTeamMembershipsAreNotListed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		active bool
		marked bool
	}{
		{name: "active", active: true, marked: false},
		{name: "deactivated", active: false, marked: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := userProfile(&client.User{ID: "u1", Username: "u1", Active: tc.active})
			_, marked := p["team_memberships"]
			if marked != tc.marked {
				t.Errorf("team_memberships marked %v, want %v (%v)", marked, tc.marked, p)
			}
		})
	}
}
