package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
)

// TestWorkspaceWideRoomAndTeam syncs, with the real binary, a workspace
// whose #general holds every user, as Rocket.Chat's default channel does,
// and whose company-wide team holds every user, most of them deactivated
// (leavers accumulate): the room's grants and the team's deactivated
// members reach the SDK in pages, because the CLI's connector child process
// answers over gRPC, whose messages stop at 4 MB. Before they were paged,
// either one answer (30,000 room members; 20,000 deactivated team members)
// failed the sync with ResourceExhausted.
func TestWorkspaceWideRoomAndTeam(t *testing.T) {
	bin := buildBinary(t)
	gen := simulator.Generate(3, simulator.Size{Users: 30000, Teams: 2, MembersPerTeam: 5, Rooms: 4, MembersPerRoom: 5})
	general := gen.Workspace.JoinEveryone()
	team := gen.Workspace.Teams[0]
	inTeam := map[string]bool{}
	for _, m := range team.Members {
		inTeam[m.UserID] = true
	}
	deactivated := 0
	for _, u := range gen.Workspace.Users {
		if u.Type == "user" && u.ID != gen.Admin.UserID && deactivated < 20000 {
			u.Active = false
		}
		if !u.Active {
			deactivated++
		}
		if !inTeam[u.ID] {
			team.Members = append(team.Members, simulator.TeamMember{UserID: u.ID})
		}
	}
	env := testenv.Start(t, gen.Workspace, simulator.Options{DisableRateLimiter: true}, "")
	dir := t.TempDir()
	c1z := filepath.Join(dir, "sync.c1z")
	cmd := exec.Command(bin, "-f", c1z, "--log-format", "json", "--log-level", "warn",
		"--sync-resource-types", "user,role,team,permission,room")
	cmd.Env = append(cleanEnv(), "BATON_BASE_URL="+env.BaseURL, "BATON_USER_ID="+gen.Admin.UserID, "BATON_AUTH_TOKEN="+gen.Admin.Token)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sync: %v\n%s", err, out)
	}
	got, err := harness.ReadC1Z(context.Background(), c1z, dir)
	if err != nil {
		t.Fatal(err)
	}
	roomMembers, teamMembers := 0, 0
	for _, id := range got.GrantIDs() {
		switch {
		case strings.HasPrefix(id, "room:"+general.ID+":member:user:"):
			roomMembers++
		case strings.HasPrefix(id, "team:"+team.ID+":member:user:"):
			teamMembers++
		}
	}
	if roomMembers != len(gen.Workspace.Users) {
		t.Errorf("%d member grants of #%s in the c1z, want every user (%d)", roomMembers, general.Name, len(gen.Workspace.Users))
	}
	if teamMembers != len(team.Members) {
		t.Errorf("%d member grants of team %s in the c1z, want every member (%d, %d of them deactivated)",
			teamMembers, team.Name, len(team.Members), deactivated)
	}
}
