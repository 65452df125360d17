package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// listing is an in-memory offset-paginated endpoint. Hooks let a test change
// the data between fetches, as other admins would during a sync.
type listing struct {
	items []string
	// clamp caps a page below the requested count (0: no cap).
	clamp int
	// noTotal leaves the total out of every page.
	noTotal bool
	// totalFn overrides the reported total.
	totalFn func(call int) int
	// ignoreOffset serves the first page for every offset.
	ignoreOffset bool
	// before runs before fetch number call (1-based) is answered.
	before func(l *listing, call int)
	// pageFn overrides the answer entirely.
	pageFn func(call, offset, count int) (Page[string], error)

	calls   int
	offsets []int
	maxCall int // a fetch beyond this fails the test (0: 10000)
	t       *testing.T
}

func (l *listing) fetch(_ context.Context, offset, count int) (Page[string], error) {
	l.calls++
	l.offsets = append(l.offsets, offset)
	limit := l.maxCall
	if limit == 0 {
		limit = 10000
	}
	if l.calls > limit {
		l.t.Fatalf("walk made more than %d fetches: it loops", limit)
	}
	if count != PageSize {
		l.t.Errorf("fetch asked for %d items, want PageSize %d", count, PageSize)
	}
	if l.before != nil {
		l.before(l, l.calls)
	}
	if l.pageFn != nil {
		return l.pageFn(l.calls, offset, count)
	}
	if l.ignoreOffset {
		offset = 0
	}
	n := count
	if l.clamp > 0 {
		n = min(n, l.clamp)
	}
	var items []string
	if offset < len(l.items) {
		items = slices.Clone(l.items[offset:min(offset+n, len(l.items))])
	}
	p := Page[string]{Items: items, Offset: offset, Total: -1}
	if !l.noTotal {
		p.Total = len(l.items)
		if l.totalFn != nil {
			p.Total = l.totalFn(l.calls)
		}
	}
	return p, nil
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	return out
}

// collect runs walk over l and returns what it yielded, failing on duplicates.
func collect(t *testing.T, ctx context.Context, l *listing) ([]string, error) {
	t.Helper()
	l.t = t
	var got []string
	seen := map[string]bool{}
	err := walk(ctx, "users.list", "users", l.fetch, func(s string) string { return s }, func(batch []string) error {
		if len(batch) == 0 {
			t.Error("yield called with an empty batch")
		}
		for _, id := range batch {
			if seen[id] {
				t.Errorf("id %q yielded twice", id)
			}
			seen[id] = true
		}
		got = append(got, batch...)
		return nil
	})
	return got, err
}

func observed() (context.Context, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	return ctxzap.ToContext(context.Background(), zap.New(core)), logs
}

func warned(logs *observer.ObservedLogs, substr string) bool {
	for _, e := range logs.FilterLevelExact(zapcore.WarnLevel).All() {
		if strings.Contains(e.Message, substr) {
			return true
		}
	}
	return false
}

func containsAll(t *testing.T, got, want []string) {
	t.Helper()
	have := map[string]bool{}
	for _, id := range got {
		have[id] = true
	}
	for _, id := range want {
		if !have[id] {
			t.Errorf("item %q that existed throughout the walk was not yielded", id)
		}
	}
}

func TestWalkStableListing(t *testing.T) {
	tests := []struct {
		n, clamp, wantCalls int
	}{
		{0, 0, 1},
		{1, 0, 1},
		{99, 0, 1},
		{100, 0, 1},
		{101, 0, 2},
		{200, 0, 2},
		{250, 0, 3},
		{1000, 0, 10},
		{250, 30, 9}, // the server serves fewer than asked
		{250, 1, 250},
		{100, 50, 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d clamp=%d", tt.n, tt.clamp), func(t *testing.T) {
			ctx, logs := observed()
			l := &listing{items: ids("u", tt.n), clamp: tt.clamp}
			got, err := collect(t, ctx, l)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, l.items) && (len(got) != 0 || len(l.items) != 0) {
				t.Fatalf("got %d items, want %d in order", len(got), len(l.items))
			}
			if l.calls != tt.wantCalls {
				t.Errorf("%d fetches (offsets %v), want %d", l.calls, l.offsets, tt.wantCalls)
			}
			for i := 1; i < len(l.offsets); i++ {
				if l.offsets[i] <= l.offsets[i-1] {
					t.Errorf("offsets not increasing: %v", l.offsets)
					break
				}
			}
			if n := logs.FilterLevelExact(zapcore.WarnLevel).Len(); n != 0 {
				t.Errorf("%d warnings on a stable listing", n)
			}
		})
	}
}

