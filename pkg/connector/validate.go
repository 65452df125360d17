package connector

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Permissions that list the non-human identity types (integrations.list,
// oauth-apps.list), short names for client's table. Without them
// Rocket.Chat refuses those listings with a 403; the types are then not
// offered (see optionalTypes).
const (
	permManageIncoming    = client.PermManageIncomingIntegrations
	permManageOwnIncoming = client.PermManageOwnIncomingIntegrations
	permManageOutgoing    = client.PermManageOutgoingIntegrations
	permManageOwnOutgoing = client.PermManageOwnOutgoingIntegrations
	permManageOAuthApps   = client.PermManageOAuthApps
)

// registrationReuse is how long the check of the token made while
// ResourceSyncers registered the syncers stands in for the check of the
// Validate that follows it (the SDK validates right after it starts the
// connector).
const registrationReuse = 30 * time.Second

// validation is what Validate learned about the token and the server.
type validation struct {
	me            *client.Me
	permissions   map[string]bool // permissions the token's user holds globally
	usersEndpoint client.UsersEndpoint
	// broadcastListRoles hold view-broadcast-member-list, which the member
	// routes check in the room's scope: a room role counts there.
	broadcastListRoles roleSet

	// registered says which optional types ResourceSyncers offered; nil
	// while it has not decided. It is carried from each validation to the
	// next: the SDK asks for the syncers once, when it starts the connector.
	registered map[string]bool
	// fromRegistration marks the check ResourceSyncers made, at at; claimed
	// is set once a Validate has taken it over (forgetValidation).
	fromRegistration bool
	at               time.Time
	claimed          bool
	// stale makes the next validate ask the server again.
	stale bool
	// failure, when set, is all this validation holds: ResourceSyncers'
	// check failed, and the Validate that takes it over reports it.
	failure error
}

// validate checks the token and reads its permissions once per connector; a
// failure is retried on the next call, since it may have been transient. It
// does not judge the permissions: syncs and each provisioning operation need
// different ones.
func (c *Connector) validate(ctx context.Context) (*validation, error) {
	c.validateMu.Lock()
	defer c.validateMu.Unlock()
	if v := c.validated; v != nil && !v.stale {
		if v.failure == nil {
			return v, nil
		}
		if v.claimed {
			// The Validate that took over ResourceSyncers' failed check
			// reports its failure, as if it had made the check itself;
			// the next call asks again.
			v.stale = true
			return nil, v.failure
		}
	}
	if c.client == nil {
		return nil, status.Error(codes.FailedPrecondition, "rocket.chat connector is not configured")
	}
	v, err := c.checkToken(ctx)
	if err != nil {
		return nil, err
	}
	if prev := c.validated; prev != nil {
		v.registered = prev.registered
	}
	c.validated = v
	c.reportOptionalTypes(ctx, v)
	return v, nil
}

// forgetValidation makes the next validate ask the server again. The one
// exception is the check ResourceSyncers made moments before: the SDK
// validates right after registering the syncers, and that check is the one
// this Validate would make, so it is taken over instead of repeated (a sync
// still checks the token with one call to each endpoint).
func (c *Connector) forgetValidation() {
	c.validateMu.Lock()
	defer c.validateMu.Unlock()
	switch v := c.validated; {
	case v == nil:
	case v.fromRegistration && !v.claimed && time.Since(v.at) < registrationReuse:
		v.claimed = true
	default:
		v.stale = true
	}
}

func (c *Connector) checkToken(ctx context.Context) (*validation, error) {
	l := ctxzap.Extract(ctx)
	info, err := c.client.Info(ctx)
	switch {
	case status.Code(err) == codes.NotFound:
		// A proxy may expose only /api/v1. The version only picks the users
		// endpoint, and listing falls back on its own; me decides the rest.
		l.Warn("rocket.chat /api/info is not reachable (404); assuming a current server", zap.Error(err))
		info = &client.ServerInfo{}
	case err != nil:
		return nil, fmt.Errorf("checking that base-url is a Rocket.Chat server: %w", err)
	}
	me, err := c.client.Me(ctx)
	if err != nil {
		return nil, fmt.Errorf("checking the auth token: %w", err)
	}
	perms, err := c.client.ListPermissions(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the token's permissions: %w", err)
	}
	v := &validation{
		me:            me,
		permissions:   heldPermissions(me.Roles, perms),
		usersEndpoint: client.UsersEndpointFor(info.Version),
	}
	for _, p := range perms {
		if p.ID == client.PermViewBroadcastMemberList {
			v.broadcastListRoles = p.Roles
		}
	}

	if missing := v.missing(provisioningPermissions); len(missing) > 0 {
		l.Info("the token's user can sync but lacks permissions some provisioning needs; those operations will be refused until it has them",
			zap.Strings("missing_permissions", missing))
	}

	if !v.permissions[client.PermBypassRateLimit] {
		l.Info("the token's user is subject to Rocket.Chat's API rate limiter (it lacks api-bypass-rate-limit): "+
			"syncs are paced to the limit (10 calls per endpoint per minute by default). To speed them up, raise the limit under "+
			"Administration > Settings > Rate Limiter, or give the user a role with api-bypass-rate-limit.",
			zap.String("user", me.Username))
	}
	l.Debug("rocket.chat token validated",
		zap.String("user", me.Username), zap.String("server_version", info.Version),
		zap.String("users_endpoint", string(v.usersEndpoint)))
	return v, nil
}

// requireSync fails when the token's user cannot see the whole workspace:
// Rocket.Chat would not refuse, it would silently answer less. It also fails
// when the sync was asked for an optional type by name (a resource type
// filter) that the token's user cannot list: leaving out what was asked for
// would not be an answer.
func (c *Connector) requireSync(v *validation) error {
	needed := []string{client.PermViewDirectRoom, client.PermViewFullOtherUserInfo}
	if c.willSync(teamResourceType.GetId()) {
		needed = append(needed, client.PermViewAllTeams)
	}
	if c.roomsSelected() {
		// rooms.adminRooms refuses without view-room-administration, and
		// without view-c-room no public channel's members can be read:
		// the refusal is clearer before the sync starts.
		needed = append(needed, client.PermViewRoomAdministration, client.PermViewCRoom)
	}
	missing := v.missing(needed)
	if len(missing) > 0 {
		return status.Errorf(codes.PermissionDenied,
			"the token's user %q (%s) lacks %s, which a complete sync needs (without them Rocket.Chat silently returns partial data): "+
				"give the user the admin role, or a role that holds %s (Administration > Workspace > Permissions)",
			v.me.Username, v.me.ID, quoteAll(missing), strings.Join(missing, ", "))
	}
	if c.opts == nil || !c.opts.SyncFilterIsExplicit() {
		return nil
	}
	var refused []string
	for _, o := range optionalTypes {
		if c.opts.WillSyncResourceType(o.id()) && v.coverage(o.id()) == coverNone {
			refused = append(refused, fmt.Sprintf("%s (%s) needs %s", o.id(), o.what, o.howToList()))
		}
	}
	if len(refused) == 0 {
		return nil
	}
	return status.Errorf(codes.PermissionDenied,
		"the sync was asked for resource types the token's user %q (%s) cannot list: %s; give the user a role that holds the permission "+
			"(Administration > Workspace > Permissions), or leave the type out of the resource type filter",
		v.me.Username, v.me.ID, strings.Join(refused, "; "))
}

// missing returns the needed permissions the token's user does not hold.
func (v *validation) missing(needed []string) []string {
	var out []string
	for _, p := range needed {
		if !v.permissions[p] {
			out = append(out, p)
		}
	}
	return out
}

// roleSet is a few role names.
type roleSet []string

func (s roleSet) has(role string) bool { return slices.Contains(s, role) }

// heldPermissions is the set of permissions granted to any of roles.
func heldPermissions(roles []string, perms []client.Permission) map[string]bool {
	held := make(map[string]bool)
	for _, p := range perms {
		for _, r := range p.Roles {
			if slices.Contains(roles, r) {
				held[p.ID] = true
				break
			}
		}
	}
	return held
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// coverage is how much of an optional listing the token's user can read.
type coverage int

const (
	coverNone coverage = iota // Rocket.Chat refuses the listing
	coverOwn                  // it lists only what the token's user created
	coverAll
)

// optionalType is a resource type whose listing needs a permission a
// governance role may not hold. ResourceSyncers offers it only when the
// token's user can list it: the SDK syncs every type it is offered, and a
// type listed empty would read as "there are none".
type optionalType struct {
	rt *v2.ResourceType
	// what names the records in messages.
	what string
	// all lists every record; own, when not empty, only the token's
	// user's own.
	all, own string
}

func (o optionalType) id() string { return o.rt.GetId() }

// howToList names the permissions that list the type.
func (o optionalType) howToList() string {
	if o.own == "" {
		return o.all
	}
	return fmt.Sprintf("%s (all of them) or %s (only the ones it creates)", o.all, o.own)
}

var optionalTypes = []optionalType{
	{rt: incomingWebhookResourceType, what: "incoming webhooks", all: permManageIncoming, own: permManageOwnIncoming},
	{rt: outgoingWebhookResourceType, what: "outgoing webhooks", all: permManageOutgoing, own: permManageOwnOutgoing},
	{rt: oauthAppResourceType, what: "OAuth apps", all: permManageOAuthApps},
}

func optionalTypeByID(id string) (optionalType, bool) {
	for _, o := range optionalTypes {
		if o.id() == id {
			return o, true
		}
	}
	return optionalType{}, false
}

// coverage is how much of optional type id the token's user can list.
func (v *validation) coverage(id string) coverage {
	return coverageOf(id, v.permissions)
}

func coverageOf(id string, held map[string]bool) coverage {
	switch id {
	case incomingWebhookResourceType.GetId(), outgoingWebhookResourceType.GetId():
		in, out := integrationCoverage(held)
		if id == incomingWebhookResourceType.GetId() {
			return in
		}
		return out
	case oauthAppResourceType.GetId():
		if held[permManageOAuthApps] {
			return coverAll
		}
	}
	return coverNone
}

// integrationCoverage mirrors Rocket.Chat's
// mountIntegrationQueryBasedOnPermissions
// (apps/meteor/app/integrations/server/lib/mountQueriesBasedOnPermission.ts),
// which builds integrations.list's filter from the caller's global
// permissions, including its quirk: holding both manage-own-* permissions
// narrows both types to the caller's own integrations unless it holds both
// manage-* permissions, even a type it holds manage-* for. It returns the
// coverage of incoming, then of outgoing webhooks.
func integrationCoverage(held map[string]bool) (coverage, coverage) {
	allIn, allOut := held[permManageIncoming], held[permManageOutgoing]
	ownIn, ownOut := held[permManageOwnIncoming], held[permManageOwnOutgoing]
	switch {
	case allIn && allOut:
		return coverAll, coverAll
	case ownIn && ownOut:
		return coverOwn, coverOwn
	}
	pick := func(all, own bool) coverage {
		switch {
		case all:
			return coverAll
		case own:
			return coverOwn
		}
		return coverNone
	}
	return pick(allIn, ownIn), pick(allOut, ownOut)
}

// toListAll is the fewest permissions the token's user must be given for a
// complete listing of optional type id.
func (v *validation) toListAll(id string) []string {
	o, ok := optionalTypeByID(id)
	if !ok || v.coverage(id) == coverAll {
		return nil
	}
	tries := [][]string{{o.all}}
	if o.own != "" {
		tries = append(tries, []string{permManageIncoming, permManageOutgoing})
	}
	for _, add := range tries {
		held := maps.Clone(v.permissions)
		for _, p := range add {
			held[p] = true
		}
		if coverageOf(id, held) == coverAll {
			return slices.DeleteFunc(slices.Clone(add), func(p string) bool { return v.permissions[p] })
		}
	}
	return []string{o.all}
}

// optionalTypesToRegister decides which optional types ResourceSyncers
// offers. A connector without a client (the capabilities command's) offers
// them all: capabilities list every type the connector can sync. Otherwise
// the token is checked now, before any sync, and the types the token's user
// can list are offered; the SDK asks for the syncers once, when the
// connector starts, and lists every type it was offered. When the check
// fails, every type is offered (the failure is the Validate's to report, and
// a listing Rocket.Chat refuses fails loudly rather than looking empty).
func (c *Connector) optionalTypesToRegister(ctx context.Context) map[string]bool {
	all := make(map[string]bool, len(optionalTypes))
	for _, o := range optionalTypes {
		all[o.id()] = true
	}
	if c.client == nil || !slices.ContainsFunc(optionalTypes, func(o optionalType) bool { return c.willSync(o.id()) }) {
		return all
	}
	c.validateMu.Lock()
	defer c.validateMu.Unlock()
	v, fresh := c.validated, false
	if v == nil || v.stale || v.failure != nil {
		checked, err := c.checkToken(ctx)
		if err != nil {
			ctxzap.Extract(ctx).Warn("could not read the token's permissions while registering resource types; offering every type", zap.Error(err))
			c.validated = &validation{failure: err, fromRegistration: true, at: time.Now(), registered: all, usersEndpoint: client.UsersListByStatus}
			return all
		}
		checked.fromRegistration, checked.at = true, time.Now()
		v, fresh = checked, true
		c.validated = v
	}
	offered := make(map[string]bool, len(optionalTypes))
	for _, o := range optionalTypes {
		offered[o.id()] = v.coverage(o.id()) != coverNone
	}
	v.registered = offered
	if fresh {
		c.reportOptionalTypes(ctx, v)
	}
	return offered
}

// reportOptionalTypes logs, once per check of the token, which optional types
// this sync leaves out and which permission would add them, which it lists
// only in part, and where the types this process offered no longer match
// the token's permissions (a long-running connector offers the types it was
// started with).
func (c *Connector) reportOptionalTypes(ctx context.Context, v *validation) {
	var leftOut, leftOutIDs, toAdd, partial, partialIDs, gained, lost []string
	for _, o := range optionalTypes {
		id := o.id()
		if !c.willSync(id) {
			continue
		}
		cov := v.coverage(id)
		offered := cov != coverNone
		if v.registered != nil {
			offered = v.registered[id]
		}
		switch {
		case !offered && cov == coverNone:
			leftOut = append(leftOut, fmt.Sprintf("%s (%s) needs %s", id, o.what, o.howToList()))
			leftOutIDs = append(leftOutIDs, id)
			toAdd = append(toAdd, o.all)
		case !offered:
			gained = append(gained, id)
		case cov == coverNone:
			lost = append(lost, fmt.Sprintf("%s (%s needs %s)", id, o.what, o.howToList()))
		case cov == coverOwn:
			partial = append(partial, fmt.Sprintf("%s (to list them all, add %s)", id, strings.Join(v.toListAll(id), " and ")))
			partialIDs = append(partialIDs, id)
		}
	}
	l := ctxzap.Extract(ctx)
	user := zap.String("user", v.me.Username)
	if len(leftOut) > 0 {
		l.Info("resource types left out of the sync: the token's user lacks the Rocket.Chat permissions that list them, so they are not offered "+
			"at all (listed empty, they would read as \"there are none\"); to sync them, give the user a role that holds the permission: "+
			strings.Join(leftOut, "; "), user, zap.Strings("left_out", leftOutIDs), zap.Strings("permissions_to_add", toAdd))
	}
	if len(partial) > 0 {
		l.Warn("resource types listed only in part: Rocket.Chat shows the token's user only the ones it created: "+strings.Join(partial, "; "),
			user, zap.Strings("partial", partialIDs))
	}
	if len(gained) > 0 {
		l.Info("the token's user can now list resource types this connector left out when it started; restart the connector to sync them",
			user, zap.Strings("resource_types", gained))
	}
	if len(lost) > 0 {
		l.Warn("the token's user can no longer list resource types this connector offered when it started: listing them fails until the "+
			"permission is back or the connector is restarted (it then leaves them out): "+strings.Join(lost, "; "), user)
	}
}

// optionalResourceType is rt as the connector describes it now: when the
// token's user sees only its own records, the description says the listing
// is partial. It reads the last check of the token and makes no call.
func (c *Connector) optionalResourceType(rt *v2.ResourceType) *v2.ResourceType {
	c.validateMu.Lock()
	v := c.validated
	c.validateMu.Unlock()
	if v == nil || v.failure != nil || v.coverage(rt.GetId()) != coverOwn {
		return rt
	}
	out, _ := proto.Clone(rt).(*v2.ResourceType)
	out.SetDescription(clip(rt.GetDescription()+" "+partialNote(v, rt.GetId()), maxDescription))
	return out
}

// partialNote says that a listing holds only the token's user's own records.
func partialNote(v *validation, id string) string {
	return fmt.Sprintf("Partial listing: Rocket.Chat shows the connector's account (%s) only the ones it created; give it %s to list them all.",
		v.me.Username, strings.Join(v.toListAll(id), " and "))
}

// optionalCoverage is checked by each List of an optional type: how much of
// it the token's user can list, as the last check of the token says. A type
// this process offered that the user can no longer list fails the listing:
// the SDK cannot be told to forget a type it was offered, and an empty
// listing would read as "there are none".
func (c *Connector) optionalCoverage(ctx context.Context, rt *v2.ResourceType) (coverage, *validation, error) {
	v, err := c.validate(ctx)
	if err != nil {
		return coverNone, nil, syncError("checking the token's permissions", err)
	}
	cov := v.coverage(rt.GetId())
	if cov == coverNone {
		o, _ := optionalTypeByID(rt.GetId())
		return cov, v, status.Errorf(codes.FailedPrecondition,
			"listing %s (%s): the token's user %q does not hold %s, which listing them needs, although it did when this connector started and "+
				"offered the type: give the permission back, or restart the connector so that it leaves %s out",
			o.what, o.id(), v.me.Username, o.howToList(), o.id())
	}
	return cov, v, nil
}
