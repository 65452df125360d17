// Package client is the Baton-facing REST layer for Rocket.Chat: it says what
// Rocket.Chat answered and what that means for the Baton SDK.
//
// It knows Rocket.Chat's wire: the X-User-Id/X-Auth-Token headers of a
// personal access token, paging and whole (count=0) listings, pacing each
// endpoint from its X-RateLimit-* headers, bounded retries of what is
// transient, which endpoint to list users with (and the fallback for older
// servers), which permission each endpoint needs (permissions.go), and how
// to read each refusal (refusals.go). It knows the SDK's error contract:
// failures are typed errors whose GRPCStatus carries the code the SDK acts
// on, a RateLimitDescription when the server sent rate-limit headers, and
// Aborted once the retry budget is spent (GiveUpError), since the SDK
// retries Unavailable without end.
//
// It does not know resources, entitlements, grants or sync state: turning
// answers into those is pkg/connector's job. Errors never carry the token.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/conductorone/baton-sdk/pkg/uhttp"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
)

// Defaults for Config fields left at zero.
const (
	DefaultMaxAttempts    = 5
	DefaultBackoff        = 500 * time.Millisecond
	DefaultMaxBackoff     = 8 * time.Second
	DefaultAttemptTimeout = 60 * time.Second
	DefaultMaxBodyBytes   = 32 << 20
	// DefaultMaxListingBytes bounds a whole-listing (count=0) answer:
	// about a million users, far beyond a real workspace, and still a
	// bound on what a hostile server can make the connector read.
	DefaultMaxListingBytes = 512 << 20
	// DefaultListingTimeout bounds one whole-listing call: the server
	// reads and serialises every user before the first byte arrives.
	DefaultListingTimeout = 5 * time.Minute
	DefaultMax429Waits    = 10
	// PageSize is the largest page Rocket.Chat serves (API_Upper_Count_Limit).
	PageSize = 100
)

// Config configures a Client. BaseURL, UserID and Token are required.
type Config struct {
	BaseURL string
	UserID  string
	Token   string
	// UserAgent is sent with every request.
	UserAgent string
	// HTTPClient overrides the SDK's HTTP client (tests only).
	HTTPClient *http.Client

	// MaxAttempts bounds tries of one request that fails transiently
	// (5xx, network errors, timeouts, unreadable bodies).
	MaxAttempts int
	// Backoff is the first wait between such tries; it doubles up to MaxBackoff.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// AttemptTimeout bounds one try, from sending to the end of the body.
	AttemptTimeout time.Duration
	// MaxBodyBytes bounds the size of one response body.
	MaxBodyBytes int64
	// MaxListingBytes bounds the body of a whole-listing (count=0) answer,
	// which is decoded as it streams in.
	MaxListingBytes int64
	// ListingTimeout replaces AttemptTimeout for whole-listing calls.
	ListingTimeout time.Duration
	// Max429Waits bounds how often one request waits out a 429 (another
	// client sharing the budget) before giving up.
	Max429Waits int
}

// Client calls one Rocket.Chat workspace. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	userID  string
	token   string
	http    *http.Client
	agent   string
	pacer   *pacer
	cfg     Config
	waitLog waitLogger
}

// New checks cfg and builds a Client. It makes no request.
func New(ctx context.Context, cfg Config) (*Client, error) {
	base, err := ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if err := checkCredential("user-id", cfg.UserID); err != nil {
		return nil, err
	}
	if err := checkCredential("auth-token", cfg.Token); err != nil {
		return nil, err
	}
	setDefaults(&cfg)

	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient, err = uhttp.NewClient(ctx,
			uhttp.WithLogger(true, ctxzap.Extract(ctx)),
			uhttp.WithUserAgent(cfg.UserAgent),
		)
		if err != nil {
			return nil, fmt.Errorf("rocket.chat: creating HTTP client: %w", err)
		}
	}
	// Never follow a redirect off the configured host: the token would go with it.
	guarded := *httpClient
	guarded.CheckRedirect = sameHostRedirects(base)

	c := &Client{
		base:   base,
		userID: cfg.UserID,
		token:  cfg.Token,
		http:   &guarded,
		agent:  cfg.UserAgent,
		pacer:  newPacer(),
		cfg:    cfg,
	}
	c.waitLog.logger = ctxzap.Extract(ctx)
	c.pacer.onWait = c.waitLog.log
	return c, nil
}

