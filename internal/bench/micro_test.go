package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/pagination"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/conductorone/baton-sdk/pkg/types/sessions"
	"google.golang.org/protobuf/proto"
)

// The micro-benchmarks call the connector's syncers directly, as the SDK
// does, with an in-memory session store. Setup reads each listing once, the
// way a sync's first page does (one count=0 call; the pages after the
// first wait in the session store); the benchmarks then measure turning
// what is stored into Baton objects, with no network in the loop unless
// they say so.

var microSize = simulator.Size{Users: 2000, Teams: 60, MembersPerTeam: 150}

const microSyncID = "micro-bench"

// memStore is a sessions.SessionStore in memory, for one sync.
type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

var _ sessions.SessionStore = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{m: map[string][]byte{}} }

func (s *memStore) Get(_ context.Context, key string, _ ...sessions.SessionStoreOption) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok, nil
}

func (s *memStore) GetMany(_ context.Context, keys []string, _ ...sessions.SessionStoreOption) (map[string][]byte, []string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]byte{}
	var missing []string
	for _, k := range keys {
		if v, ok := s.m[k]; ok {
			out[k] = v
		} else {
			missing = append(missing, k)
		}
	}
	return out, missing, nil
}

func (s *memStore) Set(_ context.Context, key string, value []byte, _ ...sessions.SessionStoreOption) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = bytes.Clone(value)
	return nil
}

func (s *memStore) SetMany(_ context.Context, values map[string][]byte, _ ...sessions.SessionStoreOption) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range values {
		s.m[k] = bytes.Clone(v)
	}
	return nil
}

func (s *memStore) Delete(_ context.Context, key string, _ ...sessions.SessionStoreOption) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

func (s *memStore) Clear(context.Context, ...sessions.SessionStoreOption) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.m)
	return nil
}

func (s *memStore) GetAll(_ context.Context, _ string, _ ...sessions.SessionStoreOption) (map[string][]byte, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.m), "", nil
}

// keys returns the stored keys, sorted.
func (s *memStore) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.m))
}

// typeScopedGrants is the SDK's interface for a resource type's grants
// listed in one pass (the role syncer has it).
type typeScopedGrants interface {
	GrantsForResourceType(ctx context.Context, resourceTypeID string, opts resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error)
}

type microEnv struct {
	gen     *simulator.Generated
	store   *memStore
	syncers map[string]connectorbuilder.ResourceSyncerV2
	// userPages is the users listing's pages; nextUsers the token of its
	// second, the first served from the store.
	userPages int
	nextUsers string
	// chunk is the stored users chunk the second page reads.
	chunk []byte
}

func newMicroEnv(b *testing.B) *microEnv {
	b.Helper()
	gen := Workspace(1, microSize)
	cache := newReplayCache()
	srv := startServer(gen.Workspace, unlimited, cache.memo)
	b.Cleanup(srv.Close)
	ctx := context.Background()
	c, err := newConnector(ctx, srv.http.URL, gen.Admin)
	if err != nil {
		b.Fatal(err)
	}
	e := &microEnv{gen: gen, store: newMemStore(), syncers: map[string]connectorbuilder.ResourceSyncerV2{}}
	for _, s := range c.ResourceSyncers(ctx) {
		e.syncers[s.ResourceType(ctx).GetId()] = s
	}
	// The users listing, as the SDK reads it: the first page reads
	// Rocket.Chat once and stores the reading; the rest come from the store.
	users := 0
	for tok, first := "", true; first || tok != ""; first = false {
		rs, res, err := e.syncers["user"].List(ctx, nil, e.attrs(tok))
		if err != nil {
			b.Fatal(err)
		}
		users += len(rs)
		e.userPages++
		if e.userPages == 1 {
			e.nextUsers = res.NextPageToken
		}
		tok = res.NextPageToken
	}
	if users != len(gen.Workspace.Users) || e.userPages < 2 {
		b.Fatalf("listed %d users in %d pages; want %d in at least 2", users, e.userPages, len(gen.Workspace.Users))
	}
	for _, k := range e.store.keys() {
		if strings.HasPrefix(k, "users/") && strings.HasSuffix(k, "/1") {
			e.chunk, _, _ = e.store.Get(ctx, k)
		}
	}
	if e.chunk == nil {
		b.Fatalf("no stored users chunk 1 among %v", e.store.keys())
	}
	// The roles, which the role grants read from the store.
	if _, _, err := e.syncers["role"].List(ctx, nil, e.attrs("")); err != nil {
		b.Fatal(err)
	}
	return e
}

func (e *microEnv) attrs(token string) resource.SyncOpAttrs {
	return resource.SyncOpAttrs{Session: e.store, SyncID: microSyncID, PageToken: pagination.Token{Token: token}}
}

// list returns every resource of a type.
func (e *microEnv) list(b *testing.B, typ string) []*v2.Resource {
	var out []*v2.Resource
	for tok, first := "", true; first || tok != ""; first = false {
		rs, res, err := e.syncers[typ].List(context.Background(), nil, e.attrs(tok))
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, rs...)
		tok = res.NextPageToken
	}
	return out
}

