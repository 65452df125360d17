package simulator

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func limited(calls int) *harness {
	return newHarness(smallWorkspace(), Options{RateLimitCalls: calls, RateLimitWindow: time.Minute})
}

// rateHeaders returns the limit, remaining and reset headers.
func rateHeaders(r response) (string, string, int64) {
	reset, _ := strconv.ParseInt(r.hdr.Get("X-RateLimit-Reset"), 10, 64)
	return r.hdr.Get("X-RateLimit-Limit"), r.hdr.Get("X-RateLimit-Remaining"), reset
}

func TestRateLimitHeadersAnd429(t *testing.T) {
	h := limited(10)
	h.clock.Advance(15 * time.Second) // the window began when the server started
	for i := 1; i <= 10; i++ {
		r := h.get(t, "/api/v1/users.list", &credReader)
		limit, remaining, reset := rateHeaders(r)
		if r.code != http.StatusOK || limit != "10" || remaining != strconv.Itoa(10-i) || reset != h.clock.Now().Add(45*time.Second).UnixMilli() {
			t.Fatalf("call %d: %d limit=%s remaining=%s reset=%d", i, r.code, limit, remaining, reset)
		}
		if r.hdr.Get("Retry-After") != "" {
			t.Fatal("Retry-After must not be sent")
		}
	}
	h.clock.Advance(4500 * time.Millisecond)
	r := h.get(t, "/api/v1/users.list", &credReader)
	expect(t, r, http.StatusTooManyRequests,
		`{"success":false,"error":"Error, too many requests. Please slow down. You must wait 41 seconds before trying this endpoint again. [error-too-many-requests]"}`)
	if limit, remaining, reset := rateHeaders(r); limit != "10" || remaining != "0" || reset != h.clock.Now().Add(40500*time.Millisecond).UnixMilli() {
		t.Errorf("429 headers: %v", r.hdr)
	}
	// Every endpoint has its own budget.
	expectCode(t, h.get(t, "/api/v1/users.listByStatus", &credReader), http.StatusOK)
}

func TestRateLimitFixedWindow(t *testing.T) {
	h := limited(3)
	h.clock.Advance(50 * time.Second)
	for range 3 {
		expectCode(t, h.get(t, "/api/v1/roles.list", &credReader), http.StatusOK)
	}
	r := h.get(t, "/api/v1/roles.list", &credReader)
	if r.code != http.StatusTooManyRequests || r.body["error"] != "Error, too many requests. Please slow down. You must wait 10 seconds before trying this endpoint again. [error-too-many-requests]" {
		t.Fatalf("got %d %s", r.code, r.raw)
	}
	// Still inside the window that started at server start: no relief yet.
	h.clock.Advance(10 * time.Second)
	expectCode(t, h.get(t, "/api/v1/roles.list", &credReader), http.StatusTooManyRequests)
	// The first request after the window ran out starts a fresh one.
	h.clock.Advance(time.Millisecond)
	r = h.get(t, "/api/v1/roles.list", &credReader)
	if _, remaining, reset := rateHeaders(r); r.code != http.StatusOK || remaining != "2" || reset != h.clock.Now().Add(time.Minute).UnixMilli() {
		t.Errorf("new window: %d %v", r.code, r.hdr)
	}
}

func TestRateLimitPerIPSharedWindow(t *testing.T) {
	h := limited(2)
	get := func(ip string) response {
		return h.call(t, "GET", "/api/v1/roles.list", &credReader, nil, "X-Real-IP", ip)
	}
	expectCode(t, get("10.0.0.1"), http.StatusOK)
	expectCode(t, get("10.0.0.1"), http.StatusOK)
	expectCode(t, get("10.0.0.1"), http.StatusTooManyRequests)
	h.clock.Advance(30 * time.Second)
	// Another IP has its own count but the rule's window, not one of its own.
	r := get("10.0.0.2")
	if _, remaining, reset := rateHeaders(r); r.code != http.StatusOK || remaining != "1" || reset != h.clock.Now().Add(30*time.Second).UnixMilli() {
		t.Errorf("second IP: %d %v", r.code, r.hdr)
	}
	// Different users behind one IP share its budget.
	expectCode(t, h.call(t, "GET", "/api/v1/roles.list", &credPlain, nil, "X-Real-IP", "10.0.0.1"), http.StatusTooManyRequests)
}

func TestRateLimitExemptionsAndFreeFailures(t *testing.T) {
	h := limited(1)
	// api-bypass-rate-limit (admin, bot, app by default): never limited, no headers.
	for range 5 {
		r := h.get(t, "/api/v1/users.list", &credAdmin)
		if r.code != http.StatusOK || r.hdr.Get("X-RateLimit-Limit") != "" {
			t.Fatalf("admin: %d %v", r.code, r.hdr)
		}
	}
	// 401, 403 and validation failures come before the limiter.
	for range 3 {
		expectCode(t, h.get(t, "/api/v1/users.list", nil), http.StatusUnauthorized)
		expectCode(t, h.get(t, "/api/v1/teams.listAll", &credPlain), http.StatusForbidden)
		expectCode(t, h.get(t, "/api/v1/users.list?bogus=1", &credReader), http.StatusBadRequest)
	}
	expectCode(t, h.get(t, "/api/v1/users.list", &credReader), http.StatusOK)
	expectCode(t, h.get(t, "/api/v1/users.list", &credReader), http.StatusTooManyRequests)
	// Handler errors do spend budget, and carry the headers.
	r := h.get(t, "/api/v1/users.info?userId=nope", &credReader)
	if r.code != http.StatusBadRequest || r.hdr.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("handler error: %d %v", r.code, r.hdr)
	}
	expectCode(t, h.get(t, "/api/v1/users.info?userId=nope", &credReader), http.StatusTooManyRequests)

	off := newHarness(smallWorkspace(), Options{RateLimitCalls: 1, DisableRateLimiter: true})
	for range 3 {
		if r := off.get(t, "/api/v1/users.list", &credReader); r.code != http.StatusOK || r.hdr.Get("X-RateLimit-Limit") != "" {
			t.Fatalf("disabled limiter: %d %v", r.code, r.hdr)
		}
	}
}

func TestRateLimitRealClockWindow(t *testing.T) {
	srv := NewServer(smallWorkspace(), Options{RateLimitCalls: 1, RateLimitWindow: 150 * time.Millisecond})
	h := &harness{srv: srv}
	expectCode(t, h.get(t, "/api/v1/me", &credReader), http.StatusOK)
	r := h.get(t, "/api/v1/me", &credReader)
	if r.code != http.StatusTooManyRequests || r.body["error"] != "Error, too many requests. Please slow down. You must wait 1 seconds before trying this endpoint again. [error-too-many-requests]" {
		t.Fatalf("got %d %s", r.code, r.raw)
	}
	time.Sleep(170 * time.Millisecond)
	expectCode(t, h.get(t, "/api/v1/me", &credReader), http.StatusOK)
}
