package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	testUserID = "uid-7Hq2"
	testToken  = "pat-SECRET-9f8e7d6c5b4a"
)

func TestParseBaseURL(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		want     string // normalised URL; empty when an error is expected
		errHas   string
		mustNot  []string // never in the error
		wantPath string
	}{
		{name: "plain", raw: "https://chat.example.com", want: "https://chat.example.com"},
		{name: "trailing slash", raw: "https://chat.example.com/", want: "https://chat.example.com"},
		{name: "several trailing slashes", raw: "https://chat.example.com///", want: "https://chat.example.com"},
		{name: "path prefix", raw: "https://host.example/chat/", want: "https://host.example/chat", wantPath: "/chat"},
		{name: "port", raw: "http://localhost:3000", want: "http://localhost:3000"},
		{name: "whitespace around", raw: " \t https://chat.example.com/ \n", want: "https://chat.example.com"},
		{name: "upper-case scheme", raw: "HTTPS://chat.example.com", want: "https://chat.example.com"},
		{name: "empty", raw: "", errHas: "empty"},
		{name: "only whitespace", raw: "  \n ", errHas: "empty"},
		{name: "ftp scheme", raw: "ftp://chat.example.com", errHas: `"ftp"`},
		{name: "no scheme", raw: "chat.example.com", errHas: "https://"},
		{name: "no host", raw: "https://", errHas: "no host"},
		{name: "no host, path", raw: "https:///chat", errHas: "no host"},
		{name: "port only", raw: "https://:443", errHas: "no host"},
		{
			name: "user and password", raw: "https://admin:hunter2-SECRET@chat.example.com",
			errHas: "user name or password", mustNot: []string{"hunter2", "SECRET", "admin"},
		},
		{
			name: "user and password, no scheme", raw: "admin:hunter2-SECRET@chat.example.com",
			mustNot: []string{"hunter2", "SECRET"},
		},
		{
			name: "password with characters url.Parse rejects", raw: "https://admin:p%zz-SECRET@chat.example.com",
			mustNot: []string{"p%zz", "SECRET"},
		},
		{
			name: "password in a bad scheme", raw: "ftp://admin:hunter2-SECRET@chat.example.com",
			mustNot: []string{"hunter2", "SECRET"},
		},
		{name: "query string", raw: "https://chat.example.com/?x=1", errHas: "query"},
		{name: "query with token", raw: "https://chat.example.com/?token=SECRET", mustNot: []string{"SECRET"}},
		{name: "fragment", raw: "https://chat.example.com/#home", errHas: "fragment"},
		{name: "control character", raw: "https://chat.example.com/\x7f", errHas: "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseBaseURL(tt.raw)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParseBaseURL(%q) = %v, want an error", tt.raw, u)
				}
				if tt.errHas != "" && !strings.Contains(err.Error(), tt.errHas) {
					t.Errorf("error %q does not mention %q", err, tt.errHas)
				}
				for _, s := range tt.mustNot {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q leaks %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseBaseURL(%q): %v", tt.raw, err)
			}
			if u.String() != tt.want {
				t.Errorf("got %q, want %q", u.String(), tt.want)
			}
			if u.Path != tt.wantPath {
				t.Errorf("Path = %q, want %q", u.Path, tt.wantPath)
			}
		})
	}
}

