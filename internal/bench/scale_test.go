package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/pkg/client"
)

// unlimited is a server without a limiter, synced as the admin.
var unlimited = simulator.Options{DisableRateLimiter: true}

// maxConnectorRSS is the peak resident set size the connector process may
// reach syncing the large workspace.
const maxConnectorRSS = 500 << 20

// scaleTally sums measured unlimited runs.
type scaleTally struct {
	runs      int
	wall      time.Duration
	simBusy   time.Duration
	calls     int
	c1zBytes  int64
	peakRSSkB int64
	peakHeap  uint64
}

func (t *scaleTally) add(r *syncRun) {
	t.runs++
	t.wall += r.Wall
	t.simBusy += r.SimBusy
	t.calls += r.Requests
	t.c1zBytes += r.C1ZSize
}

func (t *scaleTally) report(b *testing.B, want Expected) {
	if t.runs == 0 {
		return
	}
	n := float64(t.runs)
	wall := t.wall.Seconds() / n
	b.ReportMetric(wall, "wall-s")
	b.ReportMetric(float64(want.Resources())/wall, "resources/s")
	b.ReportMetric(float64(want.Grants())/wall, "grants/s")
	b.ReportMetric(t.simBusy.Seconds()/n, "sim-busy-s")
	b.ReportMetric(float64(t.calls)/n, "calls")
	b.ReportMetric(float64(t.c1zBytes)/n/(1<<20), "c1z-MiB")
	if t.peakRSSkB > 0 {
		b.ReportMetric(float64(t.peakRSSkB)/1024, "peak-RSS-MiB")
	}
	if t.peakHeap > 0 {
		b.ReportMetric(float64(t.peakHeap)/(1<<20), "peak-heap-MiB")
	}
	b.Logf("N=%d %d resources (%d users, %d roles, %d teams, %d permissions, %d rooms), %d grants (%d role, %d team, %d permission, %d expanded, %d room; %d active memberships), wall %.2fs, simulator busy %.2fs",
		t.runs, want.Resources(), want.Users, want.Roles, want.Teams, want.Permissions, want.Rooms, want.Grants(),
		want.RoleGrants, want.TeamGrants, want.PermissionGrants, want.ExpandedGrants, want.RoomGrants, want.Memberships,
		wall, t.simBusy.Seconds()/n)
}

// measurePeakRSS starts a fresh VmHWM window after dropping what earlier
// work left on the heap, and returns the RSS it started from.
func measurePeakRSS(b *testing.B) (startRSSkB int64) {
	b.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	if err := ResetPeakRSS(); err != nil {
		b.Logf("cannot reset peak RSS (%v); VmHWM covers the whole process", err)
	}
	_, rss, err := ProcStatus()
	if err != nil {
		b.Fatalf("reading /proc/self/status: %v", err)
	}
	return rss
}

func peakRSS(b *testing.B) int64 {
	b.Helper()
	hwm, _, err := ProcStatus()
	if err != nil {
		b.Fatalf("reading /proc/self/status: %v", err)
	}
	return hwm
}

// memSample is one reading of a process's memory.
type memSample struct {
	at time.Duration // since the sampler started
	// From /proc/self/status, in kB: the resident set, its anonymous and
	// file-backed parts.
	rssKB, anonKB, fileKB int64
	// From the Go runtime, in bytes: live and not yet collected heap
	// objects, and what the runtime has mapped, less what it has handed
	// back to the OS (its share of the resident set, at most).
	heapObjects, goTotal uint64
}

var memMetrics = []string{"/memory/classes/heap/objects:bytes", "/memory/classes/total:bytes", "/memory/classes/heap/released:bytes"}

func readMemSample(start time.Time, samples []metrics.Sample) memSample {
	s := memSample{at: time.Since(start)}
	if f, err := os.Open("/proc/self/status"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			key, val, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
			if err != nil {
				continue
			}
			switch key {
			case "VmRSS":
				s.rssKB = n
			case "RssAnon":
				s.anonKB = n
			case "RssFile":
				s.fileKB = n
			}
		}
		_ = f.Close()
	}
	metrics.Read(samples)
	s.heapObjects = samples[0].Value.Uint64()
	s.goTotal = samples[1].Value.Uint64() - samples[2].Value.Uint64()
	return s
}

