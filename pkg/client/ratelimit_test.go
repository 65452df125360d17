package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// windowLimiter imitates Rocket.Chat's fixed-window limiter for one route
// (docs/rocketchat-api.md §6.3–§6.4): the window opens on the first request after the previous one
// has elapsed, request N of a window is allowed while N <= limit, and every
// answer carries X-RateLimit-* headers with Reset in epoch milliseconds.
type windowLimiter struct {
	limit  int
	window time.Duration
	skew   time.Duration // the server's clock minus the real clock

	mu       sync.Mutex
	start    time.Time
	count    int
	requests int
	rejected int
	windows  []int // admitted requests per window
}

// take counts one request and says what the server answers about it.
func (w *windowLimiter) take() (rl *RateLimit, admitted bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if w.start.IsZero() || now.Sub(w.start) >= w.window {
		w.start = now
		w.count = 0
		w.windows = append(w.windows, 0)
	}
	w.requests++
	w.count++
	admitted = w.count <= w.limit
	if admitted {
		w.windows[len(w.windows)-1]++
	} else {
		w.rejected++
	}
	resetAt := time.UnixMilli(w.start.Add(w.window).Add(w.skew).UnixMilli())
	return &RateLimit{Limit: w.limit, Remaining: max(w.limit-w.count, 0), ResetAt: resetAt}, admitted
}

func (w *windowLimiter) stats() (requests, rejected int, windows []int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.requests, w.rejected, append([]int(nil), w.windows...)
}

// wrap puts the limiter in front of an HTTP handler.
func (w *windowLimiter) wrap(next http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		rl, ok := w.take()
		setRateLimitHeaders(rw.Header(), rl)
		if !ok {
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(http.StatusTooManyRequests)
			// Like Rocket.Chat, the message counts the seconds left by the
			// server's own window.
			left := time.Until(rl.ResetAt.Add(-w.skew))
			secs := max(int64((left+time.Second-1)/time.Second), 1)
			_, _ = fmt.Fprintf(rw, `{"success":false,"error":"Error, too many requests. Please slow down. You must wait %d seconds before trying this endpoint again. [error-too-many-requests]"}`, secs)
			return
		}
		next(rw, r)
	}
}

func setRateLimitHeaders(h http.Header, rl *RateLimit) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(rl.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(rl.Remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(rl.ResetAt.UnixMilli(), 10))
}

func canceledCtx() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestParseRateLimit(t *testing.T) {
	const reset = "1767225600123"
	tests := []struct {
		name                    string
		limit, remaining, reset string
		want                    *RateLimit
	}{
		{"valid", "10", "7", reset, &RateLimit{Limit: 10, Remaining: 7, ResetAt: time.UnixMilli(1767225600123)}},
		{"valid, none left", "10", "0", reset, &RateLimit{Limit: 10, Remaining: 0, ResetAt: time.UnixMilli(1767225600123)}},
		{"all missing", "", "", "", nil},
		{"limit missing", "", "7", reset, nil},
		{"remaining missing", "10", "", reset, nil},
		{"reset missing", "10", "7", "", nil},
		{"limit not a number", "ten", "7", reset, nil},
		{"remaining not a number", "10", "7.5", reset, nil},
		{"reset not a number", "10", "7", "Thu, 01 Jan 2026 00:00:00 GMT", nil},
		{"reset float", "10", "7", "1767225600.123", nil},
		{"limit zero", "0", "0", reset, nil},
		{"limit negative", "-1", "0", reset, nil},
		{"remaining negative", "10", "-1", reset, nil},
		{"reset zero", "10", "7", "0", nil},
		{"reset negative", "10", "7", "-5", nil},
		{"reset overflows int64", "10", "7", "99999999999999999999", nil},
		{"spaces inside", "1 0", "7", reset, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range map[string]string{"X-RateLimit-Limit": tt.limit, "X-RateLimit-Remaining": tt.remaining, "X-RateLimit-Reset": tt.reset} {
				if v != "" {
					h.Set(k, v)
				}
			}
			got := parseRateLimit(h)
			switch {
			case tt.want == nil && got != nil:
				t.Fatalf("got %+v, want nil", got)
			case tt.want != nil && got == nil:
				t.Fatal("got nil")
			case tt.want != nil:
				if got.Limit != tt.want.Limit || got.Remaining != tt.want.Remaining || !got.ResetAt.Equal(tt.want.ResetAt) {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
			}
		})
	}

	t.Run("header names are case-insensitive on the wire", func(t *testing.T) {
		h := http.Header{}
		h["X-Ratelimit-Limit"] = []string{"10"}
		h["X-Ratelimit-Remaining"] = []string{"3"}
		h["X-Ratelimit-Reset"] = []string{reset}
		if rl := parseRateLimit(h); rl == nil || rl.Remaining != 3 {
			t.Fatalf("got %+v", rl)
		}
	})
}