func TestNewRejectsBadCredentials(t *testing.T) {
	tests := []struct {
		name, userID, token, errHas string
	}{
		{"empty user id", "", testToken, "user-id is empty"},
		{"empty token", testUserID, "", "auth-token is empty"},
		{"user id with spaces around", " " + testUserID + "\n", testToken, "user-id has spaces"},
		{"token with trailing newline", testUserID, testToken + "\n", "auth-token has spaces"},
		{"token with leading space", testUserID, " " + testToken, "auth-token has spaces"},
		{"token with a tab inside", testUserID, "pat-SECRET\t9f8e", "auth-token contains spaces"},
		{"token is only whitespace", testUserID, "   ", "auth-token has spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(context.Background(), Config{BaseURL: "https://chat.example.com", UserID: tt.userID, Token: tt.token})
			if err == nil {
				t.Fatalf("New = %v, want an error", c)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q does not say %q", err, tt.errHas)
			}
			if strings.Contains(err.Error(), "SECRET") || (strings.TrimSpace(tt.token) != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.token))) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}

	t.Run("bad base url wins and leaks nothing", func(t *testing.T) {
		_, err := New(context.Background(), Config{BaseURL: "https://u:pw-SECRET@h", UserID: testUserID, Token: testToken})
		if err == nil || strings.Contains(err.Error(), "SECRET") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestNewKeepsCallerClientAndDefaults(t *testing.T) {
	hc := &http.Client{}
	c, err := New(context.Background(), Config{BaseURL: "https://chat.example.com/chat/", UserID: testUserID, Token: testToken, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if hc.CheckRedirect != nil {
		t.Error("New modified the caller's http.Client")
	}
	if c.BaseURL().String() != "https://chat.example.com/chat" || c.UserID() != testUserID {
		t.Errorf("BaseURL %q UserID %q", c.BaseURL(), c.UserID())
	}
	c.BaseURL().Path = "/changed"
	if c.BaseURL().Path != "/chat" {
		t.Error("BaseURL returns the client's own URL")
	}
	cfg := c.cfg
	if cfg.MaxAttempts != DefaultMaxAttempts || cfg.Backoff != DefaultBackoff || cfg.MaxBackoff != DefaultMaxBackoff ||
		cfg.AttemptTimeout != DefaultAttemptTimeout || cfg.MaxBodyBytes != DefaultMaxBodyBytes || cfg.Max429Waits != DefaultMax429Waits ||
		cfg.UserAgent != "baton-rocketchat" {
		t.Errorf("defaults not applied: %+v", cfg)
	}
}

// --- HTTP behaviour ---------------------------------------------------------

type hit struct {
	method, path, query string
	header              http.Header
}

// recorder is an httptest server that records every request and answers
// through a function of the request's ordinal (1-based).
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	hits []hit
}

func newRecorder(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.hits = append(rec.hits, hit{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone()})
		n := len(rec.hits)
		rec.mu.Unlock()
		answer(n, w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.hits)
}

func (r *recorder) hit(i int) hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits[i]
}

func writeJSON(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

const meBody = `{"_id":"uid-7Hq2","username":"svc","name":"Service","roles":["admin","user"],"active":true,"success":true}`

func testClient(t *testing.T, base string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		BaseURL:    base,
		UserID:     testUserID,
		Token:      testToken,
		HTTPClient: &http.Client{},
		Backoff:    time.Millisecond,
		MaxBackoff: 5 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func noToken(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testToken) {
		t.Errorf("error leaks the token: %v", err)
	}
}

func TestClientSendsCredentials(t *testing.T) {
	for _, tc := range []struct {
		name string
		hc   *http.Client
	}{{"plain http.Client", &http.Client{}}, {"SDK client", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, meBody) })
			c := testClient(t, srv.URL+"/chat/", func(c *Config) { c.HTTPClient = tc.hc; c.UserAgent = "ua-test/1" })
			me, err := c.Me(testCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			if me.ID != testUserID || me.Username != "svc" || len(me.Roles) != 2 || !me.Active {
				t.Errorf("Me = %+v", me)
			}
			h := srv.hit(0)
			if h.method != http.MethodGet || h.path != "/chat/api/v1/me" {
				t.Errorf("request %s %s", h.method, h.path)
			}
			if h.header.Get("X-User-Id") != testUserID || h.header.Get("X-Auth-Token") != testToken {
				t.Errorf("credentials: X-User-Id %q X-Auth-Token %q", h.header.Get("X-User-Id"), h.header.Get("X-Auth-Token"))
			}
			if h.header.Get("Accept") != "application/json" {
				t.Errorf("Accept = %q", h.header.Get("Accept"))
			}
			if h.header.Get("User-Agent") != "ua-test/1" {
				t.Errorf("User-Agent = %q", h.header.Get("User-Agent"))
			}
		})
	}
}

