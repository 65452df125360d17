package connector

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeServer serves a listing of string ids the way Rocket.Chat's
// getPaginationItems does, and records each call's offset and count.
type fakeServer struct {
	items    []string
	infinite bool // API_Allow_Infinite_Count
	// edit, when set, may change the items before call n (1-based) is answered.
	edit  func(n int, items []string) []string
	calls []string // "offset/count"
}

func (f *fakeServer) fetch(_ context.Context, offset, count int) (client.Page[string], error) {
	f.calls = append(f.calls, fmt.Sprintf("%d/%d", offset, count))
	if f.edit != nil {
		f.items = f.edit(len(f.calls), f.items)
	}
	switch {
	case count == client.All && !f.infinite:
		count = 50
	case count > client.PageSize:
		count = client.PageSize
	}
	end := len(f.items)
	if count > 0 {
		end = min(end, offset+count)
	}
	var page []string
	if offset < end {
		page = slices.Clone(f.items[offset:end])
	}
	return client.Page[string]{Items: page, Offset: offset, Total: len(f.items)}, nil
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%05d", prefix, i)
	}
	return out
}

func testListing(f *fakeServer, storeFirst bool) *listing[string] {
	return &listing[string]{key: "things", what: "things", endpoint: "things.list", fetch: f.fetch,
		id: func(s string) string { return s }, keep: storeFirst}
}

func localShared() shared { return shared{syncID: "sync-1", local: &localStore{}} }

// drain reads a listing to its end the way the SDK does, starting each page
// from its token alone, and returns the items and the number of pages.
func drain(t *testing.T, l *listing[string], store shared, start readCursor) ([]string, int, error) {
	t.Helper()
	var got []string
	cur, pages := start, 0
	for {
		items, next, err := l.page(context.Background(), store, cur)
		if err != nil {
			return got, pages, err
		}
		pages++
		got = append(got, items...)
		if next == nil {
			return got, pages, nil
		}
		if pages > 1000 {
			t.Fatal("listing does not end")
		}
		cur = decodeToken(context.Background(), encodeToken(next), readCursor.valid) // through the wire form
	}
}

func TestListingReadsWholeListingsInOneCall(t *testing.T) {
	for _, tc := range []struct {
		name      string
		items     int
		wantPages int
	}{
		{name: "empty", items: 0, wantPages: 1},
		{name: "one page", items: pageItems, wantPages: 1},
		{name: "just over a page", items: pageItems + 1, wantPages: 2},
		{name: "many pages", items: 5*pageItems + 7, wantPages: 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeServer{items: ids("u", tc.items), infinite: true}
			got, pages, err := drain(t, testListing(f, false), localShared(), readCursor{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, f.items) {
				t.Errorf("got %d items, want %d in order", len(got), len(f.items))
			}
			if pages != tc.wantPages {
				t.Errorf("%d pages, want %d", pages, tc.wantPages)
			}
			if len(f.calls) != 1 || f.calls[0] != "0/0" {
				t.Errorf("calls %v, want one count=0 call", f.calls)
			}
		})
	}
}

// A fresh process has no memory of the first page: the token and the
// session store must be enough, and a lost stored page costs a re-read from
// its offset, not data.
func TestListingSurvivesALostStoredPage(t *testing.T) {
	f := &fakeServer{items: ids("u", 3*pageItems), infinite: true}
	l := testListing(f, false)
	store := localShared()
	_, next, err := l.page(context.Background(), store, readCursor{})
	if err != nil {
		t.Fatal(err)
	}
	// Another process, another (empty) store.
	other := localShared()
	got, _, err := drain(t, l, other, decodeToken(context.Background(), encodeToken(next), readCursor.valid))
	if err != nil {
		t.Fatal(err)
	}
	if want := f.items[pageItems:]; !slices.Equal(got, want) {
		t.Errorf("got %d items after the first page, want %d", len(got), len(want))
	}
	if want := []string{"0/0", fmt.Sprintf("%d/0", pageItems)}; !slices.Equal(f.calls, want) {
		t.Errorf("calls %v, want %v (one re-read from the lost page's offset)", f.calls, want)
	}
}

func TestListingStoredReadingServesASecondPass(t *testing.T) {
	f := &fakeServer{items: ids("u", 2*pageItems+3), infinite: true}
	l := testListing(f, true)
	store := localShared()
	first, _, err := drain(t, l, store, readCursor{})
	if err != nil {
		t.Fatal(err)
	}
	start, _, _ := l.stored(context.Background(), store)
	if start.Reading == "" {
		t.Fatal("no stored reading after the first pass")
	}
	second, _, err := drain(t, l, store, start)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first, second) || !slices.Equal(first, f.items) {
		t.Errorf("second pass differs from the first")
	}
	if len(f.calls) != 1 {
		t.Errorf("calls %v: the second pass must not read the server", f.calls)
	}
}

