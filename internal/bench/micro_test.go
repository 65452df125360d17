package bench

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	"github.com/conductorone/baton-rocketchat/pkg/connector"
	"github.com/conductorone/baton-rocketchat/pkg/simulator"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/pagination"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"google.golang.org/protobuf/proto"
)

// The micro-benchmarks call the connector's syncers directly, as the SDK
// does, after one call has loaded the sync's snapshot: they measure turning
// what was read into Baton objects, with no network in the loop.

var microSize = simulator.Size{Users: 2000, Teams: 60, MembersPerTeam: 150}

const microSyncID = "micro-bench"

type microEnv struct {
	srv      *server
	gen      *simulator.Generated
	syncers  map[string]connectorbuilder.ResourceSyncerV2
	close    func()
	userPage int // users batches
}

func newMicroEnv(b *testing.B) *microEnv {
	b.Helper()
	gen := Workspace(1, microSize)
	srv := startServer(gen.Workspace, unlimited, nil)
	cl, err := client.New(context.Background(), client.Config{BaseURL: srv.http.URL, UserID: gen.Admin.UserID, Token: gen.Admin.Token})
	if err != nil {
		b.Fatal(err)
	}
	c := connector.NewWithClient(cl, nil)
	e := &microEnv{srv: srv, gen: gen, syncers: map[string]connectorbuilder.ResourceSyncerV2{}}
	e.close = srv.Close
	b.Cleanup(e.close)
	for _, s := range c.ResourceSyncers(context.Background()) {
		e.syncers[s.ResourceType(context.Background()).GetId()] = s
	}
	// Read every user batch once: this loads the snapshot.
	for tok := "0"; tok != ""; e.userPage++ {
		_, res, err := e.syncers["user"].List(context.Background(), nil, attrs(tok))
		if err != nil {
			b.Fatal(err)
		}
		tok = res.NextPageToken
	}
	return e
}

func attrs(token string) resource.SyncOpAttrs {
	return resource.SyncOpAttrs{SyncID: microSyncID, PageToken: pagination.Token{Token: token}}
}

// list returns every resource of a type.
func (e *microEnv) list(b *testing.B, typ string) []*v2.Resource {
	var out []*v2.Resource
	for tok := "0"; tok != ""; {
		rs, res, err := e.syncers[typ].List(context.Background(), nil, attrs(tok))
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, rs...)
		tok = res.NextPageToken
	}
	return out
}

// BenchmarkUserResources: one users batch (100 users) to Baton resources.
func BenchmarkUserResources(b *testing.B) {
	e := newMicroEnv(b)
	s := e.syncers["user"]
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		rs, _, err := s.List(context.Background(), nil, attrs(strconv.Itoa(i%(e.userPage-1))))
		if err != nil {
			b.Fatal(err)
		}
		n += len(rs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/user")
}

// BenchmarkTeamGrants: one page of a team's grants (members and team roles).
func BenchmarkTeamGrants(b *testing.B) {
	e := newMicroEnv(b)
	teams := e.list(b, "team")
	s := e.syncers["team"]
	for _, t := range teams { // wait for every member list
		if _, _, err := s.Grants(context.Background(), t, attrs("")); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		gs, _, err := s.Grants(context.Background(), teams[i%len(teams)], attrs(""))
		if err != nil {
			b.Fatal(err)
		}
		n += len(gs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/grant")
}

// BenchmarkRoleGrants: one page (500) of the "user" role's grants.
func BenchmarkRoleGrants(b *testing.B) {
	e := newMicroEnv(b)
	var role *v2.Resource
	for _, r := range e.list(b, "role") {
		if r.GetId().GetResource() == "user" {
			role = r
		}
	}
	if role == nil {
		b.Fatal("no user role")
	}
	s := e.syncers["role"]
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		gs, _, err := s.Grants(context.Background(), role, attrs(""))
		if err != nil {
			b.Fatal(err)
		}
		n += len(gs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/grant")
}

// BenchmarkDecodeUsersPage: decoding one users.listByStatus answer of 100
// users into the client's types, as the client does.
func BenchmarkDecodeUsersPage(b *testing.B) {
	gen := Workspace(1, simulator.Size{Users: 500, Teams: 5, MembersPerTeam: 20})
	srv := startServer(gen.Workspace, unlimited, nil)
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.http.URL+"/api/v1/users.listByStatus?offset=0&count=100", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("X-User-Id", gen.Admin.UserID)
	req.Header.Set("X-Auth-Token", gen.Admin.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var p struct {
			Users []client.User `json:"users"`
			Total *int          `json:"total"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			b.Fatal(err)
		}
		if len(p.Users) != 100 {
			b.Fatalf("decoded %d users", len(p.Users))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/user")
}

// BenchmarkGrantWire: what one page of team grants costs to send over the
// SDK's gRPC boundary (marshal, then unmarshal, as the connector server and
// the syncer do), as the connector builds them and with the entitlement's
// resource cut down to its id and display name. Every grant carries its
// entitlement's whole resource, profile map and annotations included.
func BenchmarkGrantWire(b *testing.B) {
	e := newMicroEnv(b)
	teams := e.list(b, "team")
	built, _, err := e.syncers["team"].Grants(context.Background(), teams[0], attrs(""))
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
