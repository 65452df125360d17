package client

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// --- FuzzWalk: walk over a scripted sequence of page answers -----------------

// scriptedPage is one answer of a fuzzed server: the n-th fetch gets the
// n-th answer whatever offset it asks for.
type scriptedPage struct {
	items []string
	total *int
	err   bool
}

const maxScriptPages = 64

// decodeScript turns fuzz bytes into page answers. Per page: a flag byte
// (bit 0: a total follows, bits 1-4 all set: the fetch fails), an item count,
// then the total as a signed 16-bit number, then one byte per item id, where
// 0 is an empty id and a small alphabet makes duplicates common.
func decodeScript(data []byte) []scriptedPage {
	var pages []scriptedPage
	for len(data) >= 2 && len(pages) < maxScriptPages {
		flags, n := data[0], int(data[1])%(PageSize+21)
		data = data[2:]
		p := scriptedPage{err: flags&0x1e == 0x1e}
		if flags&1 == 1 && len(data) >= 2 {
			total := int(int16(binary.BigEndian.Uint16(data)))
			p.total = &total
			data = data[2:]
		}
		n = min(n, len(data))
		for _, b := range data[:n] {
			if b == 0 {
				p.items = append(p.items, "")
			} else {
				p.items = append(p.items, fmt.Sprintf("i%d", b))
			}
		}
		data = data[n:]
		pages = append(pages, p)
	}
	return pages
}

func encodeScript(pages ...scriptedPage) []byte {
	var out []byte
	for _, p := range pages {
		flags := byte(0)
		if p.total != nil {
			flags |= 1
		}
		if p.err {
			flags |= 0x1e
		}
		out = append(out, flags, byte(len(p.items)))
		if p.total != nil {
			out = binary.BigEndian.AppendUint16(out, uint16(int16(*p.total)))
		}
		for _, id := range p.items {
			var b byte
			if id != "" {
				_, _ = fmt.Sscanf(id, "i%d", &b)
			}
			out = append(out, b)
		}
	}
	return out
}

func intp(n int) *int { return &n }

func seq(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("i%d", from+i)
	}
	return out
}

var errScripted = errors.New("scripted fetch failure")