func TestWalkPageOffsetsFollowReturnedLength(t *testing.T) {
	l := &listing{items: ids("u", 250)}
	if _, err := collect(t, context.Background(), l); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.offsets, []int{0, 100, 200}) {
		t.Errorf("offsets %v", l.offsets)
	}
	c := &listing{items: ids("u", 100), clamp: 40}
	if _, err := collect(t, context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.offsets, []int{0, 40, 80}) {
		t.Errorf("clamped offsets %v", c.offsets)
	}
}

func TestWalkInsertsDuringWalk(t *testing.T) {
	original := ids("u", 250)
	tests := []struct {
		name   string
		before func(l *listing, call int)
	}{
		{"5 inserted at the front after page 1", func(l *listing, call int) {
			if call == 2 {
				l.items = append(ids("new", 5), l.items...)
			}
		}},
		{"1 inserted before the offset after page 2", func(l *listing, call int) {
			if call == 3 {
				l.items = slices.Insert(l.items, 150, "new-a")
			}
		}},
		{"inserts after page 1 and after page 2", func(l *listing, call int) {
			if call == 2 || call == 3 {
				l.items = slices.Insert(l.items, 10, fmt.Sprintf("new-%d", call))
			}
		}},
		{"insert behind the offset (no shift)", func(l *listing, call int) {
			if call == 2 {
				l.items = append(l.items, "new-end")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, logs := observed()
			l := &listing{items: slices.Clone(original), before: tt.before}
			got, err := collect(t, ctx, l)
			if err != nil {
				t.Fatal(err)
			}
			containsAll(t, got, original)
			containsAll(t, got, l.items) // the final listing was read whole
			if !warned(logs, "changed while it was read") {
				t.Error("no warning about the re-read")
			}
		})
	}
}

func TestWalkDeletesDuringWalk(t *testing.T) {
	original := ids("u", 250)
	l := &listing{items: slices.Clone(original), before: func(l *listing, call int) {
		if call == 2 {
			l.items = l.items[5:] // five users deleted from the front
		}
	}}
	got, err := collect(t, context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	containsAll(t, got, original[5:])
}

func TestWalkKeepsChanging(t *testing.T) {
	l := &listing{items: ids("u", 250), before: func(l *listing, call int) {
		if call > 1 {
			l.items = append([]string{fmt.Sprintf("new-%d", call)}, l.items...)
		}
	}, maxCall: 100}
	ctx, logs := observed()
	got, err := collect(t, ctx, l)
	if err != nil {
		t.Fatalf("a busy listing must still finish: %v", err)
	}
	if l.calls > MaxPasses*4 {
		t.Errorf("%d fetches for %d passes of 3 pages", l.calls, MaxPasses)
	}
	// Everyone who existed throughout is there, each once.
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("%s yielded twice", id)
		}
		seen[id] = true
	}
	for _, id := range ids("u", 250) {
		if !seen[id] {
			t.Errorf("%s existed throughout but is missing", id)
		}
	}
	if !warned(logs, "kept changing while it was read") {
		t.Error("no warning that the listing kept changing")
	}
}

