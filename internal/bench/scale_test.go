package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/pkg/client"
	"github.com/conductorone/baton-rocketchat/pkg/connector"
	"github.com/conductorone/baton-rocketchat/pkg/simulator"
)

// unlimited is a server without a limiter, synced as the admin.
var unlimited = simulator.Options{DisableRateLimiter: true}

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
	b.ReportMetric(float64(t.c1zBytes)/n/(1<<20), "c1z-MB")
	if t.peakRSSkB > 0 {
		b.ReportMetric(float64(t.peakRSSkB)/1024, "peak-RSS-MB")
	}
	if t.peakHeap > 0 {
		b.ReportMetric(float64(t.peakHeap)/(1<<20), "peak-heap-MB")
	}
	b.Logf("N=%d %d resources (%d users, %d roles, %d teams), %d grants (%d role, %d team; %d active memberships), wall %.2fs, simulator busy %.2fs",
		t.runs, want.Resources(), want.Users, want.Roles, want.Teams, want.Grants(), want.RoleGrants, want.TeamGrants, want.Memberships,
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

// heapSampler polls the Go heap during a sync for its peak (HeapInuse:
// the simulator's, the connector's and the SDK's objects, live or not yet
// collected). With a path, it also writes a heap profile there each time
// the heap has grown by a tenth since the last one, so the last profile
// written shows what filled the heap near its peak.
type heapSampler struct {
	stop, done chan struct{}
	peak       uint64
}

func startHeapSampler(profilePath string) *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		var profiled uint64
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			h.peak = max(h.peak, ms.HeapInuse)
			if profilePath != "" && ms.HeapInuse > profiled+profiled/10 {
				profiled = ms.HeapInuse
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

// Stop ends the sampling and returns the peak HeapInuse in bytes.
func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	<-h.done
	return h.peak
}

// runScale syncs ws without a limiter as the admin, b.N times; wrap goes
// in front of the simulator when set.
func runScale(b *testing.B, ws *simulator.Workspace, cred simulator.Credential, verify bool, wrap func(http.Handler) http.Handler) {
	want := Expect(ws)
	var t scaleTally
	startRSS := measurePeakRSS(b)
	b.ResetTimer()
	for i := range b.N {
		dir := b.TempDir()
		heap := startHeapSampler(os.Getenv("BENCH_HEAPPROFILE"))
		var (
			r   *syncRun
			err error
		)
		// The label tells this sync's samples apart in a CPU profile:
		// go tool pprof -tagfocus=sync=<benchmark name>.
		pprof.Do(context.Background(), pprof.Labels("sync", b.Name()), func(ctx context.Context) {
			r, err = connectorSync(ctx, ws, unlimited, cred, dir, wrap)
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
			if verify {
				checkC1Z(b, r.C1ZPath, ws)
			}
			b.StartTimer()
		}
		_ = os.RemoveAll(dir)
	}
	b.StopTimer()
	b.ReportMetric(float64(startRSS)/1024, "start-RSS-MB")
	t.report(b, want)
}

// BenchmarkSyncUnlimited is a full sync through the SDK into a c1z, with no
// limiter (the admin holds api-bypass-rate-limit, and the limiter is off):
// what the connector, the SDK and the simulator cost per resource and grant.
// See scaleSuite for the three ways each size is measured.
func BenchmarkSyncUnlimited(b *testing.B) {
	for _, sz := range []struct {
		name string
		size simulator.Size
	}{
		{"5000u-150t-20m", simulator.Size{Users: 5000, Teams: 150, MembersPerTeam: 20}},
		{"20000u-400t-50m", simulator.Size{Users: 20000, Teams: 400, MembersPerTeam: 50}},
		{"50000u-1000t-100m", simulator.Size{Users: 50000, Teams: 1000, MembersPerTeam: 100}},
	} {
		gen := Workspace(1, sz.size)
		b.Run(sz.name, func(b *testing.B) { scaleSuite(b, gen, true) })
	}
}

// largeSize is the scale target: 100,000 users, 2,000 teams and
// about 300,000 memberships.
var largeSize = simulator.Size{Users: 100_000, Teams: 2_000, MembersPerTeam: 150}

// BenchmarkSyncLarge syncs the large workspace without a limiter (see
// scaleSuite). It takes several minutes, most of them the simulator's (it
// finds users by linear scan), so it runs only with BENCH_LARGE=1:
//
//	BENCH_LARGE=1 go test -run '^$' -bench BenchmarkSyncLarge -benchtime 1x -timeout 2h -cpuprofile cpu.out ./internal/bench/
//
// Set BENCH_VERIFY=1 to also read the c1z back and check every count
// (after the peak RSS has been taken), and BENCH_HEAPPROFILE=<file> to
// keep a heap profile taken near the peak of the heap.
func BenchmarkSyncLarge(b *testing.B) {
	if os.Getenv("BENCH_LARGE") != "1" {
		b.Skip("set BENCH_LARGE=1 to sync 100,000 users / 2,000 teams / ~300,000 memberships")
	}
	gen := Workspace(1, largeSize)
	memberships := 0
	for _, t := range gen.Workspace.Teams {
		memberships += len(t.Members)
	}
	b.Logf("generated %d users, %d teams, %d memberships", len(gen.Workspace.Users), len(gen.Workspace.Teams), memberships)
	scaleSuite(b, gen, os.Getenv("BENCH_VERIFY") == "1")
}

// scaleSuite measures an unlimited sync of gen three ways:
//
//   - live: against the simulator, in process; the simulator records its
//     answers. Wall time includes the simulator's work.
//   - replay: the same sync answered from the recording, in process: the
//     simulator's cost is gone, what is left is the connector and the SDK.
//   - process: the replay again, with the sync in a child process, whose
//     peak RSS is the connector's and the SDK's alone.
func scaleSuite(b *testing.B, gen *simulator.Generated, verify bool) {
	cache := newReplayCache()
	b.Run("live", func(b *testing.B) {
		runScale(b, gen.Workspace, gen.Admin, verify, cache.record)
	})
	b.Run("replay", func(b *testing.B) {
		if len(cache.m) == 0 {
			b.Skip("nothing recorded: run the live sub-benchmark first")
		}
		b.Logf("replaying %d answers, %.1f MB", len(cache.m), float64(cache.Size())/(1<<20))
		runScale(b, gen.Workspace, gen.Admin, false, cache.replay)
		if cache.misses > 0 {
			b.Errorf("%d requests were not in the recording", cache.misses)
		}
	})
	b.Run("process", func(b *testing.B) {
		if len(cache.m) == 0 {
			b.Skip("nothing recorded: run the live sub-benchmark first")
		}
		want := Expect(gen.Workspace)
		var wall time.Duration
		var hwm, c1zBytes int64
		var peakHeap, goSys uint64
		for range b.N {
			srv := startServer(gen.Workspace, unlimited, cache.replay)
			res, err := childSync(srv.http.URL, gen.Admin)
			srv.Close()
			if err != nil {
				b.Fatal(err)
			}
			wall += res.wall
			hwm = max(hwm, res.vmHWMkB)
			peakHeap = max(peakHeap, res.peakHeap)
			goSys = max(goSys, res.goSys)
			c1zBytes = res.c1zBytes
		}
		n := float64(b.N)
		b.ReportMetric(wall.Seconds()/n, "wall-s")
		b.ReportMetric(float64(want.Resources())/(wall.Seconds()/n), "resources/s")
		b.ReportMetric(float64(want.Grants())/(wall.Seconds()/n), "grants/s")
		b.ReportMetric(float64(hwm)/1024, "peak-RSS-MB")
		b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(goSys)/(1<<20), "go-sys-MB")
		b.ReportMetric(float64(c1zBytes)/(1<<20), "c1z-MB")
	})
}

// childResult is what a child sync process reports.
type childResult struct {
	wall     time.Duration
	vmHWMkB  int64
	c1zBytes int64
	peakHeap uint64 // peak Go HeapInuse during the sync
	goSys    uint64 // memory the Go runtime holds from the OS, at the end
}

// childSync runs one full sync in a separate process (this test binary,
// running TestChildSync), so its peak RSS is the connector's and the SDK's
// alone: no simulator, no workspace, no recording.
func childSync(baseURL string, cred simulator.Credential) (*childResult, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildSync$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		"BENCH_CHILD_URL="+baseURL, "BENCH_CHILD_USER="+cred.UserID, "BENCH_CHILD_TOKEN="+cred.Token)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("child sync: %w\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		var wallNS int64
		r := &childResult{}
		if _, err := fmt.Sscanf(line, "CHILD wall_ns=%d vmhwm_kb=%d c1z_bytes=%d peak_heap_bytes=%d go_sys_bytes=%d",
			&wallNS, &r.vmHWMkB, &r.c1zBytes, &r.peakHeap, &r.goSys); err == nil {
			r.wall = time.Duration(wallNS)
			return r, nil
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
	cl, err := client.New(ctx, client.Config{BaseURL: baseURL, UserID: os.Getenv("BENCH_CHILD_USER"), Token: os.Getenv("BENCH_CHILD_TOKEN")})
	if err != nil {
		t.Fatal(err)
	}
	c := connector.NewWithClient(cl, nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "sync.c1z")
	profile := ""
	if p := os.Getenv("BENCH_HEAPPROFILE"); p != "" {
		profile = p + ".child"
	}
	heap := startHeapSampler(profile)
	start := time.Now()
	if err := harness.Sync(ctx, c, path, harness.SyncOptions{TmpDir: dir}); err != nil {
		t.Fatal(err)
	}
	wall := time.Since(start)
	peakHeap := heap.Stop()
	hwm, _, err := ProcStatus()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("CHILD wall_ns=%d vmhwm_kb=%d c1z_bytes=%d peak_heap_bytes=%d go_sys_bytes=%d\n",
		wall.Nanoseconds(), hwm, fi.Size(), peakHeap, ms.Sys)
}
