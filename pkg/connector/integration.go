package connector

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// nonHumanSyncers are the syncers of the non-human identity types this
// connector offers: webhook integrations and OAuth apps. A connector without
// credentials (the capabilities command's) offers all of them; a configured
// one those the token's user can list (optionalTypesToRegister).
func (c *Connector) nonHumanSyncers(ctx context.Context) []connectorbuilder.ResourceSyncerV2 {
	offered := c.optionalTypesToRegister(ctx)
	var out []connectorbuilder.ResourceSyncerV2
	if offered[incomingWebhookResourceType.GetId()] {
		out = append(out, &integrationSyncer{c: c, rt: incomingWebhookResourceType, kind: client.IntegrationIncoming})
	}
	if offered[outgoingWebhookResourceType.GetId()] {
		out = append(out, &integrationSyncer{c: c, rt: outgoingWebhookResourceType, kind: client.IntegrationOutgoing})
	}
	if offered[oauthAppResourceType.GetId()] {
		out = append(out, &oauthAppSyncer{c: c})
	}
	return out
}

// integrationSyncer lists the webhook integrations of one kind. Each is a
// secret (its token) bound to the account it posts as: the SecretTrait's
// identity is that account, its creator the user who set it up. The token
// itself is never read (client.Integration has no field for it).
type integrationSyncer struct {
	c    *Connector
	rt   *v2.ResourceType
	kind string // client.IntegrationIncoming or client.IntegrationOutgoing
}

func (s *integrationSyncer) ResourceType(context.Context) *v2.ResourceType {
	return s.c.optionalResourceType(s.rt)
}