// BenchmarkUserPage: one users page (500 users) built from the stored
// reading: the chunk read from the session store, decoded, and turned into
// Baton resources.
func BenchmarkUserPage(b *testing.B) {
	e := newMicroEnv(b)
	s := e.syncers["user"]
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rs, _, err := s.List(context.Background(), nil, e.attrs(e.nextUsers))
		if err != nil {
			b.Fatal(err)
		}
		n += len(rs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/user")
	b.ReportMetric(float64(n)/float64(b.N), "users/page")
}

// BenchmarkRoleGrantsPage: one page of the role type's grants
// (GrantsForResourceType, one pass over the stored users for every role):
// the roles and a users chunk read from the session store, decoded, and
// each user's workspace roles turned into grants.
func BenchmarkRoleGrantsPage(b *testing.B) {
	e := newMicroEnv(b)
	s, ok := e.syncers["role"].(typeScopedGrants)
	if !ok {
		b.Fatal("the role syncer has no GrantsForResourceType")
	}
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		gs, res, err := s.GrantsForResourceType(context.Background(), "role", e.attrs(""))
		if err != nil {
			b.Fatal(err)
		}
		if res.NextPageToken == "" {
			b.Fatal("the first role grants page is the last: the stored reading was not used")
		}
		n += len(gs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/grant")
	b.ReportMetric(float64(n)/float64(b.N), "grants/page")
}

// BenchmarkTeamGrants: one team's grants page (members and team roles).
// It includes the team's one teams.members call over loopback, answered
// from a recording so the simulator's work is not in it.
func BenchmarkTeamGrants(b *testing.B) {
	e := newMicroEnv(b)
	teams := e.list(b, "team")
	s := e.syncers["team"]
	for _, t := range teams { // record every member list
		if _, _, err := s.Grants(context.Background(), t, e.attrs("")); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		gs, _, err := s.Grants(context.Background(), teams[i%len(teams)], e.attrs(""))
		if err != nil {
			b.Fatal(err)
		}
		n += len(gs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/grant")
}

// BenchmarkStoredChunk: a stored users chunk (500 users, as the listing
// keeps them in the session store) decoded, as each later page does, and
// encoded again item by item, as the first page does for every chunk
// (checked to give the stored bytes back).
func BenchmarkStoredChunk(b *testing.B) {
	e := newMicroEnv(b)
	var users []client.User
	if err := json.Unmarshal(e.chunk, &users); err != nil {
		b.Fatal(err)
	}
	encode := func() ([]byte, error) {
		buf := []byte{'['}
		for i := range users {
			if i > 0 {
				buf = append(buf, ',')
			}
			item, err := json.Marshal(&users[i])
			if err != nil {
				return nil, err
			}
			buf = append(buf, item...)
		}
		return append(buf, ']'), nil
	}
	if again, err := encode(); err != nil || !bytes.Equal(again, e.chunk) {
		b.Fatalf("encoding the decoded chunk does not give the stored bytes back (err %v): the benchmark no longer mirrors the connector", err)
	}
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(e.chunk)))
		b.ReportAllocs()
		for range b.N {
			var got []client.User
			if err := json.Unmarshal(e.chunk, &got); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(users)), "ns/user")
		b.ReportMetric(float64(len(e.chunk))/float64(len(users)), "bytes/user")
	})
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(e.chunk)))
		b.ReportAllocs()
		for range b.N {
			if _, err := encode(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(users)), "ns/user")
	})
}

// BenchmarkDecodeUsersAnswer: the client reading a whole count=0
// users.listByStatus answer (2,000 users), as the users listing's first
// page does: UsersPage over loopback from a recorded body, so what is
// measured is the transfer and the client's streaming decode.
func BenchmarkDecodeUsersAnswer(b *testing.B) {
	gen := Workspace(1, microSize)
	cache := newReplayCache()
	srv := startServer(gen.Workspace, unlimited, cache.memo)
	defer srv.Close()
	ctx := context.Background()
	cl, err := client.New(ctx, client.Config{BaseURL: srv.http.URL, UserID: gen.Admin.UserID, Token: gen.Admin.Token})
	if err != nil {
		b.Fatal(err)
	}
	read := func() {
		p, err := cl.UsersPage(ctx, client.UsersListByStatus, 0, client.All)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Items) != len(gen.Workspace.Users) {
			b.Fatalf("decoded %d users, want %d", len(p.Items), len(gen.Workspace.Users))
		}
	}
	read() // recorded
	body := srv.busy.Bytes()[EpUsers]
	b.SetBytes(body)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		read()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(gen.Workspace.Users)), "ns/user")
	b.ReportMetric(float64(body)/float64(len(gen.Workspace.Users)), "bytes/user")
}

// BenchmarkGrantWire: what one page of team grants costs to send over the
// SDK's gRPC boundary (marshal, then unmarshal, as the connector server and
// the syncer do), as the connector builds them and with the entitlement's
// resource cut down to its id and display name. The connector already
// sends that cut-down resource, so the two match; as-built growing past
// slim-resource means grants carry whole resources (profile, annotations)
// again.
func BenchmarkGrantWire(b *testing.B) {
	e := newMicroEnv(b)
	teams := e.list(b, "team")
	built, _, err := e.syncers["team"].Grants(context.Background(), teams[0], e.attrs(""))
	if err != nil {
		b.Fatal(err)
	}
	slim := make([]*v2.Grant, len(built))
	for i, g := range built {
		s := proto.Clone(g).(*v2.Grant)
		r := s.GetEntitlement().GetResource()
		s.GetEntitlement().SetResource(v2.Resource_builder{Id: r.GetId(), DisplayName: r.GetDisplayName()}.Build())
		slim[i] = s
	}
	for _, tc := range []struct {
		name   string
		grants []*v2.Grant
	}{{"as-built", built}, {"slim-resource", slim}} {
		b.Run(tc.name, func(b *testing.B) {
			page := v2.GrantsServiceListGrantsResponse_builder{List: tc.grants}.Build()
			size := proto.Size(page)
			b.ReportAllocs()
			for range b.N {
				buf, err := proto.Marshal(page)
				if err != nil {
					b.Fatal(err)
				}
				var back v2.GrantsServiceListGrantsResponse
				if err := proto.Unmarshal(buf, &back); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size)/float64(len(tc.grants)), "bytes/grant")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(tc.grants)), "ns/grant")
		})
	}
}