func TestWalkEmptyPageBeforeTotal(t *testing.T) {
	t.Run("less than a page missing: kept with a warning, in one pass", func(t *testing.T) {
		ctx, logs := observed()
		// 150 items, but the server counts 200 (e.g. it counts users it hides).
		l := &listing{items: ids("u", 150), totalFn: func(int) int { return 200 }, maxCall: 50}
		got, err := collect(t, ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, l.items) {
			t.Fatalf("got %d items", len(got))
		}
		if warned(logs, "ended before its total; reading it again") {
			t.Error("read again although less than a page is missing")
		}
		if !warned(logs, "returns a few items fewer than its total") {
			t.Error("no warning about keeping a short listing")
		}
		// 0, 100, then the empty page at 150 asked once more.
		if want := []int{0, 100, 150, 150}; !slices.Equal(l.offsets, want) {
			t.Errorf("offsets %v, want %v", l.offsets, want)
		}
	})

	t.Run("whole pages missing in every pass: refuses a partial listing", func(t *testing.T) {
		ctx, logs := observed()
		// 150 items served, but 260 counted: more than a page is missing.
		l := &listing{items: ids("u", 150), totalFn: func(int) int { return 260 }, maxCall: 50}
		_, err := collect(t, ctx, l)
		if status.Code(err) != codes.Aborted || !strings.Contains(err.Error(), "stops after 150 of 260 items") ||
			!strings.Contains(err.Error(), "refusing to report a partial listing") {
			t.Fatalf("got %v, want an Aborted refusal", err)
		}
		if !warned(logs, "ended before its total; reading it again") {
			t.Error("no warning about the re-reads")
		}
		var want []int
		for range MaxPasses {
			want = append(want, 0, 100, 150, 150)
		}
		if !slices.Equal(l.offsets, want) {
			t.Errorf("offsets %v, want %v", l.offsets, want)
		}
	})

	t.Run("a passing glitch: the retry brings the page", func(t *testing.T) {
		ctx, logs := observed()
		l := &listing{items: ids("u", 250)}
		l.pageFn = func(call, offset, count int) (Page[string], error) {
			if call == 2 { // one empty answer at offset 100
				return Page[string]{Offset: offset, Total: 250}, nil
			}
			end := min(offset+count, 250)
			return Page[string]{Items: slices.Clone(l.items[offset:end]), Offset: offset, Total: 250}, nil
		}
		got, err := collect(t, ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, l.items) {
			t.Fatalf("got %d items", len(got))
		}
		if !slices.Equal(l.offsets, []int{0, 100, 100, 200}) {
			t.Errorf("offsets %v", l.offsets)
		}
		if logs.FilterLevelExact(zapcore.WarnLevel).Len() != 0 {
			t.Error("a glitch the retry fixed needs no warning")
		}
	})

	t.Run("items removed meanwhile", func(t *testing.T) {
		l := &listing{items: ids("u", 250), before: func(l *listing, call int) {
			if call == 3 {
				l.items = l.items[:190]
			}
		}}
		got, err := collect(t, context.Background(), l)
		if err != nil {
			t.Fatal(err)
		}
		containsAll(t, got, ids("u", 190))
	})
}

func TestWalkWithoutTotal(t *testing.T) {
	for _, tt := range []struct {
		n           int
		wantOffsets []int
	}{
		{230, []int{0, 100, 200}}, // ends on a short page
		{200, []int{0, 100, 200}}, // ends on an empty page
		{0, []int{0}},
	} {
		t.Run(fmt.Sprintf("honest server, %d items", tt.n), func(t *testing.T) {
			l := &listing{items: ids("u", tt.n), noTotal: true}
			got, err := collect(t, context.Background(), l)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, l.items) && (len(got) != 0 || len(l.items) != 0) {
				t.Fatalf("got %d items", len(got))
			}
			if !slices.Equal(l.offsets, tt.wantOffsets) {
				t.Errorf("offsets %v, want %v", l.offsets, tt.wantOffsets)
			}
		})
	}

	for _, n := range []int{1, 50, 100, 250} {
		t.Run(fmt.Sprintf("server ignoring offset, %d items", n), func(t *testing.T) {
			l := &listing{items: ids("u", n), noTotal: true, ignoreOffset: true, maxCall: 100}
			got, err := collect(t, context.Background(), l)
			if n < PageSize {
				// One short page: as complete as an honest server's.
				if err != nil || len(got) != n || l.calls != 1 {
					t.Fatalf("err %v, %d items after %d fetches", err, len(got), l.calls)
				}
				return
			}
			if status.Code(err) != codes.Aborted || !strings.Contains(err.Error(), "refusing to loop") {
				t.Fatalf("err = %v, want an Aborted refusing-to-loop error", err)
			}
			if l.calls != 2 {
				t.Errorf("%d fetches, want 2", l.calls)
			}
			if len(got) != PageSize {
				t.Errorf("yielded %d", len(got))
			}
		})
	}
}

