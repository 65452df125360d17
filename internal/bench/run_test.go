package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/pkg/client"
	"github.com/conductorone/baton-rocketchat/pkg/connector"
	"github.com/conductorone/baton-rocketchat/pkg/simulator"
)

// busyHandler measures the wall time during which the simulator was
// serving at least one request. The simulator handles one request at a
// time under its lock, so this bounds how long the server kept the sync
// waiting.
type busyHandler struct {
	h        http.Handler
	mu       sync.Mutex
	inFlight int
	since    time.Time
	busy     time.Duration
	start    time.Time
	last     time.Duration // when the latest request arrived, since start
	requests int
	// windows holds, per endpoint, the X-RateLimit-Reset values answered:
	// one per limiter window the endpoint was called in.
	windows map[string]map[string]int
}

func (b *busyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	now := time.Now()
	b.last = now.Sub(b.start)
	b.requests++
	if b.inFlight == 0 {
		b.since = now
	}
	b.inFlight++
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		if reset := w.Header().Get("X-RateLimit-Reset"); reset != "" {
			key := r.Method + " " + strings.TrimPrefix(r.URL.Path, "/api/v1/")
			if b.windows == nil {
				b.windows = map[string]map[string]int{}
			}
			if b.windows[key] == nil {
				b.windows[key] = map[string]int{}
			}
			b.windows[key][reset]++
		}
		b.inFlight--
		if b.inFlight == 0 {
			b.busy += time.Since(b.since)
		}
		b.mu.Unlock()
	}()
	b.h.ServeHTTP(w, r)
}

func (b *busyHandler) Busy() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.busy
}

// WindowsUsed is, per endpoint, how many limiter windows it was called in.
func (b *busyHandler) WindowsUsed() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]int{}
	for k, v := range b.windows {
		out[k] = len(v)
	}
	return out
}

// Requests counts the requests served.
func (b *busyHandler) Requests() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.requests
}

// PerWindow is, per endpoint, the calls made in each limiter window it was
// called in, in window order.
func (b *busyHandler) PerWindow() map[string][]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string][]int{}
	for k, v := range b.windows {
		resets := make([]string, 0, len(v))
		for r := range v {
			resets = append(resets, r)
		}
		// Reset values are epoch milliseconds of equal length.
		slices.Sort(resets)
		for _, r := range resets {
			out[k] = append(out[k], v[r])
		}
	}
	return out
}

// LastCall is when the latest request arrived, since the server started.
func (b *busyHandler) LastCall() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// server is a simulator on loopback.
type server struct {
	sim  *simulator.Server
	busy *busyHandler
	http *httptest.Server
}

// startServer serves ws on loopback; wrap, when set, goes between the
// measuring handler and the simulator.
func startServer(ws *simulator.Workspace, opts simulator.Options, wrap func(http.Handler) http.Handler) *server {
	sim := simulator.NewServer(ws, opts)
	var h http.Handler = sim
	if wrap != nil {
		h = wrap(sim)
	}
	bh := &busyHandler{h: h, start: time.Now()}
	return &server{sim: sim, busy: bh, http: httptest.NewServer(bh)}
}

func (s *server) Close() { s.http.Close() }

// syncRun is one measured full sync.
type syncRun struct {
	Wall    time.Duration
	SimBusy time.Duration
	// LastCall is when the sync's last API call arrived, since the server
	// started; the rest of Wall is the SDK finishing the c1z.
	LastCall time.Duration
	// Windows is, per endpoint, how many limiter windows it was called in.
	Windows map[string]int
	// PerWindow is, per endpoint, the calls made in each window.
	PerWindow map[string][]int
	// Requests counts the HTTP requests the sync sent.
	Requests int
	Stats    simulator.Stats
	C1ZPath  string
	C1ZSize  int64
}

// connectorSync runs a full in-process sync of ws as cred into dir/sync.c1z
// through the SDK, the way `baton-rocketchat -f` does, on a fresh server
// (so the limiter's windows start with the run).
func connectorSync(ctx context.Context, ws *simulator.Workspace, opts simulator.Options, cred simulator.Credential, dir string, wrap func(http.Handler) http.Handler) (*syncRun, error) {
	srv := startServer(ws, opts, wrap)
	defer srv.Close()
	cl, err := client.New(ctx, client.Config{BaseURL: srv.http.URL, UserID: cred.UserID, Token: cred.Token})
	if err != nil {
		return nil, err
	}
	c := connector.NewWithClient(cl, nil)
	path := filepath.Join(dir, "sync.c1z")
	_ = os.Remove(path)
	start := time.Now()
	err = harness.Sync(ctx, c, path, harness.SyncOptions{TmpDir: dir})
	run := &syncRun{Wall: time.Since(start), SimBusy: srv.busy.Busy(), LastCall: srv.busy.LastCall(), Windows: srv.busy.WindowsUsed(), PerWindow: srv.busy.PerWindow(), Requests: srv.busy.Requests(), Stats: srv.sim.Stats(), C1ZPath: path}
	if err != nil {
		return run, fmt.Errorf("sync: %w", err)
	}
	if fi, err := os.Stat(path); err == nil {
		run.C1ZSize = fi.Size()
	}
	return run, nil
}