func TestInfoSendsNoCredentials(t *testing.T) {
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"version":"8.7","success":true}`)
	})
	c := testClient(t, srv.URL, nil)
	info, err := c.Info(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != "8.7" {
		t.Errorf("version %q", info.Version)
	}
	h := srv.hit(0)
	if h.path != "/api/info" {
		t.Errorf("path %q", h.path)
	}
	if h.header.Get("X-Auth-Token") != "" || h.header.Get("X-User-Id") != "" {
		t.Error("/api/info needs no credentials and must not get them")
	}
}

func TestInfoRejectsNonRocketChatJSON(t *testing.T) {
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"hello":"world"}`) })
	c := testClient(t, srv.URL, nil)
	_, err := c.Info(testCtx(t))
	var nrc *NotRocketChatError
	if !errors.As(err, &nrc) || status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("err = %v", err)
	}
}

func TestRedirectToAnotherHostIsNotFollowed(t *testing.T) {
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, tc := range []struct {
			name string
			hc   *http.Client
		}{{"plain", &http.Client{}}, {"SDK", nil}} {
			t.Run(fmt.Sprintf("%d %s", code, tc.name), func(t *testing.T) {
				other := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, meBody) })
				home := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, other.URL+r.URL.Path, code)
				})
				c := testClient(t, home.URL, func(c *Config) { c.HTTPClient = tc.hc })
				_, err := c.Me(testCtx(t))
				if err == nil {
					t.Fatal("redirect to another host was followed")
				}
				var re *RedirectError
				if !errors.As(err, &re) {
					t.Fatalf("err = %v, want a RedirectError", err)
				}
				if !strings.Contains(re.Target, strings.TrimPrefix(other.URL, "http://")) {
					t.Errorf("Target = %q", re.Target)
				}
				if status.Code(err) != codes.FailedPrecondition {
					t.Errorf("code %v, want FailedPrecondition", status.Code(err))
				}
				noToken(t, err)
				if n := other.count(); n != 0 {
					t.Fatalf("the other host received %d requests (token %q)", n, other.hit(0).header.Get("X-Auth-Token"))
				}
				if n := home.count(); n != 1 {
					t.Errorf("home got %d requests; a refused redirect is not retried", n)
				}
			})
		}
	}

	t.Run("scheme downgrade on the same host", func(t *testing.T) {
		c := testClient(t, "https://chat.example.com", nil)
		check := c.http.CheckRedirect
		req, _ := http.NewRequest(http.MethodGet, "http://chat.example.com/api/v1/me", nil)
		if err := check(req, []*http.Request{{}}); err == nil {
			t.Fatal("https -> http redirect allowed")
		}
		req, _ = http.NewRequest(http.MethodGet, "https://CHAT.example.com/x", nil)
		if err := check(req, []*http.Request{{}}); err != nil {
			t.Fatalf("same host in other case refused: %v", err)
		}
		req, _ = http.NewRequest(http.MethodGet, "https://chat.example.com.evil.test/x", nil)
		if err := check(req, []*http.Request{{}}); err == nil {
			t.Fatal("suffix host allowed")
		}
	})
}

func TestSameHostRedirectIsFollowed(t *testing.T) {
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/me" {
			http.Redirect(w, r, "/moved/api/v1/me", http.StatusMovedPermanently)
			return
		}
		writeJSON(w, 200, meBody)
	})
	c := testClient(t, srv.URL, nil)
	if _, err := c.Me(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if srv.count() != 2 {
		t.Fatalf("%d requests, want 2", srv.count())
	}
	if h := srv.hit(1); h.path != "/moved/api/v1/me" || h.header.Get("X-Auth-Token") != testToken {
		t.Errorf("followed request %s with token %q", h.path, h.header.Get("X-Auth-Token"))
	}
}

