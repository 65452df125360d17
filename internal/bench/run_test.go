package bench

import (
	"context"
	"encoding/gob"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/pkg/client"
	"github.com/conductorone/baton-rocketchat/pkg/connector"
	"github.com/conductorone/baton-sdk/pkg/cli"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
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
	// arrivals holds, per endpoint, when each request arrived, since start.
	arrivals map[string][]time.Duration
	// bytes counts, per endpoint, the response body bytes written.
	bytes map[string]int64
}

// countingWriter counts the body bytes written through it.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

// endpointKey names a request as simulator.Stats does: by route, so that
// every settings/<id> is one settings/:_id.
func endpointKey(r *http.Request) string {
	if r.URL.Path == "/api/info" {
		return EpInfo
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v1/")
	if strings.HasPrefix(path, "settings/") {
		path = "settings/:_id"
	}
	return r.Method + " " + path
}

func (b *busyHandler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	key := endpointKey(r)
	w := &countingWriter{ResponseWriter: rw}
	b.mu.Lock()
	now := time.Now()
	b.last = now.Sub(b.start)
	b.requests++
	if b.arrivals == nil {
		b.arrivals = map[string][]time.Duration{}
		b.bytes = map[string]int64{}
	}
	b.arrivals[key] = append(b.arrivals[key], b.last)
	if b.inFlight == 0 {
		b.since = now
	}
	b.inFlight++
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.bytes[key] += w.n
		if reset := w.Header().Get("X-RateLimit-Reset"); reset != "" {
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

// Arrivals is, per endpoint, when each request arrived since the server
// started, in arrival order.
func (b *busyHandler) Arrivals() map[string][]time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string][]time.Duration, len(b.arrivals))
	for k, v := range b.arrivals {
		out[k] = slices.Clone(v)
	}
	return out
}

// Bytes is, per endpoint, the response body bytes sent.
func (b *busyHandler) Bytes() map[string]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.bytes)
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
		for _, r := range sortedResets(v) {
			out[k] = append(out[k], v[r])
		}
	}
	return out
}

// Resets is, per endpoint, the end of each limiter window it was called
// in (X-RateLimit-Reset, epoch milliseconds), in window order. A window
// opened at its end less the limiter's window.
func (b *busyHandler) Resets() map[string][]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string][]int64{}
	for k, v := range b.windows {
		for _, r := range sortedResets(v) {
			ms, err := strconv.ParseInt(r, 10, 64)
			if err == nil {
				out[k] = append(out[k], ms)
			}
		}
	}
	return out
}

func sortedResets(v map[string]int) []string {
	resets := make([]string, 0, len(v))
	for r := range v {
		resets = append(resets, r)
	}
	// Reset values are epoch milliseconds of equal length.
	slices.Sort(resets)
	return resets
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
	// Started is when the sync started, since the server did (and with it
	// the limiter's first windows).
	Started time.Duration
	// LastCall is when the sync's last API call arrived, since the server
	// started; the rest of Wall is the SDK finishing the c1z.
	LastCall time.Duration
	// Windows is, per endpoint, how many limiter windows it was called in.
	Windows map[string]int
	// PerWindow is, per endpoint, the calls made in each window.
	PerWindow map[string][]int
	// Resets is, per endpoint, when each of its windows ended (epoch ms).
	Resets map[string][]int64
	// Arrivals is, per endpoint, when each call arrived since the server
	// started.
	Arrivals map[string][]time.Duration
	// Bytes is, per endpoint, the response body bytes the server sent.
	Bytes map[string]int64
	// Requests counts the HTTP requests the sync sent.
	Requests int
	Stats    simulator.Stats
	C1ZPath  string
	C1ZSize  int64
	// Hosted is what each instance served, for a hosted sync.
	Hosted *harness.HostedStats
}

// measure fills a run in from the server's counters once the sync is over.
func (s *server) measure(start time.Time, path string) *syncRun {
	run := &syncRun{
		Wall: time.Since(start), Started: start.Sub(s.busy.start),
		SimBusy: s.busy.Busy(), LastCall: s.busy.LastCall(),
		Windows: s.busy.WindowsUsed(), PerWindow: s.busy.PerWindow(), Resets: s.busy.Resets(),
		Arrivals: s.busy.Arrivals(), Bytes: s.busy.Bytes(),
		Requests: s.busy.Requests(), Stats: s.sim.Stats(), C1ZPath: path,
	}
	if path != "" {
		if fi, err := os.Stat(path); err == nil {
			run.C1ZSize = fi.Size()
		}
	}
	return run
}