// List returns one page of the integrations of the syncer's kind, from one
// integrations.list call (count=0) for the whole listing.
func (s *integrationSyncer) List(ctx context.Context, _ *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	if err := s.c.configured(); err != nil {
		return nil, nil, err
	}
	cov, _, err := s.c.optionalCoverage(ctx, s.rt)
	if err != nil {
		return nil, nil, err
	}
	o, _ := optionalTypeByID(s.rt.GetId())
	l := s.c.integrationsListing(o, s.kind)
	items, next, err := l.page(ctx, s.c.shared(ctx, opts), decodeToken(ctx, opts.PageToken.Token, readCursor.valid))
	if err != nil {
		return nil, nil, err
	}
	base := s.c.httpsBase()
	out := make([]*v2.Resource, 0, len(items))
	other := 0
	for i := range items {
		if items[i].Type != s.kind {
			// A server that ignores the type filter lists both kinds;
			// the other kind is the other syncer's.
			other++
			continue
		}
		r, err := integrationResource(&items[i], cov, base)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	if other > 0 {
		ctxzap.Extract(ctx).Debug("rocket.chat ignored integrations.list's type filter; integrations of the other kind skipped",
			zap.String("listing", o.what), zap.Int("skipped", other))
	}
	return out, &resource.SyncOpResults{NextPageToken: encodeToken(next)}, nil
}

// Entitlements: an integration grants nothing; the type says so to the SDK.
func (s *integrationSyncer) Entitlements(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

// Grants: the account an integration posts as is its SecretTrait identity.
func (s *integrationSyncer) Grants(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

// integrationsListing reads integrations.list for one kind (o's). It is
// offset paginated: count=0 reads it whole in one call, as the other
// listings do.
func (c *Connector) integrationsListing(o optionalType, kind string) *listing[client.Integration] {
	return &listing[client.Integration]{
		key:      joinKey("integrations", kind),
		what:     o.what,
		endpoint: "integrations.list",
		id:       func(it client.Integration) string { return it.ID },
		fetch: func(ctx context.Context, offset, count int) (client.Page[client.Integration], error) {
			p, err := c.client.IntegrationsPage(ctx, kind, offset, count)
			if status.Code(err) == codes.PermissionDenied {
				return p, optionalRefusal(o, "integrations.list", err)
			}
			return p, syncError("listing "+o.what, err)
		},
	}
}

// optionalRefusal explains a 403 on an optional listing: the token's user
// lost the permission between the check and the listing.
func optionalRefusal(o optionalType, endpoint string, err error) error {
	return status.Errorf(codes.PermissionDenied, "listing %s: Rocket.Chat refused %s (%v): the token's user needs %s",
		o.what, endpoint, err, o.howToList())
}

// Credential kinds of the integrations' SecretTrait.
const (
	incomingWebhookSecret = "rocketchat.incoming_webhook_token"
	outgoingWebhookSecret = "rocketchat.outgoing_webhook_token"
)

func userResourceID(id string) *v2.ResourceId {
	return v2.ResourceId_builder{ResourceType: userResourceType.GetId(), Resource: id}.Build()
}

// integrationResource turns an integration into a secret resource whose
// identity is the account it posts as.
func integrationResource(it *client.Integration, cov coverage, base externalBase) (*v2.Resource, error) {
	rt, detail, page := incomingWebhookResourceType, incomingWebhookSecret, "admin/integrations/edit/incoming"
	if it.Type == client.IntegrationOutgoing {
		rt, detail, page = outgoingWebhookResourceType, outgoingWebhookSecret, "admin/integrations/edit/outgoing"
	}
	traitOpts := []resource.SecretTraitOption{
		resource.WithSecretType(v2.SecretTrait_CREDENTIAL_TYPE_STATIC_SECRET),
		resource.WithSecretDetail(detail),
	}
	if it.UserID != "" {
		traitOpts = append(traitOpts, resource.WithSecretIdentityID(userResourceID(it.UserID)))
	}
	if it.CreatedBy.ID != "" {
		traitOpts = append(traitOpts, resource.WithSecretCreatedByID(userResourceID(it.CreatedBy.ID)))
	}
	resourceStatus, statusDetail := v2.Status_RESOURCE_STATUS_ENABLED, ""
	if !it.Enabled {
		resourceStatus, statusDetail = v2.Status_RESOURCE_STATUS_DISABLED, "disabled"
	}
	opts := []resource.ResourceOption{
		resource.WithResourceStatus(resourceStatus, statusDetail),
		resource.WithResourceProfile(integrationProfile(it, cov)),
		resource.WithDescription(clip(integrationDescription(it), maxDescription)),
	}
	opts = append(opts, base.identity(it.ID, it.CreatedAt, page, it.ID)...)
	r, err := resource.NewSecretResource(clip(nameOrID(it.Name, it.ID), maxDisplayName), rt, it.ID, traitOpts, opts...)
	if err != nil {
		return nil, fmt.Errorf("building integration %s: %w", it.ID, err)
	}
	return r, nil
}

// integrationProfile is what an access review shows of an integration.
func integrationProfile(it *client.Integration, cov coverage) map[string]any {
	p := map[string]any{
		"integration_id": it.ID,
		profileKeyName:   it.Name,
		profileKeyType:   it.Type,
		"enabled":        it.Enabled,
		"script_enabled": it.ScriptEnabled,
		"script_runs":    it.ScriptRuns(),
	}
	setText(p, "posts_as_user_id", it.UserID)
	setText(p, "posts_as_username", it.Username)
	setText(p, "created_by_id", it.CreatedBy.ID)
	setText(p, "created_by_username", it.CreatedBy.Username)
	setTime(p, "created_at", it.CreatedAt)
	if len(it.Channels) > 0 {
		p["channels"] = anyList(it.Channels)
	}
	if it.ScriptError {
		p["script_error"] = true
	}
	if it.Type == client.IntegrationOutgoing {
		setText(p, "event", it.Event)
		targets := make([]string, 0, len(it.URLs))
		for _, u := range it.URLs {
			targets = append(targets, redactURL(u))
		}
		p["target_urls"] = anyList(targets)
		p["impersonate_user"] = it.ImpersonateUser
	}
	if cov == coverOwn {
		p["listing_scope"] = "own"
	}
	return p
}

// integrationDescription says in a line what the integration does and as whom.
func integrationDescription(it *client.Integration) string {
	as := "@" + it.Username
	if it.Username == "" {
		as = "its account"
	}
	var b strings.Builder
	if it.Type == client.IntegrationOutgoing {
		hosts := make([]string, 0, len(it.URLs))
		for _, u := range it.URLs {
			if pu, err := url.Parse(u); err == nil && pu.Host != "" {
				hosts = append(hosts, pu.Host)
			}
		}
		b.WriteString("Outgoing webhook")
		if it.Event != "" {
			fmt.Fprintf(&b, " on %s", it.Event)
		}
		if len(hosts) > 0 {
			fmt.Fprintf(&b, ": sends to %s", strings.Join(hosts, ", "))
		}
		fmt.Fprintf(&b, "; answers are posted as %s", as)
		if it.ImpersonateUser {
			b.WriteString(" or, impersonating, as the user who triggered it")
		}
	} else {
		fmt.Fprintf(&b, "Incoming webhook: whoever holds its URL posts as %s", as)
		if len(it.Channels) > 0 {
			fmt.Fprintf(&b, " to %s", strings.Join(it.Channels, ", "))
		}
	}
	if it.ScriptRuns() {
		b.WriteString("; runs a script")
	}
	if !it.Enabled {
		b.WriteString(" (disabled)")
	}
	return b.String()
}

func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// redactURL keeps where a target URL points and masks what may be a
// credential in it: a user name and password, query values, and path
// segments that look like tokens (webhook receivers often put their secret
// in the path, as in /services/T0/B0/<secret>). A URL that does not parse is
// not shown at all.
func redactURL(raw string) string {
	const mask = "REDACTED"
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "(not a URL; not shown)"
	}
	if u.User != nil {
		u.User = url.User(mask)
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{mask}
		}
		u.RawQuery = q.Encode()
	}
	u.Fragment, u.RawFragment = "", ""
	segments := strings.Split(u.Path, "/")
	for i, seg := range segments {
		if looksLikeToken(seg) {
			segments[i] = mask
		}
	}
	u.Path, u.RawPath = strings.Join(segments, "/"), ""
	return u.String()
}

// looksLikeToken: 16 or more characters of letters, digits, '-' and '_',
// mixing letters and digits.
func looksLikeToken(s string) bool {
	if len(s) < 16 {
		return false
	}
	letters, digits := false, false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case unicode.IsLetter(r) && r < unicode.MaxASCII:
			letters = true
		case r == '-' || r == '_':
		default:
			return false
		}
	}
	return letters && digits
}