func TestListingPagesWhenInfiniteCountIsOff(t *testing.T) {
	for _, storeFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("storeFirst=%v", storeFirst), func(t *testing.T) {
			f := &fakeServer{items: ids("u", 260)}
			l := testListing(f, storeFirst)
			store := localShared()
			got, _, err := drain(t, l, store, readCursor{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, f.items) {
				t.Errorf("got %d items, want %d", len(got), len(f.items))
			}
			if want := []string{"0/0", "50/100", "150/100", "250/100"}; !slices.Equal(f.calls, want) {
				t.Errorf("calls %v, want %v", f.calls, want)
			}
			start, _, _ := l.stored(context.Background(), store)
			if ok := start.Reading != ""; ok != storeFirst {
				t.Fatalf("stored reading: %v, want %v", ok, storeFirst)
			}
			if start.Reading == "" {
				return
			}
			again, _, err := drain(t, l, store, start)
			if err != nil || !slices.Equal(again, f.items) || len(f.calls) != 4 {
				t.Errorf("second pass: %d items, err %v, calls %v", len(again), err, f.calls)
			}
		})
	}
}

func TestListingPagedFaults(t *testing.T) {
	for _, tc := range []struct {
		name         string
		edit         func(n int, items []string) []string
		ignoreOffset bool // answer every page from the start
		emptyCall    int  // this call's answer has no items, the total unchanged
		wantCode     codes.Code
		check        func(t *testing.T, calls []string)
	}{
		{
			name: "an item added before the offset restarts the listing",
			edit: func(n int, items []string) []string {
				if n == 2 {
					return append([]string{"a-newcomer"}, items...)
				}
				return items
			},
			check: func(t *testing.T, calls []string) {
				if !slices.Contains(calls[2:], "0/100") {
					t.Errorf("calls %v: no restart from offset 0", calls)
				}
			},
		},
		{
			name:      "an empty page once is asked again",
			emptyCall: 3, // the page at 150
			check: func(t *testing.T, calls []string) {
				if calls[2] != "150/100" || calls[3] != "150/100" {
					t.Errorf("calls %v: the empty page was not asked again", calls)
				}
			},
		},
		{name: "a server ignoring offset is an error", ignoreOffset: true, wantCode: codes.Aborted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeServer{items: ids("u", 260), edit: tc.edit}
			l := testListing(f, false)
			if tc.emptyCall > 0 {
				l.fetch = func(ctx context.Context, offset, count int) (client.Page[string], error) {
					p, err := f.fetch(ctx, offset, count)
					if len(f.calls) == tc.emptyCall {
						p.Items = nil
					}
					return p, err
				}
			}
			if tc.ignoreOffset {
				l.fetch = func(ctx context.Context, offset, count int) (client.Page[string], error) {
					p, err := f.fetch(ctx, 0, count)
					p.Offset = offset
					return p, err
				}
			}
			got, _, err := drain(t, l, localShared(), readCursor{})
			if tc.wantCode != codes.OK {
				if status.Code(err) != tc.wantCode || !strings.Contains(err.Error(), "things.list") {
					t.Fatalf("err = %v, want %v naming the endpoint", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range f.items {
				if !slices.Contains(got, id) {
					t.Errorf("%s missing", id)
				}
			}
			if tc.check != nil {
				tc.check(t, f.calls)
			}
		})
	}
}

func TestListingRefusesWholePagesMissing(t *testing.T) {
	f := &fakeServer{items: ids("u", 260)}
	l := testListing(f, false)
	l.fetch = func(ctx context.Context, offset, count int) (client.Page[string], error) {
		p, err := f.fetch(ctx, offset, count)
		if offset > 0 {
			p.Items = nil // every page after the first is empty; the total says 260
		}
		return p, err
	}
	_, _, err := drain(t, l, localShared(), readCursor{})
	if status.Code(err) != codes.Aborted || !strings.Contains(err.Error(), "partial listing") {
		t.Fatalf("err = %v, want Aborted refusing a partial listing", err)
	}
}

func TestPageTokens(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		token string
		want  readCursor
	}{
		{name: "first page", token: "", want: readCursor{}},
		{name: "round trip", token: encodeToken(&readCursor{Reading: "ab", Chunk: 2, Chunks: 3, PageCursor: client.PageCursor{Offset: 1000}}),
			want: readCursor{Reading: "ab", Chunk: 2, Chunks: 3, PageCursor: client.PageCursor{Offset: 1000}}},
		{name: "older version's token starts over", token: "3fa9c1.7", want: readCursor{}},
		{name: "the previous version's cursor starts over", token: `{"s":"ab","c":1,"n":3,"o":500}`, want: readCursor{}},
		{name: "negative offset starts over", token: `{"v":3,"t":{"o":-5}}`, want: readCursor{}},
		{name: "version 2's token starts over", token: `{"v":2,"t":{"s":"ab","c":1,"n":3,"o":500}}`, want: readCursor{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decodeToken(ctx, tc.token, readCursor.valid); got != tc.want {
				t.Errorf("decodeToken(%q) = %+v, want %+v", tc.token, got, tc.want)
			}
		})
	}
	if encodeToken[readCursor](nil) != "" {
		t.Error("no next page must give an empty token")
	}
	// A syncer's token keeps its own fields and its listing's cursor.
	team := teamGrantsToken{Members: &readCursor{Paged: true, PageCursor: client.PageCursor{Offset: 100, Total: 260, Head: "u1"}}}
	got := decodeToken(ctx, encodeToken(&team), teamGrantsToken.valid)
	if got.Members == nil || *got.Members != *team.Members || got.Part != 0 {
		t.Errorf("team grants token round trip: %+v, want %+v", got, team)
	}
	// Before the members' first page the token names the part to read.
	if got := decodeToken(ctx, encodeToken(&teamGrantsToken{Part: 3}), teamGrantsToken.valid); got.Part != 3 || got.Members != nil {
		t.Errorf("part token round trip: %+v", got)
	}
	// A team's deactivated members come a page at a time, and keep their
	// place while a lost reading is read again part by part.
	for _, tok := range []teamGrantsToken{{DeactivatedAfter: "u500"}, {Part: 2, DeactivatedAfter: "u1000"}} {
		if got := decodeToken(ctx, encodeToken(&tok), teamGrantsToken.valid); got != tok {
			t.Errorf("team grants token %+v decoded as %+v", tok, got)
		}
	}
	// A room's grants read per user continue after a subscriber.
	if got := decodeToken(ctx, encodeToken(&roomGrantsToken{After: "u500"}), roomGrantsToken.valid); got.After != "u500" || got.Members != nil {
		t.Errorf("room grants token round trip: %+v", got)
	}
	// The rooms listing's token carries the per-user reading's progress; a
	// reading no version writes restarts the listing.
	rooms := roomsToken{Source: membersFromUsers, Reading: &usersRoomsReading{Users: readCursor{Reading: "r1", Chunk: 2, Chunks: 5}, Page: 2, At: 10, Slice: 10}}
	if got := decodeToken(ctx, encodeToken(&rooms), roomsToken.valid); got.Reading == nil || *got.Reading != *rooms.Reading || got.Source != membersFromUsers {
		t.Errorf("rooms token round trip: %+v, want %+v", got, rooms)
	}
	for _, bad := range []usersRoomsReading{{Page: -1, Slice: 1}, {At: -1, Slice: 1}, {Slice: 0}, {Users: readCursor{Chunk: -1}, Slice: 1}} {
		tok := roomsToken{Source: membersFromUsers, Reading: &bad}
		if got := decodeToken(ctx, encodeToken(&tok), roomsToken.valid); got.Reading != nil || got.Source != "" {
			t.Errorf("rooms token with reading %+v decoded as %+v, want a restart", bad, got)
		}
	}
}

func TestEncodeChunksBoundsBytes(t *testing.T) {
	big := strings.Repeat("x", maxChunkBytes/3)
	chunks, err := encodeChunks([]string{big, big, big, big, "small"})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range chunks {
		total += c.items
		if len(c.data) > maxChunkBytes+len(big)+8 {
			t.Errorf("chunk of %d bytes", len(c.data))
		}
	}
	if total != 5 || len(chunks) < 2 {
		t.Errorf("%d chunks holding %d items", len(chunks), total)
	}
}

func TestPageAfter(t *testing.T) {
	ids := func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("u%04d", i))
		}
		return out
	}
	self := func(s string) string { return s }
	for _, tc := range []struct {
		name  string
		items []string
		after string
		want  []string
		more  bool
	}{
		{"first page of many", ids(0, 1200), "", ids(0, 500), true},
		{"after an item", ids(0, 1200), "u0499", ids(500, 1000), true},
		{"after an id between items", ids(0, 1200), "u0499x", ids(500, 1000), true},
		{"the last page", ids(0, 1200), "u0999", ids(1000, 1200), false},
		{"exactly a page", ids(0, 500), "", ids(0, 500), false},
		{"after the last item", ids(0, 10), "u0009", nil, false},
		{"nothing", nil, "", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, more := pageAfter(tc.items, self, tc.after)
			if len(got) != len(tc.want) || len(got) > 0 && !slices.Equal(got, tc.want) || more != tc.more {
				t.Errorf("pageAfter(%d items, %q) = %d items from %v, more %v; want %d, more %v",
					len(tc.items), tc.after, len(got), got[:min(1, len(got))], more, len(tc.want), tc.more)
			}
		})
	}
}
