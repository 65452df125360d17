package connector_test

// Fault scenarios: full in-process syncs against the simulator while the
// simulator misbehaves the way real servers, proxies and networks do. Every
// scenario either completes with a c1z that matches the oracle exactly, or
// fails with a precise error and leaves no finished sync behind. Timings are
// scaled down (fast backoff, a short attempt timeout) so the table stays quick;
// retry bounds are asserted by counting requests at the simulator, never by
// the wall clock.

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	"github.com/conductorone/baton-rocketchat/pkg/client"
	cfg "github.com/conductorone/baton-rocketchat/pkg/config"
	"github.com/conductorone/baton-rocketchat/pkg/connector"
	"github.com/conductorone/baton-rocketchat/pkg/simulator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fltAttemptTimeout bounds one request in these tests: long enough for a
// loaded machine to answer a normal page, short enough that a stalled answer
// costs little.
const fltAttemptTimeout = 200 * time.Millisecond

// fltTweak scales the client's timings down for fault tests.
func fltTweak(c *client.Config) {
	testenv.FastRetries(c)
	c.AttemptTimeout = fltAttemptTimeout
	c.ListingTimeout = fltAttemptTimeout
}

// fltInner marks a request a rewriting rule sends to the simulator itself,
// so the interceptor lets it through.
const fltInner = "X-Fault-Test-Inner"

// fltAction answers one request; it returns false to let the simulator
// answer normally.
type fltAction func(w http.ResponseWriter, r *http.Request) bool

// fltRule injects faults into the requests it matches: the n-th matching
// request gets actions[n-1]; requests past the list are answered normally,
// or by the last action again when the rule is persistent.
type fltRule struct {
	name       string
	match      func(r *http.Request) bool
	actions    []fltAction
	persistent bool

	mu       sync.Mutex
	hits     int         // matching requests seen
	faults   int         // matching requests the rule answered itself
	arrivals []time.Time // when each matching request arrived
}

func (rule *fltRule) counts() (hits, faults int, arrivals []time.Time) {
	rule.mu.Lock()
	defer rule.mu.Unlock()
	return rule.hits, rule.faults, slices.Clone(rule.arrivals)
}

// fltEnv is a generated workspace served by the simulator, with fault rules.
type fltEnv struct {
	gen   *simulator.Generated
	env   *testenv.Env
	rules []*fltRule
}

func fltStart(t *testing.T) *fltEnv {
	t.Helper()
	return fltStartWith(t, simulator.Options{})
}

func fltStartWith(t *testing.T, opts simulator.Options) *fltEnv {
	t.Helper()
	gen := variedWorkspace()
	return &fltEnv{gen: gen, env: testenv.Start(t, gen.Workspace, opts, "")}
}

// install puts rules in place. Installing through Intercept, after the rules
// are built, publishes them (and whatever they captured) to the server's
// goroutines under the simulator's lock.
func (f *fltEnv) install(rules ...*fltRule) {
	f.rules = rules
	f.env.Sim.Intercept(f.intercept)
}

func (f *fltEnv) intercept(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get(fltInner) != "" {
		return false
	}
	for _, rule := range f.rules {
		if !rule.match(r) {
			continue
		}
		rule.mu.Lock()
		rule.hits++
		n := rule.hits
		rule.arrivals = append(rule.arrivals, time.Now())
		rule.mu.Unlock()
		var act fltAction
		switch {
		case n <= len(rule.actions):
			act = rule.actions[n-1]
		case rule.persistent && len(rule.actions) > 0:
			act = rule.actions[len(rule.actions)-1]
		}
		if act == nil || !act(w, r) { // nil: let this one through
			return false
		}
		rule.mu.Lock()
		rule.faults++
		rule.mu.Unlock()
		return true
	}
	return false
}

func (f *fltEnv) rule(t *testing.T, name string) *fltRule {
	t.Helper()
	for _, r := range f.rules {
		if r.name == name {
			return r
		}
	}
	t.Fatalf("no rule %q", name)
	return nil
}

// state is a deep copy of the simulator's workspace as it is now.
func (f *fltEnv) state() *simulator.Workspace {
	var ws *simulator.Workspace
	f.env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	return ws
}

// Matchers.

func fltEndpoint(name string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.URL.Path == "/api/v1/"+name }
}

// fltPage matches one page (by offset) of a listing.
func fltPage(name string, offset int) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.URL.Path == "/api/v1/"+name && r.URL.Query().Get("offset") == strconv.Itoa(offset)
	}
}

// fltTeam matches teams.members of one team; offset < 0 matches every page.
func fltTeam(teamID string, offset int) func(*http.Request) bool {
	return func(r *http.Request) bool {
		q := r.URL.Query()
		return r.URL.Path == "/api/v1/teams.members" && q.Get("teamId") == teamID &&
			(offset < 0 || q.Get("offset") == strconv.Itoa(offset))
	}
}

// Actions.

// fltStatus answers with a status and a body, as a failing server or proxy does.
func fltStatus(code int, contentType, body string) fltAction {
	return func(w http.ResponseWriter, _ *http.Request) bool {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
		return true
	}
}

// fltServerErrors are the 5xx answers of a struggling server and its proxies.
var fltServerErrors = map[int]fltAction{
	500: fltStatus(500, "application/json", `{"success":false,"error":"Internal server error"}`),
	502: fltStatus(502, "text/html", "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"),
	503: fltStatus(503, "text/plain", "upstream connect error or disconnect/reset before headers"),
	504: fltStatus(504, "", ""),
}

func fltBurst(codes ...int) []fltAction {
	out := make([]fltAction, len(codes))
	for i, c := range codes {
		out[i] = fltServerErrors[c]
	}
	return out
}