// heapSampler polls the process's memory during a sync: the peak Go heap
// (live and not yet collected objects: the connector's and the SDK's, and
// in process the simulator's too) and the reading taken at the peak RSS,
// which says what the resident set was made of. With a path, it also
// collects and writes a heap profile there each time the heap has grown by
// a tenth since the last one, so the last profile written shows what was
// live near the heap's peak (the collections lower that peak somewhat);
// with a trace path, every reading as CSV.
type heapSampler struct {
	stop, done chan struct{}
	peak       uint64
	atPeakRSS  memSample
}

func startHeapSampler(profilePath, tracePath string) *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	var trace *os.File
	if tracePath != "" {
		if f, err := os.Create(tracePath); err == nil {
			trace = f
			fmt.Fprintln(trace, "seconds,rss_mib,anon_mib,file_mib,heap_objects_mib,go_total_mib")
		}
	}
	go func() {
		defer close(h.done)
		if trace != nil {
			defer trace.Close()
		}
		start := time.Now()
		samples := make([]metrics.Sample, len(memMetrics))
		for i, name := range memMetrics {
			samples[i].Name = name
		}
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		var profiled uint64
		for {
			s := readMemSample(start, samples)
			h.peak = max(h.peak, s.heapObjects)
			if s.rssKB >= h.atPeakRSS.rssKB {
				h.atPeakRSS = s
			}
			if trace != nil {
				fmt.Fprintf(trace, "%.2f,%.1f,%.1f,%.1f,%.1f,%.1f\n", s.at.Seconds(), float64(s.rssKB)/1024, float64(s.anonKB)/1024,
					float64(s.fileKB)/1024, float64(s.heapObjects)/(1<<20), float64(s.goTotal)/(1<<20))
			}
			if profilePath != "" && s.heapObjects > profiled+profiled/10 {
				profiled = s.heapObjects
				// A heap profile shows the heap as the latest GC left
				// it: collect now, so it shows what is live at this peak.
				runtime.GC()
				if f, err := os.Create(profilePath); err == nil {
					_ = pprof.Lookup("heap").WriteTo(f, 0)
					_ = f.Close()
				}
			}
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

// Stop ends the sampling and returns the peak heap in bytes.
func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	<-h.done
	return h.peak
}

// scaleCase is a workspace an unlimited sync is measured on, by the admin.
type scaleCase struct {
	gen *simulator.Generated
	// rooms selects the room type too (roomSelection): the admin reads
	// members per user.
	rooms bool
	// verify reads the c1z back and checks every count.
	verify bool
	// maxRSS, when > 0, is the connector process's peak RSS limit.
	maxRSS int64
	// saved is where live keeps its recording (see scaleSuite).
	saved string
	// selection is the resource types the sync selects, nil for the
	// default; scaleSuite sets it before it measures anything.
	selection []string
}

// selected is the resource types the sync selects, nil for the default.
func (sc scaleCase) selected() []string { return sc.selection }

// plan is the fewest calls the sync can make.
func (sc scaleCase) plan() Plan {
	if sc.rooms {
		return MinimalRoomsPlan(sc.gen.Workspace, sc.gen.Admin, unlimited)
	}
	return MinimalPlan(sc.gen.Workspace, sc.gen.Admin, unlimited)
}

// want is what the c1z must hold.
func (sc scaleCase) want() Expected {
	ws := sc.gen.Workspace
	want := Expect(ws).WithDeactivated(ws, sc.gen.Admin, unlimited)
	if sc.rooms {
		want = want.WithRooms(ws)
	}
	return want
}

// runScale syncs the workspace without a limiter as the admin, b.N times,
// in this process; wrap goes in front of the simulator when set.
func runScale(b *testing.B, sc scaleCase, verify bool, wrap func(http.Handler) http.Handler) {
	want := sc.want()
	var t scaleTally
	startRSS := measurePeakRSS(b)
	b.ResetTimer()
	for i := range b.N {
		dir := b.TempDir()
		heap := startHeapSampler(os.Getenv("BENCH_HEAPPROFILE"), "")
		var (
			r   *syncRun
			err error
		)
		// The label tells this sync's samples apart in a CPU profile:
		// go tool pprof -tagfocus=sync=<benchmark name>.
		pprof.Do(context.Background(), pprof.Labels("sync", b.Name()), func(ctx context.Context) {
			r, err = connectorSyncSelecting(ctx, sc.gen.Workspace, unlimited, sc.gen.Admin, dir, wrap, sc.selected())
		})
		peakHeap := heap.Stop()
		if err != nil {
			b.Fatal(err)
		}
		t.add(r)
		if i == 0 {
			b.StopTimer()
			t.peakRSSkB = peakRSS(b)
			t.peakHeap = peakHeap
			checkCalls(b, callCounts(r.Arrivals), sc.plan())
			if verify {
				checkCounts(b, r.C1ZPath, want, true)
			}
			b.StartTimer()
		}
		_ = os.RemoveAll(dir)
	}
	b.StopTimer()
	b.ReportMetric(float64(startRSS)/1024, "start-RSS-MiB")
	t.report(b, want)
}

// callCounts is, per endpoint, the calls that arrived (answered by the
// simulator or from a recording).
func callCounts(arrivals map[string][]time.Duration) map[string]int {
	out := make(map[string]int, len(arrivals))
	for ep, a := range arrivals {
		out[ep] = len(a)
	}
	return out
}

// checkCalls fails b unless calls (per endpoint) are exactly plan.
func checkCalls(b *testing.B, calls map[string]int, plan Plan) {
	b.Helper()
	for ep, n := range plan {
		if calls[ep] != n {
			b.Errorf("%s: %d calls, minimal plan %d", ep, calls[ep], n)
		}
	}
	for ep, n := range calls {
		if _, ok := plan[ep]; !ok {
			b.Errorf("%s: %d calls, not in the minimal plan", ep, n)
		}
	}
}

// BenchmarkScaleUnlimited is a full sync through the SDK into a c1z, with
// no limiter (the admin holds api-bypass-rate-limit, and the limiter is
// off): what the connector, the SDK and the simulator cost per resource and
// grant. See scaleSuite for the three ways each size is measured.
func BenchmarkScaleUnlimited(b *testing.B) {
	for _, sz := range []struct {
		name string
		size simulator.Size
	}{
		{"5000u-150t-20m", simulator.Size{Users: 5000, Teams: 150, MembersPerTeam: 20}},
		{"20000u-400t-50m", simulator.Size{Users: 20000, Teams: 400, MembersPerTeam: 50}},
	} {
		gen := Workspace(1, sz.size)
		b.Run(sz.name, func(b *testing.B) { scaleSuite(b, scaleCase{gen: gen, verify: true}) })
	}
	// Rooms read per user: one users.info call per user.
	gen := Workspace(1, simulator.Size{Users: 5000, Teams: 150, MembersPerTeam: 20, Rooms: 500, MembersPerRoom: 25})
	b.Run("5000u-150t-20m-500r", func(b *testing.B) { scaleSuite(b, scaleCase{gen: gen, rooms: true, verify: true}) })
}

// largeSize is the scale target: 100,000 users, 2,000 teams and about
// 300,000 memberships.
var largeSize = simulator.Size{Users: 100_000, Teams: 2_000, MembersPerTeam: 150}

// BenchmarkScaleLarge syncs the large workspace without a limiter (see
// scaleSuite), after timing its one count=0 users.listByStatus answer
// (users-answer). It takes about five minutes, most of them the
// simulator's (it finds users by linear scan), so it runs only with
// BENCH_LARGE=1:
//
//	BENCH_LARGE=1 go test -run '^$' -bench BenchmarkScaleLarge -benchtime 1x -timeout 2h ./internal/bench/
//
// The cli sub-benchmark fails when the connector process's peak RSS (the
// binary's connector child) exceeds maxConnectorRSS. Also:
//
//   - BENCH_VERIFY=1 reads the c1z back and checks every count (after the
//     peak RSS has been taken).
//   - BENCH_RECORDING=<file> keeps the simulator's answers after live; a
//     later run with the file present skips live (minutes) and replays it.
//   - BENCH_HEAPPROFILE=<file> keeps heap profiles taken near the peak of
//     the heap (<file> in process, <file>.child in the connector process).
//   - BENCH_RSS_TRACE=<file> keeps the connector process's memory, sampled
//     every 50 ms, as CSV.
//   - BENCH_CHILD_CPUPROFILE=<file> keeps the connector process's CPU
//     profile.
//   - BENCH_CHILD_GOMEMLIMIT=<limit> runs the connector process with that
//     GOMEMLIMIT.
func BenchmarkScaleLarge(b *testing.B) {
	if os.Getenv("BENCH_LARGE") != "1" {
		b.Skip("set BENCH_LARGE=1 to sync 100,000 users / 2,000 teams / ~300,000 memberships")
	}
	gen := generateLarge(b, largeSize)
	b.Run("users-answer", func(b *testing.B) { usersAnswer(b, gen) })
	scaleSuite(b, scaleCase{gen: gen, verify: os.Getenv("BENCH_VERIFY") == "1", maxRSS: maxConnectorRSS, saved: os.Getenv("BENCH_RECORDING")})
}

// generateLarge generates a workspace of size and logs what it holds.
func generateLarge(b *testing.B, size simulator.Size) *simulator.Generated {
	start := time.Now()
	gen := Workspace(1, size)
	ws := gen.Workspace
	memberships, subs := 0, 0
	for _, t := range ws.Teams {
		memberships += len(t.Members)
	}
	for _, r := range ws.Rooms {
		subs += len(r.Subscriptions)
	}
	b.Logf("generated %d users, %d teams with %d memberships, %d rooms with %d subscriptions (direct messages and omnichannel rooms included) in %s",
		len(ws.Users), len(ws.Teams), memberships, len(ws.Rooms), subs, time.Since(start).Round(time.Millisecond))
	return gen
}

// largeRoomsSize is the rooms scale target: the large workspace with
// 10,000 rooms of 50 members on average, about 500,000 subscriptions, and
// (BenchmarkScaleLargeRooms) a #general every user has joined.
var largeRoomsSize = simulator.Size{Users: largeSize.Users, Teams: largeSize.Teams, MembersPerTeam: largeSize.MembersPerTeam, Rooms: 10_000, MembersPerRoom: 50}

// BenchmarkScaleLargeRooms is BenchmarkScaleLarge of a sync that selected
// rooms, on the large workspace with 10,000 rooms and about 600,000
// subscriptions, 100,000 of them #general's, as in a real workspace whose
// default channel every user joins: the admin reads every user's rooms
// (users.info, one call per user). It runs only with BENCH_LARGE=1 and takes about ten minutes;
// BENCH_VERIFY, BENCH_HEAPPROFILE, BENCH_RSS_TRACE, BENCH_CHILD_CPUPROFILE
// and BENCH_CHILD_GOMEMLIMIT work as there, and BENCH_ROOMS_RECORDING is
// its recording file:
//
//	BENCH_LARGE=1 BENCH_VERIFY=1 go test -run '^$' -bench BenchmarkScaleLargeRooms -benchtime 1x -timeout 2h ./internal/bench/
func BenchmarkScaleLargeRooms(b *testing.B) {
	if os.Getenv("BENCH_LARGE") != "1" {
		b.Skip("set BENCH_LARGE=1 to sync 100,000 users / 10,000 rooms / ~600,000 subscriptions")
	}
	gen := generateLarge(b, largeRoomsSize)
	general := gen.Workspace.JoinEveryone()
	b.Logf("#%s: %d subscribers", general.Name, len(general.Subscriptions))
	scaleSuite(b, scaleCase{gen: gen, rooms: true, verify: os.Getenv("BENCH_VERIFY") == "1", maxRSS: maxConnectorRSS, saved: os.Getenv("BENCH_ROOMS_RECORDING")})
}

// BenchmarkScaleUsersAnswer times the single count=0 users.listByStatus
// answer of 20,000 users (BenchmarkScaleLarge does 100,000): see usersAnswer.
func BenchmarkScaleUsersAnswer(b *testing.B) {
	usersAnswer(b, Workspace(1, simulator.Size{Users: 20_000, Teams: 1, MembersPerTeam: 1}))
}

// usersAnswer reads the whole users listing of gen in one call, as the
// connector's first users page does: client.New, then UsersPage with
// count=0. live is the simulator answering (its work, the transfer and the
// client's streaming decode); recorded is the same bytes served from
// memory (the transfer and the decode alone). The bytes are the body the
// server wrote.
func usersAnswer(b *testing.B, gen *simulator.Generated) {
	cache := newReplayCache()
	for _, mode := range []struct {
		name string
		wrap func(http.Handler) http.Handler
	}{{"live", cache.record}, {"recorded", cache.replay}} {
		b.Run(mode.name, func(b *testing.B) {
			srv := startServer(gen.Workspace, unlimited, mode.wrap)
			defer srv.Close()
			ctx := context.Background()
			cl, err := client.New(ctx, client.Config{BaseURL: srv.http.URL, UserID: gen.Admin.UserID, Token: gen.Admin.Token})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				p, err := cl.UsersPage(ctx, client.UsersListByStatus, 0, client.All)
				if err != nil {
					b.Fatal(err)
				}
				if len(p.Items) != len(gen.Workspace.Users) || !p.Complete() {
					b.Fatalf("one count=0 answer brought %d of %d users (total %d)", len(p.Items), len(gen.Workspace.Users), p.Total)
				}
			}
			b.StopTimer()
			body := srv.busy.Bytes()[EpUsers] / int64(b.N)
			b.SetBytes(body)
			b.ReportMetric(float64(body), "answer-bytes")
			b.ReportMetric(float64(body)/float64(len(gen.Workspace.Users)), "bytes/user")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "answer-s")
			b.ReportMetric(srv.busy.Busy().Seconds()/float64(b.N), "server-busy-s")
		})
	}
}

