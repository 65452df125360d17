package client

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestListingBodyDecodes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		body      string
		wantIDs   []string
		wantTotal int // -1: none
		wantErr   bool
	}{
		{name: "envelope", body: `{"users":[{"_id":"a"},{"_id":"b"}],"count":2,"offset":0,"total":7,"success":true}`, wantIDs: []string{"a", "b"}, wantTotal: 7},
		{name: "total first, unknown fields with nested values", body: `{"total":1,"extra":{"x":[1,{"y":2}]},"users":[{"_id":"a","settings":{"p":{}}}]}`, wantIDs: []string{"a"}, wantTotal: 1},
		{name: "null items", body: `{"users":null,"total":0}`, wantTotal: 0},
		{name: "no total", body: `{"users":[{"_id":"a"}]}`, wantIDs: []string{"a"}, wantTotal: -1},
		{name: "truncated", body: `{"users":[{"_id":"a"},{"_id":`, wantErr: true},
		{name: "items not an array", body: `{"users":{"_id":"a"}}`, wantErr: true},
		{name: "not an object", body: `[1,2]`, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &listingBody[User]{itemsKey: "users"}
			err := b.decodeFrom(strings.NewReader(tc.body))
			if tc.wantErr {
				if err == nil {
					t.Fatal("decoded a broken body")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range b.items {
				got = append(got, u.ID)
			}
			if strings.Join(got, ",") != strings.Join(tc.wantIDs, ",") {
				t.Errorf("ids %v, want %v", got, tc.wantIDs)
			}
			total := -1
			if b.total != nil {
				total = *b.total
			}
			if total != tc.wantTotal {
				t.Errorf("total %d, want %d", total, tc.wantTotal)
			}
		})
	}
}

func TestCappedReader(t *testing.T) {
	for _, tc := range []struct {
		size, limit int
		wantErr     bool
	}{
		{size: 10, limit: 10},
		{size: 11, limit: 10, wantErr: true},
		{size: 0, limit: 0},
		{size: 1 << 16, limit: 1<<16 - 1, wantErr: true},
	} {
		r := &cappedReader{r: strings.NewReader(strings.Repeat("x", tc.size)), n: int64(tc.limit)}
		data, err := io.ReadAll(r)
		if gotErr := errors.Is(err, errBodyTooLarge); gotErr != tc.wantErr {
			t.Errorf("size %d limit %d: err %v, want too large %v", tc.size, tc.limit, err, tc.wantErr)
		}
		if !tc.wantErr && len(data) != tc.size {
			t.Errorf("size %d limit %d: read %d bytes", tc.size, tc.limit, len(data))
		}
	}
}

// A whole listing is decoded as it streams, bounded by MaxListingBytes
// rather than MaxBodyBytes, and says whether it is complete.
func TestWholeListingUsesTheListingBound(t *testing.T) {
	users := `{"users":[` + strings.Repeat(`{"_id":"abcdefghijklmnopq","username":"someone"},`, 99) + `{"_id":"last"}],"total":100,"success":true}`
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("count") != "0" {
			t.Errorf("count = %q, want 0", r.URL.Query().Get("count"))
		}
		writeJSON(w, 200, users)
	})
	c := testClient(t, srv.URL, func(c *Config) { c.MaxBodyBytes = 1024; c.MaxListingBytes = int64(len(users)) })
	p, err := c.UsersPage(testCtx(t), UsersListByStatus, 0, All)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 100 || !p.Complete() || p.Items[99].ID != "last" {
		t.Errorf("%d items, complete %v", len(p.Items), p.Complete())
	}

	small := testClient(t, srv.URL, func(c *Config) { c.MaxListingBytes = int64(len(users)) - 1 })
	if _, err := small.UsersPage(testCtx(t), UsersListByStatus, 0, All); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v, want the body bound", err)
	}
}

func TestPageComplete(t *testing.T) {
	for _, tc := range []struct {
		p    Page[int]
		want bool
	}{
		{Page[int]{Items: make([]int, 50), Total: 260}, false},
		{Page[int]{Items: make([]int, 60), Offset: 200, Total: 260}, true},
		{Page[int]{Items: nil, Total: -1}, true},
		{Page[int]{Items: nil, Offset: 10, Total: 5}, true},
	} {
		if got := tc.p.Complete(); got != tc.want {
			t.Errorf("%d items at %d of %d: complete %v, want %v", len(tc.p.Items), tc.p.Offset, tc.p.Total, got, tc.want)
		}
	}
}

// Roles created before scopes existed come without one; they are workspace
// roles, and the client says so once for every caller.
func TestListRolesDefaultsTheScope(t *testing.T) {
	srv := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"roles":[{"_id":"old","name":"old"},{"_id":"owner","scope":"Subscriptions"}],"success":true}`)
	})
	roles, err := testClient(t, srv.URL, nil).ListRoles(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 2 || roles[0].Scope != ScopeUsers || roles[1].Scope != ScopeSubscriptions {
		t.Errorf("roles %+v, want old in %s and owner in %s", roles, ScopeUsers, ScopeSubscriptions)
	}
}