func TestRedirectLoopEnds(t *testing.T) {
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop/"+strconv.Itoa(n), http.StatusFound)
	})
	c := testClient(t, srv.URL, func(c *Config) { c.MaxAttempts = 2 })
	_, err := c.Me(testCtx(t))
	if err == nil {
		t.Fatal("redirect loop succeeded")
	}
	if n := srv.count(); n > 2*6 {
		t.Errorf("%d requests for 2 attempts of at most 6 hops", n)
	}
}

func TestRetriesTransientFailures(t *testing.T) {
	srv := newRecorder(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= 2 {
			writeJSON(w, http.StatusServiceUnavailable, `{"success":false,"error":"Service Unavailable"}`)
			return
		}
		writeJSON(w, 200, meBody)
	})
	c := testClient(t, srv.URL, nil)
	if _, err := c.Me(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if srv.count() != 3 {
		t.Fatalf("%d requests, want 3", srv.count())
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		max    int
		status int
	}{{"503 default attempts", 0, 503}, {"500 three attempts", 3, 500}, {"502", 2, 502}, {"504", 2, 504}, {"408", 2, 408}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte("<html>down</html>"))
			})
			c := testClient(t, srv.URL, func(c *Config) { c.MaxAttempts = tc.max })
			want := tc.max
			if want == 0 {
				want = DefaultMaxAttempts
			}
			_, err := c.Me(testCtx(t))
			var g *GiveUpError
			if !errors.As(err, &g) {
				t.Fatalf("err = %v, want GiveUpError", err)
			}
			if g.Attempts != want || srv.count() != want {
				t.Errorf("Attempts %d, server saw %d, want %d", g.Attempts, srv.count(), want)
			}
			if g.Endpoint != "me" || g.Method != http.MethodGet {
				t.Errorf("GiveUpError %s %s", g.Method, g.Endpoint)
			}
			if status.Code(err) != codes.Aborted || status.Code(fmt.Errorf("sync: %w", err)) != codes.Aborted {
				t.Errorf("code %v, want Aborted", status.Code(err))
			}
			var api *APIError
			if !errors.As(err, &api) || api.StatusCode != tc.status {
				t.Errorf("last error %v", g.Last)
			}
			noToken(t, err)
		})
	}
}

func TestPermanentFailuresAreNotRetried(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		code   codes.Code
	}{
		{401, body401, codes.Unauthenticated},
		{403, body403Mw, codes.PermissionDenied},
		{403, body403Handler, codes.PermissionDenied},
		{400, body400TOTP, codes.FailedPrecondition},
		{400, body400TeamGone, codes.InvalidArgument},
		{404, "404 Not Found", codes.NotFound},
	} {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.body), func(t *testing.T) {
			srv := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, tc.status, tc.body) })
			c := testClient(t, srv.URL, nil)
			_, err := c.Me(testCtx(t))
			if status.Code(err) != tc.code {
				t.Fatalf("err %v, code %v, want %v", err, status.Code(err), tc.code)
			}
			if srv.count() != 1 {
				t.Errorf("%d requests, want 1", srv.count())
			}
			noToken(t, err)
		})
	}
}

func TestWaitsOutA429(t *testing.T) {
	var resetAt time.Time
	srv := newRecorder(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			resetAt = time.Now().Add(150 * time.Millisecond)
			setRateLimitHeaders(w.Header(), &RateLimit{Limit: 10, Remaining: 0, ResetAt: resetAt})
			writeJSON(w, http.StatusTooManyRequests, body429)
			return
		}
		writeJSON(w, 200, meBody)
	})
	c := testClient(t, srv.URL, nil)
	start := time.Now()
	if _, err := c.Me(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 130*time.Millisecond {
		t.Errorf("succeeded after %v; the 429 said to wait ~150ms", waited)
	}
	if srv.count() != 2 {
		t.Errorf("%d requests, want 2", srv.count())
	}
	if got := time.Now(); got.Before(resetAt) {
		t.Error("retried before the reset")
	}
}