// scaleSuite measures an unlimited sync of gen three ways:
//
//   - live: against the simulator, in process; the simulator records its
//     answers. Wall time includes the simulator's work.
//   - replay: the same sync answered from the recording, in process: the
//     simulator's cost is gone, what is left is the connector and the SDK.
//   - process: the replay again, with the sync in a child process, whose
//     peak RSS is the connector's and the SDK's alone. The child runs the
//     CLI's code path: harness.Sync, the session store wired as the CLI
//     wires it, one connector.
//   - cli: the replay again, synced by the real binary (baton-rocketchat
//     -f), which runs the SDK's syncer and the c1z in its own process and
//     the connector in a child process: their peak RSS apart. With
//     sc.maxRSS > 0, a connector process's peak above it fails.
//
// Each checks that the sync made exactly the minimal plan's calls.
//
// With sc.saved set, live keeps its recording in that file, and a later
// run with the file present skips live and replays the file.
func scaleSuite(b *testing.B, sc scaleCase) {
	if sc.rooms {
		// Asks the connector which types it offers: a sync of its own.
		sc.selection = roomSelection(sc.gen.Workspace, sc.gen.Admin)
	}
	gen, verify, saved := sc.gen, sc.verify, sc.saved
	cache := newReplayCache()
	loaded := false
	if saved != "" {
		if err := cache.load(saved); err == nil {
			loaded = true
			b.Logf("answers loaded from %s: live skipped", saved)
		} else if !os.IsNotExist(err) {
			b.Fatal(err)
		}
	}
	b.Run("live", func(b *testing.B) {
		if loaded {
			b.Skip("answers loaded from " + saved)
		}
		runScale(b, sc, verify, cache.record)
		if saved != "" {
			if err := cache.save(saved); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("replay", func(b *testing.B) {
		if len(cache.m) == 0 {
			b.Skip("nothing recorded: run the live sub-benchmark first")
		}
		b.Logf("replaying %d answers, %.1f MiB", len(cache.m), float64(cache.Size())/(1<<20))
		runScale(b, sc, false, cache.replay)
		if cache.misses > 0 {
			b.Errorf("%d requests were not in the recording", cache.misses)
		}
	})
	b.Run("process", func(b *testing.B) {
		if len(cache.m) == 0 {
			b.Skip("nothing recorded: run the live sub-benchmark first")
		}
		want := sc.want()
		plan := sc.plan()
		var wall, lastCall time.Duration
		var worst *childResult
		for range b.N {
			srv := startServer(gen.Workspace, unlimited, cache.replay)
			res, err := childSync(srv.http.URL, gen.Admin, sc.selected(), verify)
			arrivals := srv.busy.Arrivals()
			last := srv.busy.start.Add(srv.busy.LastCall())
			srv.Close()
			if err != nil {
				b.Fatal(err)
			}
			checkCalls(b, callCounts(arrivals), plan)
			if verify {
				w := want
				w.Memberships = 0
				if res.Verified != fmt.Sprintf("%+v", w) {
					b.Errorf("connector process c1z counts %s, want %+v", res.Verified, w)
				}
			}
			wall += res.Wall
			lastCall += last.Sub(time.Unix(0, res.Start))
			if worst == nil || res.VMHWMkB > worst.VMHWMkB {
				worst = res
			}
		}
		n := float64(b.N)
		b.ReportMetric(wall.Seconds()/n, "wall-s")
		b.ReportMetric(float64(want.Resources())/(wall.Seconds()/n), "resources/s")
		b.ReportMetric(float64(want.Grants())/(wall.Seconds()/n), "grants/s")
		b.ReportMetric(float64(worst.VMHWMkB)/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(worst.AtPeak.AnonKB)/1024, "anon-at-peak-MiB")
		b.ReportMetric(float64(worst.AtPeak.FileKB)/1024, "file-at-peak-MiB")
		b.ReportMetric(float64(worst.AtPeak.GoTotal)/(1<<20), "go-at-peak-MiB")
		b.ReportMetric(float64(worst.PeakHeap)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(worst.GoSys)/(1<<20), "go-sys-MiB")
		b.ReportMetric(float64(worst.C1ZBytes)/(1<<20), "c1z-MiB")
		b.ReportMetric(lastCall.Seconds()/n, "last-call-s")
		b.Logf("connector and SDK in one process: wall %.2fs, last API call %.2fs into the sync, peak RSS %.1f MiB at %.1fs into the sync (anonymous %.1f MiB, file-backed %.1f MiB; the Go runtime held %.1f MiB not released to the OS, heap objects %.1f MiB; the rest of the anonymous memory is C allocations: the SDK's Pebble cache and memtables); peak heap objects %.1f MiB",
			wall.Seconds()/n, lastCall.Seconds()/n, float64(worst.VMHWMkB)/1024, worst.AtPeak.At.Seconds(), float64(worst.AtPeak.AnonKB)/1024, float64(worst.AtPeak.FileKB)/1024,
			float64(worst.AtPeak.GoTotal)/(1<<20), float64(worst.AtPeak.HeapObjects)/(1<<20), float64(worst.PeakHeap)/(1<<20))
	})
	b.Run("cli", func(b *testing.B) {
		if len(cache.m) == 0 {
			b.Skip("nothing recorded: run the live sub-benchmark first")
		}
		bin, err := buildCLI(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		plan := sc.plan()
		var wall time.Duration
		var parent, child, c1zBytes int64
		b.ResetTimer()
		for i := range b.N {
			dir := b.TempDir()
			srv := startServer(gen.Workspace, unlimited, cache.replay)
			res, err := cliSync(bin, srv.http.URL, gen.Admin, sc.selected(), dir)
			arrivals := srv.busy.Arrivals()
			srv.Close()
			if err != nil {
				b.Fatal(err)
			}
			// The binary validates the credentials in its own process
			// before the SDK starts the connector's (cmd/baton-rocketchat),
			// so the validation calls come twice.
			for _, v := range planViolations(simulator.Stats{Calls: callCounts(arrivals)}, plan, 2) {
				b.Error(v)
			}
			if verify && i == 0 {
				b.StopTimer()
				checkCounts(b, filepath.Join(dir, "sync.c1z"), sc.want(), true)
				b.StartTimer()
			}
			wall += res.wall
			parent, child = max(parent, res.parentHWMkB), max(child, res.childHWMkB)
			c1zBytes = res.c1zBytes
		}
		b.StopTimer()
		b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s")
		b.ReportMetric(float64(child)/1024, "connector-peak-RSS-MiB")
		b.ReportMetric(float64(parent)/1024, "syncer-peak-RSS-MiB")
		b.ReportMetric(float64(c1zBytes)/(1<<20), "c1z-MiB")
		b.Logf("baton-rocketchat -f: wall %.2fs; peak RSS of the connector child process %.1f MiB, of the SDK's parent process (syncer, c1z) %.1f MiB",
			wall.Seconds()/float64(b.N), float64(child)/1024, float64(parent)/1024)
		if sc.maxRSS > 0 && child*1024 > sc.maxRSS {
			b.Errorf("connector process peak RSS %.1f MiB, limit %.0f MiB", float64(child)/1024, float64(sc.maxRSS)/(1<<20))
		}
	})
}

// childResult is what a child sync process reports, as one JSON line.
type childResult struct {
	Wall time.Duration `json:"wall_ns"`
	// Start is when the sync started, in Unix nanoseconds.
	Start    int64  `json:"start_unix_ns"`
	VMHWMkB  int64  `json:"vmhwm_kb"`
	C1ZBytes int64  `json:"c1z_bytes"`
	PeakHeap uint64 `json:"peak_heap_bytes"` // peak Go heap objects during the sync
	GoSys    uint64 `json:"go_sys_bytes"`    // memory the Go runtime holds from the OS, at the end
	// AtPeak is the memory reading taken closest to the peak RSS.
	AtPeak struct {
		At          time.Duration `json:"at_ns"`
		AnonKB      int64         `json:"anon_kb"`
		FileKB      int64         `json:"file_kb"`
		HeapObjects uint64        `json:"heap_objects_bytes"`
		GoTotal     uint64        `json:"go_total_bytes"`
	} `json:"at_peak"`
	Verified string `json:"verified,omitempty"` // the c1z's counts, when verified
}

const childPrefix = "CHILD "

// childSync runs one full sync in a separate process (this test binary,
// running TestChildSync), so its peak RSS is the connector's and the SDK's
// alone: no simulator, no workspace, no recording.
func childSync(baseURL string, cred simulator.Credential, selected []string, verify bool) (*childResult, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildSync$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(),
		"BENCH_CHILD_URL="+baseURL, "BENCH_CHILD_USER="+cred.UserID, "BENCH_CHILD_TOKEN="+cred.Token,
		"BENCH_CHILD_TYPES="+strings.Join(selected, ","))
	if verify {
		cmd.Env = append(cmd.Env, "BENCH_CHILD_VERIFY=1")
	}
	if limit := os.Getenv("BENCH_CHILD_GOMEMLIMIT"); limit != "" {
		// The connector process's soft memory limit alone: the benchmark
		// process holds the workspace and the recording.
		cmd.Env = append(cmd.Env, "GOMEMLIMIT="+limit)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("child sync: %w\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if raw, ok := strings.CutPrefix(line, childPrefix); ok {
			var r childResult
			if err := json.Unmarshal([]byte(raw), &r); err != nil {
				return nil, fmt.Errorf("child sync result %q: %w", raw, err)
			}
			return &r, nil
		}
	}
	return nil, fmt.Errorf("child sync printed no result:\n%s", out)
}

// TestChildSync is the child side of childSync; it runs only when a
// benchmark starts it.
func TestChildSync(t *testing.T) {
	baseURL := os.Getenv("BENCH_CHILD_URL")
	if baseURL == "" {
		t.Skip("runs only as the child process of a scaleSuite benchmark")
	}
	ctx := context.Background()
	var selected []string
	if types := os.Getenv("BENCH_CHILD_TYPES"); types != "" {
		selected = strings.Split(types, ",")
	}
	c, err := newConnectorSelecting(ctx, baseURL, simulator.Credential{UserID: os.Getenv("BENCH_CHILD_USER"), Token: os.Getenv("BENCH_CHILD_TOKEN")}, selected)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "sync.c1z")
	profile := ""
	if p := os.Getenv("BENCH_HEAPPROFILE"); p != "" {
		profile = p + ".child"
	}
	if p := os.Getenv("BENCH_CHILD_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	heap := startHeapSampler(profile, os.Getenv("BENCH_RSS_TRACE"))
	start := time.Now()
	if err := harness.Sync(ctx, c, path, harness.SyncOptions{TmpDir: dir, ResourceTypes: selected}); err != nil {
		t.Fatal(err)
	}
	var res childResult
	res.Wall = time.Since(start)
	res.Start = start.UnixNano()
	res.PeakHeap = heap.Stop()
	hwm, _, err := ProcStatus()
	if err != nil {
		t.Fatal(err)
	}
	res.VMHWMkB = hwm
	p := heap.atPeakRSS
	res.AtPeak.At, res.AtPeak.AnonKB, res.AtPeak.FileKB, res.AtPeak.HeapObjects, res.AtPeak.GoTotal = p.at, p.anonKB, p.fileKB, p.heapObjects, p.goTotal
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	res.C1ZBytes = fi.Size()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.GoSys = ms.Sys
	if os.Getenv("BENCH_CHILD_VERIFY") == "1" {
		got, err := c1zCounts(ctx, path, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		res.Verified = fmt.Sprintf("%+v", got)
	}
	line, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(childPrefix + string(line))
}

// cliResult is what a run of the real binary measured.
type cliResult struct {
	wall time.Duration
	// parentHWMkB is the CLI process's peak RSS (the SDK's syncer and the
	// c1z), childHWMkB its connector child's (the connector's gRPC server).
	parentHWMkB, childHWMkB int64
	c1zBytes                int64
}

// buildCLI builds cmd/baton-rocketchat into dir.
func buildCLI(dir string) (string, error) {
	bin := filepath.Join(dir, "baton-rocketchat")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/baton-rocketchat").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

// cliSync runs `baton-rocketchat -f` against baseURL as cred: the way the
// CLI really runs, the SDK in the parent process (syncer, c1z, the session
// store it serves) and the connector in a child process it starts, which
// reaches the session store over gRPC. It polls both processes' VmHWM (the
// kernel's peak RSS) until the parent exits.
func cliSync(bin, baseURL string, cred simulator.Credential, selected []string, dir string) (*cliResult, error) {
	c1z := filepath.Join(dir, "sync.c1z")
	args := []string{"-f", c1z, "--log-format", "json", "--log-level", "warn"}
	if selected != nil {
		args = append(args, "--sync-resource-types", strings.Join(selected, ","))
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir,
		"BATON_BASE_URL=" + baseURL, "BATON_USER_ID=" + cred.UserID, "BATON_AUTH_TOKEN=" + cred.Token,
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	res := &cliResult{}
	children := map[int]bool{}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		res.parentHWMkB = max(res.parentHWMkB, procHWM(cmd.Process.Pid))
		for _, pid := range childPIDs(cmd.Process.Pid) {
			children[pid] = true
		}
		for pid := range children {
			res.childHWMkB = max(res.childHWMkB, procHWM(pid))
		}
		select {
		case err := <-done:
			res.wall = time.Since(start)
			if err != nil {
				return nil, fmt.Errorf("baton-rocketchat: %w\n%s", err, out.String())
			}
			if len(children) == 0 {
				return nil, fmt.Errorf("baton-rocketchat started no connector child process:\n%s", out.String())
			}
			fi, err := os.Stat(c1z)
			if err != nil {
				return nil, err
			}
			res.c1zBytes = fi.Size()
			return res, nil
		case <-tick.C:
		}
	}
}

// procHWM is a process's VmHWM in kB, 0 once it is gone.
func procHWM(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// childPIDs lists the processes whose parent is pid.
func childPIDs(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces, so cut after ')'.
		i := strings.LastIndexByte(string(raw), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(raw[i+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}
