package simulator

import (
	"net"
	"net/http"
	"time"
)

// rateLimiter reproduces the REST limiter: one Meteor RateLimiter rule per
// route+method, counting per client IP inside a fixed window that belongs to
// the rule (shared by all IPs). The window restarts on the first request
// that arrives after it has run out — it does not slide.
type rateLimiter struct {
	limit  int
	window time.Duration
	rules  map[string]*rateRule
}

type rateRule struct {
	lastReset time.Time
	counters  map[string]int
}

// verdict is the outcome of one limited request.
type verdict struct {
	allowed     bool
	limit       int
	remaining   int
	timeToReset int64 // milliseconds
	resetAt     int64 // epoch milliseconds, the X-RateLimit-Reset value
}

func newRateLimiter(limit int, window time.Duration) *rateLimiter {
	return &rateLimiter{limit: limit, window: window, rules: map[string]*rateRule{}}
}

// addRule registers a route's rule; like the server, its first window starts
// when the rule is created (at startup), not at the first request.
func (rl *rateLimiter) addRule(key string, now time.Time) {
	rl.rules[key] = &rateRule{lastReset: now, counters: map[string]int{}}
}

// hit counts a request and judges it, in the order the server does:
// RateLimiter.increment() then check().
func (rl *rateLimiter) hit(key, ip string, now time.Time) verdict {
	rule := rl.rules[key]
	if rule == nil {
		rule = &rateRule{lastReset: now, counters: map[string]int{}}
		rl.rules[key] = rule
	}
	windowMS := rl.window.Milliseconds()
	nowMS := now.UnixMilli()
	if nowMS-rule.lastReset.UnixMilli() > windowMS {
		rule.lastReset = now
		clear(rule.counters)
	}
	rule.counters[ip]++
	n := rule.counters[ip]
	ttr := windowMS - (nowMS - rule.lastReset.UnixMilli())
	v := verdict{limit: rl.limit, timeToReset: ttr, resetAt: nowMS + ttr}
	if n > rl.limit {
		return v
	}
	v.allowed = true
	v.remaining = rl.limit - n
	return v
}

// setHeaders writes the X-RateLimit-* trio the server sends on every limited
// response, allowed or not.
func (v verdict) setHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit", itoa(v.limit))
	h.Set("X-RateLimit-Remaining", itoa(v.remaining))
	h.Set("X-RateLimit-Reset", itoa(v.resetAt))
}

// waitSeconds is the figure the 429 message quotes: ceil(timeToReset/1000).
func (v verdict) waitSeconds() int64 {
	if v.timeToReset <= 0 {
		return 0
	}
	return (v.timeToReset + 999) / 1000
}

// clientIP is the counter key: X-Real-IP if sent, else the socket address.
func clientIP(r *http.Request) string {
	if ip := r.Header.Get("X-Real-IP"); ip != "" {
		return ip
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