func TestGivesUpAfterMax429Waits(t *testing.T) {
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		setRateLimitHeaders(w.Header(), &RateLimit{Limit: 10, Remaining: 0, ResetAt: time.Now().Add(5 * time.Millisecond)})
		writeJSON(w, http.StatusTooManyRequests, body429)
	})
	c := testClient(t, srv.URL, func(c *Config) { c.Max429Waits = 2 })
	_, err := c.Me(testCtx(t))
	var g *GiveUpError
	if !errors.As(err, &g) || status.Code(err) != codes.Aborted {
		t.Fatalf("err = %v", err)
	}
	if srv.count() != 3 || g.Attempts != 3 {
		t.Errorf("server saw %d, Attempts %d, want 3 (1 + 2 waits)", srv.count(), g.Attempts)
	}
	var api *APIError
	if !errors.As(err, &api) || api.StatusCode != 429 {
		t.Errorf("last = %v", g.Last)
	}
}

func TestBodyLimit(t *testing.T) {
	big := `{"_id":"` + strings.Repeat("x", 2000) + `","success":true}`
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, big) })

	c := testClient(t, srv.URL, func(c *Config) { c.MaxBodyBytes = 1024 })
	_, err := c.Me(testCtx(t))
	if err == nil || !strings.Contains(err.Error(), "larger than 1024 bytes") {
		t.Fatalf("err = %v", err)
	}
	if srv.count() != 1 {
		t.Errorf("%d requests; an oversized body is not retried", srv.count())
	}

	exact := testClient(t, srv.URL, func(c *Config) { c.MaxBodyBytes = int64(len(big)) })
	if _, err := exact.Me(testCtx(t)); err != nil {
		t.Fatalf("a body of exactly MaxBodyBytes was refused: %v", err)
	}
}

func TestHTMLAnswerIsNotRocketChat(t *testing.T) {
	for _, ct := range []string{"text/html; charset=utf-8", "", "text/plain"} {
		t.Run(ct, func(t *testing.T) {
			srv := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", ct)
				if ct == "" {
					w.Header()["Content-Type"] = nil // stop net/http from sniffing one
				}
				_, _ = w.Write([]byte("<!doctype html><html><body>Welcome to nginx!</body></html>"))
			})
			c := testClient(t, srv.URL, nil)
			_, err := c.Me(testCtx(t))
			var nrc *NotRocketChatError
			if !errors.As(err, &nrc) {
				t.Fatalf("err = %v, want NotRocketChatError", err)
			}
			if status.Code(err) != codes.FailedPrecondition {
				t.Errorf("code %v", status.Code(err))
			}
			if srv.count() != 1 {
				t.Errorf("%d requests, want 1", srv.count())
			}
		})
	}

	t.Run("JSON variants are accepted", func(t *testing.T) {
		for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON", "application/problem+json"} {
			srv := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", ct)
				_, _ = w.Write([]byte(meBody))
			})
			if _, err := testClient(t, srv.URL, nil).Me(testCtx(t)); err != nil {
				t.Errorf("%q: %v", ct, err)
			}
		}
	})
}

func TestTruncatedJSONIsRetried(t *testing.T) {
	srv := newRecorder(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			writeJSON(w, 200, meBody[:len(meBody)/2])
			return
		}
		writeJSON(w, 200, meBody)
	})
	c := testClient(t, srv.URL, nil)
	me, err := c.Me(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != testUserID || srv.count() != 2 {
		t.Errorf("Me %+v after %d requests", me, srv.count())
	}
}

