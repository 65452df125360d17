package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
)

// The floor benchmarks run Rocket.Chat's default limiter (10 calls per
// endpoint per window) with the window scaled down from 60 s, so a sync
// that would take minutes takes seconds and its wall time can be read in
// windows.
//
// The scaled window is 1 s (BENCH_FLOOR_WINDOW overrides it, e.g. 200ms).
// What does not scale with the window weighs on the ratio in proportion to
// how short the window is: the client opens each new window 20 ms after the
// old one ends (resetMargin in pkg/client/ratelimit.go, against clock
// skew), and after the last call the SDK still expands grants, builds its
// indexes and writes the c1z (the tail: 0.2 s to over 1 s here). Under the
// real 60 s window both are a few percent of one window; under a 200 ms
// window the margin alone is 10% of every window, so wall ≤ 1.10 × floor
// would be out of reach whatever the pacing, and the ratio would measure
// the scale-down. At 1 s the margin is 2% and the largest size still takes
// about 15 s. The reports split the wall time so the pacing can be read
// apart from the tail: last-call/floor is the pacing alone.
const floorCalls = 10

var floorWindow = envDuration("BENCH_FLOOR_WINDOW", time.Second)

// hostedInstances is how many independent connector instances the hosted
// benchmarks spread the calls over.
const hostedInstances = 3

// Targets, reported next to the ratios (not asserted: timing is noisy).
const (
	targetOneProcess = 1.10
	targetHosted     = 1.5
)

var floorSizes = []struct {
	name string
	size simulator.Size
}{
	{"500u-20t", simulator.Size{Users: 500, Teams: 20, MembersPerTeam: 20}},
	{"2000u-60t", simulator.Size{Users: 2000, Teams: 60, MembersPerTeam: 20}},
	{"5000u-150t", simulator.Size{Users: 5000, Teams: 150, MembersPerTeam: 20}},
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			panic(fmt.Sprintf("%s=%q: want a positive duration such as 200ms", name, v))
		}
		return d
	}
	return def
}

// busiest is the endpoint of plan with the most calls to wait for; on a
// tie, teams.members.
func busiest(plan Plan) string {
	best, n := EpMembers, plan[EpMembers]
	for ep, c := range plan {
		if ep != EpInfo && c > n {
			best, n = ep, c
		}
	}
	return best
}

// firstCalls is, per endpoint, when its first call arrived.
func firstCalls(r *syncRun) map[string]time.Duration {
	out := make(map[string]time.Duration, len(r.Arrivals))
	for ep, a := range r.Arrivals {
		if len(a) > 0 {
			out[ep] = a[0]
		}
	}
	return out
}

// windowGap is, for an endpoint, the mean time from the end of one of its
// windows to the opening of the next (the client's reset margin plus the
// round trip), over the windows it was called in; ok is false with fewer
// than two windows.
func windowGap(resets []int64, window time.Duration) (time.Duration, bool) {
	if len(resets) < 2 {
		return 0, false
	}
	var sum int64
	for i := 1; i < len(resets); i++ {
		sum += resets[i] - window.Milliseconds() - resets[i-1]
	}
	return time.Duration(sum) * time.Millisecond / time.Duration(len(resets)-1), true
}

// floorTally sums measured runs for per-op metrics.
type floorTally struct {
	plan   Plan
	window time.Duration
	runs   int
	wall   time.Duration
	// floor sums PhaseFloor, simple FloorWindows × window.
	floor, simple time.Duration
	// reach sums when the busiest endpoint was first called, since the
	// sync started; tail the wall time after the sync's last call.
	reach, tail time.Duration
	gap         time.Duration
	gaps        int
	got429      int
	calls       map[string]int // short name → calls, summed over runs
	simBusy     time.Duration
	last        time.Duration
	started     time.Duration
	// windows is the windows used, by short name, summed.
	windows map[string]int
	// members is the teams.members calls per window of the latest run.
	members []int
	// validates sums the Validate RPCs the instances served (hosted).
	validates int
	hosted    bool
	// simpleOnly makes floor the simple one. The phase correction credits
	// the time a connector on the SDK needs before it can call the busiest
	// endpoint; the baseline, a yardstick, gets no such credit: it
	// chooses to walk every other listing first.
	simpleOnly bool
}

func newFloorTally(plan Plan, window time.Duration) *floorTally {
	return &floorTally{plan: plan, window: window, calls: map[string]int{}, windows: map[string]int{}}
}

