package harness

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/types/entitlement"
	"github.com/conductorone/baton-sdk/pkg/types/grant"
	rs "github.com/conductorone/baton-sdk/pkg/types/resource"
)

// The toy connector: toyUsers users ("user", no entitlements or grants) and
// toyGroups groups ("group", one "member" entitlement); group g<i> has every
// user but u<i> as a member. Users, groups and members all come in pages of
// toyPageSize, driven by page tokens.
//
// Listing users stores "user/<id>" -> <instance index> in the session store;
// listing a group's grants fails unless every member's key is there. So a
// sync only succeeds if what one call wrote is visible to every later call,
// whichever instance serves it.
const (
	toyUsers    = 7
	toyGroups   = 4
	toyPageSize = 2
)

var (
	toyUserRT  = rs.NewResourceType("user", []v2.ResourceType_Trait{v2.ResourceType_TRAIT_USER}, &v2.SkipEntitlementsAndGrants{})
	toyGroupRT = rs.NewResourceType("group", []v2.ResourceType_Trait{v2.ResourceType_TRAIT_GROUP})
)

// toyRecorder observes the toy instances of a test (and nothing reads it
// back into the connector: the instances share no state but what the SDK
// gives them).
type toyRecorder struct {
	mu      sync.Mutex
	reads   []sessionRead   // every session value a Grants call read
	syncIDs map[string]bool // every opts.SyncID the List calls saw
}

type sessionRead struct{ writer, reader int }

func newToyRecorder() *toyRecorder { return &toyRecorder{syncIDs: map[string]bool{}} }

func (r *toyRecorder) sawSync(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncIDs[id] = true
}

func (r *toyRecorder) read(writer, reader int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads = append(r.reads, sessionRead{writer, reader})
}