func TestTruncatedJSONEverytimeGivesUp(t *testing.T) {
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"users":[`) })
	c := testClient(t, srv.URL, func(c *Config) { c.MaxAttempts = 3 })
	_, err := c.UsersPage(testCtx(t), UsersListByStatus, 0, PageSize)
	var g *GiveUpError
	if !errors.As(err, &g) || srv.count() != 3 {
		t.Fatalf("err %v after %d requests", err, srv.count())
	}
}

func TestHangingServerIsTimedOutAndRetried(t *testing.T) {
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			select { // hang until the client gives up on this attempt
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		writeJSON(w, 200, meBody)
	})
	c := testClient(t, srv.URL, func(c *Config) { c.AttemptTimeout = 100 * time.Millisecond })
	start := time.Now()
	if _, err := c.Me(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if elapsed < 100*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("took %v; the first attempt should time out after 100ms", elapsed)
	}
	if srv.count() != 2 {
		t.Errorf("%d requests, want 2", srv.count())
	}
}

func TestHangingBodyIsTimedOut(t *testing.T) {
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"_id":`))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		writeJSON(w, 200, meBody)
	})
	c := testClient(t, srv.URL, func(c *Config) { c.AttemptTimeout = 100 * time.Millisecond })
	if _, err := c.Me(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if srv.count() != 2 {
		t.Errorf("%d requests, want 2", srv.count())
	}
}

func TestContextEndsDuringBackoff(t *testing.T) {
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 503, `{}`) })
	c := testClient(t, srv.URL, func(c *Config) { c.Backoff = time.Minute; c.MaxBackoff = time.Minute })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Me(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Error("backoff ignored the context")
	}
}

func TestConnectionRefusedGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	c := testClient(t, base, func(c *Config) { c.MaxAttempts = 3 })
	_, err := c.Me(testCtx(t))
	var g *GiveUpError
	if !errors.As(err, &g) || g.Attempts != 3 || status.Code(err) != codes.Aborted {
		t.Fatalf("err = %v", err)
	}
	noToken(t, err)
}