func FuzzWalk(f *testing.F) {
	// A complete listing in two pages, with and without totals.
	f.Add(encodeScript(scriptedPage{items: seq(1, 100), total: intp(150)}, scriptedPage{items: seq(101, 50), total: intp(150)}))
	f.Add(encodeScript(scriptedPage{items: seq(1, 100)}, scriptedPage{items: seq(101, 50)}, scriptedPage{}))
	// Empty listing; total claiming more than ever comes.
	f.Add(encodeScript(scriptedPage{total: intp(0)}))
	f.Add(encodeScript(scriptedPage{items: seq(1, 10), total: intp(500)}, scriptedPage{total: intp(500)}, scriptedPage{total: intp(500)}))
	// Totals that change every page.
	f.Add(encodeScript(scriptedPage{items: seq(1, 5), total: intp(20)}, scriptedPage{items: seq(3, 5), total: intp(21)}, scriptedPage{items: seq(1, 9), total: intp(22)}, scriptedPage{items: seq(7, 9), total: intp(23)}))
	// A server ignoring offset without a total.
	f.Add(encodeScript(scriptedPage{items: seq(1, 3)}, scriptedPage{items: seq(1, 3)}, scriptedPage{items: seq(1, 3)}, scriptedPage{items: seq(1, 3)}, scriptedPage{items: seq(1, 3)}))
	// Duplicates and empty ids inside a page; negative total; a failing fetch.
	f.Add(encodeScript(scriptedPage{items: []string{"i1", "i1", "", "i2"}, total: intp(-3)}, scriptedPage{items: []string{"i2", "i3"}}))
	f.Add(encodeScript(scriptedPage{items: seq(1, 4), total: intp(8)}, scriptedPage{err: true}, scriptedPage{items: seq(5, 4)}))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff})

	f.Fuzz(func(t *testing.T, data []byte) {
		pages := decodeScript(data)
		bound := len(pages) + MaxPasses // each pass ends on its first fetch past the script
		calls := 0
		failedAt := -1
		var served [][]string // the items of each page answered
		fetch := func(_ context.Context, offset, count int) (Page[string], error) {
			calls++
			if calls > bound {
				t.Fatalf("fetch %d > bound %d: walk does not terminate", calls, bound)
			}
			if offset < 0 || count != PageSize {
				t.Fatalf("fetch(offset %d, count %d)", offset, count)
			}
			if failedAt >= 0 {
				t.Fatalf("fetch after a failed fetch")
			}
			if calls > len(pages) {
				return Page[string]{Offset: offset, Total: -1}, nil
			}
			p := pages[calls-1]
			if p.err {
				failedAt = calls
				return Page[string]{}, errScripted
			}
			served = append(served, p.items)
			total := -1
			if p.total != nil {
				total = *p.total
			}
			return Page[string]{Items: slices.Clone(p.items), Offset: offset, Total: total}, nil
		}
		var got []string
		yielded := map[string]bool{}
		err := walk(context.Background(), "users.list", "users", fetch, func(s string) string { return s }, func(batch []string) error {
			if len(batch) == 0 {
				t.Error("empty batch")
			}
			for _, id := range batch {
				if id == "" {
					t.Error("empty id yielded")
				}
				if yielded[id] {
					t.Errorf("id %q yielded twice", id)
				}
				yielded[id] = true
			}
			got = append(got, batch...)
			return nil
		})
		if failedAt >= 0 {
			if !errors.Is(err, errScripted) {
				t.Fatalf("fetch %d failed but walk returned %v", failedAt, err)
			}
			if calls != failedAt {
				t.Fatalf("walk went on fetching after the failure")
			}
		} else if errors.Is(err, errScripted) {
			t.Fatal("walk invented a fetch failure")
		}
		if err != nil && failedAt < 0 && (status.Code(err) != codes.Aborted || !strings.Contains(err.Error(), "refusing to")) {
			t.Fatalf("unexpected error %v", err)
		}
		// The model: walk yields exactly the items it has not seen before, in
		// the order the pages list them, but for a page refused for
		// repeating the previous page's first item, which is the last.
		modelSeen := map[string]bool{}
		if err != nil && strings.Contains(err.Error(), "ignore offset") {
			last := served[len(served)-1]
			first := slices.IndexFunc(last, func(id string) bool { return id != "" })
			if first < 0 || !yielded[last[first]] {
				t.Fatalf("page %v refused as a repeat, but its first id was not read before", last)
			}
			served = served[:len(served)-1]
		}
		var want []string
		for _, items := range served {
			for _, id := range items {
				if id != "" && !modelSeen[id] {
					modelSeen[id] = true
					want = append(want, id)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("yielded %v, want %v", got, want)
		}
	})
}

// --- FuzzMutatingListing: walk over an offset-paginated listing that changes ------

type mutation struct {
	insert bool
	pos    int
}

func FuzzMutatingListing(f *testing.F) {
	f.Add(uint16(250), uint8(0), uint8(0), int8(0), []byte{})
	f.Add(uint16(250), uint8(30), uint8(0), int8(0), []byte{})
	f.Add(uint16(300), uint8(0), uint8(0), int8(0), []byte{0, 1, 0})          // insert at front before fetch 2
	f.Add(uint16(300), uint8(0), uint8(0), int8(0), []byte{0, 0, 0, 1, 0, 5}) // delete, then insert
	f.Add(uint16(300), uint8(7), uint8(0), int8(0), []byte{3, 1, 200, 9, 0, 17, 20, 1, 1})
	f.Add(uint16(120), uint8(0), uint8(1), int8(0), []byte{})                 // no total
	f.Add(uint16(120), uint8(0), uint8(2), int8(0), []byte{})                 // ignores offset
	f.Add(uint16(120), uint8(0), uint8(4), int8(50), []byte{})                // total too high
	f.Add(uint16(120), uint8(0), uint8(4), int8(-50), []byte{})               // total too low
	f.Add(uint16(0), uint8(0), uint8(0), int8(0), []byte{0, 1, 0, 1, 1, 0})   // inserts into an empty listing
	f.Add(uint16(399), uint8(1), uint8(3), int8(0), []byte{1, 0, 3, 2, 0, 4}) // clamp 1, no total, ignores offset
	f.Add(uint16(2), uint8(0), uint8(0x2e), int8(50), []byte("0"))            // ignores offset, total 52 for 2 items (found by fuzzing)

	f.Fuzz(func(t *testing.T, nRaw uint16, clampRaw, mode uint8, lie int8, mutBytes []byte) {
		n := int(nRaw % 400)
		clamp := int(clampRaw % (PageSize + 1)) // 0: serve the whole page
		noTotal, ignoreOffset, lying := mode&1 != 0, mode&2 != 0, mode&4 != 0 && lie != 0
		muts := map[int]mutation{} // before fetch number k (k >= 2), at most one change
		for i := 0; i+2 < len(mutBytes) && len(muts) < 32; i += 3 {
			k := int(mutBytes[i]%64) + 2
			if _, dup := muts[k]; !dup {
				muts[k] = mutation{insert: mutBytes[i+1]&1 == 1, pos: int(mutBytes[i+2])}
			}
		}

		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf("u%03d", i)
		}
		ever := map[string]bool{}
		gone := map[string]bool{}
		for _, id := range items {
			ever[id] = true
		}
		pageLen := PageSize
		if clamp > 0 {
			pageLen = clamp
		}
		if ignoreOffset && !noTotal {
			// A server that ignores offset while its total moves can keep
			// walk reading until offset reaches the total, and a page may
			// hold a single item: bound the walk by that.
			pageLen = 1
		}
		// Each pass reads up to its total, a page at a time, then perhaps an
		// empty page twice.
		perPass := (n+len(muts)+130)/pageLen + 6
		bound := MaxPasses * perPass
		calls := 0
		fetch := func(_ context.Context, offset, count int) (Page[string], error) {
			calls++
			if calls > bound {
				t.Fatalf("fetch %d > bound %d: walk does not terminate", calls, bound)
			}
			if m, ok := muts[calls]; ok {
				if m.insert {
					id := fmt.Sprintf("new%02d", calls)
					items = slices.Insert(items, min(m.pos, len(items)), id)
					ever[id] = true
				} else if len(items) > 0 {
					i := m.pos % len(items)
					gone[items[i]] = true
					items = slices.Delete(items, i, i+1)
				}
			}
			if ignoreOffset {
				offset = 0
			}
			size := count
			if clamp > 0 {
				size = min(size, clamp)
			}
			var out []string
			if offset < len(items) {
				out = slices.Clone(items[offset:min(offset+size, len(items))])
			}
			p := Page[string]{Items: out, Offset: offset, Total: -1}
			if !noTotal {
				p.Total = len(items)
				if lying {
					p.Total = max(p.Total+int(lie), 0)
				}
			}
			return p, nil
		}
		var got []string
		yielded := map[string]bool{}
		err := walk(context.Background(), "teams.members", "members", fetch, func(s string) string { return s }, func(batch []string) error {
			for _, id := range batch {
				if yielded[id] {
					t.Errorf("id %q yielded twice", id)
				}
				if !ever[id] {
					t.Errorf("id %q never existed", id)
				}
				yielded[id] = true
			}
			got = append(got, batch...)
			return nil
		})

		honest := !ignoreOffset && !lying
		if !honest {
			return // only termination and no duplicates are promised
		}
		if len(muts) == 0 || calls < minKey(muts) {
			// Nothing changed while it was read: everything, in order. But
			// without a total, a page shorter than asked for is the end.
			if err != nil {
				t.Fatalf("stable listing: %v", err)
			}
			want := items
			if noTotal && clamp > 0 && clamp < PageSize {
				want = items[:min(clamp, len(items))]
			}
			if !slices.Equal(got, want) && (len(got) != 0 || len(want) != 0) {
				t.Fatalf("stable listing: yielded %d items, want %d in order", len(got), len(want))
			}
			return
		}
		if noTotal {
			return // changes cannot be noticed without a total
		}
		if err != nil {
			t.Fatalf("an honest listing that changes must still finish: %v", err)
		}
		triggered := 0
		for k := range muts {
			if k <= calls {
				triggered++
			}
		}
		if triggered >= MaxPasses {
			// Changes may then fall in every pass, and walk keeps the union
			// of its passes rather than never finishing: an item shifted
			// across a page boundary in each pass can be missed
			// (docs/reliability.md, "Whole listings, and paged listings").
			return
		}
		for id := range ever {
			if !strings.HasPrefix(id, "new") && !gone[id] && !yielded[id] {
				t.Fatalf("item %q existed throughout the walk but was not yielded", id)
			}
		}
	})
}