func (r *toyRecorder) syncs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for id := range r.syncIDs {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

type toy struct {
	instance int
	rec      *toyRecorder
}

func (t *toy) Metadata(context.Context) (*v2.ConnectorMetadata, error) {
	return v2.ConnectorMetadata_builder{DisplayName: "toy"}.Build(), nil
}

func (t *toy) Validate(context.Context) (annotations.Annotations, error) { return nil, nil }

func (t *toy) ResourceSyncers(context.Context) []connectorbuilder.ResourceSyncerV2 {
	return []connectorbuilder.ResourceSyncerV2{&toyUserSyncer{t}, &toyGroupSyncer{t}}
}

// page returns the indexes [start, end) of the page token asks for, out of
// total, and the token of the next page.
func page(token string, total int) (start, end int, next string, err error) {
	if token != "" {
		if start, err = strconv.Atoi(token); err != nil {
			return 0, 0, "", fmt.Errorf("bad page token %q: %w", token, err)
		}
	}
	end = min(start+toyPageSize, total)
	if end < total {
		next = strconv.Itoa(end)
	}
	return start, end, next, nil
}

func userID(i int) string { return "u" + strconv.Itoa(i) }

type toyUserSyncer struct{ *toy }

func (u *toyUserSyncer) ResourceType(context.Context) *v2.ResourceType { return toyUserRT }

func (u *toyUserSyncer) List(ctx context.Context, _ *v2.ResourceId, opts rs.SyncOpAttrs) ([]*v2.Resource, *rs.SyncOpResults, error) {
	u.rec.sawSync(opts.SyncID)
	start, end, next, err := page(opts.PageToken.Token, toyUsers)
	if err != nil {
		return nil, nil, err
	}
	var out []*v2.Resource
	values := map[string][]byte{}
	for i := start; i < end; i++ {
		r, err := rs.NewUserResource("User "+strconv.Itoa(i), toyUserRT, userID(i), nil)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
		values["user/"+userID(i)] = []byte(strconv.Itoa(u.instance))
	}
	if err := opts.Session.SetMany(ctx, values); err != nil {
		return nil, nil, fmt.Errorf("storing users in the session: %w", err)
	}
	return out, &rs.SyncOpResults{NextPageToken: next}, nil
}

func (u *toyUserSyncer) Entitlements(context.Context, *v2.Resource, rs.SyncOpAttrs) ([]*v2.Entitlement, *rs.SyncOpResults, error) {
	return nil, nil, errors.New("toy: users have no entitlements")
}

func (u *toyUserSyncer) Grants(context.Context, *v2.Resource, rs.SyncOpAttrs) ([]*v2.Grant, *rs.SyncOpResults, error) {
	return nil, nil, errors.New("toy: users have no grants")
}

type toyGroupSyncer struct{ *toy }

func (g *toyGroupSyncer) ResourceType(context.Context) *v2.ResourceType { return toyGroupRT }

func (g *toyGroupSyncer) List(_ context.Context, _ *v2.ResourceId, opts rs.SyncOpAttrs) ([]*v2.Resource, *rs.SyncOpResults, error) {
	g.rec.sawSync(opts.SyncID)
	start, end, next, err := page(opts.PageToken.Token, toyGroups)
	if err != nil {
		return nil, nil, err
	}
	var out []*v2.Resource
	for i := start; i < end; i++ {
		r, err := rs.NewGroupResource("Group "+strconv.Itoa(i), toyGroupRT, "g"+strconv.Itoa(i), nil)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	return out, &rs.SyncOpResults{NextPageToken: next}, nil
}

func (g *toyGroupSyncer) Entitlements(_ context.Context, r *v2.Resource, opts rs.SyncOpAttrs) ([]*v2.Entitlement, *rs.SyncOpResults, error) {
	g.rec.sawSync(opts.SyncID)
	return []*v2.Entitlement{entitlement.NewAssignmentEntitlement(r, "member", entitlement.WithGrantableTo(toyUserRT))}, &rs.SyncOpResults{}, nil
}

func (g *toyGroupSyncer) Grants(ctx context.Context, r *v2.Resource, opts rs.SyncOpAttrs) ([]*v2.Grant, *rs.SyncOpResults, error) {
	g.rec.sawSync(opts.SyncID)
	group, err := strconv.Atoi(r.GetId().GetResource()[1:])
	if err != nil {
		return nil, nil, err
	}
	var members []string
	for i := range toyUsers {
		if i != group {
			members = append(members, userID(i))
		}
	}
	start, end, next, err := page(opts.PageToken.Token, len(members))
	if err != nil {
		return nil, nil, err
	}
	var out []*v2.Grant
	for _, m := range members[start:end] {
		v, ok, err := opts.Session.Get(ctx, "user/"+m)
		if err != nil {
			return nil, nil, fmt.Errorf("reading user %s from the session: %w", m, err)
		}
		if !ok {
			return nil, nil, fmt.Errorf("user %s is not in the session store", m)
		}
		writer, err := strconv.Atoi(string(v))
		if err != nil {
			return nil, nil, fmt.Errorf("session value of user %s: %w", m, err)
		}
		g.rec.read(writer, g.instance)
		out = append(out, grant.NewGrant(r, "member", v2.ResourceId_builder{ResourceType: "user", Resource: m}.Build()))
	}
	return out, &rs.SyncOpResults{NextPageToken: next}, nil
}

// Every List call a full toy sync makes: user pages, group pages, one
// entitlements call per group, member pages per group.
func toyListCalls() int {
	pages := func(n int) int { return (n + toyPageSize - 1) / toyPageSize }
	return pages(toyUsers) + pages(toyGroups) + toyGroups + toyGroups*pages(toyUsers-1)
}

func toyBuild(rec *toyRecorder) func(int) connectorbuilder.ConnectorBuilderV2 {
	return func(i int) connectorbuilder.ConnectorBuilderV2 { return &toy{instance: i, rec: rec} }
}

// ids reduces a c1z's contents to sorted identifiers, so two syncs compare.
type ids struct {
	ResourceTypes, Resources, Entitlements, Grants []string
}

func idsOf(c *Contents) ids {
	var out ids
	for _, rt := range c.ResourceTypes {
		out.ResourceTypes = append(out.ResourceTypes, rt.GetId())
	}
	for _, r := range c.Resources {
		out.Resources = append(out.Resources, r.GetId().GetResourceType()+"/"+r.GetId().GetResource())
	}
	for _, e := range c.Entitlements {
		out.Entitlements = append(out.Entitlements, e.GetId())
	}
	for _, g := range c.Grants {
		out.Grants = append(out.Grants, g.GetId())
	}
	for _, s := range [][]string{out.ResourceTypes, out.Resources, out.Entitlements, out.Grants} {
		slices.Sort(s)
	}
	return out
}

func (a ids) equal(b ids) bool {
	return slices.Equal(a.ResourceTypes, b.ResourceTypes) && slices.Equal(a.Resources, b.Resources) &&
		slices.Equal(a.Entitlements, b.Entitlements) && slices.Equal(a.Grants, b.Grants)
}

func readIDs(t *testing.T, path string) (ids, string) {
	t.Helper()
	c, err := ReadC1Z(t.Context(), path, t.TempDir())
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return idsOf(c), c.SyncID
}

// wantToy checks got against the toy's data, so that two syncs agreeing on
// nothing cannot pass for two syncs agreeing.
func wantToy(t *testing.T, got ids) {
	t.Helper()
	wantGrants := toyGroups * (toyUsers - 1)
	if len(got.ResourceTypes) != 2 || len(got.Resources) != toyUsers+toyGroups ||
		len(got.Entitlements) != toyGroups || len(got.Grants) != wantGrants {
		t.Fatalf("c1z holds %d resource types, %d resources, %d entitlements, %d grants; want 2, %d, %d, %d",
			len(got.ResourceTypes), len(got.Resources), len(got.Entitlements), len(got.Grants),
			toyUsers+toyGroups, toyGroups, wantGrants)
	}
}

var workerCases = []int{1, 4}

// (a) A hosted sync over three instances yields what a one-instance Sync
// does, with every instance serving calls in turn.
func TestSyncHostedMatchesSync(t *testing.T) {
	for _, workers := range workerCases {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			dir := t.TempDir()
			single := filepath.Join(dir, "single.c1z")
			if err := Sync(t.Context(), &toy{rec: newToyRecorder()}, single, SyncOptions{TmpDir: dir, Workers: workers}); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			want, _ := readIDs(t, single)
			wantToy(t, want)

			hosted := filepath.Join(dir, "hosted.c1z")
			stats, err := SyncHosted(t.Context(), toyBuild(newToyRecorder()), hosted, HostedOptions{TmpDir: dir, Workers: workers, Instances: 3})
			if err != nil {
				t.Fatalf("SyncHosted: %v\n%s", err, stats)
			}
			got, _ := readIDs(t, hosted)
			if !got.equal(want) {
				t.Fatalf("hosted sync differs from single-instance sync:\nhosted: %+v\nsingle: %+v", got, want)
			}

			if len(stats.Calls) != 3 {
				t.Fatalf("stats cover %d instances, want 3", len(stats.Calls))
			}
			if n := stats.ListCalls(); n != toyListCalls() {
				t.Errorf("hosted sync made %d List calls, want %d\n%s", n, toyListCalls(), stats)
			}
			for _, rpc := range []string{"Validate", "ListResourceTypes", "Cleanup"} {
				if stats.Total(rpc) == 0 {
					t.Errorf("no instance served %s\n%s", rpc, stats)
				}
			}
			// Round robin over every RPC: each instance serves calls, and
			// no two instances' totals differ by more than one.
			lo, hi := stats.Total(), 0
			for i := range stats.Calls {
				one := HostedStats{Calls: stats.Calls[i : i+1]}
				if one.ListCalls() == 0 {
					t.Errorf("instance %d served no List calls\n%s", i, stats)
				}
				lo, hi = min(lo, one.Total()), max(hi, one.Total())
			}
			if hi-lo > 1 {
				t.Errorf("calls are not spread round robin (min %d, max %d per instance)\n%s", lo, hi, stats)
			}
		})
	}
}