func (t *floorTally) add(r *syncRun) {
	t.runs++
	t.wall += r.Wall
	t.got429 += r.Stats.Total429
	t.simBusy += r.SimBusy
	t.last += r.LastCall
	t.started += r.Started
	first := firstCalls(r)
	simple := time.Duration(FloorWindows(t.plan, floorCalls)) * t.window
	t.simple += simple
	if t.simpleOnly {
		t.floor += simple
	} else {
		t.floor += PhaseFloor(t.plan, floorCalls, t.window, r.Started, first)
	}
	ep := busiest(t.plan)
	t.reach += first[ep] - r.Started
	t.tail += r.Wall - (r.LastCall - r.Started)
	if g, ok := windowGap(r.Resets[ep], t.window); ok {
		t.gap += g
		t.gaps++
	}
	for e, n := range r.Windows {
		t.windows[shortNames[e]] += n
	}
	t.members = r.PerWindow[EpMembers]
	for k, n := range byShortName(r.Stats.Calls) {
		t.calls[k] += n
	}
	if r.Hosted != nil {
		t.hosted = true
		t.validates += r.Hosted.Total("Validate")
	}
}

// report publishes wall time, floor, ratio, 429s and calls per endpoint
// against the minimal plan, averaged over the runs, and says how the wall
// time splits: reaching the busiest endpoint, its windows, and the tail.
func (t *floorTally) report(b *testing.B, target float64) {
	if t.runs == 0 {
		return
	}
	n := float64(t.runs)
	avg := func(d time.Duration) float64 { return d.Seconds() / n }
	wall, floor, simple := avg(t.wall), avg(t.floor), avg(t.simple)
	b.ReportMetric(wall, "wall-s")
	b.ReportMetric(floor, "floor-s")
	b.ReportMetric(simple, "simple-floor-s")
	b.ReportMetric(float64(FloorWindows(t.plan, floorCalls)), "floor-windows")
	ratio := 0.0
	if floor > 0 {
		ratio = wall / floor
		b.ReportMetric(ratio, "wall/floor")
	}
	if simple > 0 {
		b.ReportMetric(wall/simple, "wall/simple-floor")
	}
	if floor > 0 {
		// The pacing alone: the last call against the floor, without the
		// SDK's work after it.
		b.ReportMetric((avg(t.last)-avg(t.started))/floor, "last-call/floor")
	}
	b.ReportMetric(float64(t.got429)/n, "429s")
	b.ReportMetric(avg(t.reach), "reach-s")
	b.ReportMetric(avg(t.tail), "tail-s")
	if t.gaps > 0 {
		b.ReportMetric(float64(t.gap.Microseconds())/1000/float64(t.gaps), "gap-ms/window")
	}
	b.ReportMetric(avg(t.simBusy), "sim-busy-s")
	b.ReportMetric(avg(t.last), "last-call-s")
	planShort := byShortName(t.plan)
	total, planTotal := 0.0, 0
	for _, name := range []string{"users", "teams", "members", "usersInRole", "userTeams"} {
		calls := float64(t.calls[name]) / n
		if calls == 0 && planShort[name] == 0 {
			continue
		}
		b.ReportMetric(calls, name+"-calls")
	}
	for _, c := range t.calls {
		total += float64(c) / n
	}
	for _, c := range planShort {
		planTotal += c
	}
	b.ReportMetric(total, "calls")
	b.ReportMetric(float64(planTotal), "plan-calls")
	if t.hosted {
		b.ReportMetric(float64(t.validates)/n, "validate-rpcs")
	}

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
	var sb, wb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, " %s=%g/%d", k, float64(t.calls[k])/n, planShort[k])
		if t.windows[k] > 0 {
			fmt.Fprintf(&wb, " %s=%g", k, float64(t.windows[k])/n)
		}
	}
	verdict := fmt.Sprintf("target %.2f: met", target)
	switch {
	case target == 0:
		verdict = "a yardstick, no target"
	case ratio > target || (target == targetOneProcess && t.got429 > 0):
		verdict = fmt.Sprintf("target %.2f: MISSED", target)
	}
	gap := 0.0
	if t.gaps > 0 {
		gap = float64(t.gap.Microseconds()) / 1000 / float64(t.gaps)
	}
	b.Logf("N=%d wall=%.3fs floor=%.3fs (simple %.3fs: %d windows of %s) wall/floor=%.3f (%s) 429s=%g | reach=%.3fs gap=%.1fms/window tail=%.3fs last-call=%.3fs | calls/plan:%s | windows used:%s | teams.members per window (last run): %v",
		t.runs, wall, floor, simple, FloorWindows(t.plan, floorCalls), t.window, ratio, verdict, float64(t.got429)/n,
		avg(t.reach), gap, avg(t.tail), avg(t.last), sb.String(), wb.String(), t.members)
}