// newConnector builds a connector with a client of its own for cred.
func newConnector(ctx context.Context, baseURL string, cred simulator.Credential) (*connector.Connector, error) {
	return newConnectorSelecting(ctx, baseURL, cred, nil)
}

// newConnectorSelecting is newConnector for a sync of the resource types
// selected (all when nil), as --sync-resource-types makes it.
func newConnectorSelecting(ctx context.Context, baseURL string, cred simulator.Credential, selected []string) (*connector.Connector, error) {
	cl, err := client.New(ctx, client.Config{BaseURL: baseURL, UserID: cred.UserID, Token: cred.Token})
	if err != nil {
		return nil, err
	}
	var opts *cli.ConnectorOpts
	if selected != nil {
		opts = &cli.ConnectorOpts{SyncResourceTypeIDs: selected}
	}
	return connector.NewWithClient(cl, opts), nil
}

// roomSelection selects, for a sync as cred, every type the connector
// syncs by default and rooms: what a customer turning rooms on selects.
func roomSelection(ws *simulator.Workspace, cred simulator.Credential) []string {
	return append(typesFor(ws, cred), RoomTypeID)
}

// connectorSync runs a full in-process sync of ws as cred into dir/sync.c1z
// through the SDK, the way `baton-rocketchat -f` does (one connector
// process, the session store wired like the CLI's), on a fresh server (so
// the limiter's windows start with the run).
func connectorSync(ctx context.Context, ws *simulator.Workspace, opts simulator.Options, cred simulator.Credential, dir string, wrap func(http.Handler) http.Handler) (*syncRun, error) {
	return connectorSyncSelecting(ctx, ws, opts, cred, dir, wrap, nil)
}

// connectorSyncSelecting is connectorSync of the resource types selected
// (all when nil).
func connectorSyncSelecting(ctx context.Context, ws *simulator.Workspace, opts simulator.Options, cred simulator.Credential, dir string,
	wrap func(http.Handler) http.Handler, selected []string,
) (*syncRun, error) {
	srv := startServer(ws, opts, wrap)
	defer srv.Close()
	c, err := newConnectorSelecting(ctx, srv.http.URL, cred, selected)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "sync.c1z")
	_ = os.Remove(path)
	start := time.Now()
	err = harness.Sync(ctx, c, path, harness.SyncOptions{TmpDir: dir, ResourceTypes: selected})
	run := srv.measure(start, path)
	if err != nil {
		return run, fmt.Errorf("sync: %w", err)
	}
	return run, nil
}

// hostedSync is connectorSync the way ConductorOne's hosted runner syncs:
// the SDK syncer over instances independent connectors, each with a
// client.Client (and so a rate-limit pacer) of its own, every call going to
// the next instance (harness.SyncHosted): no sticky routing, only the page
// tokens and the session store carry state from one call to the next.
// faults, when not nil, is the session store's faults (harness.FaultyStore).
func hostedSync(ctx context.Context, ws *simulator.Workspace, opts simulator.Options, cred simulator.Credential, dir string, instances int, faults *harness.StoreFaults) (*syncRun, error) {
	return hostedSyncSelecting(ctx, ws, opts, cred, dir, instances, faults, nil)
}

// hostedSyncSelecting is hostedSync of the resource types selected (all
// when nil).
func hostedSyncSelecting(ctx context.Context, ws *simulator.Workspace, opts simulator.Options, cred simulator.Credential, dir string,
	instances int, faults *harness.StoreFaults, selected []string,
) (*syncRun, error) {
	srv := startServer(ws, opts, nil)
	defer srv.Close()
	conns := make([]*connector.Connector, instances)
	for i := range conns {
		c, err := newConnectorSelecting(ctx, srv.http.URL, cred, selected)
		if err != nil {
			return nil, err
		}
		conns[i] = c
	}
	path := filepath.Join(dir, "sync.c1z")
	_ = os.Remove(path)
	start := time.Now()
	ho := harness.HostedOptions{Instances: instances, TmpDir: dir, ResourceTypes: selected}
	if faults != nil {
		ho.StoreFaults = &harness.FaultyStore{Faults: *faults}
	}
	stats, err := harness.SyncHosted(ctx, func(i int) connectorbuilder.ConnectorBuilderV2 { return conns[i] }, path, ho)
	run := srv.measure(start, path)
	run.Hosted = &stats
	if err != nil {
		return run, fmt.Errorf("hosted sync: %w", err)
	}
	return run, nil
}