// fltReset promises a long JSON body, sends its first bytes, and resets the
// connection.
func fltReset(w http.ResponseWriter, _ *http.Request) bool {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return false
	}
	partial := `{"users":[{"_id":"partialUser000001","username":"par`
	_, _ = fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", 20*len(partial), partial)
	_ = buf.Flush()
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // close with RST, not FIN
	}
	_ = conn.Close()
	return true
}

// fltDrop resets the connection without answering, as a proxy killing an
// idle upstream does.
func fltDrop(w http.ResponseWriter, _ *http.Request) bool {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return false
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
	return true
}

// fltStall answers nothing (or, with headersFirst, the headers and a few
// bytes) until the client gives up on the attempt.
func fltStall(headersFirst bool) fltAction {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if headersFirst {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"teams":[`)
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-time.After(10 * fltAttemptTimeout):
		}
		return true
	}
}

// fltEndless streams a JSON body that never ends, until the client leaves.
func fltEndless(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"teams":[`)
	chunk := []byte(strings.Repeat(`{"_id":"x","name":"padding"},`, 64))
	deadline := time.After(10 * fltAttemptTimeout)
	for {
		select {
		case <-r.Context().Done():
			return true
		case <-deadline:
			return true
		default:
		}
		if _, err := w.Write(chunk); err != nil {
			return true
		}
	}
}

// fltJSON answers 200 application/json with body, valid JSON or not.
func fltJSON(body string) fltAction {
	return fltStatus(http.StatusOK, "application/json", body)
}

// fltRewrite lets the simulator answer, then edits the decoded JSON body.
func (f *fltEnv) fltRewrite(edit func(body map[string]any)) fltAction {
	return func(w http.ResponseWriter, r *http.Request) bool {
		inner := r.Clone(r.Context())
		inner.Header.Set(fltInner, "1")
		rec := httptest.NewRecorder()
		f.env.Sim.ServeHTTP(rec, inner)
		out := rec.Body.Bytes()
		var body map[string]any
		dec := json.NewDecoder(rec.Body)
		dec.UseNumber()
		if rec.Code == http.StatusOK && dec.Decode(&body) == nil {
			edit(body)
			if b, err := json.Marshal(body); err == nil {
				out = b
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(out)
		return true
	}
}

// fltSharedBudget429 is the 429 a Rocket.Chat server sends when another
// client behind the same IP spent the endpoint's budget: headers say the
// window resets in 150ms.
func fltSharedBudget429(resetAt *time.Time) fltAction {
	return func(w http.ResponseWriter, _ *http.Request) bool {
		reset := time.Now().Add(150 * time.Millisecond).UnixMilli()
		*resetAt = time.UnixMilli(reset)
		h := w.Header()
		h.Set("X-RateLimit-Limit", "10")
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"success":false,"error":"Error, too many requests. Please slow down. You must wait 1 seconds before trying this endpoint again. [error-too-many-requests]"}`)
		return true
	}
}

// Fixture helpers.

// fltSortedUsernames lists usernames in users.listByStatus order.
func fltSortedUsernames(ws *simulator.Workspace) []*simulator.User {
	users := slices.Clone(ws.Users)
	slices.SortStableFunc(users, func(a, b *simulator.User) int { return strings.Compare(a.Username, b.Username) })
	return users
}

// fltInTeam reports whether uid is a member of any team.
func fltInTeam(ws *simulator.Workspace, uid string) bool {
	for _, team := range ws.Teams {
		for _, m := range team.Members {
			if m.UserID == uid {
				return true
			}
		}
	}
	return false
}

// fltBystander picks a user in the sorted range [from, to) who holds no
// credential and is in no team, so removing it touches nothing else.
func fltBystander(t *testing.T, f *fltEnv, ws *simulator.Workspace, from, to int) *simulator.User {
	t.Helper()
	sorted := fltSortedUsernames(ws)
	for _, u := range sorted[from:min(to, len(sorted))] {
		switch u.ID {
		case f.gen.Admin.UserID, f.gen.Reader.UserID, f.gen.Plain.UserID:
			continue
		}
		if !fltInTeam(ws, u.ID) {
			return u
		}
	}
	t.Fatalf("no bystander user in sorted range [%d,%d)", from, to)
	return nil
}

// fltBigTeam returns a team with more active members than one page.
func fltBigTeam(t *testing.T, ws *simulator.Workspace) *simulator.Team {
	t.Helper()
	for _, team := range ws.Teams {
		active := 0
		for _, m := range team.Members {
			if u := ws.UserByID(m.UserID); u != nil && u.Active {
				active++
			}
		}
		if active > client.PageSize {
			return team
		}
	}
	t.Fatal("the fixture has no team larger than a page")
	return nil
}

// fltPlainUsers picks n active people without credentials, by id order.
func fltPlainUsers(t *testing.T, f *fltEnv, ws *simulator.Workspace, n int) []*simulator.User {
	t.Helper()
	var out []*simulator.User
	for _, u := range ws.Users {
		switch {
		case u.ID == f.gen.Admin.UserID, u.ID == f.gen.Reader.UserID, u.ID == f.gen.Plain.UserID,
			!u.Active, u.Federated, u.Type != "user":
			continue
		}
		out = append(out, u)
		if len(out) == n {
			return out
		}
	}
	t.Fatalf("the fixture has fewer than %d plain users", n)
	return nil
}

// fltNoDuplicates checks no resource, entitlement or grant is stored twice.
func fltNoDuplicates(t *testing.T, got *harness.Contents) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range got.Resources {
		seen["resource "+r.GetId().GetResourceType()+":"+r.GetId().GetResource()]++
	}
	for _, e := range got.Entitlements {
		seen["entitlement "+e.GetId()]++
	}
	for _, g := range got.Grants {
		seen["grant "+g.GetId()]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("%s stored %d times", k, n)
		}
	}
}

// fltValid checks every stored object passes the SDK's proto validation.
func fltValid(t *testing.T, got *harness.Contents) {
	t.Helper()
	type validator interface{ ValidateAll() error }
	var objs []validator
	for _, r := range got.Resources {
		objs = append(objs, r)
	}
	for _, e := range got.Entitlements {
		objs = append(objs, e)
	}
	for _, g := range got.Grants {
		objs = append(objs, g)
	}
	for _, o := range objs {
		if err := o.ValidateAll(); err != nil {
			msg := err.Error()
			if len(msg) > 300 {
				msg = msg[:300] + "..."
			}
			t.Errorf("stored object fails the SDK's validation: %s", msg)
		}
	}
}

// fltWantFailure checks a failed sync: its gRPC code, that the message says
// what failed, that it holds no credential, and that the c1z holds no
// finished sync.
func fltWantFailure(t *testing.T, path string, err error, code codes.Code, token string, mentions ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("sync succeeded, want it to fail (code %v)", code)
	}
	if got := status.Code(err); got != code {
		t.Errorf("code %v, want %v (%v)", got, code, err)
	}
	for _, m := range mentions {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error does not mention %q: %v", m, err)
		}
	}
	if token != "" && strings.Contains(err.Error(), token) {
		t.Errorf("error leaks the token: %v", err)
	}
	// A run that fails before the first sync step may leave no file at all.
	if fi, serr := os.Stat(path); serr == nil && fi.Size() > 0 {
		if _, rerr := harness.ReadC1Z(context.Background(), path, t.TempDir()); !errors.Is(rerr, harness.ErrNoFinishedSync) {
			t.Errorf("reading the c1z of a failed sync: %v, want ErrNoFinishedSync", rerr)
		}
	}
}

// fltUserEdit changes one user's document in a users page (json) and the
// oracle's copy of that user the same way (model).
type fltUserEdit struct {
	json  func(doc map[string]any)
	model func(u *simulator.User)
}

// fltLongName is far longer than any display field: 120 KB of mixed scripts.
var fltLongName = strings.Repeat("Ünïcødé 名前 🚀 ", 5000)

// fltUnicodeName mixes accents, a combining mark, CJK, an RTL override and
// a ZWJ emoji sequence.
const fltUnicodeName, fltUnicodeUsername = "Zoë Ågren-Łukasiewicz Jose\u0301 测试 \u202eevil\u202c 👩‍💻", "zoë.ågren-测试"

// fltOddEdits are answers a client must take in its stride.
var fltOddEdits = []fltUserEdit{
	{ // null arrays and dates
		json: func(doc map[string]any) { doc["roles"], doc["emails"], doc["lastLogin"] = nil, nil, nil },
		model: func(u *simulator.User) {
			u.Roles, u.Emails, u.LastLogin = nil, nil, nil
		},
	},
	{ // every optional field missing
		json: func(doc map[string]any) {
			for _, k := range []string{"name", "emails", "lastLogin", "type", "status", "roles", "federated", "nickname"} {
				delete(doc, k)
			}
		},
		model: func(u *simulator.User) {
			u.Name, u.Emails, u.LastLogin, u.Type, u.Roles, u.Federated = "", nil, nil, "", nil, false
		},
	},
	{ // a user type this connector has never heard of
		json:  func(doc map[string]any) { doc["type"] = "cyborg" },
		model: func(u *simulator.User) { u.Type = "cyborg" },
	},
	{ // unicode everywhere
		json:  func(doc map[string]any) { doc["name"], doc["username"] = fltUnicodeName, fltUnicodeUsername },
		model: func(u *simulator.User) { u.Name, u.Username = fltUnicodeName, fltUnicodeUsername },
	},
	{ // very long name and username
		json: func(doc map[string]any) { doc["name"], doc["username"] = fltLongName, strings.Repeat("long.", 400) },
		model: func(u *simulator.User) {
			u.Name, u.Username = fltLongName, strings.Repeat("long.", 400)
		},
	},
}

// fltOddUserEdits assigns each odd edit to one of users.
func fltOddUserEdits(users []*simulator.User) map[string]*fltUserEdit {
	out := map[string]*fltUserEdit{}
	for i, u := range users {
		out[u.ID] = &fltOddEdits[i]
	}
	return out
}

// fltScenario is one row of the fault table.
type fltScenario struct {
	name string
	// rules installs the faults; it may inspect the workspace first.
	rules func(t *testing.T, f *fltEnv) []*fltRule
	// expect adjusts the oracle's copy of the final workspace to what the
	// rewritten answers said.
	expect func(ws *simulator.Workspace)
	// fail is the code a failing sync must end with; codes.OK means the sync
	// must complete and match the oracle exactly.
	fail codes.Code
	// anyFailure accepts any failing code (a row whose fix may pick one).
	anyFailure bool
	mentions   []string
	// hits and faults map rule names to the number of requests each must
	// have matched, and answered itself.
	hits, faults map[string]int
	check        func(t *testing.T, f *fltEnv, got *harness.Contents, err error)
	// tweak adjusts the client's configuration further.
	tweak func(*client.Config)
	// bug, when set, skips the row: it describes a known limitation the row exposes.
	bug string
	// paged turns API_Allow_Infinite_Count off: listings come 50 items
	// first, then 100 per call from offset 50.
	paged bool
}

func TestFaults(t *testing.T) {
	maxAttempts := client.DefaultMaxAttempts
	var resetAt time.Time           // of the shared-budget 429 row
	var odd map[string]*fltUserEdit // of the odd-shapes row
	var teamID string               // of the failing-team row
	var readEarly *simulator.User   // of the shifting-offsets row

	scenarios := []fltScenario{
		// Transient server errors, within the retry bound.
		{
			name:  "5xx burst on the second users page",
			paged: true,
			rules: func(_ *testing.T, _ *fltEnv) []*fltRule {
				return []*fltRule{{name: "users", match: fltPage("users.listByStatus", 50), actions: fltBurst(500, 502, 503, 504)}}
			},
			hits: map[string]int{"users": 5}, faults: map[string]int{"users": 4},
		},
		{
			name: "5xx burst on teams.listAll",
			rules: func(_ *testing.T, _ *fltEnv) []*fltRule {
				return []*fltRule{{name: "teams", match: fltEndpoint("teams.listAll"), actions: fltBurst(503, 502, 500, 504)}}
			},
			hits: map[string]int{"teams": 5}, faults: map[string]int{"teams": 4},
		},
		{
			name:  "5xx burst on the second members page of a large team",
			paged: true,
			rules: func(t *testing.T, f *fltEnv) []*fltRule {
				team := fltBigTeam(t, f.state())
				return []*fltRule{{name: "members", match: fltTeam(team.ID, 50), actions: fltBurst(504, 503, 502, 500)}}
			},
			hits: map[string]int{"members": 5}, faults: map[string]int{"members": 4},
		},
		{
			name: "5xx bursts on all three listings at once",
			rules: func(t *testing.T, f *fltEnv) []*fltRule {
				team := fltBigTeam(t, f.state())
				return []*fltRule{
					{name: "users", match: fltPage("users.listByStatus", 0), actions: fltBurst(502, 502, 502)},
					{name: "teams", match: fltEndpoint("teams.listAll"), actions: fltBurst(503, 503)},
					{name: "members", match: fltTeam(team.ID, 0), actions: fltBurst(500, 504, 500)},
				}
			},
			hits:   map[string]int{"users": 4, "teams": 3, "members": 4},
			faults: map[string]int{"users": 3, "teams": 2, "members": 3},
		},

		// Broken transfers, once each.
		{
			name: "connection reset mid-body of the whole users listing",
			rules: func(_ *testing.T, _ *fltEnv) []*fltRule {
				return []*fltRule{{name: "users", match: fltPage("users.listByStatus", 0), actions: []fltAction{fltReset}}}
			},
			hits: map[string]int{"users": 2}, faults: map[string]int{"users": 1},
		},
		{
			name: "connection dropped before any answer",
			rules: func(_ *testing.T, _ *fltEnv) []*fltRule {
				return []*fltRule{{name: "teams", match: fltEndpoint("teams.listAll"), actions: []fltAction{fltDrop}}}
			},
			hits: map[string]int{"teams": 2}, faults: map[string]int{"teams": 1},
		},
		{
			name: "connection reset mid-body on team members",
			rules: func(t *testing.T, f *fltEnv) []*fltRule {
				team := fltBigTeam(t, f.state())
				return []*fltRule{{name: "members", match: fltTeam(team.ID, 0), actions: []fltAction{fltReset}}}
			},
			hits: map[string]int{"members": 2}, faults: map[string]int{"members": 1},
		},
		{
			name: "answer slower than the attempt timeout, no headers",
			rules: func(_ *testing.T, _ *fltEnv) []*fltRule {
				return []*fltRule{{name: "users", match: fltPage("users.listByStatus", 0), actions: []fltAction{fltStall(false)}}}
			},
			hits: map[string]int{"users": 2}, faults: map[string]int{"users": 1},
		},
		{
			name: "answer slower than the attempt timeout, body stalls after the headers",
			rules: func(_ *testing.T, _ *fltEnv) []*fltRule {
				return []*fltRule{{name: "teams", match: fltEndpoint("teams.listAll"), actions: []fltAction{fltStall(true)}}}
			},
			hits: map[string]int{"teams": 2}, faults: map[string]int{"teams": 1},
		},
		{
			name: "truncated JSON listing once",
			rules: func(_ *testing.T, _ *fltEnv) []*fltRule {
				return []*fltRule{{name: "users", match: fltPage("users.listByStatus", 0),
					actions: []fltAction{fltJSON(`{"users":[{"_id":"truncatedUser0001","username":"trunc`)}}}
			},
			hits: map[string]int{"users": 2}, faults: map[string]int{"users": 1},
		},
		{
			name: "garbage JSON page once",
			rules: func(_ *testing.T, _ *fltEnv) []*fltRule {
				return []*fltRule{{name: "teams", match: fltEndpoint("teams.listAll"), actions: []fltAction{fltJSON(`teams: none, success: maybe`)}}}
			},
			hits: map[string]int{"teams": 2}, faults: map[string]int{"teams": 1},
		},

		// Faults that never end: the sync must stop within the bound and
		// must not pass a partial listing as complete.
		{
			name: "persistent 503 on users.listByStatus",
			rules: func(_ *testing.T, _ *fltEnv) []*fltRule {
				return []*fltRule{{name: "users", match: fltEndpoint("users.listByStatus"), actions: fltBurst(503), persistent: true}}
			},
			fail:     codes.Aborted,
			mentions: []string{"users.listByStatus", fmt.Sprintf("giving up after %d attempts", maxAttempts), "503"},
			hits:     map[string]int{"users": maxAttempts},
		},
		{
			name: "persistent 503 on teams.listAll",
			rules: func(_ *testing.T, _ *fltEnv) []*fltRule {
				return []*fltRule{{name: "teams", match: fltEndpoint("teams.listAll"), actions: fltBurst(503), persistent: true}}
			},
			fail:     codes.Aborted,
			mentions: []string{"teams.listAll", fmt.Sprintf("giving up after %d attempts", maxAttempts)},
			hits:     map[string]int{"teams": maxAttempts},
		},
		{
			name: "persistent 502 on one team's members",
			rules: func(_ *testing.T, f *fltEnv) []*fltRule {
				teams := f.state().Teams
				teamID = teams[len(teams)-1].ID
				return []*fltRule{{name: "members", match: fltTeam(teamID, -1), actions: fltBurst(502), persistent: true}}
			},
			fail:     codes.Aborted,
			mentions: []string{"teams.members", fmt.Sprintf("giving up after %d attempts", maxAttempts), "502"},
			hits:     map[string]int{"members": maxAttempts},
			check: func(t *testing.T, _ *fltEnv, _ *harness.Contents, err error) {
				if err != nil && !strings.Contains(err.Error(), teamID) {
					t.Errorf("error does not name the team %s: %v", teamID, err)
				}
			},
		},
		{
			name:  "a users page that is always invalid JSON",
			paged: true,
			rules: func(_ *testing.T, _ *fltEnv) []*fltRule {
				return []*fltRule{{name: "users", match: fltPage("users.listByStatus", 50),
					actions: []fltAction{fltJSON(`{"users":[{"_id":`)}, persistent: true}}
			},
			fail:     codes.Aborted,
			mentions: []string{"users.listByStatus", fmt.Sprintf("giving up after %d attempts", maxAttempts), "decoding JSON"},
			hits:     map[string]int{"users": maxAttempts},
		},

		{
			name: "an endless body is cut at the body bound and not retried",
			rules: func(_ *testing.T, _ *fltEnv) []*fltRule {
				return []*fltRule{{name: "teams", match: fltEndpoint("teams.listAll"), actions: []fltAction{fltEndless}, persistent: true}}
			},
			tweak:      func(c *client.Config) { c.MaxBodyBytes, c.MaxListingBytes = 64<<10, 64<<10 },
			anyFailure: true,
			mentions:   []string{"teams.listAll", "larger than 65536 bytes"},
			hits:       map[string]int{"teams": 1},
		},

		// Data that changes while it is read.
		{
			name:  "users added before the offset and removed ahead of it between pages",
			paged: true,
			rules: func(t *testing.T, f *fltEnv) []*fltRule {
				victim := fltBystander(t, f, f.state(), 200, 260)
				mutate := func(_ http.ResponseWriter, _ *http.Request) bool {
					f.env.Sim.Update(func(ws *simulator.Workspace) {
						for i := range 3 {
							ws.AddUser(&simulator.User{
								ID: fmt.Sprintf("lateArrival%06d", i), Username: fmt.Sprintf("0000.late.%d", i),
								Name: fmt.Sprintf("Late Arrival %d", i), Type: "user", Active: true, Roles: []string{"user"},
								Emails: []simulator.Email{{Address: fmt.Sprintf("late%d@example.com", i)}},
							})
						}
						ws.Users = slices.DeleteFunc(ws.Users, func(u *simulator.User) bool { return u.ID == victim.ID })
					})
					return false // and serve the page from the changed workspace
				}
				return []*fltRule{{name: "users", match: fltPage("users.listByStatus", 50), actions: []fltAction{mutate}}}
			},
			check: func(t *testing.T, _ *fltEnv, got *harness.Contents, _ error) {
				for _, r := range got.Resources {
					if r.GetId().GetResource() == "lateArrival000000" {
						return
					}
				}
				t.Errorf("a user added before the offset mid-listing is missing: the listing was not re-read")
			},
		},
		{
			name:  "a user already read is removed and another added at the end between pages",
			paged: true,
			rules: func(t *testing.T, f *fltEnv) []*fltRule {
				readEarly = fltBystander(t, f, f.state(), 0, 50)
				mutate := func(_ http.ResponseWriter, _ *http.Request) bool {
					f.env.Sim.Update(func(ws *simulator.Workspace) {
						ws.Users = slices.DeleteFunc(ws.Users, func(u *simulator.User) bool { return u.ID == readEarly.ID })
						ws.AddUser(&simulator.User{ID: "lateArrival999999", Username: "zzzz.late", Name: "Zed Late",
							Type: "user", Active: true, Roles: []string{"user"}})
					})
					return false
				}
				return []*fltRule{{name: "users", match: fltPage("users.listByStatus", 50), actions: []fltAction{mutate}}}
			},
			// The removed user was listed before it went, and stays listed.
			expect: func(ws *simulator.Workspace) { ws.Users = append(ws.Users, readEarly) },
			bug: "known limitation of paged listings (docs/reliability.md), which only servers with API_Allow_Infinite_Count off use: " +
				"a listing read page by page notices a change under it only through a changed total; " +
				"when one user already read is removed and another is added past the offset between two pages, the total stays " +
				"the same, every later page shifts back by one, and the user at the page boundary (index 50), who existed " +
				"throughout, is never listed: the sync completes without it and its grants",
		},

		// Pages that say more exists than they deliver.
		{
			name:  "an empty page once while the total says more",
			paged: true,
			rules: func(_ *testing.T, _ *fltEnv) []*fltRule {
				return []*fltRule{{name: "users", match: fltPage("users.listByStatus", 150),
					actions: []fltAction{fltJSON(`{"users":[],"count":0,"offset":150,"total":260,"success":true}`)}}}
			},
			// The listing asks the same offset once more and gets the page.
			hits: map[string]int{"users": 2}, faults: map[string]int{"users": 1},
		},
		{
			name:  "a total that always overstates the listing by 5",
			paged: true,
			rules: func(_ *testing.T, f *fltEnv) []*fltRule {
				overstate := f.fltRewrite(func(body map[string]any) {
					if n, err := body["total"].(json.Number).Int64(); err == nil {
						body["total"] = n + 5
					}
				})
				return []*fltRule{
					{name: "users", match: fltEndpoint("users.listByStatus"), actions: []fltAction{overstate}, persistent: true},
					{name: "past the end", match: fltPage("users.listByStatus", 260)},
				}
			},
			// listing.go: the listing ends short of the total (an empty page,
			// asked twice) by less than a page, and is kept with a warning:
			// pages 0, 50, 150, 250 and the empty page at 260 twice.
			hits: map[string]int{"users": 6},
		},
		{
			name:  "a middle page that is always empty while the total says more",
			paged: true,
			rules: func(_ *testing.T, _ *fltEnv) []*fltRule {
				// Every page after the first: a restart from offset 0 must not get past it either.
				after := func(r *http.Request) bool {
					return fltEndpoint("users.listByStatus")(r) && r.URL.Query().Get("offset") != "0"
				}
				return []*fltRule{{name: "users", match: after,
					actions: []fltAction{fltJSON(`{"users":[],"count":0,"offset":50,"total":260,"success":true}`)}, persistent: true}}
			},
			anyFailure: true,
			mentions:   []string{"users.listByStatus"},
		},

		// Answers with shapes the client must tolerate.
		{
			name: "unknown fields, null arrays, missing fields, odd types, unicode and very long names",
			rules: func(t *testing.T, f *fltEnv) []*fltRule {
				odd = fltOddUserEdits(fltPlainUsers(t, f, f.state(), len(fltOddEdits)))
				rewrite := f.fltRewrite(func(body map[string]any) {
					body["deprecation"] = map[string]any{"version": "9.0.0", "alternatives": nil}
					users, _ := body["users"].([]any)
					for _, item := range users {
						doc, _ := item.(map[string]any)
						if doc == nil {
							continue
						}
						doc["customFields"] = map[string]any{"department": "R&D", "nested": []any{1, map[string]any{"deep": nil}}}
						doc["__rooms"] = []any{"GENERAL"}
						if id, _ := doc["_id"].(string); odd[id] != nil {
							odd[id].json(doc)
						}
					}
				})
				return []*fltRule{{name: "users", match: fltEndpoint("users.listByStatus"), actions: []fltAction{rewrite}, persistent: true}}
			},
			expect: func(ws *simulator.Workspace) {
				for id, edit := range odd {
					edit.model(ws.UserByID(id))
				}
			},
		},
		{
			name: "a very long user name still makes a resource the SDK accepts",
			rules: func(t *testing.T, f *fltEnv) []*fltRule {
				odd = map[string]*fltUserEdit{fltPlainUsers(t, f, f.state(), 1)[0].ID: &fltOddEdits[len(fltOddEdits)-1]}
				rewrite := f.fltRewrite(func(body map[string]any) {
					users, _ := body["users"].([]any)
					for _, item := range users {
						if doc, _ := item.(map[string]any); doc != nil {
							if id, _ := doc["_id"].(string); odd[id] != nil {
								odd[id].json(doc)
							}
						}
					}
				})
				return []*fltRule{{name: "users", match: fltEndpoint("users.listByStatus"), actions: []fltAction{rewrite}, persistent: true}}
			},
			expect: func(ws *simulator.Workspace) {
				for id, edit := range odd {
					edit.model(ws.UserByID(id))
				}
			},
			check: func(t *testing.T, _ *fltEnv, got *harness.Contents, _ error) { fltValid(t, got) },
		},
		{
			name: "a 429 from another client sharing the budget",
			rules: func(_ *testing.T, _ *fltEnv) []*fltRule {
				return []*fltRule{{name: "teams", match: fltEndpoint("teams.listAll"), actions: []fltAction{fltSharedBudget429(&resetAt)}}}
			},
			hits: map[string]int{"teams": 2}, faults: map[string]int{"teams": 1},
			check: func(t *testing.T, f *fltEnv, _ *harness.Contents, _ error) {
				_, _, arrivals := f.rule(t, "teams").counts()
				if len(arrivals) == 2 && arrivals[1].Before(resetAt) {
					t.Errorf("the retry came %v before the window reset: the client did not wait for X-RateLimit-Reset", resetAt.Sub(arrivals[1]))
				}
			},
		},
	}

	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			if sc.bug != "" && os.Getenv("FAULTS_RUN_BUGS") == "" {
				t.Skip(sc.bug + " (FAULTS_RUN_BUGS=1 runs this row)")
			}
			f := fltStartWith(t, simulator.Options{InfiniteCountDisabled: sc.paged})
			f.install(sc.rules(t, f)...)
			tweaks := []func(*client.Config){fltTweak}
			if sc.tweak != nil {
				tweaks = append(tweaks, sc.tweak)
			}
			c := testenv.Connector(t, f.env.BaseURL, f.gen.Admin, nil, tweaks...)
			path, err := testenv.Sync(t, c)

			var got *harness.Contents
			if sc.fail == codes.OK && !sc.anyFailure {
				if err != nil {
					t.Fatalf("sync: %v", err)
				}
				got, err = harness.ReadC1Z(context.Background(), path, t.TempDir())
				if err != nil {
					t.Fatalf("reading c1z: %v", err)
				}
				ws := f.state()
				if sc.expect != nil {
					sc.expect(ws)
				}
				assertMatchesWorkspace(t, got, ws)
				fltNoDuplicates(t, got)
				fltValid(t, got)
			} else {
				code := sc.fail
				if sc.anyFailure {
					code = status.Code(err)
				}
				fltWantFailure(t, path, err, code, f.gen.Admin.Token, sc.mentions...)
			}
			for name, want := range sc.hits {
				if hits, _, _ := f.rule(t, name).counts(); hits != want {
					t.Errorf("rule %q matched %d requests, want %d", name, hits, want)
				}
			}
			for name, want := range sc.faults {
				if _, faults, _ := f.rule(t, name).counts(); faults != want {
					t.Errorf("rule %q answered %d requests itself, want %d", name, faults, want)
				}
			}
			if sc.check != nil {
				sc.check(t, f, got, err)
			}
		})
	}
}

