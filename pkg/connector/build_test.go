package connector

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestExternalLinks(t *testing.T) {
	for _, tc := range []struct {
		base, want string
	}{
		{base: "https://chat.example.com", want: "https://chat.example.com/admin/users/info/u%2F1"},
		{base: "https://example.com/chat", want: "https://example.com/chat/admin/users/info/u%2F1"},
	} {
		u, err := url.Parse(tc.base)
		if err != nil {
			t.Fatal(err)
		}
		if got := (externalBase{url: u}).link("admin/users/info", "u/1").GetUrl(); got != tc.want {
			t.Errorf("link under %s = %q, want %q", tc.base, got, tc.want)
		}
	}
	if (externalBase{}).link("admin/users/info", "u1") != nil {
		t.Error("the zero externalBase (http workspaces) must build no link")
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("名", 600) // 1,800 bytes
	for _, tc := range []struct {
		name, in string
		max      int
	}{
		{name: "short stays", in: "Alice", max: 1024},
		{name: "exactly at the limit stays", in: strings.Repeat("a", 1024), max: 1024},
		{name: "multi-byte cut at a character", in: long, max: 1024},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := clip(tc.in, tc.max)
			if len(tc.in) <= tc.max {
				if got != tc.in {
					t.Fatalf("changed a value within the limit")
				}
				return
			}
			if len(got) > tc.max || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") ||
				!strings.HasPrefix(tc.in, strings.TrimSuffix(got, "…")) {
				t.Fatalf("clip gave %d bytes, valid=%v", len(got), utf8.ValidString(got))
			}
		})
	}
}
