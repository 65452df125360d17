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

// TestWorkspaceWideRoom syncs, with the real binary, a workspace whose
// #general holds every user, as Rocket.Chat's default channel does: the
// room's grants reach the SDK in pages, because the CLI's connector child
// process answers over gRPC, whose messages stop at 4 MB (30,000 member
// grants in one answer are about 5 MB: the sync failed with
// ResourceExhausted before the grants were paged).
func TestWorkspaceWideRoom(t *testing.T) {
	bin := buildBinary(t)
	gen := simulator.Generate(3, simulator.Size{Users: 30000, Teams: 2, MembersPerTeam: 5, Rooms: 4, MembersPerRoom: 5})
	var general *simulator.Room
	for _, r := range gen.Workspace.Rooms {
		if r.Type == simulator.RoomPublic && !r.Archived {
			general = r
			break
		}
	}
	joined := map[string]bool{}
	for _, s := range general.Subscriptions {
		joined[s.UserID] = true
	}
	for _, u := range gen.Workspace.Users {
		if !joined[u.ID] {
			general.Subscriptions = append(general.Subscriptions, simulator.RoomSubscription{UserID: u.ID})
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
	members := 0
	for _, id := range got.GrantIDs() {
		if strings.HasPrefix(id, "room:"+general.ID+":member:user:") {
			members++
		}
	}
	if members != len(gen.Workspace.Users) {
		t.Errorf("%d member grants of #%s in the c1z, want every user (%d)", members, general.Name, len(gen.Workspace.Users))
	}
}