func minKey(m map[int]mutation) int {
	k := -1
	for key := range m {
		if k < 0 || key < k {
			k = key
		}
	}
	return k
}

// --- FuzzDecodeError ---------------------------------------------------------

var fuzzEndpoints = []string{"users.list", "users.listByStatus", "teams.listAll", "teams.members", "roles.getUsersInRole", "roles.list", "me", "info", "users.create"}

func FuzzDecodeError(f *testing.F) {
	for _, b := range []string{
		body401, body403Mw, body403Handler, body400NotAllow, body400TeamGone, body400LastOwner, body400TOTP,
		body429, body400Invalid, body400UserGone, body404, bodyHTML502, "", "null", "[]", `"x"`, `{"error":[1,2]}`,
		`{"error":"a [b"}`, `{"error":"]"}`, `{"error":null,"message":"m"}`, "{\"error\":{\"x\":\"\xff\"}}",
	} {
		for _, code := range []int{400, 401, 403, 404, 408, 429, 500, 502, 503, 504} {
			f.Add(code, []byte(b), uint8(1), true, 10, 0, int64(1767225600123))
		}
	}
	f.Add(0, []byte("{}"), uint8(0), false, 0, 0, int64(0))
	f.Add(-1, []byte("{}"), uint8(2), true, -5, -5, int64(-1))
	f.Add(999, []byte(`{"errorType":"totp-required"}`), uint8(3), true, 1, 99, int64(1<<62))

	f.Fuzz(func(t *testing.T, code int, body []byte, ep uint8, withRL bool, limit, remaining int, resetMs int64) {
		endpoint := fuzzEndpoints[int(ep)%len(fuzzEndpoints)]
		var rl *RateLimit
		if withRL {
			rl = &RateLimit{Limit: limit, Remaining: remaining, ResetAt: time.UnixMilli(resetMs)}
		}
		e := newAPIError(http.MethodGet, endpoint, code, body, rl)
		c := e.Code()
		if c == codes.OK || c > codes.Unauthenticated {
			t.Fatalf("Code() = %v", c)
		}
		msg := e.Error()
		if msg == "" || !strings.HasPrefix(msg, "rocket.chat GET "+endpoint+": ") {
			t.Fatalf("Error() = %q", msg)
		}
		if !json.Valid(body) && e.Message != http.StatusText(code) {
			t.Fatalf("non-JSON body: Message = %q, want the status text", e.Message)
		}
		if c == codes.PermissionDenied && e.Permission != endpointPermissions[endpoint] {
			t.Fatalf("Permission = %q for %s", e.Permission, endpoint)
		}
		if c != codes.PermissionDenied && e.Permission != "" {
			t.Fatalf("Permission %q set on a %v error", e.Permission, c)
		}
		for _, err := range []error{e, fmt.Errorf("a: %w", fmt.Errorf("b: %w", e))} {
			st, ok := status.FromError(err)
			if !ok || st.Code() != c || status.Code(err) != c {
				t.Fatalf("status of %v = %v, want %v", err, st.Code(), c)
			}
			var d *v2.RateLimitDescription
			for _, det := range st.Details() {
				if x, ok := det.(*v2.RateLimitDescription); ok {
					d = x
				}
			}
			switch {
			case rl == nil && d != nil:
				t.Fatal("rate-limit detail without headers")
			case rl != nil && d == nil:
				t.Fatal("rate-limit headers but no detail")
			case d != nil:
				over := code == http.StatusTooManyRequests
				if over != (d.GetStatus() == v2.RateLimitDescription_STATUS_OVERLIMIT) {
					t.Fatalf("status %d gave %v", code, d.GetStatus())
				}
				if d.GetResetAt().AsTime().UnixMilli() != rl.ResetAt.UnixMilli() && rl.ResetAt.Year() > 0 && rl.ResetAt.Year() < 10000 {
					t.Fatalf("ResetAt %v, want %v", d.GetResetAt().AsTime(), rl.ResetAt)
				}
			}
		}
	})
}
