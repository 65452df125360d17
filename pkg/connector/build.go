package connector

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

// externalBase builds links to pages of the workspace's web UI; its zero
// value builds none.
type externalBase struct{ url *url.URL }

func (b externalBase) link(path string, id string) *v2.ExternalLink {
	if b.url == nil {
		return nil
	}
	u := *b.url
	// Path holds the decoded form and RawPath the escaped one, so an id is
	// escaped exactly once.
	u.Path = strings.TrimRight(u.Path, "/") + "/" + path + "/" + id
	u.RawPath = strings.TrimRight(b.url.EscapedPath(), "/") + "/" + path + "/" + url.PathEscape(id)
	return v2.ExternalLink_builder{Url: u.String()}.Build()
}

// identity returns the options every resource built here shares, in this
// order: its Rocket.Chat id (RawId), when it was created (when the API says),
// and a link to its page in the administration UI at path/pageID (when
// pageID is set and the workspace's URL is known).
func (b externalBase) identity(id string, createdAt time.Time, path, pageID string) []resource.ResourceOption {
	opts := []resource.ResourceOption{resource.WithAnnotation(&v2.RawId{Id: id})}
	if !createdAt.IsZero() {
		opts = append(opts, resource.WithResourceCreatedAt(createdAt))
	}
	if pageID != "" {
		if link := b.link(path, pageID); link != nil {
			opts = append(opts, resource.WithAnnotation(link))
		}
	}
	return opts
}

// nameOrID is a display name for records whose name may be blank.
func nameOrID(name, id string) string {
	if strings.TrimSpace(name) == "" {
		return id
	}
	return name
}

// Profile keys that several resource types share.
const (
	profileKeyName = "name"
	profileKeyType = "type"
)

// setText puts v in profile p under k, unless it is empty: an absent
// attribute reads better than an empty one.
func setText(p map[string]any, k, v string) {
	if v != "" {
		p[k] = v
	}
}

// setTime puts t in profile p under k (RFC 3339, UTC), unless it is zero.
func setTime(p map[string]any, k string, t time.Time) {
	if !t.IsZero() {
		p[k] = t.UTC().Format(time.RFC3339Nano)
	}
}

// Baton's limits on names and descriptions, in bytes.
const (
	maxDisplayName = 1024
	maxDescription = 2048
)

// clip shortens s to at most n bytes without splitting a character. Rocket.Chat
// allows longer names than Baton stores; the full value stays in the profile.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// grantedResource is the copy of a resource that its grants carry: its id and
// name. Every grant embeds it, and the full resource (profile included) is
// stored once in the c1z anyway; copying the profile into hundreds of
// thousands of grants only costs encoding time.
func grantedResource(r *v2.Resource) *v2.Resource {
	return v2.Resource_builder{Id: r.GetId(), DisplayName: r.GetDisplayName()}.Build()
}

// profileText is a string value of r's profile, "" when it has none.
func profileText(r *v2.Resource, key string) string {
	return r.GetProfile().GetFields()[key].GetStringValue()
}