// servedCalls is, per endpoint, the calls the simulator answered other than
// with a 429.
func servedCalls(st simulator.Stats) map[string]int {
	out := make(map[string]int, len(st.Calls))
	for ep, n := range st.Calls {
		if n -= st.RateLimited[ep]; n > 0 {
			out[ep] = n
		}
	}
	return out
}

// validationEndpoints are the calls Validate makes.
var validationEndpoints = []string{EpInfo, EpMe, EpPermissions}

// planViolations lists how a sync's calls depart from plan: an endpoint
// answered more often than the plan says (429s aside: servedCalls), one
// outside the plan, or, with instances > 0 (hosted), a validation call
// answered more often than once per instance (the plan counts one
// validation, plus, for permissions.listAll, the permission listing).
func planViolations(st simulator.Stats, plan Plan, instances int) []string {
	var out []string
	for ep, n := range servedCalls(st) {
		allowed := plan[ep]
		if instances > 0 && slices.Contains(validationEndpoints, ep) {
			allowed += instances - 1
		}
		if n > allowed {
			out = append(out, fmt.Sprintf("%s: %d calls answered, plan %d", ep, n, allowed))
		}
	}
	slices.Sort(out)
	return out
}

// checkAgainstPlan fails the benchmark when the connector made more calls
// to an endpoint than the minimal plan or called one outside it, and, for
// one process, when it got a 429.
func checkAgainstPlan(b *testing.B, r *syncRun, plan Plan, instances int) {
	b.Helper()
	for _, v := range planViolations(r.Stats, plan, instances) {
		b.Error(v)
	}
	if instances == 0 && r.Stats.Total429 > 0 {
		b.Errorf("%d 429 answers: %v", r.Stats.Total429, r.Stats.RateLimited)
	}
}

// BenchmarkFloor syncs workspaces of growing size under the scaled-down
// default limiter as the rate-limited Reader credential, with the connector
// in one process and with the naive baseline, on fresh servers.
func BenchmarkFloor(b *testing.B) {
	for _, sz := range floorSizes {
		floorPair(b, sz.name, Workspace(1, sz.size), floorWindow, true)
	}
}

// BenchmarkFloorHosted is BenchmarkFloor's connector run the way
// ConductorOne's hosted runner syncs: hostedInstances independent connector
// instances, each with its own client (and so its own pacer), every call
// to the next instance, under the same limiter.
func BenchmarkFloorHosted(b *testing.B) {
	for _, sz := range floorSizes {
		gen := Workspace(1, sz.size)
		b.Run(sz.name, func(b *testing.B) { floorHosted(b, gen, floorWindow) })
	}
}

// realSizes are the BenchmarkFloorDefaultLimiter workspaces: one teams.members
// window to wait for (about a minute), and nine (about ten minutes).
var realSizes = []struct {
	name string
	size simulator.Size
}{
	{"10000u-20t", simulator.Size{Users: 10000, Teams: 20, MembersPerTeam: 20}},
	{"2000u-100t", simulator.Size{Users: 2000, Teams: 100, MembersPerTeam: 20}},
}

// BenchmarkFloorDefaultLimiter is the real thing: Rocket.Chat's default
// limiter, 10 calls per endpoint per 60 s, on 10,000 users / 20 teams
// (about a minute per sync) and 2,000 users / 100 teams (about ten). It
// runs only with BENCH_REAL_LIMITER=1, the connector in one process and
// hosted; BENCH_REAL_BASELINE=1 adds the naive baseline, which takes about
// half an hour on 2,000 users / 100 teams. Pick a size or a mode with -bench:
//
//	BENCH_REAL_LIMITER=1 go test -run '^$' -bench 'BenchmarkFloorDefaultLimiter/10000u-20t' -benchtime 1x -timeout 2h ./internal/bench/
func BenchmarkFloorDefaultLimiter(b *testing.B) {
	if os.Getenv("BENCH_REAL_LIMITER") != "1" {
		b.Skip("set BENCH_REAL_LIMITER=1 to sync 10,000 users / 20 teams and 2,000 users / 100 teams under the default 10 calls / 60 s limiter")
	}
	for _, sz := range realSizes {
		gen := Workspace(1, sz.size)
		floorPair(b, sz.name, gen, time.Minute, os.Getenv("BENCH_REAL_BASELINE") == "1")
		b.Run(sz.name+"/hosted", func(b *testing.B) { floorHosted(b, gen, time.Minute) })
	}
}

