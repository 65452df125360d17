package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/pkg/simulator"
)

// The floor benchmarks run Rocket.Chat's default limiter (10 calls per
// endpoint per window) with the window scaled down from 60 s, so a sync
// that would take minutes takes seconds and its wall time can be read in
// windows.
const (
	floorCalls  = 10
	floorWindow = 200 * time.Millisecond
)

var floorSizes = []struct {
	name string
	size simulator.Size
}{
	{"500u-20t", simulator.Size{Users: 500, Teams: 20, MembersPerTeam: 20}},
	{"2000u-60t", simulator.Size{Users: 2000, Teams: 60, MembersPerTeam: 20}},
	{"5000u-150t", simulator.Size{Users: 5000, Teams: 150, MembersPerTeam: 20}},
}

// floorTally sums measured runs for per-op metrics.
type floorTally struct {
	runs    int
	wall    time.Duration
	got429  int
	calls   map[string]int // short name → calls, summed over runs
	simBusy time.Duration
	last    time.Duration
	// waited sums, over runs, the windows the busiest endpoint waited
	// for: its windows used, less the first.
	waited int
	// windows is the busiest endpoint's windows used, by short name, summed.
	windows map[string]int
	// members is the teams.members calls per window of the latest run.
	members []int
}

func (t *floorTally) add(r *syncRun) {
	if t.calls == nil {
		t.calls = map[string]int{}
	}
	t.runs++
	t.wall += r.Wall
	t.got429 += r.Stats.Total429
	t.simBusy += r.SimBusy
	t.last += r.LastCall
	if t.windows == nil {
		t.windows = map[string]int{}
	}
	worst := 0
	for ep, n := range r.Windows {
		worst = max(worst, n-1)
		t.windows[shortNames[ep]] += n
	}
	t.waited += worst
	t.members = r.PerWindow[EpMembers]
	for k, n := range byShortName(r.Stats.Calls) {
		t.calls[k] += n
	}
}

// report publishes wall time, floor, ratio, 429s and calls per endpoint
// against the minimal plan, averaged over the runs.
func (t *floorTally) report(b *testing.B, plan Plan, window time.Duration) {
	if t.runs == 0 {
		return
	}
	n := float64(t.runs)
	windows := FloorWindows(plan, floorCalls)
	floor := time.Duration(windows) * window
	wall := t.wall.Seconds() / n
	b.ReportMetric(wall, "wall-s")
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(float64(windows), "floor-windows")
	if floor > 0 {
		b.ReportMetric(wall/floor.Seconds(), "wall/floor")
	}
	b.ReportMetric(float64(t.got429)/n, "429s")
	b.ReportMetric(t.simBusy.Seconds()/n, "sim-busy-s")
	b.ReportMetric(t.last.Seconds()/n, "last-call-s")
	b.ReportMetric(float64(t.waited)/n, "waited-windows")
	planShort := byShortName(plan)
	total, planTotal := 0.0, 0
	for _, name := range []string{"users", "teams", "members", "usersInRole"} {
		calls := float64(t.calls[name]) / n
		if calls == 0 && planShort[name] == 0 {
			continue
		}
		b.ReportMetric(calls, name+"-calls")
		b.ReportMetric(float64(planShort[name]), name+"-plan")
	}
	for _, c := range t.calls {
		total += float64(c) / n
	}
	for _, c := range planShort {
		planTotal += c
	}
	b.ReportMetric(total, "calls")
	b.ReportMetric(float64(planTotal), "plan-calls")

	// The full table, once per benchmark round.
	names := map[string]bool{}
	for k := range t.calls {
		names[k] = true
	}
	for k := range planShort {
		names[k] = true
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, " %s=%g/%d", k, float64(t.calls[k])/n, planShort[k])
	}
	var wb strings.Builder
	for _, k := range keys {
		if t.windows[k] > 0 {
			fmt.Fprintf(&wb, " %s=%g", k, float64(t.windows[k])/n)
		}
	}
	b.Logf("N=%d wall=%.3fs last-call=%.3fs floor=%s (%d windows of %s) waited=%g windows 429s=%g calls/plan:%s windows used:%s teams.members calls per window (last run): %v",
		t.runs, wall, t.last.Seconds()/n, floor, windows, window, float64(t.waited)/n, float64(t.got429)/n, sb.String(), wb.String(), t.members)
}

// checkAgainstPlan fails the benchmark when the connector made more calls
// to an endpoint than the minimal plan, called one outside it, or got a 429.
func checkAgainstPlan(b *testing.B, r *syncRun, plan Plan) {
	b.Helper()
	for ep, n := range r.Stats.Calls {
		if n > plan[ep] {
			b.Errorf("%s: %d calls, minimal plan %d", ep, n, plan[ep])
		}
	}
	if r.Stats.Total429 > 0 {
		b.Errorf("%d 429 answers: %v", r.Stats.Total429, r.Stats.RateLimited)
	}
}

// BenchmarkFloor syncs workspaces of growing size under the scaled-down
// default limiter as the rate-limited Reader credential, with the connector
// and with the naive baseline, on fresh servers.
func BenchmarkFloor(b *testing.B) {
	for _, sz := range floorSizes {
		floorPair(b, sz.name, Workspace(1, sz.size), floorWindow)
	}
}

// BenchmarkFloorDefaultLimiter is the real thing: Rocket.Chat's default
// limiter, 10 calls per endpoint per 60 s, on 2,000 users and 100 teams.
// It takes about half an hour, so it runs only with BENCH_REAL_LIMITER=1:
//
//	BENCH_REAL_LIMITER=1 go test -run '^$' -bench BenchmarkFloorDefaultLimiter -benchtime 1x -timeout 2h ./internal/bench/
func BenchmarkFloorDefaultLimiter(b *testing.B) {
	if os.Getenv("BENCH_REAL_LIMITER") != "1" {
		b.Skip("set BENCH_REAL_LIMITER=1 to sync 2,000 users / 100 teams under the default 10 calls / 60 s limiter")
	}
	floorPair(b, "2000u-100t", Workspace(1, simulator.Size{Users: 2000, Teams: 100, MembersPerTeam: 20}), time.Minute)
}

// floorPair runs the connector and the baseline on gen under a limiter of
// floorCalls calls per window.
func floorPair(b *testing.B, name string, gen *simulator.Generated, window time.Duration) {
	opts := simulator.Options{RateLimitCalls: floorCalls, RateLimitWindow: window}
	ws := gen.Workspace
	plan := MinimalPlan(ws)
	want := Expect(ws)
	verified := false

	b.Run(name+"/connector", func(b *testing.B) {
		var t floorTally
		for range b.N {
			dir := b.TempDir()
			r, err := connectorSync(context.Background(), ws, opts, gen.Reader, dir, nil)
			if err != nil {
				b.Fatal(err)
			}
			t.add(r)
			checkAgainstPlan(b, r, plan)
			if !verified {
				b.StopTimer()
				checkC1Z(b, r.C1ZPath, ws)
				verified = true
				b.StartTimer()
			}
		}
		t.report(b, plan, window)
	})

	b.Run(name+"/baseline", func(b *testing.B) {
		var t floorTally
		for range b.N {
			r, res, err := baselineSync(context.Background(), ws, opts, gen.Reader)
			if err != nil {
				b.Fatal(err)
			}
			if err := res.Check(want); err != nil {
				b.Error(err)
			}
			t.add(r)
		}
		t.report(b, plan, window)
	})
}
