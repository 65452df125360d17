package simulator

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

func newClusterHarness(ws *Workspace, opts Options, n int) (*Cluster, *harness) {
	clock := newClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	c := NewCluster(ws, opts, n)
	return c, &harness{handler: c, clock: clock}
}

func TestClusterSharesData(t *testing.T) {
	c, h := newClusterHarness(smallWorkspace(), Options{DisableRateLimiter: true}, 2)
	// Request 1 → instance 0 deactivates plain; request 2 → instance 1 sees it.
	expectCode(t, h.post(t, "/api/v1/users.setActiveStatus", &credAdmin, map[string]any{"userId": idPlain, "activeStatus": false}), http.StatusOK)
	r := h.get(t, "/api/v1/users.info?userId="+idPlain, &credReader)
	if u, _ := r.body["user"].(map[string]any); r.code != http.StatusOK || u["active"] != false {
		t.Errorf("write via instance 0 not seen by instance 1: %d %s", r.code, r.raw)
	}
	if s0, s1 := c.Instance(0).Stats(), c.Instance(1).Stats(); s0.Calls["POST users.setActiveStatus"] != 1 || s0.Calls["GET users.info"] != 0 ||
		s1.Calls["GET users.info"] != 1 || s1.Calls["POST users.setActiveStatus"] != 0 {
		t.Errorf("requests did not alternate: %v / %v", s0.Calls, s1.Calls)
	}

	// Update through the cluster, or through one instance, reaches all.
	c.Update(func(ws *Workspace) { ws.UserByID(idAlice).Name = "Alice Cluster" })
	c.Instance(1).Update(func(ws *Workspace) { ws.UserByID(idCarol).Name = "Carol Instance" })
	for i := range 2 {
		var alice, carol string
		c.Instance(i).View(func(ws *Workspace) { alice, carol = ws.UserByID(idAlice).Name, ws.UserByID(idCarol).Name })
		if alice != "Alice Cluster" || carol != "Carol Instance" {
			t.Errorf("instance %d sees %q, %q", i, alice, carol)
		}
	}
	var name string
	c.View(func(ws *Workspace) { name = ws.UserByID(idCarol).Name })
	if name != "Carol Instance" {
		t.Errorf("cluster View sees %q", name)
	}

	// A user created via one instance can authenticate on the other.
	r = h.post(t, "/api/v1/users.create", &credAdmin, map[string]any{
		"username": "newbie", "name": "New Bie", "email": "newbie@example.com", "password": "pw",
	})
	expectCode(t, r, http.StatusOK)
	id, _ := r.body["user"].(map[string]any)["_id"].(string)
	c.Update(func(ws *Workspace) { ws.UserByID(id).Tokens = []string{"newbie-token"} })
	for i := range 2 {
		if r := h.get(t, "/api/v1/me", &Credential{id, "newbie-token"}); r.code != http.StatusOK || r.body["username"] != "newbie" {
			t.Errorf("me, request %d: %d %s", i, r.code, r.raw)
		}
	}
}