// baselineSync runs the baseline syncer against a fresh server.
func baselineSync(ctx context.Context, ws *simulator.Workspace, opts simulator.Options, cred simulator.Credential) (*syncRun, *BaselineResult, error) {
	srv := startServer(ws, opts, nil)
	defer srv.Close()
	bl := &Baseline{BaseURL: srv.http.URL, Cred: cred, HTTP: &http.Client{Timeout: time.Minute}}
	start := time.Now()
	res, err := bl.Sync(ctx)
	run := &syncRun{Wall: time.Since(start), SimBusy: srv.busy.Busy(), LastCall: srv.busy.LastCall(), Windows: srv.busy.WindowsUsed(), PerWindow: srv.busy.PerWindow(), Requests: srv.busy.Requests(), Stats: srv.sim.Stats()}
	return run, res, err
}

// c1zCounts reads a c1z back and counts resources per type and grants.
func c1zCounts(ctx context.Context, path, tmp string) (Expected, error) {
	contents, err := harness.ReadC1Z(ctx, path, tmp)
	if err != nil {
		return Expected{}, err
	}
	var got Expected
	for _, r := range contents.Resources {
		switch r.GetId().GetResourceType() {
		case "user":
			got.Users++
		case "role":
			got.Roles++
		case "team":
			got.Teams++
		}
	}
	for _, g := range contents.Grants {
		switch g.GetEntitlement().GetResource().GetId().GetResourceType() {
		case "role":
			got.RoleGrants++
		case "team":
			got.TeamGrants++
		}
	}
	return got, nil
}

// checkC1Z fails tb when the c1z does not hold exactly what ws implies.
func checkC1Z(tb testing.TB, path string, ws *simulator.Workspace) {
	tb.Helper()
	got, err := c1zCounts(context.Background(), path, tb.TempDir())
	if err != nil {
		tb.Fatalf("reading c1z: %v", err)
	}
	want := Expect(ws)
	want.Memberships = 0
	if got != want {
		tb.Errorf("c1z counts %+v, want %+v", got, want)
	}
}

// shortName turns "GET teams.members" into "members" for metric units.
var shortNames = map[string]string{
	EpInfo:        "info",
	EpMe:          "me",
	EpPermissions: "perms",
	EpRoles:       "roles",
	EpUsers:       "users",
	EpUsersList:   "users",
	EpTeams:       "teams",
	EpMembers:     "members",
	EpUsersInRole: "usersInRole",
}

// byShortName folds a call count map onto short endpoint names.
func byShortName(calls map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range calls {
		name, ok := shortNames[k]
		if !ok {
			name = strings.ReplaceAll(strings.TrimPrefix(k, "GET "), " ", "_")
		}
		out[name] += n
	}
	return out
}

// replayCache records the simulator's answers during one sync and serves
// them again to the next: a second sync then costs the connector and the
// SDK, not the simulator. Answers are keyed by method, URL and caller; the
// connector asks the same questions every sync.
type replayCache struct {
	mu     sync.Mutex
	m      map[string]*recorded
	misses int
}

type recorded struct {
	status int
	header http.Header
	body   []byte
}

func newReplayCache() *replayCache { return &replayCache{m: map[string]*recorded{}} }

func replayKey(r *http.Request) string {
	return r.Method + " " + r.URL.RequestURI() + " " + r.Header.Get("X-User-Id")
}

// record passes requests to h and keeps the answers.
func (c *replayCache) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		res := rec.Result()
		body := rec.Body.Bytes()
		c.mu.Lock()
		c.m[replayKey(r)] = &recorded{status: res.StatusCode, header: res.Header.Clone(), body: body}
		c.mu.Unlock()
		writeRecorded(w, &recorded{status: res.StatusCode, header: res.Header, body: body})
	})
}

// replay answers from the recording, falling back to h on a miss.
func (c *replayCache) replay(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		rec := c.m[replayKey(r)]
		if rec == nil {
			c.misses++
		}
		c.mu.Unlock()
		if rec == nil {
			h.ServeHTTP(w, r)
			return
		}
		writeRecorded(w, rec)
	})
}

func writeRecorded(w http.ResponseWriter, rec *recorded) {
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body)
}

// Size is the bytes the recording holds.
func (c *replayCache) Size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, r := range c.m {
		n += int64(len(r.body))
	}
	return n
}
