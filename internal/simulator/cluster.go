package simulator

import (
	"net/http"
	"sync/atomic"
	"time"
)

// Cluster is a high-availability deployment: several Rocket.Chat instances
// over one database, behind a round-robin load balancer. As on the real
// server, each instance keeps its rate limiter in memory, so consecutive
// requests are counted by different limiters with different windows, while
// a write through one instance is seen by the next. It is safe for
// concurrent use.
type Cluster struct {
	shared    *shared
	instances []*Server
	next      atomic.Uint64
}

// NewCluster serves ws from n instances (at least one) behind a round-robin
// balancer; the cluster then owns ws: mutate it only through Update. Every
// instance gets opts, except that their limiters are out of phase, as
// instances started at different times would be: instance i's rules began
// their first window i*window/n before opts.Now() at construction.
func NewCluster(ws *Workspace, opts Options, n int) *Cluster {
	if n < 1 {
		n = 1
	}
	opts = opts.withDefaults()
	if ws == nil {
		ws = NewWorkspace()
	}
	ws.dropIndexes() // it may have changed since another server used it
	c := &Cluster{shared: &shared{ws: ws}, instances: make([]*Server, n)}
	now := opts.Now()
	for i := range c.instances {
		lead := opts.RateLimitWindow * time.Duration(i) / time.Duration(n)
		c.instances[i] = newServer(c.shared, opts, now.Add(-lead))
	}
	return c
}

// ServeHTTP hands each request to the next instance in turn.
func (c *Cluster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := (c.next.Add(1) - 1) % uint64(len(c.instances))
	c.instances[i].ServeHTTP(w, r)
}

// Len is the number of instances.
func (c *Cluster) Len() int { return len(c.instances) }

// Instance returns instance i (0-based), to send it requests directly, read
// its own Stats or install an Intercept on it alone.
func (c *Cluster) Instance(i int) *Server { return c.instances[i] }

// Update runs fn on the shared workspace under the cluster's lock.
func (c *Cluster) Update(fn func(ws *Workspace)) {
	c.shared.mu.Lock()
	defer c.shared.mu.Unlock()
	fn(c.shared.ws)
	c.shared.ws.dropIndexes()
}

// View runs fn on the shared workspace under the cluster's lock; fn must
// not keep references past its return.
func (c *Cluster) View(fn func(ws *Workspace)) {
	c.shared.mu.Lock()
	defer c.shared.mu.Unlock()
	fn(c.shared.ws)
}

// Stats returns the counters summed over all instances.
func (c *Cluster) Stats() Stats {
	c.shared.mu.Lock()
	defer c.shared.mu.Unlock()
	sum := newStats()
	for _, s := range c.instances {
		for k, v := range s.stats.Calls {
			sum.Calls[k] += v
		}
		for k, v := range s.stats.RateLimited {
			sum.RateLimited[k] += v
		}
		sum.Total429 += s.stats.Total429
	}
	return sum
}

// ResetStats zeroes every instance's counters.
func (c *Cluster) ResetStats() {
	c.shared.mu.Lock()
	defer c.shared.mu.Unlock()
	for _, s := range c.instances {
		s.stats = newStats()
	}
}
