// Package faultkit makes the Rocket.Chat simulator misbehave the way real
// servers, proxies and networks do, for end-to-end tests of the connector:
// rules that match requests and answer some of them with faults (5xx
// bursts, resets, stalls, broken JSON, rate limits, rewritten bodies), the
// fixtures those tests pick their victims with, and the checks every faulty
// sync must pass. It is test support: only _test.go files import it.
//
// Timings are scaled down (see Tweak) so fault tests stay quick; retry
// bounds are asserted by counting requests at the simulator (Rule.Counts),
// never by the wall clock.
package faultkit

import (
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	"github.com/conductorone/baton-rocketchat/pkg/client"
)

// AttemptTimeout bounds one request in fault tests: long enough for a
// loaded machine to answer a normal page, short enough that a stalled answer
// costs little.
const AttemptTimeout = 200 * time.Millisecond

// Tweak scales the client's timings down for fault tests: fast backoff and
// AttemptTimeout for every request and listing.
func Tweak(c *client.Config) {
	testenv.FastRetries(c)
	c.AttemptTimeout = AttemptTimeout
	c.ListingTimeout = AttemptTimeout
}

// innerHeader marks a request a rewriting action sends to the simulator
// itself, so the interceptor lets it through.
const innerHeader = "X-Fault-Test-Inner"

// Action answers one request; it returns false to let the simulator answer
// normally. A nil Action in a rule lets that one request through.
type Action func(w http.ResponseWriter, r *http.Request) bool

// Rule injects faults into the requests it matches: the n-th matching
// request gets Actions[n-1]; requests past the list are answered normally,
// or by the last action again when the rule is Persistent.
type Rule struct {
	Name       string
	Match      func(r *http.Request) bool
	Actions    []Action
	Persistent bool

	mu       sync.Mutex
	hits     int         // matching requests seen
	faults   int         // matching requests the rule answered itself
	arrivals []time.Time // when each matching request arrived
}

// Counts reports how many requests the rule matched, how many of those it
// answered itself, and when each matching request arrived.
func (rule *Rule) Counts() (int, int, []time.Time) {
	rule.mu.Lock()
	defer rule.mu.Unlock()
	return rule.hits, rule.faults, slices.Clone(rule.arrivals)
}

// Env is a workspace served by the simulator, with fault rules.
type Env struct {
	*testenv.Env
	// Gen is the generated workspace and its credentials, when Start made
	// the Env; the fixture pickers need it.
	Gen   *simulator.Generated
	rules []*Rule
}

// Start serves gen's workspace with opts; no rule is installed yet.
func Start(t *testing.T, gen *simulator.Generated, opts simulator.Options) *Env {
	t.Helper()
	return &Env{Gen: gen, Env: testenv.Start(t, gen.Workspace, opts, "")}
}

// Attach lets rules be installed on a simulator a test started itself, for
// a hand-built workspace.
func Attach(env *testenv.Env) *Env {
	return &Env{Env: env}
}

// Install puts rules in place, replacing any installed before. Installing
// through Intercept, after the rules are built, publishes them (and whatever
// they captured) to the server's goroutines under the simulator's lock.
func (f *Env) Install(rules ...*Rule) {
	f.rules = rules
	f.Sim.Intercept(f.intercept)
}

func (f *Env) intercept(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get(innerHeader) != "" {
		return false
	}
	for _, rule := range f.rules {
		if !rule.Match(r) {
			continue
		}
		rule.mu.Lock()
		rule.hits++
		n := rule.hits
		rule.arrivals = append(rule.arrivals, time.Now())
		rule.mu.Unlock()
		var act Action
		switch {
		case n <= len(rule.Actions):
			act = rule.Actions[n-1]
		case rule.Persistent && len(rule.Actions) > 0:
			act = rule.Actions[len(rule.Actions)-1]
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

// Rule is the installed rule called name; the test fails without one.
func (f *Env) Rule(t *testing.T, name string) *Rule {
	t.Helper()
	for _, r := range f.rules {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no rule %q", name)
	return nil
}

// State is a deep copy of the simulator's workspace as it is now.
func (f *Env) State() *simulator.Workspace {
	var ws *simulator.Workspace
	f.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	return ws
}

// Endpoint matches every request to one REST endpoint, e.g. "teams.listAll".
func Endpoint(name string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.URL.Path == "/api/v1/"+name }
}

// Page matches one page (by offset) of a listing.
func Page(name string, offset int) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.URL.Path == "/api/v1/"+name && r.URL.Query().Get("offset") == strconv.Itoa(offset)
	}
}

// TeamMembers matches teams.members of one team; offset < 0 matches every page.
func TeamMembers(teamID string, offset int) func(*http.Request) bool {
	return func(r *http.Request) bool {
		q := r.URL.Query()
		return r.URL.Path == "/api/v1/teams.members" && q.Get("teamId") == teamID &&
			(offset < 0 || q.Get("offset") == strconv.Itoa(offset))
	}
}

// UsersListing matches the users listing's page at offset (every page when
// offset < 0): users.listByStatus, but not its read of the users waiting for
// approval (filtered by inactiveReason[]), so a rule's count stays the
// listing's.
func UsersListing(offset int) func(*http.Request) bool {
	return func(r *http.Request) bool {
		q := r.URL.Query()
		return r.URL.Path == "/api/v1/users.listByStatus" && !q.Has("inactiveReason[]") &&
			(offset < 0 || q.Get("offset") == strconv.Itoa(offset))
	}
}