func TestWalkServerIgnoringOffsetWithTotal(t *testing.T) {
	l := &listing{items: ids("u", 10000), ignoreOffset: true, maxCall: 1000}
	got, err := collect(t, context.Background(), l)
	if status.Code(err) != codes.Aborted || !strings.Contains(err.Error(), "does the server ignore offset?") {
		t.Fatalf("err = %v after %d fetches having yielded %d of %d items, want an Aborted refusal", err, l.calls, len(got), len(l.items))
	}
	if l.calls != 2 {
		t.Errorf("%d fetches to notice that the second page repeats the first", l.calls)
	}
}

func TestWalkErrors(t *testing.T) {
	boom := errors.New("boom")

	t.Run("fetch error propagates", func(t *testing.T) {
		l := &listing{items: ids("u", 300)}
		l.pageFn = func(call, offset, count int) (Page[string], error) {
			if call == 2 {
				return Page[string]{}, fmt.Errorf("page 2: %w", boom)
			}
			return Page[string]{Items: slices.Clone(l.items[offset:min(offset+count, 300)]), Offset: offset, Total: 300}, nil
		}
		got, err := collect(t, context.Background(), l)
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if len(got) != 100 || l.calls != 2 {
			t.Errorf("yielded %d after %d fetches", len(got), l.calls)
		}
	})

	t.Run("fetch error on the first page", func(t *testing.T) {
		l := &listing{pageFn: func(int, int, int) (Page[string], error) { return Page[string]{}, boom }}
		if _, err := collect(t, context.Background(), l); !errors.Is(err, boom) || l.calls != 1 {
			t.Fatalf("err = %v after %d calls", err, l.calls)
		}
	})

	t.Run("yield error propagates and stops the walk", func(t *testing.T) {
		l := &listing{items: ids("u", 300), t: t}
		batches := 0
		err := walk(context.Background(), "users.list", "users", l.fetch, func(s string) string { return s }, func([]string) error {
			batches++
			if batches == 2 {
				return boom
			}
			return nil
		})
		if !errors.Is(err, boom) || l.calls != 2 {
			t.Fatalf("err = %v after %d fetches", err, l.calls)
		}
	})
}

func TestWalkSkipsDuplicatesAndEmptyIDs(t *testing.T) {
	ctx, logs := observed()
	pages := [][]string{{"a", "b", "a", ""}, {"b", "c", "d"}}
	l := &listing{pageFn: func(call, offset, _ int) (Page[string], error) {
		if call > len(pages) {
			return Page[string]{Offset: offset, Total: 6}, nil
		}
		return Page[string]{Items: pages[call-1], Offset: offset, Total: 6}, nil
	}}
	got, err := collect(t, ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("got %v", got)
	}
	if !warned(logs, "without an id") {
		t.Error("no warning for the item without an id")
	}
}

func TestWalkContextIsPassedToFetch(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "v")
	var saw bool
	err := walk(ctx, "teams.listAll", "teams", func(ctx context.Context, _, _ int) (Page[string], error) {
		saw = ctx.Value(key{}) == "v"
		return Page[string]{Total: 0}, nil
	}, func(s string) string { return s }, func([]string) error { return nil })
	if err != nil || !saw {
		t.Fatalf("err %v, ctx passed %v", err, saw)
	}
}

func stepPage(total int, items ...string) Page[string] {
	return Page[string]{Items: items, Total: total}
}

