package simulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock lets rate-limit tests move time by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Fixed ids and tokens of the hand-built workspace.
const (
	idAdmin  = "AdminAAAAAAAAAAAA"
	idReader = "ReaderRRRRRRRRRRR"
	idPlain  = "PlainPPPPPPPPPPPP"
	idAlice  = "AliceAAAAAAAAAAAA"
	idBob    = "BobBBBBBBBBBBBBBB" // deactivated
	idCarol  = "CarolCCCCCCCCCCCC"
	idFed    = "FedFFFFFFFFFFFFFF"
	idNoName = "NoNameNNNNNNNNNNN" // neither username nor name
	idBot    = "BotBBBBBBBBBBBBBB"

	teamAlpha = "TeamAlphaAAAAAAAA" // public
	roomAlpha = "RoomAlphaAAAAAAAA"
	teamBeta  = "TeamBetaBBBBBBBBB" // private
	roomBeta  = "RoomBetaBBBBBBBBB"

	readerRoleID = "RdrRoleRRRRRRRRRR"
)

var (
	credAdmin  = Credential{idAdmin, "admin-token"}
	credReader = Credential{idReader, "reader-token"}
	credPlain  = Credential{idPlain, "plain-token"}
	credAlice  = Credential{idAlice, "alice-token"}
	credCarol  = Credential{idCarol, "carol-token"}
	credBob    = Credential{idBob, "bob-token"}
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

// smallWorkspace is a hand-built workspace whose every record tests can name.
func smallWorkspace() *Workspace {
	ws := NewWorkspace()
	ws.Roles = append(ws.Roles,
		&Role{ID: readerRoleID, Name: "governance-reader", Scope: "Users"},
		&Role{ID: "HelperRoleHHHHHHH", Name: "room-helper", Scope: "Subscriptions"},
	)
	for _, p := range []string{"view-d-room", "view-full-other-user-info", "view-all-teams", "access-permissions"} {
		ws.Permissions[p] = append(ws.Permissions[p], readerRoleID)
	}
	login := t0.Add(48 * time.Hour)
	ws.AddUser(&User{ID: "rocket.cat", Username: "rocket.cat", Name: "Rocket.Cat", Type: "bot", Active: true, Roles: []string{"bot"}, Status: "online", CreatedAt: t0})
	ws.AddUser(&User{ID: idAdmin, Username: "svc-admin", Name: "Service Admin", Active: true, Roles: []string{"admin"},
		Emails: []Email{{"svc-admin@example.com", true}}, CreatedAt: t0, LastLogin: &login, Tokens: []string{credAdmin.Token}, Password: "pw"})
	ws.AddUser(&User{ID: idReader, Username: "svc-reader", Name: "Service Reader", Active: true, Roles: []string{readerRoleID},
		Emails: []Email{{"svc-reader@example.com", true}}, CreatedAt: t0, Tokens: []string{credReader.Token}})
	ws.AddUser(&User{ID: idPlain, Username: "plain", Name: "Plain User", Active: true, Roles: []string{"user"},
		Emails: []Email{{"plain@example.com", true}}, CreatedAt: t0, Tokens: []string{credPlain.Token}})
	ws.AddUser(&User{ID: idAlice, Username: "alice", Name: "Alice Liddell", Active: true, Roles: []string{"user"}, Status: "online",
		Emails: []Email{{"alice@example.com", true}, {"alice@home.example.net", false}}, CreatedAt: t0, LastLogin: &login, Tokens: []string{credAlice.Token}})
	ws.AddUser(&User{ID: idBob, Username: "bob", Name: "Bob Stone", Active: false, InactiveReason: "deactivated", Roles: []string{"user"},
		Emails: []Email{{"bob@example.com", false}}, CreatedAt: t0, Tokens: []string{credBob.Token}})
	ws.AddUser(&User{ID: idCarol, Username: "carol", Name: "Carol King", Active: true, Roles: []string{"user", "livechat-agent"},
		Emails: []Email{{"carol@example.com", true}}, CreatedAt: t0, LastLogin: &login, Tokens: []string{credCarol.Token}})
	ws.AddUser(&User{ID: idFed, Username: "@dave:matrix.example.org", Name: "@dave:matrix.example.org", Active: true,
		Roles: []string{"federated-external"}, Federated: true, FederationOrigin: "matrix.example.org", CreatedAt: t0})
	ws.AddUser(&User{ID: idNoName, Active: true, Roles: []string{"user"}, Emails: []Email{{"ghost@example.com", false}}, CreatedAt: t0})
	ws.AddUser(&User{ID: idBot, Username: "deploy-bot", Name: "Deploy Bot", Type: "bot", Active: true, Roles: []string{"bot"}, CreatedAt: t0})

	ws.Teams = []*Team{
		{ID: teamAlpha, Name: "alpha", Type: teamPublic, RoomID: roomAlpha, CreatedAt: t0, CreatedByID: idAlice, CreatedByUsername: "alice",
			Members: []TeamMember{
				{UserID: idAlice, Roles: []string{"owner"}, CreatedAt: t0},
				{UserID: idCarol, Roles: []string{"moderator"}, CreatedAt: t0.Add(time.Minute)},
				{UserID: idBob, CreatedAt: t0.Add(2 * time.Minute)},
				{UserID: idPlain, CreatedAt: t0.Add(3 * time.Minute)},
			}},
		{ID: teamBeta, Name: "beta", Type: teamPrivate, RoomID: roomBeta, CreatedAt: t0.Add(time.Hour), CreatedByID: idCarol, CreatedByUsername: "carol",
			Members: []TeamMember{
				{UserID: idCarol, Roles: []string{"owner"}, CreatedAt: t0.Add(time.Hour)},
				{UserID: idAlice, Roles: []string{"leader"}, CreatedAt: t0.Add(2 * time.Hour)},
			}},
	}
	return ws
}

type harness struct {
	srv   *Server
	clock *fakeClock
	// handler, when set, receives the requests instead of srv (a Cluster).
	handler http.Handler
}

func newHarness(ws *Workspace, opts Options) *harness {
	clock := newClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	return &harness{srv: NewServer(ws, opts), clock: clock}
}

// small returns a harness over smallWorkspace with the limiter off, for
// tests not about rate limiting.
func small() *harness {
	return newHarness(smallWorkspace(), Options{DisableRateLimiter: true})
}

type response struct {
	code int
	hdr  http.Header
	raw  string
	body map[string]any
}

// call sends one request. body, when not nil, is sent as JSON; extra are
// header name/value pairs.
func (h *harness) call(t *testing.T, method, target string, cred *Credential, body any, extra ...string) response {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req := httptest.NewRequest(method, target, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cred != nil {
		req.Header.Set("X-User-Id", cred.UserID)
		req.Header.Set("X-Auth-Token", cred.Token)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	rec := httptest.NewRecorder()
	var handler http.Handler = h.srv
	if h.handler != nil {
		handler = h.handler
	}
	handler.ServeHTTP(rec, req)
	res := response{code: rec.Code, hdr: rec.Header(), raw: rec.Body.String()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &res.body); err != nil {
			t.Fatalf("%s %s: bad JSON %q: %v", method, target, res.raw, err)
		}
	}
	return res
}

func (h *harness) get(t *testing.T, target string, cred *Credential) response {
	t.Helper()
	return h.call(t, http.MethodGet, target, cred, nil)
}

func (h *harness) post(t *testing.T, target string, cred *Credential, body any) response {
	t.Helper()
	return h.call(t, http.MethodPost, target, cred, body)
}

// expect checks status and exact body.
func expect(t *testing.T, r response, code int, raw string) {
	t.Helper()
	if r.code != code || r.raw != raw {
		t.Errorf("got %d %s\nwant %d %s", r.code, r.raw, code, raw)
	}
}

func expectCode(t *testing.T, r response, code int) {
	t.Helper()
	if r.code != code {
		t.Errorf("got %d %s, want %d", r.code, r.raw, code)
	}
}

// items returns the array under key as objects.
func items(t *testing.T, r response, key string) []map[string]any {
	t.Helper()
	arr, ok := r.body[key].([]any)
	if !ok {
		t.Fatalf("no array %q in %s", key, r.raw)
	}
	out := make([]map[string]any, len(arr))
	for i, v := range arr {
		out[i] = v.(map[string]any)
	}
	return out
}

func ids(objs []map[string]any) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o["_id"].(string))
	}
	return out
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}