// fltRecorder is another host: it records what reaches it.
type fltRecorder struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests []*http.Request
}

func fltStartRecorder(t *testing.T, answer http.HandlerFunc) *fltRecorder {
	t.Helper()
	rec := &fltRecorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.requests = append(rec.requests, r.Clone(context.Background()))
		rec.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *fltRecorder) seen() []*http.Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.requests)
}

// TestFaultsRedirectOffHostStopsSync: a server (or an attacker in its place)
// redirecting to another host must not get the token sent there; the sync
// stops and says where the redirect pointed.
func TestFaultsRedirectOffHostStopsSync(t *testing.T) {
	for _, tc := range []struct {
		name   string
		match  func(*http.Request) bool
		status int
		// team, instead of match, picks the first team's members.
		team bool
		// viaSameHost first redirects within the workspace, then off it.
		viaSameHost bool
	}{
		{name: "on /api/info, before anything else", match: func(r *http.Request) bool { return r.URL.Path == "/api/info" }, status: http.StatusPermanentRedirect},
		{name: "on me, while validating the token", match: fltEndpoint("me"), status: http.StatusMovedPermanently},
		{name: "mid-sync on users.listByStatus", match: fltPage("users.listByStatus", 0), status: http.StatusFound},
		{name: "mid-sync on one team's members", team: true, status: http.StatusTemporaryRedirect},
		{name: "second hop of a same-host redirect", match: fltEndpoint("teams.listAll"), status: http.StatusFound, viaSameHost: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := fltStartRecorder(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"success":true}`)
			})
			f := fltStart(t)
			match := tc.match
			if tc.team {
				match = fltTeam(f.state().Teams[0].ID, -1)
			}
			redirect := func(w http.ResponseWriter, r *http.Request) bool {
				http.Redirect(w, r, other.srv.URL+r.URL.RequestURI(), tc.status)
				return true
			}
			first := redirect
			if tc.viaSameHost {
				first = func(w http.ResponseWriter, r *http.Request) bool {
					http.Redirect(w, r, "/hop"+r.URL.RequestURI(), tc.status)
					return true
				}
			}
			f.install(
				&fltRule{name: "redirect", match: match, actions: []fltAction{first}, persistent: true},
				&fltRule{name: "hop", match: func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/hop/") },
					actions: []fltAction{redirect}, persistent: true},
			)
			c := testenv.Connector(t, f.env.BaseURL, f.gen.Admin, nil, fltTweak)
			path, err := testenv.Sync(t, c)
			fltWantFailure(t, path, err, codes.FailedPrecondition, f.gen.Admin.Token, other.srv.URL, "redirected", "base-url")
			for _, r := range other.seen() {
				if r.Header.Get("X-Auth-Token") != "" || r.Header.Get("X-User-Id") != "" {
					t.Errorf("the other host got credentials on %s", r.URL)
				}
			}
			if n := len(other.seen()); n != 0 {
				t.Errorf("the other host got %d requests, want none", n)
			}
			if hits, _, _ := f.rule(t, "redirect").counts(); hits != 1 {
				t.Errorf("the redirecting endpoint was called %d times, want 1: a refused redirect is not retried", hits)
			}
			if hops, _, _ := f.rule(t, "hop").counts(); tc.viaSameHost != (hops == 1) {
				t.Errorf("same-host hop followed %d times", hops)
			}
		})
	}
}

// TestFaultsBaseURLNotRocketChat: a base URL that reaches some other web
// server fails before any sync work, with an error that points at base-url.
func TestFaultsBaseURLNotRocketChat(t *testing.T) {
	for _, tc := range []struct {
		name        string
		status      int
		contentType string
		body        string
		code        codes.Code
		mentions    []string
	}{
		{name: "HTML 200", status: http.StatusOK, contentType: "text/html; charset=utf-8",
			body: "<!doctype html><html><body>Welcome to nginx!</body></html>",
			code: codes.FailedPrecondition, mentions: []string{"base-url", "instead of JSON", "text/html"}},
		{name: "JSON 200 from another API", status: http.StatusOK, contentType: "application/json",
			body: `{"status":"ok"}`, code: codes.FailedPrecondition, mentions: []string{"base-url", "without a Rocket.Chat version"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			web := fltStartRecorder(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			const token = "fault-test-token-never-sent-0123456789abcdef"
			c := testenv.Connector(t, web.srv.URL, simulator.Credential{UserID: "someUserId0000001", Token: token}, nil, fltTweak)
			path, err := testenv.Sync(t, c)
			fltWantFailure(t, path, err, tc.code, token, tc.mentions...)
			seen := web.seen()
			if len(seen) == 0 {
				t.Fatal("the server got no request at all")
			}
			for _, r := range seen {
				if r.URL.Path != "/api/info" {
					t.Errorf("request to %s: the sync went on after /api/info showed base-url is not Rocket.Chat", r.URL.Path)
				}
				if r.Header.Get("X-Auth-Token") != "" {
					t.Errorf("the token was sent to a server that is not Rocket.Chat (%s)", r.URL.Path)
				}
			}
		})
	}
}

// TestFaultsBadConfiguration: configuration mistakes are refused by
// client.New and connector.New with a message that says what to fix, never
// echoing the token or a password.
func TestFaultsBadConfiguration(t *testing.T) {
	const (
		token  = "SuperSecretPersonalAccessToken-9f8e7d6c5b4a"
		userID = "svcUserId00000001"
		base   = "https://chat.example.com"
	)
	for _, tc := range []struct {
		name               string
		baseURL, user, tok string
		mentions           []string
		secrets            []string // besides the token
	}{
		{name: "empty base URL", baseURL: "", user: userID, tok: token, mentions: []string{"base-url is empty"}},
		{name: "blank base URL", baseURL: " \t\n", user: userID, tok: token, mentions: []string{"base-url is empty"}},
		{name: "empty user id", baseURL: base, user: "", tok: token, mentions: []string{"user-id is empty"}},
		{name: "empty token", baseURL: base, user: userID, tok: "", mentions: []string{"auth-token is empty"}},
		{name: "token with a trailing newline", baseURL: base, user: userID, tok: token + "\n", mentions: []string{"auth-token", "spaces or line breaks"}},
		{name: "token with leading spaces", baseURL: base, user: userID, tok: "  " + token, mentions: []string{"auth-token", "spaces or line breaks"}},
		{name: "token with a space inside", baseURL: base, user: userID, tok: token[:10] + " " + token[10:], mentions: []string{"auth-token", "spaces or line breaks"}},
		{name: "user id with spaces around it", baseURL: base, user: " " + userID + " ", tok: token, mentions: []string{"user-id", "spaces or line breaks"}},
		{name: "credentials in the URL", baseURL: "https://admin:" + token + "@chat.example.com", user: userID, tok: token,
			mentions: []string{"base-url must not contain a user name or password"}},
		{name: "password in the URL, no token field", baseURL: "https://svc:hunter2-password@chat.example.com", user: userID, tok: token,
			mentions: []string{"user name or password"}, secrets: []string{"hunter2-password"}},
		{name: "ftp scheme", baseURL: "ftp://chat.example.com", user: userID, tok: token, mentions: []string{"base-url must start with https://", `"ftp"`}},
		{name: "no scheme", baseURL: "chat.example.com", user: userID, tok: token, mentions: []string{"base-url must start with https://"}},
		{name: "token in the query", baseURL: "https://chat.example.com/?token=" + token, user: userID, tok: token, mentions: []string{"query or fragment"}},
		{name: "unparseable URL with the token in it", baseURL: "https://chat.example.com:" + token, user: userID, tok: token,
			mentions: []string{"base-url is not a valid URL"}},
		{name: "token pasted into base-url", baseURL: token, user: userID, tok: base, mentions: []string{"base-url must start with https://"}},
		{name: "no host", baseURL: "https:///chat", user: userID, tok: token, mentions: []string{"base-url has no host"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := func(what string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s accepted the configuration", what)
				}
				for _, m := range tc.mentions {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("%s: error does not mention %q: %v", what, m, err)
					}
				}
				for _, s := range append([]string{token}, tc.secrets...) {
					if strings.Contains(err.Error(), s) {
						t.Errorf("%s: error leaks a secret: %v", what, err)
					}
				}
			}
			_, err := client.New(context.Background(), client.Config{BaseURL: tc.baseURL, UserID: tc.user, Token: tc.tok})
			check("client.New", err)
			_, _, err = connector.New(context.Background(), &cfg.Rocketchat{BaseURL: tc.baseURL, UserID: tc.user, AuthToken: tc.tok}, nil)
			check("connector.New", err)
			if got := status.Code(err); got != codes.InvalidArgument {
				t.Errorf("connector.New: code %v, want InvalidArgument", got)
			}
		})
	}
}

// fltStartTLS serves a generated workspace over TLS with httptest's own
// certificate, which no system trusts, and counts the requests that arrive.
func fltStartTLS(t *testing.T) (gen *simulator.Generated, ts *httptest.Server, requests, handshakes func() int) {
	t.Helper()
	gen = simulator.Generate(3, simulator.Size{Users: 20, Teams: 2, MembersPerTeam: 5})
	sim := simulator.NewServer(gen.Workspace, simulator.Options{})
	var mu sync.Mutex
	nReq, nHello := 0, 0
	ts = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		nReq++
		mu.Unlock()
		sim.ServeHTTP(w, r)
	}))
	ts.TLS = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		nHello++
		mu.Unlock()
		return nil, nil
	}}
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	ts.StartTLS()
	t.Cleanup(ts.Close)
	count := func(n *int) func() int {
		return func() int { mu.Lock(); defer mu.Unlock(); return *n }
	}
	return gen, ts, count(&nReq), count(&nHello)
}

// TestFaultsUntrustedCertificate: TLS verification is on. A server whose
// certificate no trusted CA signed (a man in the middle, say) gets no
// request at all, and the sync fails saying why.
func TestFaultsUntrustedCertificate(t *testing.T) {
	gen, ts, requests, handshakes := fltStartTLS(t)
	c := testenv.Connector(t, ts.URL, gen.Admin, nil, fltTweak)
	path, err := testenv.Sync(t, c)
	fltWantFailure(t, path, err, codes.FailedPrecondition, gen.Admin.Token, "certificate signed by unknown authority", "base-url", "SSL_CERT_FILE")
	if n := requests(); n != 0 {
		t.Errorf("%d requests reached a server with an untrusted certificate", n)
	}
	// Retrying cannot make a certificate trusted: one handshake, no retry.
	if n := handshakes(); n != 1 {
		t.Errorf("%d TLS handshakes, want 1", n)
	}
}

// TestFaultsSSLCertFileTrustsPrivateCA: SSL_CERT_FILE is how a self-hosted
// workspace's private CA is trusted. Go reads it once per process, so the
// sync runs in a child process of this test binary.
func TestFaultsSSLCertFileTrustsPrivateCA(t *testing.T) {
	if url := os.Getenv("FAULTS_TLS_CHILD_URL"); url != "" {
		cred := simulator.Credential{UserID: os.Getenv("FAULTS_TLS_CHILD_USER"), Token: os.Getenv("FAULTS_TLS_CHILD_TOKEN")}
		got := testenv.MustSync(t, testenv.Connector(t, url, cred, nil, fltTweak))
		if len(got.Resources) == 0 {
			t.Fatal("the sync over TLS found nothing")
		}
		return
	}
	gen, ts, requests, _ := fltStartTLS(t)
	bundle := filepath.Join(t.TempDir(), "private-ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if err := os.WriteFile(bundle, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFaultsSSLCertFileTrustsPrivateCA$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		"SSL_CERT_FILE="+bundle,
		"FAULTS_TLS_CHILD_URL="+ts.URL,
		"FAULTS_TLS_CHILD_USER="+gen.Admin.UserID,
		"FAULTS_TLS_CHILD_TOKEN="+gen.Admin.Token,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sync with SSL_CERT_FILE naming the server's CA failed: %v\n%s", err, out)
	}
	if requests() == 0 {
		t.Fatal("the child's sync never reached the TLS server")
	}
}