// TestStep checks each rule of the paging policy on one page, with the
// cursor and the next one going through JSON as page tokens carry them.
func TestStep(t *testing.T) {
	all := ids("u", 300)
	tests := []struct {
		name      string
		cur       PageCursor
		page      Page[string]
		wantItems []string
		wantNext  *PageCursor
		wantErr   string // substring of an Aborted error
		wantWarn  string // substring of a warning; "" for none
	}{
		{name: "first page, more to come",
			cur: PageCursor{}, page: stepPage(250, all[:100]...),
			wantItems: all[:100], wantNext: &PageCursor{Offset: 100, Total: 250, Head: "u0000"}},
		{name: "a middle page",
			cur: PageCursor{Offset: 100, Total: 250, Head: "u0000"}, page: stepPage(250, all[100:200]...),
			wantItems: all[100:200], wantNext: &PageCursor{Offset: 200, Total: 250, Head: "u0100"}},
		{name: "the offset reaches the total",
			cur: PageCursor{Offset: 200, Total: 250, Head: "u0100"}, page: stepPage(250, all[200:250]...),
			wantItems: all[200:250]},
		{name: "an empty listing",
			cur: PageCursor{}, page: stepPage(0)},
		{name: "a short page with a total goes on (the server serves fewer than asked)",
			cur: PageCursor{}, page: stepPage(250, all[:30]...),
			wantItems: all[:30], wantNext: &PageCursor{Offset: 30, Total: 250, Head: "u0000"}},
		{name: "no total, a full page goes on",
			cur: PageCursor{}, page: stepPage(-1, all[:100]...),
			wantItems: all[:100], wantNext: &PageCursor{Offset: 100, Total: -1, Head: "u0000"}},
		{name: "no total, a short page ends",
			cur: PageCursor{Offset: 100, Total: -1, Head: "u0000"}, page: stepPage(-1, all[100:130]...),
			wantItems: all[100:130]},
		{name: "no total, an empty page ends",
			cur: PageCursor{Offset: 100, Total: -1, Head: "u0000"}, page: stepPage(-1)},
		{name: "the total changed: a new pass from 0, the page's items kept",
			cur: PageCursor{Offset: 100, Total: 250, Head: "u0000"}, page: stepPage(251, all[100:200]...),
			wantItems: all[100:200], wantNext: &PageCursor{Total: 251, Pass: 1},
			wantWarn: "changed while it was read; reading it again from the start"},
		{name: "the total changed on the last page",
			cur: PageCursor{Offset: 200, Total: 250, Pass: 1, Head: "u0100"}, page: stepPage(249, all[200:249]...),
			wantItems: all[200:249], wantNext: &PageCursor{Total: 249, Pass: 2},
			wantWarn: "changed while it was read; reading it again from the start"},
		{name: "the total changed in the last pass: goes on with the new total",
			cur: PageCursor{Offset: 100, Total: 250, Pass: MaxPasses - 1, Head: "u0000"}, page: stepPage(260, all[100:200]...),
			wantItems: all[100:200], wantNext: &PageCursor{Offset: 200, Total: 260, Pass: MaxPasses - 1, Head: "u0100"},
			wantWarn: "kept changing while it was read"},
		{name: "a pass's first page sets its total",
			cur: PageCursor{Total: 250, Pass: 1}, page: stepPage(255, all[:100]...),
			wantItems: all[:100], wantNext: &PageCursor{Offset: 100, Total: 255, Pass: 1, Head: "u0000"}},
		{name: "an empty page before the total is asked once more",
			cur: PageCursor{Offset: 100, Total: 250, Head: "u0000"}, page: stepPage(250),
			wantNext: &PageCursor{Offset: 100, Total: 250, Head: "u0000", Retried: true}},
		{name: "the retry brings the page",
			cur: PageCursor{Offset: 100, Total: 250, Head: "u0000", Retried: true}, page: stepPage(250, all[100:200]...),
			wantItems: all[100:200], wantNext: &PageCursor{Offset: 200, Total: 250, Head: "u0100"}},
		{name: "empty again, fewer than a page missing: kept with a warning",
			cur: PageCursor{Offset: 200, Total: 250, Head: "u0100", Retried: true}, page: stepPage(250),
			wantWarn: "returns a few items fewer than its total"},
		{name: "empty again, whole pages missing: a new pass",
			cur: PageCursor{Offset: 100, Total: 250, Head: "u0000", Retried: true}, page: stepPage(250),
			wantNext: &PageCursor{Total: 250, Pass: 1},
			wantWarn: "ended before its total; reading it again from the start"},
		{name: "empty again, whole pages missing in the last pass: refused",
			cur: PageCursor{Offset: 100, Total: 250, Pass: MaxPasses - 1, Head: "u0000", Retried: true}, page: stepPage(250),
			wantErr: "users.list (users): the listing stops after 100 of 250 items, in each of 3 passes; refusing to report a partial listing"},
		{name: "an empty page whose total moved: a new pass, not a retry",
			cur: PageCursor{Offset: 200, Total: 250, Head: "u0100"}, page: stepPage(200),
			wantNext: &PageCursor{Total: 200, Pass: 1},
			wantWarn: "changed while it was read"},
		{name: "a repeated first id: the server ignores offset",
			cur: PageCursor{Offset: 100, Total: 250, Head: "u0000"}, page: stepPage(250, all[:100]...),
			wantErr: "users.list (users): the page at offset 100 repeats the previous page (does the server ignore offset?)"},
		{name: "a repeated first id without a total",
			cur: PageCursor{Offset: 100, Total: -1, Head: "u0000"}, page: stepPage(-1, all[:100]...),
			wantErr: "refusing to loop"},
		{name: "a repeated first id after the last pass's total moved: inserts explain it",
			cur: PageCursor{Offset: 100, Total: 250, Pass: MaxPasses - 1, Head: "u0000"}, page: stepPage(350, all[:100]...),
			wantItems: all[:100], wantNext: &PageCursor{Offset: 200, Total: 350, Pass: MaxPasses - 1, Head: "u0000"},
			wantWarn: "kept changing while it was read"},
		{name: "items without an id are dropped, and still move the offset",
			cur: PageCursor{}, page: stepPage(10, "", "a", "", "b"),
			wantItems: []string{"a", "b"}, wantNext: &PageCursor{Offset: 4, Total: 10, Head: "a"},
			wantWarn: "without an id"},
		{name: "a page of items without an id",
			cur: PageCursor{Offset: 4, Total: 10, Head: "a"}, page: stepPage(10, "", ""),
			wantNext: &PageCursor{Offset: 6, Total: 10}, wantWarn: "without an id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, logs := observed()
			cur := jsonRoundTrip(t, tt.cur)
			items, next, err := Step(ctx, "users.list", "users", cur, tt.page, func(s string) string { return s })
			if tt.wantErr != "" {
				if status.Code(err) != codes.Aborted || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want Aborted with %q", err, tt.wantErr)
				}
				if items != nil || next != nil {
					t.Errorf("an error with items %v and next %+v", items, next)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(items, tt.wantItems) {
				t.Errorf("items %v, want %v", items, tt.wantItems)
			}
			switch {
			case next == nil && tt.wantNext == nil:
			case next == nil || tt.wantNext == nil:
				t.Errorf("next %+v, want %+v", next, tt.wantNext)
			default:
				if got := jsonRoundTrip(t, *next); got != *tt.wantNext {
					t.Errorf("next %+v, want %+v", got, *tt.wantNext)
				}
			}
			warnings := logs.FilterLevelExact(zapcore.WarnLevel)
			if tt.wantWarn == "" && warnings.Len() > 0 {
				t.Errorf("unexpected warning %q", warnings.All()[0].Message)
			}
			if tt.wantWarn != "" && !warned(logs, tt.wantWarn) {
				t.Errorf("no warning with %q", tt.wantWarn)
			}
		})
	}
}

// jsonRoundTrip passes c through JSON as a page token does, and checks it
// comes back the same.
func jsonRoundTrip(t *testing.T, c PageCursor) PageCursor {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var out PageCursor
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out != c {
		t.Fatalf("cursor %+v came back from %s as %+v", c, b, out)
	}
	return out
}

func TestPageCursorJSON(t *testing.T) {
	for _, tt := range []struct {
		cur  PageCursor
		want string
	}{
		{PageCursor{}, `{}`},
		{PageCursor{Total: -1}, `{"t":-1}`},
		{PageCursor{Offset: 100, Total: 250, Pass: 1, Head: "u1", Retried: true}, `{"o":100,"t":250,"r":1,"h":"u1","x":true}`},
	} {
		b, err := json.Marshal(tt.cur)
		if err != nil || string(b) != tt.want {
			t.Errorf("%+v encodes as %s (%v), want %s", tt.cur, b, err, tt.want)
		}
		jsonRoundTrip(t, tt.cur)
	}
}
