package connector

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/pkg/client"
)

func startPacedEnv(t *testing.T) deactivatedEnv {
	t.Helper()
	return startEnv(t, simulator.Options{RateLimitCalls: 12, RateLimitWindow: 20 * time.Millisecond}, WithAllDeactivatedTeamMemberships())
}

// The parts list is lost mid-way together with a users chunk (store
// eviction), and the server's listing changed meanwhile (a deactivated user
// in an already-read part was reactivated). The re-cut parts are shifted; a
// stored part counts only for the users it was read for, so no deactivated
// user whose profile says "listed" goes without its team grants.
func TestDeactivatedPacedPartsRecutFromAChangedListing(t *testing.T) {
	e := startPacedEnv(t)
	listed := e.listUsers(t, nil)
	reading := e.reading(t)
	ts := &teamSyncer{c: e.c}
	team0 := e.ws.Teams[0]
	r0, _ := teamResource(&client.Team{ID: team0.ID, Name: team0.Name}, e.c.httpsBase())

	// First call: cuts the parts and reads part 0.
	_, res, err := ts.Grants(context.Background(), r0, syncOpts(""))
	if err != nil {
		t.Fatal(err)
	}
	var parts [][]string
	if err := json.Unmarshal(e.localValues()[deactivatedPartKey("users")], &parts); err != nil {
		t.Fatal(err)
	}
	// Which users chunk holds each user.
	chunkOf := map[string]int{}
	for i := 0; ; i++ {
		raw, ok := e.localValues()[chunkKey("users", reading, i)]
		if !ok {
			break
		}
		var us []client.User
		_ = json.Unmarshal(raw, &us)
		for _, u := range us {
			chunkOf[u.ID] = i
		}
	}
	p := -1
	for i := 1; i+1 < len(parts); i++ {
		if chunkOf[parts[i][0]] >= 1 && chunkOf[parts[i][0]] == chunkOf[parts[i+1][0]] && e.wantGranted(map[string]bool{parts[i+1][0]: true})[parts[i+1][0]] {
			p = i
			break
		}
	}
	if p < 0 {
		t.Skipf("layout: %d parts, no part starting in chunk >=1", len(parts))
	}
	victim := parts[p+1][0]
	if !e.wantGranted(map[string]bool{victim: true})[victim] {
		t.Skipf("victim %s has no team", victim)
	}
	// Read parts 1..p (team 0's continuation).
	for res.NextPageToken != "" && decodeToken(context.Background(), res.NextPageToken, teamGrantsToken.valid).Part <= p {
		if _, res, err = ts.Grants(context.Background(), r0, syncOpts(res.NextPageToken)); err != nil {
			t.Fatal(err)
		}
	}
	// Store loses the parts list and the chunk holding parts[p][0]; the
	// server reactivated that user meanwhile.
	gone := parts[p][0]
	delete(e.localValues(), deactivatedPartKey("users"))
	delete(e.localValues(), chunkKey("users", reading, chunkOf[gone]))
	e.sim.Update(func(ws *simulator.Workspace) {
		for _, u := range ws.Users {
			if u.ID == gone {
				u.Active = true
			}
		}
	})
	// Finish team 0, then every team's grants.
	for res.NextPageToken != "" {
		if _, res, err = ts.Grants(context.Background(), r0, syncOpts(res.NextPageToken)); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]bool{}
	for _, team := range e.ws.Teams {
		r, _ := teamResource(&client.Team{ID: team.ID, Name: team.Name}, e.c.httpsBase())
		token := ""
		for {
			gs, res, err := ts.Grants(context.Background(), r, syncOpts(token))
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range gs {
				got[g.GetPrincipal().GetId().GetResource()] = true
			}
			if token = res.NextPageToken; token == "" {
				break
			}
		}
	}
	if !listed[victim] {
		t.Fatalf("victim %s not marked listed", victim)
	}
	if !got[victim] {
		t.Errorf("deactivated user %s (first of part %d): profile says listed, still deactivated, but no team grant: "+
			"the re-cut parts are shifted and stored part %d of the old cut stood in for the new one", victim, p+1, p)
	}
	_ = slices.Contains[[]string]
}