// (b) What one instance's call writes to the session store, another
// instance's call reads.
func TestSyncHostedSharesSessionStore(t *testing.T) {
	for _, workers := range workerCases {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			dir := t.TempDir()
			rec := newToyRecorder()
			stats, err := SyncHosted(t.Context(), toyBuild(rec), filepath.Join(dir, "hosted.c1z"), HostedOptions{TmpDir: dir, Workers: workers})
			if err != nil {
				t.Fatalf("SyncHosted: %v\n%s", err, stats)
			}
			if want := toyGroups * (toyUsers - 1); len(rec.reads) != want {
				t.Fatalf("grants calls read %d session values, want %d", len(rec.reads), want)
			}
			across := 0
			for _, r := range rec.reads {
				if r.writer != r.reader {
					across++
				}
			}
			if across == 0 {
				t.Fatalf("every session value was read by the instance that wrote it (%v): sharing is not shown", rec.reads)
			}
			if ids := rec.syncs(); len(ids) != 1 || ids[0] == "" {
				t.Fatalf("calls saw sync IDs %q, want one non-empty ID", ids)
			}
		})
	}
}

// (c) An interrupted hosted sync, rerun on the same file with fresh
// instances, resumes the same sync from its checkpoint and completes it.
func TestSyncHostedResumesInterruptedSync(t *testing.T) {
	for _, workers := range workerCases {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			dir := t.TempDir()
			full := filepath.Join(dir, "full.c1z")
			fullStats, err := SyncHosted(t.Context(), toyBuild(newToyRecorder()), full, HostedOptions{TmpDir: dir, Workers: workers})
			if err != nil {
				t.Fatalf("full SyncHosted: %v\n%s", err, fullStats)
			}
			want, _ := readIDs(t, full)
			wantToy(t, want)

			path := filepath.Join(dir, "resumed.c1z")
			stopAfter := fullStats.ListCalls() / 2
			first := newToyRecorder()
			stopped, err := SyncHosted(t.Context(), toyBuild(first), path, HostedOptions{TmpDir: dir, Workers: workers, StopAfter: stopAfter})
			if !errors.Is(err, ErrStopped) {
				t.Fatalf("interrupted SyncHosted returned %v, want an error wrapping ErrStopped\n%s", err, stopped)
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted SyncHosted returned %v, want an error wrapping context.Canceled", err)
			}
			if n := stopped.ListCalls(); n < stopAfter || n >= fullStats.ListCalls() {
				t.Fatalf("interrupted run made %d List calls, want at least %d and fewer than %d", n, stopAfter, fullStats.ListCalls())
			}
			if _, err := ReadC1Z(t.Context(), path, t.TempDir()); !errors.Is(err, ErrNoFinishedSync) {
				t.Fatalf("after the interruption, ReadC1Z returned %v, want ErrNoFinishedSync", err)
			}

			second := newToyRecorder()
			resumed, err := SyncHosted(t.Context(), toyBuild(second), path, HostedOptions{TmpDir: dir, Workers: workers})
			if err != nil {
				t.Fatalf("resumed SyncHosted: %v\n%s", err, resumed)
			}
			t.Logf("List calls: full sync %d, interrupted run %d (StopAfter %d), resumed run %d",
				fullStats.ListCalls(), stopped.ListCalls(), stopAfter, resumed.ListCalls())
			got, syncID := readIDs(t, path)
			if !got.equal(want) {
				t.Fatalf("resumed sync differs from an uninterrupted one:\nresumed: %+v\nfull:    %+v", got, want)
			}
			if r, f := resumed.ListCalls(), fullStats.ListCalls(); r >= f {
				t.Fatalf("resumed run made %d List calls, a full sync %d: it started over instead of resuming\n%s", r, f, resumed)
			}
			if a, b := first.syncs(), second.syncs(); len(a) != 1 || !slices.Equal(a, b) || a[0] != syncID {
				t.Fatalf("interrupted run saw sync IDs %q, resumed run %q, c1z holds %q: want one and the same", a, b, syncID)
			}
			// The users were listed (and put in the session store) before
			// the interruption; the resumed run's grants calls read them,
			// so the session store survived the restart too.
			if second.reads == nil {
				t.Fatalf("resumed run read no session values")
			}
		})
	}
}

func TestSessionStoreBeforeSet(t *testing.T) {
	var s SessionStore
	ctx := t.Context()
	checks := map[string]error{
		"Set":    s.Set(ctx, "k", []byte("v")),
		"Delete": s.Delete(ctx, "k"),
		"Clear":  s.Clear(ctx),
	}
	_, _, checks["Get"] = s.Get(ctx, "k")
	_, _, checks["GetMany"] = s.GetMany(ctx, []string{"k"})
	_, _, checks["GetAll"] = s.GetAll(ctx, "")
	checks["SetMany"] = s.SetMany(ctx, map[string][]byte{"k": []byte("v")})
	for op, err := range checks {
		if !errors.Is(err, ErrSessionStoreNotSet) {
			t.Errorf("%s before SetSessionStore returned %v, want ErrSessionStoreNotSet", op, err)
		}
	}
}