// planOf is the minimal plan for the server opts describe: PagedPlan when
// it does not serve whole listings.
func planOf(ws *simulator.Workspace, cred simulator.Credential, opts simulator.Options) Plan {
	if opts.InfiniteCountDisabled {
		return PagedPlan(ws, cred, opts)
	}
	return MinimalPlan(ws, cred, opts)
}

// BenchmarkFloorPaged is BenchmarkFloor and BenchmarkFloorHosted against a
// server with API_Allow_Infinite_Count off: every listing page by page,
// 100 items a call once the users listing has shown the setting is off.
func BenchmarkFloorPaged(b *testing.B) {
	for _, sz := range floorSizes {
		gen := Workspace(1, sz.size)
		opts := simulator.Options{RateLimitCalls: floorCalls, RateLimitWindow: floorWindow, InfiniteCountDisabled: true}
		floorPairWith(b, sz.name, gen, opts, floorWindow, false)
		b.Run(sz.name+"/hosted", func(b *testing.B) { floorHostedWith(b, gen, opts, floorWindow, nil) })
	}
}

// floorPair runs the connector in one process and, with baseline, the
// baseline on gen under a limiter of floorCalls calls per window.
func floorPair(b *testing.B, name string, gen *simulator.Generated, window time.Duration, baseline bool) {
	floorPairWith(b, name, gen, simulator.Options{RateLimitCalls: floorCalls, RateLimitWindow: window}, window, baseline)
}

// floorPairWith is floorPair under the limiter of opts.
func floorPairWith(b *testing.B, name string, gen *simulator.Generated, opts simulator.Options, window time.Duration, baseline bool) {
	ws := gen.Workspace
	plan := planOf(ws, gen.Reader, opts)
	want := Expect(ws)
	verified := false

	deactivated := 0
	for _, u := range ws.Users {
		if !u.Active {
			deactivated++
		}
	}
	b.Run(name+"/connector", func(b *testing.B) {
		// How many deactivated users' teams the sync reads (userTeams-calls
		// less the one check), of how many there are.
		b.ReportMetric(float64(deactivated), "deactivated-users")
		b.ReportMetric(float64(len(deactivatedListed(ws, gen.Reader, opts))), "deactivated-listed")
		t := newFloorTally(plan, window)
		for range b.N {
			dir := b.TempDir()
			r, err := connectorSync(context.Background(), ws, opts, gen.Reader, dir, nil)
			if err != nil {
				b.Fatal(err)
			}
			t.add(r)
			checkAgainstPlan(b, r, plan, 0)
			if !verified {
				b.StopTimer()
				checkC1Z(b, r.C1ZPath, ws, gen.Reader, opts)
				verified = true
				b.StartTimer()
			}
		}
		t.report(b, targetOneProcess)
	})

	if !baseline {
		return
	}
	b.Run(name+"/baseline", func(b *testing.B) {
		t := newFloorTally(plan, window)
		t.simpleOnly = true
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
		t.report(b, 0)
	})
}

// floorHosted runs hosted syncs of gen under a limiter of floorCalls calls
// per window.
func floorHosted(b *testing.B, gen *simulator.Generated, window time.Duration) {
	floorHostedWith(b, gen, simulator.Options{RateLimitCalls: floorCalls, RateLimitWindow: window}, window, nil)
}

// storeFaults are the session store's faults of BenchmarkFloorHostedFaultyStore:
// 1 in 4 writes dropped, 1 in 5 reads missing, 1 in 10 calls failing.
var storeFaults = harness.StoreFaults{DropWrite: 4, MissRead: 5, FailCall: 10}

// BenchmarkFloorHostedFaultyStore is BenchmarkFloorHosted over a session
// store that loses values (storeFaults): the data stays exact (the first run
// is checked), re-reads of what was lost cost calls beyond the plan.
func BenchmarkFloorHostedFaultyStore(b *testing.B) {
	for _, sz := range floorSizes {
		gen := Workspace(1, sz.size)
		b.Run(sz.name, func(b *testing.B) {
			floorHostedWith(b, gen, simulator.Options{RateLimitCalls: floorCalls, RateLimitWindow: floorWindow}, floorWindow, &storeFaults)
		})
	}
}

