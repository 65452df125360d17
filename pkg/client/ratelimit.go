package client

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"
)

// resetMargin is added to the server's reset time before a paced request is
// sent: Rocket.Chat opens a new window only once the old one has fully
// elapsed, and the two clocks are never exactly equal.
const resetMargin = 20 * time.Millisecond

// pacer keeps each endpoint inside Rocket.Chat's fixed-window rate limit.
// Rocket.Chat limits every route separately (10 calls per 60 s by default) and
// says where each route stands in X-RateLimit-* headers; the pacer spends
// exactly that budget and then waits for the window to reset, so a normal
// sync gets no 429 at all, and endpoints with budget left never wait on others.
type pacer struct {
	mu        sync.Mutex
	endpoints map[string]*budget
	now       func() time.Time
	// skew is how far the server's clock is known to be behind ours. Reset
	// times are the server's; a reset that is already past by our clock when
	// the server still refuses shows the server is behind.
	skew time.Duration
	// onWait is told about each wait before it starts; it may log.
	onWait func(endpoint string, wait time.Duration, resetAt time.Time)
}

// budget is what is known about one endpoint's current window.
type budget struct {
	limited   bool // the server sends rate-limit headers for this endpoint
	limit     int
	remaining int // calls left in the window, minus calls in flight
	resetAt   time.Time
	inFlight  int  // calls acquired whose answers have not arrived
	sent      int  // calls acquired since the current window opened (or since the start)
	opened    bool // the current window was opened by our own calls after a reset
}

func newPacer() *pacer {
	return &pacer{endpoints: map[string]*budget{}, now: time.Now}
}

