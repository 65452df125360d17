package harness

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/types"
	"github.com/conductorone/baton-sdk/pkg/types/sessions"
	"google.golang.org/grpc"
)

// DefaultHostedInstances is how many connector instances SyncHosted runs when
// HostedOptions.Instances is not set.
const DefaultHostedInstances = 3

// ErrStopped is what SyncHosted's error wraps when HostedOptions.StopAfter
// interrupted the sync. The error also wraps context.Canceled and what the
// syncer returned.
var ErrStopped = errors.New("harness: hosted sync stopped by StopAfter")

// ListRPCs are the connector calls StopAfter counts and
// HostedStats.ListCalls sums.
var ListRPCs = []string{"ListResources", "ListEntitlements", "ListGrants"}

// HostedOptions tune SyncHosted.
//
// Resuming needs no option: like the CLI, the SDK syncer resumes the latest
// unfinished sync it finds in the c1z at path (store.StartOrResumeSync with no
// sync ID), from that sync's checkpoint token. When StopAfter cancels the
// sync, the syncer force-writes a checkpoint of its current state on a
// context detached from the cancellation (checkpointOnStop in the SDK's
// pkg/sync/parallel_syncer.go), and syncer.Close still packs the c1z, so a
// later SyncHosted on the same path picks up exactly where the interrupted
// one stopped. The SDK has no public option for the interval of its
// periodic checkpoints (an unexported 10s throttle, minCheckpointInterval);
// it only matters for a process that dies without a graceful stop, which
// this harness does not simulate.
type HostedOptions struct {
	TmpDir  string
	Workers int
	// Instances is how many independent connector instances serve the calls
	// (default DefaultHostedInstances).
	Instances int
	// StopAfter, when > 0, cancels the sync after that many connector calls
	// (ListResources/ListEntitlements/ListGrants) have completed
	// successfully, to simulate an interruption; SyncHosted then returns an
	// error wrapping ErrStopped, context.Canceled and what the syncer
	// returned (typically a gRPC Canceled status from the call it was in),
	// or nil if the syncer managed to finish the sync regardless.
	StopAfter int
	// StoreFaults, when set, is the session store the instances see: it
	// loses values and fails calls (the syncer's own use of the store is
	// not affected).
	StoreFaults *FaultyStore
	// ResourceTypes is the syncer's resource type selection (SyncOptions).
	ResourceTypes []string
	// AfterCall, when set, runs after each connector call returns, named
	// by its types.ConnectorClient method: what a test measures per call
	// (the syncer makes one call at a time unless Workers is set).
	AfterCall func(rpc string)
}

// HostedStats reports what each instance of a SyncHosted run served.
type HostedStats struct {
	// Calls[i] maps an RPC, named by its types.ConnectorClient method (e.g.
	// "ListResources", "ListGrants", "Validate"), to how many calls of it
	// instance i served. Every call counts, whatever its outcome.
	Calls []map[string]int
}

// Total is how many calls of the named RPCs all instances served together;
// with no names, how many calls of any RPC.
func (s HostedStats) Total(rpcs ...string) int {
	n := 0
	for _, calls := range s.Calls {
		if len(rpcs) == 0 {
			for _, c := range calls {
				n += c
			}
			continue
		}
		for _, rpc := range rpcs {
			n += calls[rpc]
		}
	}
	return n
}

// ListCalls is Total(ListRPCs...): the connector's List calls, the ones
// that page through data.
func (s HostedStats) ListCalls() int { return s.Total(ListRPCs...) }

// String lists the calls per instance, for test failure messages.
func (s HostedStats) String() string {
	out := ""
	for i, calls := range s.Calls {
		rpcs := make([]string, 0, len(calls))
		for rpc := range calls {
			rpcs = append(rpcs, rpc)
		}
		sort.Strings(rpcs)
		out += fmt.Sprintf("instance %d:", i)
		for _, rpc := range rpcs {
			out += fmt.Sprintf(" %s=%d", rpc, calls[rpc])
		}
		out += "\n"
	}
	return out
}