func setDefaults(cfg *Config) {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = DefaultAttemptTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxListingBytes <= 0 {
		cfg.MaxListingBytes = DefaultMaxListingBytes
	}
	if cfg.ListingTimeout <= 0 {
		cfg.ListingTimeout = DefaultListingTimeout
	}
	if cfg.Max429Waits <= 0 {
		cfg.Max429Waits = DefaultMax429Waits
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "baton-rocketchat"
	}
}

// ParseBaseURL validates a workspace address. It accepts a trailing slash and
// a path prefix, and rejects anything that is not a plain http(s) address.
// Errors never echo the URL's password.
func ParseBaseURL(raw string) (*url.URL, error) {
	trimmed := strings.TrimSpace(raw)
	if trimmed == "" {
		return nil, errors.New("base-url is empty: set it to your workspace address, e.g. https://chat.example.com")
	}
	u, err := url.Parse(trimmed)
	if err != nil {
		return nil, errors.New("base-url is not a valid URL: use the address of your workspace, e.g. https://chat.example.com")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("base-url must start with https:// (or http://), not %q: use e.g. https://chat.example.com", u.Scheme)
	}
	if u.User != nil {
		return nil, errors.New("base-url must not contain a user name or password: put the credentials in user-id and auth-token")
	}
	if u.Hostname() == "" {
		return nil, errors.New("base-url has no host: use e.g. https://chat.example.com")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("base-url must not have a query or fragment: use just the workspace address, e.g. https://chat.example.com")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

func checkCredential(name, value string) error {
	switch {
	case value == "":
		return fmt.Errorf("%s is empty: copy it from My Account > Personal Access Tokens", name)
	case strings.TrimSpace(value) != value:
		return fmt.Errorf("%s has spaces or line breaks around it: copy it again without them", name)
	case strings.ContainsAny(value, " \t\r\n"):
		return fmt.Errorf("%s contains spaces or line breaks: copy it again from My Account > Personal Access Tokens", name)
	}
	return nil
}

// sameHostRedirects allows a redirect only to the configured scheme and host.
func sameHostRedirects(base *url.URL) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != base.Scheme || !strings.EqualFold(req.URL.Host, base.Host) {
			target := url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host, Path: req.URL.Path}
			return &RedirectError{Target: target.String()}
		}
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		return nil
	}
}

// BaseURL returns the normalised workspace address.
func (c *Client) BaseURL() *url.URL {
	u := *c.base
	return &u
}

// UserID returns the id of the token's owner.
func (c *Client) UserID() string { return c.userID }

// WindowLimit is what Rocket.Chat's last answer to a GET of endpoint
// ("users.listByStatus") said of its rate limit: the calls allowed per
// window, and false when the answer carried no rate-limit headers (the
// token's user has api-bypass-rate-limit, or the limiter is off) or when
// nothing has been asked yet.
func (c *Client) WindowLimit(endpoint string) (int, bool) {
	return c.pacer.windowLimit("GET " + endpoint)
}

// CallableNow reports whether a GET of endpoint would be sent at once under
// Rocket.Chat's rate limiter and is worth making early: the endpoint is
// limited and its window has budget left, or nothing is known of it yet.
// It is false for an endpoint that is not limited.
func (c *Client) CallableNow(endpoint string) bool {
	return c.pacer.callableNow("GET " + endpoint)
}

// RateLimited reports whether Rocket.Chat has limited any call of this
// client so far. Its limiter spares a user with api-bypass-rate-limit on
// every endpoint alike, and is on or off for all of them, so one limited
// answer shows the token is limited everywhere.
func (c *Client) RateLimited() bool { return c.pacer.anyLimited() }

// WaitFor is how long a GET of endpoint would now wait for its window.
func (c *Client) WaitFor(endpoint string) time.Duration {
	return c.pacer.waitFor("GET " + endpoint)
}

// Names Rocket.Chat's endpoints take users, teams and rooms by, in queries
// and bodies alike.
const (
	paramUserID   = "userId"
	paramTeamID   = "teamId"
	paramRoomID   = "roomId"
	paramUsername = "username"
)

// endpointInfo is the unauthenticated server information, served at
// /api/info rather than under /api/v1.
const endpointInfo = "info"