func TestClusterIndependentRateLimiters(t *testing.T) {
	opts := Options{RateLimitCalls: 2, RateLimitWindow: time.Minute}

	// Control: one instance refuses the third call.
	single := limited(2)
	for i := 1; i <= 3; i++ {
		want := http.StatusOK
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		expectCode(t, single.get(t, "/api/v1/roles.list", &credReader), want)
	}

	c, h := newClusterHarness(smallWorkspace(), opts, 2)
	now := h.clock.Now()
	// Instance 0's window began at startup, instance 1's half a window earlier.
	resets := []int64{now.Add(time.Minute).UnixMilli(), now.Add(30 * time.Second).UnixMilli()}
	for i := range 4 {
		r := h.get(t, "/api/v1/roles.list", &credReader)
		limit, remaining, reset := rateHeaders(r)
		if r.code != http.StatusOK || limit != "2" || remaining != strconv.Itoa(1-i/2) || reset != resets[i%2] {
			t.Errorf("call %d: %d limit=%s remaining=%s reset=%d, want reset %d", i+1, r.code, limit, remaining, reset, resets[i%2])
		}
	}
	// Both budgets are spent; each 429 quotes its own instance's wait.
	for i, wait := range []string{"60", "30"} {
		r := h.get(t, "/api/v1/roles.list", &credReader)
		msg := "Error, too many requests. Please slow down. You must wait " + wait + " seconds before trying this endpoint again. [error-too-many-requests]"
		if _, _, reset := rateHeaders(r); r.code != http.StatusTooManyRequests || r.body["error"] != msg || reset != resets[i] {
			t.Errorf("instance %d over budget: %d %s reset=%d", i, r.code, r.raw, reset)
		}
	}
	// Past instance 1's window but inside instance 0's.
	h.clock.Advance(30*time.Second + time.Millisecond)
	expectCode(t, h.get(t, "/api/v1/roles.list", &credReader), http.StatusTooManyRequests) // instance 0
	r := h.get(t, "/api/v1/roles.list", &credReader)                                       // instance 1
	if _, remaining, reset := rateHeaders(r); r.code != http.StatusOK || remaining != "1" || reset != h.clock.Now().Add(time.Minute).UnixMilli() {
		t.Errorf("instance 1 new window: %d %v", r.code, r.hdr)
	}

	st := c.Stats()
	if st.Calls["GET roles.list"] != 8 || st.RateLimited["GET roles.list"] != 3 || st.Total429 != 3 {
		t.Errorf("summed stats: %+v", st)
	}
	s0, s1 := c.Instance(0).Stats(), c.Instance(1).Stats()
	if s0.Calls["GET roles.list"] != 4 || s1.Calls["GET roles.list"] != 4 || s0.Total429 != 2 || s1.Total429 != 1 {
		t.Errorf("per instance: %+v / %+v", s0, s1)
	}
	// The sum is a copy, not an instance's map.
	st.Calls["GET roles.list"] = 99
	if c.Instance(0).Stats().Calls["GET roles.list"] != 4 || c.Stats().Calls["GET roles.list"] != 8 {
		t.Error("Stats must return copies")
	}
	c.ResetStats()
	if st := c.Stats(); len(st.Calls) != 0 || len(st.RateLimited) != 0 || st.Total429 != 0 {
		t.Errorf("after ResetStats: %+v", st)
	}
	if st := c.Instance(1).Stats(); len(st.Calls) != 0 || st.Total429 != 0 {
		t.Errorf("instance 1 after ResetStats: %+v", st)
	}
}

func TestClusterPhases(t *testing.T) {
	cases := []struct {
		n      int
		resets []time.Duration // first X-RateLimit-Reset of each instance, from now
	}{
		{1, []time.Duration{60 * time.Second}},
		{3, []time.Duration{60 * time.Second, 40 * time.Second, 20 * time.Second}},
		{4, []time.Duration{60 * time.Second, 45 * time.Second, 30 * time.Second, 15 * time.Second}},
	}
	for _, tc := range cases {
		c, h := newClusterHarness(smallWorkspace(), Options{RateLimitCalls: 5}, tc.n)
		if c.Len() != tc.n {
			t.Fatalf("Len %d, want %d", c.Len(), tc.n)
		}
		// Two rounds: the balancer wraps around to instance 0.
		for i := range 2 * tc.n {
			_, _, reset := rateHeaders(h.get(t, "/api/v1/me", &credReader))
			if want := h.clock.Now().Add(tc.resets[i%tc.n]).UnixMilli(); reset != want {
				t.Errorf("n=%d, request %d: reset %d, want %d", tc.n, i, reset, want)
			}
		}
	}
	if c := NewCluster(nil, Options{}, 0); c.Len() != 1 {
		t.Errorf("n=0 gave %d instances", c.Len())
	}
}

func TestClusterInterceptOneInstance(t *testing.T) {
	c, h := newClusterHarness(smallWorkspace(), Options{DisableRateLimiter: true}, 2)
	c.Instance(1).Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusBadGateway)
		return true
	})
	for i, want := range []int{http.StatusOK, http.StatusBadGateway, http.StatusOK, http.StatusBadGateway} {
		if r := h.get(t, "/api/v1/me", &credReader); r.code != want {
			t.Errorf("request %d: %d, want %d", i, r.code, want)
		}
	}
	if st := c.Stats(); st.Calls["GET me"] != 2 {
		t.Errorf("intercepted requests must not reach the server: %v", st.Calls)
	}
}

func TestClusterConcurrent(t *testing.T) {
	c, h := newClusterHarness(smallWorkspace(), Options{DisableRateLimiter: true}, 3)
	const n = 60
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if i%2 == 0 {
				c.Update(func(ws *Workspace) { ws.UserByID(idAlice).Name = "Alice " + strconv.Itoa(i) })
			}
			expectCode(t, h.get(t, "/api/v1/users.list?count=0", &credReader), http.StatusOK)
		})
	}
	wg.Wait()
	st := c.Stats()
	per := 0
	for i := range c.Len() {
		got := c.Instance(i).Stats().Calls["GET users.list"]
		if got != n/c.Len() {
			t.Errorf("instance %d served %d, want %d", i, got, n/c.Len())
		}
		per += got
	}
	if st.Calls["GET users.list"] != n || per != n {
		t.Errorf("summed %d, per-instance sum %d, want %d", st.Calls["GET users.list"], per, n)
	}
}