// SyncHosted runs the SDK's syncer into the c1z at path against o.Instances
// connector instances, each built afresh by build(i) and wrapped by its own
// connectorbuilder.NewConnector and gRPC server (sharing only one
// SessionStore), with a types.ConnectorClient that sends each call to the
// next instance in turn (round robin over every RPC, including
// Validate/GetMetadata/ListResourceTypes/Cleanup), as ConductorOne's hosted
// runner would: no sticky routing, so page tokens, the c1z and the session
// store are the only state a sync can rely on between calls.
//
// An unfinished sync already in the file at path (say, one StopAfter
// interrupted) is resumed from its checkpoint, not restarted; see
// HostedOptions. The stats cover this call only, and are returned even with
// an error.
func SyncHosted(ctx context.Context, build func(i int) connectorbuilder.ConnectorBuilderV2, path string, o HostedOptions) (HostedStats, error) {
	n := o.Instances
	if n <= 0 {
		n = DefaultHostedInstances
	}
	syncCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	store := &SessionStore{}
	rr := &roundRobin{
		calls:     make([]map[string]int, n),
		stopAfter: int64(o.StopAfter),
		stop:      func() { cancel(ErrStopped) },
		afterCall: o.AfterCall,
	}
	conns := make([]*Conn, 0, n)
	closeAll := func(err error) error {
		for _, c := range conns {
			err = errors.Join(err, c.Close())
		}
		return err
	}
	var instanceStore sessions.SessionStore = store
	if o.StoreFaults != nil {
		o.StoreFaults.SessionStore = store
		instanceStore = o.StoreFaults
	}
	for i := range n {
		conn, err := Serve(ctx, build(i), connectorbuilder.WithSessionStore(instanceStore))
		if err != nil {
			return rr.stats(), closeAll(fmt.Errorf("instance %d: %w", i, err))
		}
		conns = append(conns, conn)
		rr.conns = append(rr.conns, conn)
		rr.calls[i] = map[string]int{}
	}

	err := runSyncer(ctx, syncCtx, rr, store, path, SyncOptions{TmpDir: o.TmpDir, Workers: o.Workers, ResourceTypes: o.ResourceTypes})
	if errors.Is(context.Cause(syncCtx), ErrStopped) && err != nil {
		err = fmt.Errorf("%w after %d connector List calls (%w): %w", ErrStopped, o.StopAfter, context.Canceled, err)
	}
	err = closeAll(err)
	// Every call is done once the connections are closed.
	return rr.stats(), err
}

var _ types.ConnectorClient = (*roundRobin)(nil)

// roundRobin is a types.ConnectorClient spreading calls over several
// connector instances, one call to each in turn (its methods are in
// roundrobin_methods.go).
type roundRobin struct {
	conns []types.ConnectorClient
	mu    sync.Mutex
	next  int // the instance that gets the next call
	calls []map[string]int

	stopAfter int64
	listDone  atomic.Int64
	stop      func()
	afterCall func(rpc string)
}

func (r *roundRobin) stats() HostedStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := HostedStats{Calls: make([]map[string]int, len(r.calls))}
	for i, calls := range r.calls {
		out.Calls[i] = make(map[string]int, len(calls))
		for rpc, c := range calls {
			out.Calls[i][rpc] = c
		}
	}
	return out
}

func isListRPC(rpc string) bool {
	for _, l := range ListRPCs {
		if rpc == l {
			return true
		}
	}
	return false
}

// dispatch sends one call to the next instance and does the bookkeeping.
func dispatch[Req, Resp any](
	ctx context.Context,
	r *roundRobin,
	rpc string,
	in Req,
	opts []grpc.CallOption,
	call func(types.ConnectorClient, context.Context, Req, ...grpc.CallOption) (Resp, error),
) (Resp, error) {
	r.mu.Lock()
	i := r.next
	r.next = (r.next + 1) % len(r.conns)
	r.calls[i][rpc]++
	r.mu.Unlock()

	resp, err := call(r.conns[i], ctx, in, opts...)
	if r.afterCall != nil {
		r.afterCall(rpc)
	}
	if err == nil && r.stopAfter > 0 && isListRPC(rpc) && r.listDone.Add(1) == r.stopAfter {
		r.stop()
	}
	return resp, err
}