// baselineSync runs the baseline syncer against a fresh server.
func baselineSync(ctx context.Context, ws *simulator.Workspace, opts simulator.Options, cred simulator.Credential) (*syncRun, *BaselineResult, error) {
	srv := startServer(ws, opts, nil)
	defer srv.Close()
	bl := &Baseline{BaseURL: srv.http.URL, Cred: cred, HTTP: &http.Client{Timeout: time.Minute},
		Permissions: slices.Contains(syncedTypes(), "permission")}
	start := time.Now()
	res, err := bl.Sync(ctx)
	return srv.measure(start, ""), res, err
}

// c1zCounts reads a c1z back and counts resources per type and grants.
func c1zCounts(ctx context.Context, path, tmp string) (Expected, error) {
	contents, err := harness.ReadC1Z(ctx, path, tmp)
	if err != nil {
		return Expected{}, err
	}
	n := contents.ResourceCounts()
	got := Expected{Users: n["user"], Roles: n["role"], Teams: n["team"], Permissions: n["permission"], Rooms: n[RoomTypeID]}
	for _, g := range contents.Grants {
		switch g.GetEntitlement().GetResource().GetId().GetResourceType() {
		case "role":
			got.RoleGrants++
		case "team":
			got.TeamGrants++
		case RoomTypeID:
			got.RoomGrants++
		case "permission":
			if g.GetPrincipal().GetId().GetResourceType() == "role" {
				got.PermissionGrants++
			} else {
				got.ExpandedGrants++
			}
		}
	}
	return got, nil
}

// checkC1Z fails tb when the c1z of a sync with cred against a simulator
// with opts does not hold exactly what ws implies; rooms, which only some
// syncs select, are checkRooms'.
func checkC1Z(tb testing.TB, path string, ws *simulator.Workspace, cred simulator.Credential, opts simulator.Options) {
	tb.Helper()
	want := Expect(ws).WithDeactivated(ws, cred, opts)
	checkCounts(tb, path, want, false)
}

// checkCounts fails tb unless the c1z at path holds exactly want (team
// memberships aside, which want counts and the c1z does not tell apart);
// rooms are compared only when withRooms is set.
func checkCounts(tb testing.TB, path string, want Expected, withRooms bool) {
	tb.Helper()
	got, err := c1zCounts(context.Background(), path, tb.TempDir())
	if err != nil {
		tb.Fatalf("reading c1z: %v", err)
	}
	want.Memberships = 0
	if !withRooms {
		got.Rooms, got.RoomGrants, want.Rooms, want.RoomGrants = 0, 0, 0, 0
	}
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
	EpUserTeams:   "userTeams",
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

// memo answers each distinct request from the recording once it has been
// recorded, and records it otherwise.
func (c *replayCache) memo(h http.Handler) http.Handler {
	rec, rep := c.record(h), c.replay(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		_, ok := c.m[replayKey(r)]
		c.mu.Unlock()
		if ok {
			rep.ServeHTTP(w, r)
			return
		}
		rec.ServeHTTP(w, r)
	})
}

func writeRecorded(w http.ResponseWriter, rec *recorded) {
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body)
}

// savedAnswer is a recorded answer as save writes it.
type savedAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

// save writes the recording to path, for load to read back in a later run
// of the same benchmark (same workspace, so the same questions).
func (c *replayCache) save(path string) error {
	c.mu.Lock()
	out := make(map[string]savedAnswer, len(c.m))
	for k, r := range c.m {
		out[k] = savedAnswer{Status: r.status, Header: r.header, Body: r.body}
	}
	c.mu.Unlock()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := gob.NewEncoder(f).Encode(out); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// load replaces the recording with the one save wrote to path.
func (c *replayCache) load(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var in map[string]savedAnswer
	if err := gob.NewDecoder(f).Decode(&in); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = make(map[string]*recorded, len(in))
	for k, r := range in {
		c.m[k] = &recorded{status: r.Status, header: r.Header, body: r.Body}
	}
	return nil
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