// request describes one API call.
type request struct {
	method   string
	endpoint string // "users.list"; "info" is special-cased to /api/info
	query    url.Values
	body     any
	auth     bool
	// listing marks a whole-listing (count=0) read: a larger body bound
	// and timeout apply.
	listing bool
	// route, when set, is the route pattern the server's rate limiter
	// keys the call by ("settings/:_id"): calls to one route with
	// different path parameters share one budget.
	route string
}

func (c *Client) url(r *request) string {
	u := *c.base
	if r.endpoint == endpointInfo {
		u.Path += "/api/info"
	} else {
		u.Path += "/api/v1/" + r.endpoint
	}
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	return u.String()
}

// get calls a GET endpoint and decodes its JSON answer into out.
func (c *Client) get(ctx context.Context, endpoint string, query url.Values, out any) error {
	return c.do(ctx, &request{method: http.MethodGet, endpoint: endpoint, query: query, auth: true}, out)
}

// post calls a POST endpoint with a JSON body and decodes its answer into out.
func (c *Client) post(ctx context.Context, endpoint string, body, out any) error {
	return c.do(ctx, &request{method: http.MethodPost, endpoint: endpoint, body: body, auth: true}, out)
}

// do runs one call: it waits for the endpoint's rate budget, retries transient
// failures with backoff, waits out 429s until the window resets, and stops
// with a GiveUpError once the bounds are spent.
func (c *Client) do(ctx context.Context, r *request, out any) error {
	start := time.Now()
	key := r.method + " " + r.endpoint
	if r.route != "" {
		key = r.method + " " + r.route
	}
	var (
		transient int
		waits429  int
		lastErr   error
	)
	for {
		if err := c.pacer.acquire(ctx, key); err != nil {
			return err
		}
		rl, answered, err := c.attempt(ctx, r, out)
		var apiErr *APIError
		// Very old servers refused with 400 error-too-many-requests.
		is429 := errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusTooManyRequests || apiErr.ErrorType == "error-too-many-requests")
		var retryIn time.Duration
		if is429 {
			retryIn = retryAfterFromMessage(apiErr.Message)
		}
		c.pacer.release(key, rl, answerOf(answered, err, is429), retryIn)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		lastErr = err
		switch {
		case is429 && withoutWaiting(ctx):
			return ErrWouldWait
		case withoutWaiting(ctx):
			// A read made early is one attempt: its caller leaves a
			// failure to the call that needs the answer, which retries
			// within the usual bounds.
			return err
		case is429:
			waits429++
			if waits429 > c.cfg.Max429Waits {
				return &GiveUpError{Method: r.method, Endpoint: r.endpoint, Attempts: transient + waits429, Elapsed: time.Since(start), Last: lastErr}
			}
			// The pacer now holds the reset time; acquire waits for it. A
			// 429 without headers (an old server, a proxy) waits a window.
			if rl == nil {
				c.waitLog.log(key, retryIn, time.Now().Add(retryIn))
				if err := sleep(ctx, retryIn); err != nil {
					return err
				}
			}
		case !mayRetry(r, err):
			// A change that failed after it was sent may have been applied:
			// sending it again is not safe here. The error's code lets the
			// caller, which can check the state first, decide.
			return err
		case isTransient(err):
			transient++
			if transient >= c.cfg.MaxAttempts {
				return &GiveUpError{Method: r.method, Endpoint: r.endpoint, Attempts: transient + waits429, Elapsed: time.Since(start), Last: lastErr}
			}
			backoff := c.backoff(transient)
			ctxzap.Extract(ctx).Warn("rocket.chat request failed, retrying",
				zap.String("endpoint", key), zap.Int("attempt", transient), zap.Duration("backoff", backoff), zap.Error(err))
			if err := sleep(ctx, backoff); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// answerOf classifies an attempt's outcome for the pacer.
func answerOf(answered bool, err error, is429 bool) answer {
	switch {
	case !answered:
		return noAnswer
	case is429:
		return refused
	case err == nil:
		return served
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode < 500 {
		return served
	}
	// A 5xx may come from a proxy in front of Rocket.Chat, without its
	// rate-limit headers: it says nothing about the window.
	return noAnswer
}

// backoff is the wait before retry n (from 1): doubling from Backoff up to
// MaxBackoff, plus up to a quarter of jitter.
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.Backoff
	for i := 1; i < n && d < c.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.cfg.MaxBackoff)
	return d + time.Duration(rand.Int64N(int64(d)/4+1)) //nolint:gosec // jitter, not a secret
}

// mayRetry reports whether a failed request can be sent again. Reads always
// can. Changes can only when the server surely did not act: a proxy's
// 502/503/504, or a connection that was never made.
func mayRetry(r *request, err error) bool {
	if r.method == http.MethodGet {
		return true
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch apiErr.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return !isTransient(err)
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// attempt sends the request once and reads the whole answer. It reports the
// answer's rate-limit headers and whether an answer arrived at all.
func (c *Client) attempt(ctx context.Context, r *request, out any) (*RateLimit, bool, error) {
	timeout, maxBody := c.cfg.AttemptTimeout, c.cfg.MaxBodyBytes
	if r.listing {
		timeout, maxBody = c.cfg.ListingTimeout, c.cfg.MaxListingBytes
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var body io.Reader
	if r.body != nil {
		buf, err := json.Marshal(r.body)
		if err != nil {
			return nil, false, fmt.Errorf("rocket.chat %s %s: encoding request: %w", r.method, r.endpoint, err)
		}
		body = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.url(r), body)
	if err != nil {
		return nil, false, fmt.Errorf("rocket.chat %s %s: building request: %w", r.method, r.endpoint, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.agent)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.auth {
		req.Header.Set("X-User-Id", c.userID)
		req.Header.Set("X-Auth-Token", c.token)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		var redirect *RedirectError
		if errors.As(err, &redirect) {
			return nil, false, fmt.Errorf("rocket.chat %s %s: %w", r.method, r.endpoint, redirect)
		}
		if isCertificateError(err) {
			return nil, false, &CertificateError{Endpoint: r.endpoint, Err: scrubURLError(err)}
		}
		return nil, false, &transportError{method: r.method, endpoint: r.endpoint, err: scrubURLError(err)}
	}
	defer resp.Body.Close()
	rl := parseRateLimit(resp.Header)
	capped := &cappedReader{r: resp.Body, n: maxBody}
	tooLarge := func() error {
		return fmt.Errorf("rocket.chat %s %s: response body is larger than %d bytes; refusing to read it", r.method, r.endpoint, maxBody)
	}

	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	if stream, isStream := out.(streamDecoder); ok && isStream && isJSON(resp.Header.Get("Content-Type")) {
		// Decoded as it arrives: a whole-workspace listing is held once.
		if err := stream.decodeFrom(capped); err != nil {
			if errors.Is(err, errBodyTooLarge) {
				return rl, true, tooLarge()
			}
			return rl, true, &transportError{method: r.method, endpoint: r.endpoint, err: fmt.Errorf("decoding JSON answer: %w", scrubURLError(err))}
		}
		return rl, true, nil
	}

	data, err := io.ReadAll(capped)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return rl, true, tooLarge()
	case err != nil:
		return rl, true, &transportError{method: r.method, endpoint: r.endpoint, err: fmt.Errorf("reading body: %w", scrubURLError(err))}
	}
	if !ok {
		return rl, true, newAPIError(r.method, r.endpoint, resp.StatusCode, data, rl)
	}
	if !isJSON(resp.Header.Get("Content-Type")) {
		return rl, true, &NotRocketChatError{Endpoint: r.endpoint, ContentType: resp.Header.Get("Content-Type")}
	}
	if out == nil {
		return rl, true, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		// A truncated or garbled body from a healthy status is usually a
		// proxy or connection fault: worth another try.
		return rl, true, &transportError{method: r.method, endpoint: r.endpoint, err: fmt.Errorf("decoding JSON answer: %w", err)}
	}
	return rl, true, nil
}

// scrubURLError drops the URL from a *url.Error: it is noise in messages and
// the error text stays short. The URL never carries secrets, but its query
// can be long.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// retryAfterFromMessage reads "You must wait N seconds" from a 429 body that
// came without headers, defaulting to Rocket.Chat's default window.
func retryAfterFromMessage(msg string) time.Duration {
	var secs int
	if i := strings.Index(msg, "wait "); i >= 0 {
		if _, err := fmt.Sscanf(msg[i:], "wait %d seconds", &secs); err == nil && secs > 0 && secs <= 3600 {
			return time.Duration(secs) * time.Second
		}
	}
	return 60 * time.Second
}
