package simulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

const (
	bigTeamID = "TeamBigGGGGGGGGGG"
	extra     = 120 // more than API_Upper_Count_Limit, so count=0 is visibly unclamped
)

// bigWorkspace is smallWorkspace plus extra users holding the user role,
// extra teams the reader belongs to, and one team holding all extra users.
func bigWorkspace() *Workspace {
	ws := smallWorkspace()
	big := &Team{ID: bigTeamID, Name: "big", Type: teamPublic, RoomID: "RoomBigGGGGGGGGGG", CreatedAt: t0,
		CreatedByID: idAlice, CreatedByUsername: "alice"}
	for i := range extra {
		u := ws.AddUser(&User{ID: fmt.Sprintf("U%016d", i), Username: fmt.Sprintf("user%03d", i), Name: fmt.Sprintf("User %03d", i),
			Active: true, Roles: []string{"user"}, Emails: []Email{{fmt.Sprintf("user%03d@example.com", i), true}}, CreatedAt: t0})
		big.Members = append(big.Members, TeamMember{UserID: u.ID, CreatedAt: t0})
		ws.Teams = append(ws.Teams, &Team{ID: fmt.Sprintf("T%016d", i), Name: fmt.Sprintf("team%03d", i), Type: teamPublic,
			RoomID: fmt.Sprintf("R%016d", i), CreatedAt: t0, CreatedByID: idReader, CreatedByUsername: "svc-reader",
			Members: []TeamMember{{UserID: idReader, Roles: []string{"owner"}, CreatedAt: t0}}})
	}
	ws.Teams = append(ws.Teams, big)
	return ws
}

// listing is one paginated endpoint as seen by the reader over bigWorkspace.
type listing struct {
	path, key string
	total     int
	// envelope is set when the answer carries count and offset.
	envelope bool
}

func (l listing) target(query string) string {
	sep := "?"
	if strings.Contains(l.path, "?") {
		sep = "&"
	}
	return "/api/v1/" + l.path + sep + query
}

// ids returns the identifiers of the listed items, in order.
func (l listing) ids(t *testing.T, r response) []string {
	t.Helper()
	objs := items(t, r, l.key)
	if l.key == "members" {
		objs = userObjs(objs)
	}
	return ids(objs)
}

var listings = []listing{
	{"users.list", "users", 10 + extra, true},
	{"users.listByStatus", "users", 10 + extra, true},
	{"roles.getUsersInRole?role=user", "users", 5 + extra, false},
	{"teams.listAll", "teams", 3 + extra, true},
	{"teams.list", "teams", extra, true},
	{"teams.members?teamId=" + bigTeamID, "members", extra, true},
}

func TestCountZero(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		// limit is what count=0 turns into; 0 = every item.
		limit int
	}{
		{"infinite count allowed (default)", Options{}, 0},
		{"infinite count disabled", Options{InfiniteCountDisabled: true}, 50},
		{"infinite count disabled, custom default", Options{InfiniteCountDisabled: true, DefaultCount: 30}, 30},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.DisableRateLimiter = true
			h := newHarness(bigWorkspace(), tc.opts)
			for _, l := range listings {
				// Reference order, read with ordinary pages.
				var all []string
				for off := 0; ; off += 100 {
					r := h.get(t, l.target(fmt.Sprintf("count=100&offset=%d", off)), &credReader)
					expectCode(t, r, http.StatusOK)
					got := l.ids(t, r)
					if len(got) == 0 {
						break
					}
					all = append(all, got...)
				}
				if len(all) != l.total {
					t.Fatalf("%s: paging gave %d items, want %d", l.path, len(all), l.total)
				}
				for _, offset := range []int{0, 7, l.total - 3, l.total + 5} {
					query := "count=0"
					if offset > 0 {
						query += fmt.Sprintf("&offset=%d", offset)
					}
					r := h.get(t, l.target(query), &credReader)
					expectCode(t, r, http.StatusOK)
					end := l.total
					if tc.limit > 0 {
						end = min(end, offset+tc.limit)
					}
					want := []string{}
					if offset < end {
						want = all[offset:end]
					}
					got := l.ids(t, r)
					if !slices.Equal(got, want) {
						t.Errorf("%s: got %d items %v…, want %d", l.target(query), len(got), got[:min(len(got), 3)], len(want))
					}
					if num(r.body["total"]) != l.total {
						t.Errorf("%s: total %v, want %d", l.target(query), r.body["total"], l.total)
					}
					if l.envelope && (num(r.body["count"]) != len(want) || num(r.body["offset"]) != offset) {
						t.Errorf("%s: count %v offset %v, want %d %d", l.target(query), r.body["count"], r.body["offset"], len(want), offset)
					}
				}
			}
		})
	}
}

// TestCountZeroDisabledNotClamped: like getPaginationItems, the default that
// replaces count=0 is applied after the upper-limit clamp.
func TestCountZeroDisabledNotClamped(t *testing.T) {
	h := newHarness(bigWorkspace(), Options{DisableRateLimiter: true, InfiniteCountDisabled: true, DefaultCount: 110})
	for _, q := range []struct {
		query string
		want  int
	}{{"count=0", 110}, {"", 100}, {"count=500", 100}, {"count=3", 3}} {
		r := h.get(t, "/api/v1/users.list?"+q.query, &credReader)
		if n := len(items(t, r, "users")); n != q.want || num(r.body["count"]) != q.want || num(r.body["total"]) != 10+extra {
			t.Errorf("%q: %d items, count %v, total %v; want %d", q.query, n, r.body["count"], r.body["total"], q.want)
		}
	}
}