// floorHostedWith runs hosted syncs of gen under the limiter of opts, over
// a session store with faults when they are not nil.
func floorHostedWith(b *testing.B, gen *simulator.Generated, opts simulator.Options, window time.Duration, faults *harness.StoreFaults) {
	ws := gen.Workspace
	plan := planOf(ws, gen.Reader, opts)
	t := newFloorTally(plan, window)
	for i := range b.N {
		dir := b.TempDir()
		r, err := hostedSync(context.Background(), ws, opts, gen.Reader, dir, hostedInstances, faults)
		if err != nil {
			b.Fatal(err)
		}
		t.add(r)
		if faults == nil {
			checkAgainstPlan(b, r, plan, hostedInstances)
		}
		if i == 0 {
			b.StopTimer()
			checkC1Z(b, r.C1ZPath, ws, gen.Reader, opts)
			b.StartTimer()
		}
	}
	t.report(b, targetHosted)
}

// roomsFloorSize is the rooms benchmark's workspace: 2,000 users, 60 teams
// and 300 channels, private groups and discussions.
var roomsFloorSize = simulator.Size{Users: 2000, Teams: 60, MembersPerTeam: 20, Rooms: 300, MembersPerRoom: 20}

// BenchmarkFloorRooms is BenchmarkFloor and BenchmarkFloorHosted of a sync
// that selected rooms, by the rate-limited reader holding the permissions
// rooms need: every room it may open read per room, one member and one
// role call each (MinimalRoomsPlan). The floor is the busiest endpoint's
// windows (channels.members and channels.roles here, then teams.members);
// reads ahead spend the other endpoints' budgets meanwhile.
func BenchmarkFloorRooms(b *testing.B) {
	floorRooms(b, "2000u-60t-300r", roomsFloorSize, floorWindow)
}

// BenchmarkFloorRoomsDefaultLimiter is BenchmarkFloorRooms under Rocket.Chat's
// default limiter (10 calls per endpoint per 60 s) with 500 rooms: about
// half an hour per sync. It runs only with BENCH_REAL_LIMITER=1:
//
//	BENCH_REAL_LIMITER=1 go test -run '^$' -bench 'BenchmarkFloorRoomsDefaultLimiter' -benchtime 1x -timeout 3h ./internal/bench/
func BenchmarkFloorRoomsDefaultLimiter(b *testing.B) {
	if os.Getenv("BENCH_REAL_LIMITER") != "1" {
		b.Skip("set BENCH_REAL_LIMITER=1 to sync 2,000 users / 60 teams / 500 rooms under the default 10 calls / 60 s limiter")
	}
	size := roomsFloorSize
	size.Rooms = 500
	floorRooms(b, "2000u-60t-500r", size, time.Minute)
}

// floorRooms runs a rooms sync of a workspace of size under a limiter of
// floorCalls calls per window, in one process and hosted.
func floorRooms(b *testing.B, name string, size simulator.Size, window time.Duration) {
	gen := Workspace(1, size)
	ws := gen.Workspace
	opts := simulator.Options{RateLimitCalls: floorCalls, RateLimitWindow: window}
	plan := MinimalRoomsPlan(ws, gen.Reader, opts)
	selected := roomSelection(ws, gen.Reader)
	for _, mode := range []struct {
		name      string
		instances int
		target    float64
	}{{"connector", 0, targetOneProcess}, {"hosted", hostedInstances, targetHosted}} {
		b.Run(name+"/"+mode.name, func(b *testing.B) {
			t := newFloorTally(plan, window)
			for i := range b.N {
				dir := b.TempDir()
				var r *syncRun
				var err error
				if mode.instances == 0 {
					r, err = connectorSyncSelecting(context.Background(), ws, opts, gen.Reader, dir, nil, selected)
				} else {
					r, err = hostedSyncSelecting(context.Background(), ws, opts, gen.Reader, dir, mode.instances, nil, selected)
				}
				if err != nil {
					b.Fatal(err)
				}
				t.add(r)
				checkAgainstPlan(b, r, plan, mode.instances)
				if i == 0 {
					b.StopTimer()
					checkC1Z(b, r.C1ZPath, ws, gen.Reader, opts)
					checkRooms(b, r.C1ZPath, ws)
					b.StartTimer()
				}
			}
			t.report(b, mode.target)
		})
	}
}

// checkRooms fails tb when the c1z does not hold every channel, private
// group and discussion of ws as a room.
func checkRooms(tb testing.TB, path string, ws *simulator.Workspace) {
	tb.Helper()
	contents, err := harness.ReadC1Z(context.Background(), path, tb.TempDir())
	if err != nil {
		tb.Fatalf("reading c1z: %v", err)
	}
	if got, want := contents.ResourceCounts()[RoomTypeID], syncableRooms(ws); got != want {
		tb.Errorf("%d rooms synced, want %d", got, want)
	}
}
