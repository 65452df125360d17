package bench

import (
	"context"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/pkg/simulator"
)

// TestYardsticks checks what the benchmarks rely on, quickly: the oracle
// counts match a real sync's c1z, the connector keeps to the minimal plan
// without a 429, and the baseline reads everything despite its 429s.
func TestYardsticks(t *testing.T) {
	gen := Workspace(3, simulator.Size{Users: 230, Teams: 7, MembersPerTeam: 30})
	ws := gen.Workspace
	opts := simulator.Options{RateLimitCalls: 10, RateLimitWindow: 50 * time.Millisecond}
	plan := MinimalPlan(ws)

	r, err := connectorSync(context.Background(), ws, opts, gen.Reader, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkC1Z(t, r.C1ZPath, ws)
	for ep, n := range r.Stats.Calls {
		if n != plan[ep] {
			t.Errorf("connector: %s called %d times, minimal plan %d", ep, n, plan[ep])
		}
	}
	if r.Stats.Total429 != 0 {
		t.Errorf("connector got %d 429s", r.Stats.Total429)
	}

	_, res, err := baselineSync(context.Background(), ws, opts, gen.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Check(Expect(ws)); err != nil {
		t.Error(err)
	}
	if res.Calls[EpUsersList] < 5 { // 230 users in pages of 50
		t.Errorf("baseline read users in %d calls, want at least 5", res.Calls[EpUsersList])
	}
}

func TestFloorWindows(t *testing.T) {
	for _, tc := range []struct {
		calls Plan
		want  int
	}{
		{Plan{EpUsers: 10}, 0},
		{Plan{EpUsers: 11}, 1},
		{Plan{EpUsers: 20, EpMembers: 31}, 3},
		{Plan{EpInfo: 50, EpMe: 1}, 0}, // /api/info is never limited
	} {
		if got := FloorWindows(tc.calls, 10); got != tc.want {
			t.Errorf("FloorWindows(%v) = %d, want %d", tc.calls, got, tc.want)
		}
	}
}