func TestPacerWaitsForReset(t *testing.T) {
	p := newPacer()
	var waits []time.Duration
	p.onWait = func(endpoint string, wait time.Duration, _ time.Time) {
		if endpoint != "GET users.list" {
			t.Errorf("onWait endpoint = %q", endpoint)
		}
		waits = append(waits, wait)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	const key = "GET users.list"

	if err := p.acquire(ctx, key); err != nil {
		t.Fatal(err)
	}
	p.release(key, &RateLimit{Limit: 10, Remaining: 0, ResetAt: time.Now().Add(100 * time.Millisecond)}, served, 0)

	start := time.Now()
	if err := p.acquire(ctx, key); err != nil {
		t.Fatalf("acquire after a spent window: %v", err)
	}
	if waited := time.Since(start); waited < 80*time.Millisecond {
		t.Fatalf("acquire returned after %v; it must wait for the window's reset (~100ms)", waited)
	}
	if len(waits) != 1 || waits[0] <= 0 {
		t.Fatalf("onWait calls = %v, want one positive wait", waits)
	}
}

func TestPacerSpendsExactlyTheBudget(t *testing.T) {
	p := newPacer()
	const key = "GET teams.listAll"
	if err := p.acquire(canceledCtx(), key); err != nil {
		t.Fatalf("the first call of an unknown endpoint must not wait: %v", err)
	}
	p.release(key, &RateLimit{Limit: 10, Remaining: 3, ResetAt: time.Now().Add(time.Hour)}, served, 0)
	// Three calls fit; a canceled context makes any wait an error.
	for i := range 3 {
		if err := p.acquire(canceledCtx(), key); err != nil {
			t.Fatalf("call %d of 3 left in the window waited: %v", i+1, err)
		}
	}
	if err := p.acquire(canceledCtx(), key); !errors.Is(err, context.Canceled) {
		t.Fatalf("fourth call: err = %v, want it to wait (context.Canceled)", err)
	}
}

func TestPacerExemptNeverWaits(t *testing.T) {
	p := newPacer()
	p.onWait = func(string, time.Duration, time.Time) { t.Error("onWait called for an exempt endpoint") }
	const key = "GET users.list"
	for i := range 1000 {
		if err := p.acquire(canceledCtx(), key); err != nil {
			t.Fatalf("call %d waited: %v", i, err)
		}
		p.release(key, nil, served, 0) // answers without X-RateLimit-* headers
	}
}

func TestPacerHeadersVanishAfterBeingLimited(t *testing.T) {
	// The account gained api-bypass-rate-limit mid-sync.
	p := newPacer()
	const key = "GET users.list"
	for range 2 { // calls A and B go out together
		if err := p.acquire(canceledCtx(), key); err != nil {
			t.Fatal(err)
		}
	}
	p.release(key, &RateLimit{Limit: 10, Remaining: 0, ResetAt: time.Now().Add(time.Hour)}, served, 0) // A
	if err := p.acquire(canceledCtx(), key); err == nil {
		t.Fatal("a spent window must wait")
	}
	p.release(key, nil, served, 0) // B answers without headers
	if err := p.acquire(canceledCtx(), key); err != nil {
		t.Fatalf("after an answer without headers the endpoint is exempt, yet acquire waited: %v", err)
	}
}

func TestPacerEndpointsAreIndependent(t *testing.T) {
	p := newPacer()
	spent := "GET users.list"
	if err := p.acquire(canceledCtx(), spent); err != nil {
		t.Fatal(err)
	}
	p.release(spent, &RateLimit{Limit: 10, Remaining: 0, ResetAt: time.Now().Add(time.Hour)}, served, 0)
	if err := p.acquire(canceledCtx(), spent); err == nil {
		t.Fatal("spent endpoint did not wait")
	}
	for _, other := range []string{"GET teams.listAll", "POST users.list", "GET roles.list"} {
		if err := p.acquire(canceledCtx(), other); err != nil {
			t.Errorf("%s waited on another endpoint's budget: %v", other, err)
		}
	}
}

func TestPacerWindowReopens(t *testing.T) {
	p := newPacer()
	now := time.Unix(1_800_000_000, 0)
	p.now = func() time.Time { return now }
	const key = "GET users.list"
	if err := p.acquire(canceledCtx(), key); err != nil {
		t.Fatal(err)
	}
	resetAt := now.Add(30 * time.Second)
	p.release(key, &RateLimit{Limit: 3, Remaining: 0, ResetAt: resetAt}, served, 0)
	if err := p.acquire(canceledCtx(), key); err == nil {
		t.Fatal("spent window did not wait")
	}
	now = resetAt // the server may not have reset yet: keep the margin
	if err := p.acquire(canceledCtx(), key); err == nil {
		t.Fatal("acquire at exactly the reset time did not keep the margin")
	}
	now = resetAt.Add(resetMargin)
	// The new window holds 3 calls; the answers have not arrived yet.
	for i := range 3 {
		if err := p.acquire(canceledCtx(), key); err != nil {
			t.Fatalf("call %d of the new window waited: %v", i+1, err)
		}
	}
	if err := p.acquire(canceledCtx(), key); err == nil {
		t.Fatal("a fourth call in a window of 3 did not wait")
	}
}

func TestPacerKeepsInFlightCallsOutOfTheBudget(t *testing.T) {
	p := newPacer()
	now := time.Unix(1_800_000_000, 0)
	p.now = func() time.Time { return now }
	const key = "GET teams.members"
	resetAt := now.Add(time.Minute)
	if err := p.acquire(canceledCtx(), key); err != nil {
		t.Fatal(err)
	}
	p.release(key, &RateLimit{Limit: 10, Remaining: 4, ResetAt: resetAt}, served, 0)
	// Four calls go out; the first answer says 3 left, as the server had
	// counted only that one call when it answered.
	for range 4 {
		if err := p.acquire(canceledCtx(), key); err != nil {
			t.Fatal(err)
		}
	}
	p.release(key, &RateLimit{Limit: 10, Remaining: 3, ResetAt: resetAt}, served, 0)
	if err := p.acquire(canceledCtx(), key); err == nil {
		t.Fatal("the three calls still in flight use the 3 the server reported; a fifth call must wait")
	}
}

func TestPacerOverlimitAnswer(t *testing.T) {
	p := newPacer()
	const key = "GET users.list"
	if err := p.acquire(canceledCtx(), key); err != nil {
		t.Fatal(err)
	}
	// A 429 whose headers (wrongly) say calls remain: over wins.
	p.release(key, &RateLimit{Limit: 10, Remaining: 5, ResetAt: time.Now().Add(time.Hour)}, refused, 0)
	if err := p.acquire(canceledCtx(), key); err == nil {
		t.Fatal("after a 429 the endpoint must wait for its reset")
	}
}

func TestPacerContextCanceledWhileWaiting(t *testing.T) {
	p := newPacer()
	const key = "GET users.list"
	_ = p.acquire(context.Background(), key)
	p.release(key, &RateLimit{Limit: 10, Remaining: 0, ResetAt: time.Now().Add(time.Hour)}, served, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.acquire(ctx, key)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("acquire ignored the context")
	}
}

// TestPacerConcurrentNeverExceedsBudget runs many goroutines against an
// in-process fixed-window server: once the pacer knows the window, no call
// is ever rejected.
func TestPacerConcurrentNeverExceedsBudget(t *testing.T) {
	srv := &windowLimiter{limit: 4, window: 100 * time.Millisecond}
	p := newPacer()
	const key = "GET teams.members"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	call := func() error {
		if err := p.acquire(ctx, key); err != nil {
			return err
		}
		rl, ok := srv.take()
		outcome := served
		if !ok {
			outcome = refused
		}
		p.release(key, rl, outcome, 0)
		if !ok {
			return errors.New("429")
		}
		return nil
	}
	if err := call(); err != nil { // learn the window
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := call(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	requests, rejected, windows := srv.stats()
	if requests != 13 || rejected != 0 {
		t.Fatalf("server saw %d requests, rejected %d (per window %v)", requests, rejected, windows)
	}
	for i, n := range windows {
		if n > srv.limit {
			t.Errorf("window %d admitted %d > limit %d", i, n, srv.limit)
		}
	}
}

// A call answered late, from a window that has already ended, must not
// reopen the budget of the window that follows it.
func TestPacerLateAnswerFromPreviousWindow(t *testing.T) {
	p := newPacer()
	now := time.Unix(1_800_000_000, 0)
	p.now = func() time.Time { return now }
	const key = "GET teams.members"
	r1 := now.Add(time.Second)
	// Window 1: limit 3; call A leaves 2.
	if err := p.acquire(canceledCtx(), key); err != nil {
		t.Fatal(err)
	}
	p.release(key, &RateLimit{Limit: 3, Remaining: 2, ResetAt: r1}, served, 0)
	// Call B goes out in window 1 and is slow to answer.
	if err := p.acquire(canceledCtx(), key); err != nil {
		t.Fatal(err)
	}
	// Window 1 ends; call C opens window 2 (60 s long) and answers first.
	now = r1.Add(resetMargin)
	if err := p.acquire(canceledCtx(), key); err != nil {
		t.Fatal(err)
	}
	r2 := now.Add(time.Minute)
	p.release(key, &RateLimit{Limit: 3, Remaining: 2, ResetAt: r2}, served, 0)
	// B's answer arrives now, from window 1.
	p.release(key, &RateLimit{Limit: 3, Remaining: 1, ResetAt: r1}, served, 0)

	// Window 2 has spent 1 of 3: at most 2 more calls may go out now.
	n := 0
	for n <= 10 && p.acquire(canceledCtx(), key) == nil {
		n++
	}
	if n > 2 {
		t.Fatalf("%d calls went out in window 2 after C, budget left was 2 (window 2 gets %d > limit 3)", n, n+1)
	}
}

// Calls that never got an answer (timeouts, refused connections) after the
// window reopened must not block the endpoint forever.
func TestPacerUnansweredCallsDoNotWedgeEndpoint(t *testing.T) {
	p := newPacer()
	now := time.Unix(1_800_000_000, 0)
	p.now = func() time.Time { return now }
	const key = "GET users.list"
	if err := p.acquire(canceledCtx(), key); err != nil {
		t.Fatal(err)
	}
	p.release(key, &RateLimit{Limit: 2, Remaining: 1, ResetAt: now.Add(time.Second)}, served, 0)
	now = now.Add(2 * time.Second) // the window is over
	for range 2 {                  // two tries time out: no answer, no headers
		if err := p.acquire(canceledCtx(), key); err != nil {
			t.Fatal(err)
		}
		p.release(key, nil, noAnswer, 0)
	}
	now = now.Add(time.Hour) // nothing is in flight; an hour has passed
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := p.acquire(ctx, key); err != nil {
		t.Fatalf("acquire with nothing in flight, an hour after the last window: %v", err)
	}
}

// TestPacerOutOfOrderAnswersSpendTheWholeWindow: answers to concurrent calls
// arrive in any order. An answer that reports more calls left than the
// local count must not make the pacer forget calls the server has already
// counted, nor count twice the calls still in flight: the window's whole
// budget gets spent, and not one call more.
func TestPacerOutOfOrderAnswersSpendTheWholeWindow(t *testing.T) {
	p := newPacer()
	now := time.Unix(1_800_000_000, 0)
	p.now = func() time.Time { return now }
	const key = "GET teams.members"
	// Learn the endpoint is limited, then let its window run out so the
	// next calls open a fresh one.
	if err := p.acquire(canceledCtx(), key); err != nil {
		t.Fatal(err)
	}
	p.release(key, &RateLimit{Limit: 10, Remaining: 0, ResetAt: now.Add(time.Second)}, served, 0)
	now = now.Add(2 * time.Second)
	resetAt := now.Add(time.Minute)

	for range 4 {
		if err := p.acquire(canceledCtx(), key); err != nil {
			t.Fatal(err)
		}
	}
	// The server counted them 1..4; their answers come back as 3rd, 1st, 4th, 2nd.
	for _, remaining := range []int{7, 9, 6, 8} {
		p.release(key, &RateLimit{Limit: 10, Remaining: remaining, ResetAt: resetAt}, served, 0)
	}
	for i := range 6 {
		if err := p.acquire(canceledCtx(), key); err != nil {
			t.Fatalf("call %d of the window's last 6 had to wait: budget lost to out-of-order answers", i+5)
		}
	}
	if err := p.acquire(canceledCtx(), key); err == nil {
		t.Fatal("an 11th call in a window of 10 did not wait")
	}
}
