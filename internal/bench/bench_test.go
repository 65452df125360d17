package bench

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
)

// yardstickSize is small enough for CI and large enough that the users
// listing spans several SDK pages (500 users each), the teams.members calls
// three limiter windows, and a paged users listing several calls.
var yardstickSize = simulator.Size{Users: 1230, Teams: 23, MembersPerTeam: 30}

// yardstickLimiter is the default limit with the window scaled down.
var yardstickLimiter = simulator.Options{RateLimitCalls: 10, RateLimitWindow: 50 * time.Millisecond}

// checkExactPlan fails t unless the simulator answered exactly plan: every
// endpoint of the plan as often as it says, no other endpoint, no 429.
func checkExactPlan(t *testing.T, who string, st simulator.Stats, plan Plan) {
	t.Helper()
	served := servedCalls(st)
	for ep, n := range plan {
		if served[ep] != n {
			t.Errorf("%s: %s answered %d times, plan %d", who, ep, served[ep], n)
		}
	}
	for ep, n := range served {
		if _, ok := plan[ep]; !ok {
			t.Errorf("%s: %s answered %d times, not in the plan", who, ep, n)
		}
	}
	if st.Total429 != 0 {
		t.Errorf("%s got %d 429s: %v", who, st.Total429, st.RateLimited)
	}
}

// TestYardsticks checks what the benchmarks rely on, quickly: the oracle
// counts match a real sync's c1z, the connector keeps to the minimal plan
// without a 429 under the limiter, and the baseline reads everything
// despite its 429s.
func TestYardsticks(t *testing.T) {
	gen := Workspace(3, yardstickSize)
	ws := gen.Workspace
	plan := MinimalPlan(ws, gen.Reader, yardstickLimiter)
	if FloorWindows(plan, yardstickLimiter.RateLimitCalls) < 2 {
		t.Fatalf("plan %v waits for fewer than 2 windows: the test would not exercise the pacing", plan)
	}

	r, err := connectorSync(context.Background(), ws, yardstickLimiter, gen.Reader, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkC1Z(t, r.C1ZPath, ws, gen.Reader, yardstickLimiter)
	checkExactPlan(t, "connector", r.Stats, plan)

	_, res, err := baselineSync(context.Background(), ws, yardstickLimiter, gen.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Check(Expect(ws)); err != nil {
		t.Error(err)
	}
	if want := pages(len(ws.Users), 50); res.Calls[EpUsersList] < want {
		t.Errorf("baseline read users in %d calls, want at least %d", res.Calls[EpUsersList], want)
	}
}

// TestYardstickPaged checks the connector keeps to PagedPlan when the
// server ignores count=0 (API_Allow_Infinite_Count off).
func TestYardstickPaged(t *testing.T) {
	gen := Workspace(3, yardstickSize)
	ws := gen.Workspace
	opts := yardstickLimiter
	opts.InfiniteCountDisabled = true
	r, err := connectorSync(context.Background(), ws, opts, gen.Reader, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkC1Z(t, r.C1ZPath, ws, gen.Reader, opts)
	checkExactPlan(t, "connector (count=0 off)", r.Stats, PagedPlan(ws, gen.Reader, opts))
}

// TestYardstickHosted checks that a hosted sync (three independent
// instances, each call to the next, under the limiter) stores what one
// process does and keeps to the plan: each listing read once across all
// instances, the validation calls at most once per instance, and every call
// the limiter refused retried rather than lost.
func TestYardstickHosted(t *testing.T) {
	gen := Workspace(3, yardstickSize)
	ws := gen.Workspace
	plan := MinimalPlan(ws, gen.Reader, yardstickLimiter)
	r, err := hostedSync(context.Background(), ws, yardstickLimiter, gen.Reader, t.TempDir(), hostedInstances, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkC1Z(t, r.C1ZPath, ws, gen.Reader, yardstickLimiter)
	for _, v := range planViolations(r.Stats, plan, hostedInstances) {
		t.Error("hosted: " + v)
	}
	served := servedCalls(r.Stats)
	for ep, n := range plan {
		switch {
		case slices.Contains(validationEndpoints, ep) && served[ep] < n:
			t.Errorf("hosted: %s answered %d times, plan %d", ep, served[ep], n)
		case !slices.Contains(validationEndpoints, ep) && served[ep] != n:
			t.Errorf("hosted: %s answered %d times, plan %d", ep, served[ep], n)
		}
	}
	if v := r.Hosted.Total("Validate"); v < 1 || v > hostedInstances {
		t.Errorf("hosted: %d Validate calls, want 1 to %d", v, hostedInstances)
	}
	for i, calls := range r.Hosted.Calls {
		if calls["ListGrants"] == 0 {
			t.Errorf("hosted: instance %d served no ListGrants: the calls were not spread\n%s", i, r.Hosted)
		}
	}
	if r.Stats.Total429 > 0 {
		// Reported, not failed: each instance's pacer sees only its own
		// answers, so it cannot know what the others spent since (see
		// BenchmarkFloorHosted).
		t.Logf("hosted: %d 429s (retried): %v", r.Stats.Total429, r.Stats.RateLimited)
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

func TestPhaseFloor(t *testing.T) {
	const w = time.Second
	ms := time.Millisecond
	plan := Plan{EpInfo: 1, EpMe: 1, EpUsers: 1, EpMembers: 35} // 3 windows to wait
	for _, tc := range []struct {
		name    string
		started time.Duration
		first   map[string]time.Duration
		want    time.Duration
	}{
		{"reached in the first window", 0, map[string]time.Duration{EpMembers: 400 * ms}, 3 * w},
		{"counted from the sync's start", 5 * ms, map[string]time.Duration{EpMembers: 400 * ms}, 3*w - 5*ms},
		{"first window ran out unused", 0, map[string]time.Duration{EpMembers: 1500 * ms}, 1500*ms + 3*w},
		{"never called", 0, nil, 3 * w},
		{"single-window endpoints do not count", 0, map[string]time.Duration{EpUsers: 5 * w, EpMembers: 10 * ms}, 3 * w},
	} {
		if got := PhaseFloor(plan, 10, w, tc.started, tc.first); got != tc.want {
			t.Errorf("%s: PhaseFloor = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestWindowGap(t *testing.T) {
	if g, ok := windowGap([]int64{1000, 2020, 3050}, time.Second); !ok || g != 25*time.Millisecond {
		t.Errorf("windowGap = %s, %v; want 25ms, true", g, ok)
	}
	if _, ok := windowGap([]int64{1000}, time.Second); ok {
		t.Error("windowGap of one window: ok")
	}
}