// acquire blocks until a call to endpoint fits in its budget, and reserves it.
func (p *pacer) acquire(ctx context.Context, endpoint string) error {
	for {
		p.mu.Lock()
		b := p.endpoints[endpoint]
		if b == nil {
			b = &budget{}
			p.endpoints[endpoint] = b
		}
		if !b.limited {
			b.inFlight++
			b.sent++
			p.mu.Unlock()
			return nil
		}
		now := p.now()
		if !b.resetAt.IsZero() && !now.Before(p.localReset(b.resetAt)) {
			// The window is over: the next call opens a fresh one. Its
			// reset time is unknown until that call's answer arrives.
			b.remaining = b.limit
			b.resetAt = time.Time{}
			b.opened = true
			b.sent = 0
		}
		if b.resetAt.IsZero() && b.remaining <= 0 && b.inFlight == 0 {
			// Calls that never got an answer spent the budget of a window
			// whose end we never heard: send one call to find out.
			b.remaining = 1
		}
		if b.remaining > 0 {
			b.remaining--
			b.inFlight++
			b.sent++
			p.mu.Unlock()
			return nil
		}
		resetAt := b.resetAt
		var wait time.Duration
		if !resetAt.IsZero() {
			wait = p.localReset(resetAt).Sub(now)
		}
		p.mu.Unlock()

		if withoutWaiting(ctx) {
			return ErrWouldWait
		}

		if resetAt.IsZero() {
			// Budget spent by calls still in flight in a window whose end
			// we have not heard yet: wait for their answers.
			if err := sleep(ctx, 10*time.Millisecond); err != nil {
				return err
			}
			continue
		}
		if p.onWait != nil {
			p.onWait(endpoint, wait, resetAt)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// localReset is when, by our clock, a window the server says ends at resetAt
// is over. Callers hold p.mu.
func (p *pacer) localReset(resetAt time.Time) time.Time {
	return resetAt.Add(p.skew + resetMargin)
}

// answer is what became of a paced call.
type answer int

const (
	noAnswer answer = iota // no answer from Rocket.Chat itself: nothing learned
	served                 // Rocket.Chat answered (2xx or 4xx)
	refused                // Rocket.Chat's rate limiter refused the call
)

// release ends a call acquired with acquire and records what its answer said
// about the endpoint's window: rl is nil when the answer had no rate-limit
// headers, and retryIn is the wait a refusal's message asked for.
func (p *pacer) release(endpoint string, rl *RateLimit, outcome answer, retryIn time.Duration) {
	over := outcome == refused
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.endpoints[endpoint]
	if b == nil {
		b = &budget{}
		p.endpoints[endpoint] = b
	}
	if b.inFlight > 0 {
		b.inFlight--
	}
	if outcome == noAnswer {
		return
	}
	if rl == nil {
		// Exempt callers (api-bypass-rate-limit) get no headers. Refusals
		// without headers (very old servers) leave the budget as it was.
		if !over {
			b.limited = false
		}
		return
	}
	now := p.now()
	if over && !now.Before(p.localReset(rl.ResetAt)) {
		// Refused although its window is over by our clock: the server's
		// clock is behind. Its message says how long it still waits, to
		// the second; grow the estimate at least geometrically so repeated
		// refusals converge fast.
		behind := now.Sub(rl.ResetAt) + max(retryIn-time.Second, 0) + resetMargin
		p.skew = max(p.skew*2, behind, 50*time.Millisecond)
	}
	if !b.resetAt.IsZero() && rl.ResetAt.Before(b.resetAt.Add(-time.Second)) {
		// A late answer from a window already replaced: it says nothing
		// about the current one.
		return
	}
	if b.resetAt.IsZero() && b.limited && !over && now.After(p.localReset(rl.ResetAt)) {
		// A late answer from a window that is over, after we reopened.
		return
	}
	sameWindow := b.limited &&
		((!b.resetAt.IsZero() && rl.ResetAt.Sub(b.resetAt).Abs() < time.Second) ||
			(b.resetAt.IsZero() && b.opened))
	switch {
	case over:
		b.remaining = 0
	case !b.limited:
		// The first answer for this endpoint: every call so far went out
		// unpaced in this window, and will all be counted.
		b.remaining = max(min(rl.Limit-b.sent, rl.Remaining), 0)
	case sameWindow:
		// Every call this window has already been taken out of the local
		// budget when it was acquired, so the local count is exact for our
		// own calls. The server's count can only be lower if another client
		// shares the budget. (Subtracting calls in flight here would count
		// twice those the server has seen but whose answers are still on
		// their way: answers to concurrent calls arrive in any order.)
		b.remaining = min(b.remaining, rl.Remaining)
	default:
		// A window we did not see open: calls in flight may not have been
		// counted yet, so keep their share out of the budget.
		b.remaining = max(rl.Remaining-b.inFlight, 0)
	}
	b.limited = true
	b.limit = rl.Limit
	b.resetAt = rl.ResetAt
}

// windowLimit is what the last answer for endpoint said of its limit: the
// calls it allows per window, and false when the answer carried no
// rate-limit headers (the caller is exempt, or the limiter is off) or no
// answer came yet.
func (p *pacer) windowLimit(endpoint string) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.endpoints[endpoint]
	if b == nil || !b.limited {
		return 0, false
	}
	return b.limit, true
}

// callableNow reports whether a call to endpoint would be sent at once and
// is worth sending early: the endpoint is rate limited and has budget left in
// its window, or nothing is known of it yet. An endpoint whose answers carry
// no rate-limit headers is never waited for, so nothing gains from reading
// it early.
func (p *pacer) callableNow(endpoint string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.endpoints[endpoint]
	if b == nil {
		return true
	}
	if !b.limited {
		return false
	}
	if !b.resetAt.IsZero() && !p.now().Before(p.localReset(b.resetAt)) {
		return true // its window is over: the next call opens a fresh one
	}
	return b.remaining > 0
}

// anyLimited reports whether any answer so far carried rate-limit headers.
func (p *pacer) anyLimited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.endpoints {
		if b.limited {
			return true
		}
	}
	return false
}

// waitFor is how long a call to endpoint would wait for its window now.
func (p *pacer) waitFor(endpoint string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.endpoints[endpoint]
	if b == nil || !b.limited || b.remaining > 0 || b.resetAt.IsZero() {
		return 0
	}
	return max(p.localReset(b.resetAt).Sub(p.now()), 0)
}

// ErrWouldWait is what a call made with WithoutWaiting returns instead of
// waiting for its endpoint's rate-limit window.
var ErrWouldWait = errors.New("the endpoint's rate-limit window is spent")

type noWaitKey struct{}

// WithoutWaiting makes the calls made with ctx fail with ErrWouldWait
// rather than wait for their endpoint's window, and makes each of them one
// attempt, with no retry: for reads made early, which are worth making only
// while they cost no time.
func WithoutWaiting(ctx context.Context) context.Context {
	return context.WithValue(ctx, noWaitKey{}, true)
}

// IsWithoutWaiting reports whether ctx comes from WithoutWaiting.
func IsWithoutWaiting(ctx context.Context) bool { return withoutWaiting(ctx) }

func withoutWaiting(ctx context.Context) bool {
	v, _ := ctx.Value(noWaitKey{}).(bool)
	return v
}

// parseRateLimit reads Rocket.Chat's X-RateLimit-* headers. Reset is epoch
// milliseconds. It returns nil when the headers are absent or malformed.
func parseRateLimit(h http.Header) *RateLimit {
	limitHdr, remainingHdr, resetHdr := h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset")
	if limitHdr == "" || remainingHdr == "" || resetHdr == "" {
		return nil
	}
	limit, err1 := strconv.Atoi(limitHdr)
	remaining, err2 := strconv.Atoi(remainingHdr)
	resetMs, err3 := strconv.ParseInt(resetHdr, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || limit <= 0 || remaining < 0 || resetMs <= 0 {
		return nil
	}
	return &RateLimit{Limit: limit, Remaining: remaining, ResetAt: time.UnixMilli(resetMs)}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// waitLogger tells a person watching a long sync that it is paced, not
// stuck: once per endpoint and window, at info level.
type waitLogger struct {
	mu     sync.Mutex
	last   map[string]time.Time
	logger *zap.Logger
}

func (w *waitLogger) log(endpoint string, wait time.Duration, resetAt time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last = map[string]time.Time{}
	}
	if prev, ok := w.last[endpoint]; ok && prev.Equal(resetAt) {
		return
	}
	w.last[endpoint] = resetAt
	if w.logger == nil {
		return
	}
	w.logger.Info("rocket.chat rate limit: waiting for the endpoint's window to reset",
		zap.String("endpoint", endpoint),
		zap.Duration("wait", wait.Round(time.Millisecond)),
		zap.String("why", "the token's user lacks api-bypass-rate-limit; raise the limit under Administration > Settings > Rate Limiter or give the user that permission"),
	)
}