// usersServer serves n users on users.listByStatus with Rocket.Chat's
// offset/count semantics, clamping count to 100.
func usersServer(t *testing.T, n int) *recorder {
	return newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		offset, _ := strconv.Atoi(q.Get("offset"))
		count, _ := strconv.Atoi(q.Get("count"))
		if count <= 0 || count > 100 {
			count = 100
		}
		var b strings.Builder
		b.WriteString(`{"users":[`)
		written := 0
		for i := offset; i < n && i < offset+count; i++ {
			if written > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"_id":"u%04d","username":"user%d","active":true,"roles":["user"]}`, i, i)
			written++
		}
		fmt.Fprintf(&b, `],"count":%d,"offset":%d,"total":%d,"success":true}`, written, offset, n)
		writeJSON(w, 200, b.String())
	})
}

func TestActiveUsersWithRoleThroughHTTP(t *testing.T) {
	srv := usersServer(t, 250)
	c := testClient(t, srv.URL, nil)
	users, err := c.ActiveUsersWithRole(testCtx(t), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 250 || users[0].ID != "u0000" || users[249].ID != "u0249" {
		t.Fatalf("got %d users", len(users))
	}
	if srv.count() != 3 {
		t.Fatalf("%d requests, want 3", srv.count())
	}
	for i, wantOffset := range []string{"0", "100", "200"} {
		h := srv.hit(i)
		if h.path != "/api/v1/users.listByStatus" || h.query != "count=100&offset="+wantOffset+"&roles%5B%5D=admin&status=active" {
			t.Errorf("request %d: %s?%s", i, h.path, h.query)
		}
	}
}

func TestListTeamMembersThroughHTTP(t *testing.T) {
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("teamId") {
		case "t1":
			writeJSON(w, 200, `{"members":[{"user":{"_id":"u1","username":"a"},"roles":["owner"]},{"user":{"_id":"u2","username":"b"}}],"total":2,"count":2,"offset":0,"success":true}`)
		default:
			writeJSON(w, 400, body400TeamGone)
		}
	})
	c := testClient(t, srv.URL, nil)
	var got []TeamMember
	if err := c.ListTeamMembers(testCtx(t), "t1", func(b []TeamMember) error { got = append(got, b...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].User.ID != "u1" || len(got[0].Roles) != 1 || got[1].Roles != nil {
		t.Errorf("members %+v", got)
	}
	if q := srv.hit(0).query; q != "count=100&offset=0&teamId=t1" {
		t.Errorf("query %q", q)
	}

	err := c.ListTeamMembers(testCtx(t), "gone", func([]TeamMember) error { return nil })
	if !IsTeamNotFound(err) {
		t.Fatalf("err = %v, want team-does-not-exist", err)
	}
}

// --- pacing through HTTP ------------------------------------------------------

func TestClientPacesSequentialCalls(t *testing.T) {
	lim := &windowLimiter{limit: 3, window: 150 * time.Millisecond}
	srv := httptest.NewServer(lim.wrap(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, meBody) }))
	defer srv.Close()
	c := testClient(t, srv.URL, nil)
	start := time.Now()
	for i := range 7 {
		if _, err := c.Me(testCtx(t)); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	requests, rejected, windows := lim.stats()
	if requests != 7 || rejected != 0 {
		t.Fatalf("%d requests, %d rejected (windows %v)", requests, rejected, windows)
	}
	if time.Since(start) < 2*140*time.Millisecond {
		t.Errorf("7 calls at 3 per 150ms finished in %v", time.Since(start))
	}
}

func TestClientConcurrentCallsStayInBudget(t *testing.T) {
	lim := &windowLimiter{limit: 4, window: 150 * time.Millisecond}
	srv := httptest.NewServer(lim.wrap(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, meBody) }))
	defer srv.Close()
	c := testClient(t, srv.URL, nil)
	if _, err := c.Me(testCtx(t)); err != nil { // learn the window
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 11 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Me(testCtx(t)); err != nil {
				failed.Add(1)
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	requests, rejected, windows := lim.stats()
	if failed.Load() != 0 || requests != 12 || rejected != 0 {
		t.Fatalf("%d failed, server saw %d requests, rejected %d (windows %v)", failed.Load(), requests, rejected, windows)
	}
}

func TestClientColdStartConcurrentCallsSucceed(t *testing.T) {
	// Before the first answer the pacer knows nothing, so a burst larger
	// than the limit meets 429s; they must be waited out, not fail.
	lim := &windowLimiter{limit: 3, window: 100 * time.Millisecond}
	srv := httptest.NewServer(lim.wrap(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, meBody) }))
	defer srv.Close()
	c := testClient(t, srv.URL, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Me(testCtx(t)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	_, rejected, windows := lim.stats()
	t.Logf("cold burst of 8 at limit 3: %d rejected, windows %v", rejected, windows)
}

func TestClientServerClockBehind(t *testing.T) {
	lim := &windowLimiter{limit: 2, window: 300 * time.Millisecond, skew: -time.Second}
	srv := httptest.NewServer(lim.wrap(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, meBody) }))
	defer srv.Close()
	c := testClient(t, srv.URL, nil)
	for i := range 5 {
		if _, err := c.Me(testCtx(t)); err != nil {
			requests, rejected, _ := lim.stats()
			t.Fatalf("call %d: %v (server saw %d requests, rejected %d)", i+1, err, requests, rejected)
		}
	}
}

func TestClientRecoversAfterUnansweredCalls(t *testing.T) {
	var down atomic.Bool
	lim := &windowLimiter{limit: 2, window: 50 * time.Millisecond}
	limited := lim.wrap(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			<-r.Context().Done() // hang: the attempt times out
			return
		}
		writeJSON(w, 200, meBody)
	})
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) { limited(w, r) })
	c := testClient(t, srv.URL, func(c *Config) { c.AttemptTimeout = 50 * time.Millisecond; c.MaxAttempts = 5 })
	if _, err := c.Me(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the window is over
	down.Store(true)
	go func() { // the server comes back after two hung attempts
		for srv.count() < 3 {
			time.Sleep(5 * time.Millisecond)
		}
		down.Store(false)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if _, err := c.Me(ctx); err != nil {
		t.Fatalf("server back after 2 timeouts, but: %v (server saw %d requests)", err, srv.count())
	}
}

func TestLargeMaxAttemptsDoesNotPanic(t *testing.T) {
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 503, `{}`) })
	c := testClient(t, srv.URL, func(c *Config) {
		c.MaxAttempts = 70
		c.Backoff = time.Nanosecond
		c.MaxBackoff = time.Nanosecond
	})
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("panic after %d attempts: %v", srv.count(), r)
		}
	}()
	_, err := c.Me(testCtx(t))
	var g *GiveUpError
	if !errors.As(err, &g) || g.Attempts != 70 {
		t.Fatalf("err = %v", err)
	}
}

func TestPostSendsJSONBody(t *testing.T) {
	var gotBody, gotCT string
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody, gotCT = string(b), r.Header.Get("Content-Type")
		writeJSON(w, 200, `{"success":true}`)
	})
	c := testClient(t, srv.URL, nil)
	if err := c.post(testCtx(t), "roles.addUserToRole", map[string]string{"username": "alice", "roleId": "auditor"}, nil); err != nil {
		t.Fatal(err)
	}
	h := srv.hit(0)
	if h.method != http.MethodPost || h.path != "/api/v1/roles.addUserToRole" {
		t.Errorf("request %s %s", h.method, h.path)
	}
	if gotCT != "application/json" || gotBody != `{"roleId":"auditor","username":"alice"}` {
		t.Errorf("Content-Type %q body %s", gotCT, gotBody)
	}
	if h.header.Get("X-Auth-Token") != testToken {
		t.Error("POST without the token")
	}

	t.Run("unencodable body fails before sending", func(t *testing.T) {
		before := srv.count()
		err := c.post(testCtx(t), "users.create", map[string]any{"x": make(chan int)}, nil)
		if err == nil || srv.count() != before {
			t.Fatalf("err %v, %d requests sent", err, srv.count()-before)
		}
	})

	t.Run("POST retried after a 503 resends the same body", func(t *testing.T) {
		var bodies []string
		var mu sync.Mutex
		s := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			bodies = append(bodies, string(b))
			mu.Unlock()
			if n == 1 {
				writeJSON(w, 503, `{}`)
				return
			}
			writeJSON(w, 200, `{"success":true}`)
		})
		c := testClient(t, s.URL, nil)
		if err := c.post(testCtx(t), "teams.removeMember", map[string]string{"teamId": "t", "userId": "u"}, nil); err != nil {
			t.Fatal(err)
		}
		if len(bodies) != 2 || bodies[0] != bodies[1] || bodies[0] == "" {
			t.Errorf("bodies %q", bodies)
		}
	})
}

func TestPostNotResentAfterTimeout(t *testing.T) {
	srv := newRecorder(t, func(n int, w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // lets the server notice the client hanging up
		if n == 1 {               // the server creates the user, then the answer is too slow
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		writeJSON(w, 400, `{"success":false,"error":"alice is already in use :( [error-field-unavailable]","errorType":"error-field-unavailable"}`)
	})
	c := testClient(t, srv.URL, func(c *Config) { c.AttemptTimeout = 50 * time.Millisecond })
	_, err := c.CreateUser(testCtx(t), &CreateUserRequest{Username: "alice", Email: "a@example.com", Name: "A", Password: "x"})
	if n := srv.count(); n != 1 {
		t.Fatalf("users.create was sent %d times; last error: %v", n, err)
	}
}
