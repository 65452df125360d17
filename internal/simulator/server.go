package simulator

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Options tune the simulated server; zero values take Rocket.Chat's defaults.
type Options struct {
	// RateLimitCalls is API_Enable_Rate_Limiter_Limit_Calls_Default: calls
	// allowed per endpoint, per client IP, per window (default 10).
	RateLimitCalls int
	// RateLimitWindow is API_Enable_Rate_Limiter_Limit_Time_Default (default 60s).
	RateLimitWindow time.Duration
	// DisableRateLimiter is API_Enable_Rate_Limiter=false.
	DisableRateLimiter bool
	// UpperCountLimit is API_Upper_Count_Limit (default 100).
	UpperCountLimit int
	// DefaultCount is API_Default_Count (default 50).
	DefaultCount int
	// InfiniteCountDisabled is API_Allow_Infinite_Count=false: count=0 then
	// means DefaultCount items instead of every item.
	InfiniteCountDisabled bool
	// ApplyViewOutsideRoomOnUsersList is the setting
	// API_Apply_permission_view-outside-room_on_users-list (default false):
	// users.list and users.listByStatus then answer 403 to callers without
	// the view-outside-room permission.
	ApplyViewOutsideRoomOnUsersList bool
	// BlockedUsernameList is Accounts_BlockedUsernameList, comma-separated
	// usernames users.create refuses (default empty). "all", "here" and the
	// hidden Accounts_SystemBlockedUsernameList (admin, administrator,
	// system, user) are refused whatever it holds.
	BlockedUsernameList string
	// Version is the server version (default "8.7.1").
	Version string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Stats counts what reached the server.
type Stats struct {
	// Calls counts every request that reached a known route, keyed
	// "GET users.listByStatus", "POST teams.addMembers"...
	Calls map[string]int
	// RateLimited counts the 429s sent, with the same keys.
	RateLimited map[string]int
	Total429    int
}

// Server is an http.Handler serving "/api/info" and "/api/v1/<endpoint>".
// It is safe for concurrent use.
type Server struct {
	opts Options

	// shared is the database side: the workspace and the lock guarding it,
	// which also guards the per-instance fields below. Instances of a
	// Cluster point to the same one.
	*shared
	limiter   *rateLimiter
	stats     Stats
	intercept func(http.ResponseWriter, *http.Request) bool
	routes    map[string]*route // "GET users.list" → route
}

// shared is what every instance of a deployment sees alike, as Rocket.Chat
// instances share one MongoDB.
type shared struct {
	mu sync.Mutex
	ws *Workspace
}

// route is one endpoint with the options Rocket.Chat declares for it.
type route struct {
	method, name string
	// perms is permissionsRequired, checked by middleware against global
	// roles: all of them, or any when anyPerm is set.
	perms   []string
	anyPerm bool
	query   *schema
	body    *schema
	// legacy marks a route declared with addRoute + validateParams: the
	// route wrapper checks its schema (query on GET, body otherwise) after
	// the rate limiter and throws Meteor.Error('invalid-params'), answered
	// 400 "<messages> [invalid-params]" (legacyInvalidParams); see
	// serveRoute. Other routes are typed (API.v1.get/post with query/body,
	// or addRoute with a query option): the router checks the schema after
	// permissionsRequired and before the limiter, answering
	// error-invalid-params (query) or invalid-params (body) without "[code]".
	legacy bool
	// withoutUsername is userWithoutUsername: users lacking one may call.
	withoutUsername bool
	handle          func(*call) reply
}

func (rt *route) key() string { return rt.method + " " + rt.name }

// call carries one authenticated request through a handler.
type call struct {
	s     *Server
	ws    *Workspace
	user  *User
	r     *http.Request
	query map[string]any
	body  map[string]any
	now   time.Time
}

// NewServer returns a server over ws, which it then owns: mutate it only
// through Update.
func NewServer(ws *Workspace, opts Options) *Server {
	opts = opts.withDefaults()
	if ws == nil {
		ws = NewWorkspace()
	}
	ws.dropIndexes() // it may have changed since another server used it
	return newServer(&shared{ws: ws}, opts, opts.Now())
}

// withDefaults fills in Rocket.Chat's defaults for zero values.
func (opts Options) withDefaults() Options {
	if opts.RateLimitCalls <= 0 {
		opts.RateLimitCalls = 10
	}
	if opts.RateLimitWindow <= 0 {
		opts.RateLimitWindow = 60 * time.Second
	}
	if opts.UpperCountLimit <= 0 {
		opts.UpperCountLimit = 100
	}
	if opts.DefaultCount <= 0 {
		opts.DefaultCount = 50
	}
	if opts.Version == "" {
		opts.Version = "8.7.1"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return opts
}

// newServer builds an instance over st whose rate-limit rules start their
// first window at windowStart. opts must have its defaults filled in.
func newServer(st *shared, opts Options, windowStart time.Time) *Server {
	s := &Server{
		opts:    opts,
		shared:  st,
		limiter: newRateLimiter(opts.RateLimitCalls, opts.RateLimitWindow),
		routes:  map[string]*route{},
		stats:   newStats(),
	}
	for _, rt := range s.routeTable() {
		s.routes[rt.key()] = rt
		s.limiter.addRule(rt.key(), windowStart)
	}
	return s
}

func newStats() Stats { return Stats{Calls: map[string]int{}, RateLimited: map[string]int{}} }

func (s *Server) routeTable() []*route {
	// Each schema-carrying route names where it is declared (8.x sources,
	// apps/meteor/server/api/v1/, unless said otherwise) and whether it is
	// typed (the default) or legacy validateParams (route.legacy).
	return []*route{
		{method: http.MethodGet, name: "me", withoutUsername: true, handle: s.me},
		// typed: permissions.ts, API.v1.get with query.
		{method: http.MethodGet, name: "permissions.listAll", query: permissionsListAllQuery, handle: s.permissionsListAll},
		{method: http.MethodGet, name: "roles.list", handle: s.rolesList},
		// typed: roles.ts, API.v1.get/post with query or body (also the two below).
		{method: http.MethodGet, name: "roles.getUsersInRole", perms: []string{permAccessPermissions}, query: getUsersInRoleQuery, handle: s.rolesGetUsersInRole},
		{method: http.MethodPost, name: "roles.addUserToRole", body: addUserToRoleBody, handle: s.rolesAddUserToRole},
		{method: http.MethodPost, name: "roles.removeUserFromRole", perms: []string{permAccessPermissions}, body: removeUserFromRoleBody, handle: s.rolesRemoveUserFromRole},
		// typed: users.ts, addRoute with a query option (the router checks it).
		{method: http.MethodGet, name: "users.list", perms: []string{permViewDRoom}, query: usersListQuery, handle: s.usersList},
		// legacy: API.v1.addRoute with validateParams: isUsersListStatusProps
		// (apps/meteor/app/api/server/v1/users.ts). Rocket.Chat's own e2e test
		// "[/users.listByStatus] should return error for invalid status params"
		// (apps/meteor/tests/end-to-end/api/users.ts, in its newest stored
		// version too) expects errorType invalid-params and "must be equal to
		// one of the allowed values [invalid-params]". Some 8.x trees declare
		// it with API.v1.get and query:, which would answer
		// error-invalid-params; the test is what the server is held to.
		{
			method: http.MethodGet, name: "users.listByStatus", perms: []string{permViewDRoom}, query: s.usersListByStatusQuery(), handle: s.usersListByStatus,
			legacy: true,
		},
		// typed: users.ts, API.v1.get/post with query or body (through users.deactivateIdle).
		{method: http.MethodGet, name: "users.info", query: usersInfoQuery, handle: s.usersInfo},
		{method: http.MethodGet, name: "users.listTeams", query: usersListTeamsQuery, handle: s.usersListTeams},
		{method: http.MethodPost, name: "users.create", body: usersCreateBody, handle: s.usersCreate},
		{
			method: http.MethodPost, name: "users.setActiveStatus", body: setActiveStatusBody, handle: s.usersSetActiveStatus,
			perms: []string{permEditOtherUserActiveStatus, permManageModerationActions}, anyPerm: true,
		},
		{method: http.MethodPost, name: "users.delete", perms: []string{permDeleteUser}, body: usersDeleteBody, handle: s.usersDelete},
		{method: http.MethodPost, name: "users.logout", body: usersLogoutBody, handle: s.usersLogout},
		{
			method: http.MethodPost, name: "users.deactivateIdle", perms: []string{permEditOtherUserActiveStatus},
			body: deactivateIdleBody, handle: s.usersDeactivateIdle,
		},
		// legacy: omnichannel/users.ts, addRoute('livechat/users/:type') with
		// validateParams { POST: isPOSTLivechatUsersTypeProps }.
		{method: http.MethodPost, name: "livechat/users/agent", perms: []string{permViewLivechatManager}, body: livechatUsersBody, handle: s.livechatAdd(roleLivechatAgent), legacy: true},
		{method: http.MethodPost, name: "livechat/users/manager", perms: []string{permViewLivechatManager}, body: livechatUsersBody, handle: s.livechatAdd(roleLivechatManager), legacy: true},
		{method: http.MethodDelete, name: "livechat/users/agent/:_id", perms: []string{permViewLivechatManager}, handle: s.livechatRemove(roleLivechatAgent)},
		{method: http.MethodDelete, name: "livechat/users/manager/:_id", perms: []string{permViewLivechatManager}, handle: s.livechatRemove(roleLivechatManager)},
		{method: http.MethodGet, name: "teams.list", handle: s.teamsList},
		{method: http.MethodGet, name: "teams.listAll", perms: []string{permViewAllTeams}, handle: s.teamsListAll},
		// typed: teams.ts, API.v1.get/post with query or body (through teams.removeMember).
		{method: http.MethodGet, name: "teams.info", query: teamsInfoQuery, handle: s.teamsInfo},
		{method: http.MethodGet, name: "teams.members", query: teamsMembersQuery, handle: s.teamsMembers},
		{method: http.MethodPost, name: "teams.addMembers", body: teamsAddMembersBody, handle: s.teamsAddMembers},
		{method: http.MethodPost, name: "teams.updateMember", body: teamsUpdateMemberBody, handle: s.teamsUpdateMember},
		{method: http.MethodPost, name: "teams.removeMember", body: teamsRemoveMemberBody, handle: s.teamsRemoveMember},
		// typed: rooms.ts, API.v1.get with query (both).
		{method: http.MethodGet, name: "rooms.adminRooms", query: roomsAdminRoomsQuery, handle: s.roomsAdminRooms},
		{method: http.MethodGet, name: "rooms.adminRooms.getRoom", query: roomsAdminRoomsGetRoomQuery, handle: s.roomsAdminRoomsGetRoom},
		{method: http.MethodGet, name: "rooms.info", handle: s.roomsInfo},
		{method: http.MethodGet, name: "channels.members", handle: s.roomMembers(kindChannel)},
		{method: http.MethodGet, name: "groups.members", handle: s.roomMembers(kindGroup)},
		{method: http.MethodGet, name: "channels.roles", handle: s.channelsRoles},
		{method: http.MethodGet, name: "groups.roles", handle: s.groupsRoles},
		{method: http.MethodPost, name: "channels.invite", handle: s.channelsInvite},
		{method: http.MethodPost, name: "groups.invite", handle: s.groupsInvite},
		{method: http.MethodPost, name: "channels.kick", handle: s.channelsKick},
		{method: http.MethodPost, name: "groups.kick", handle: s.groupsKick},
		{method: http.MethodPost, name: "channels.addOwner", handle: s.roomRoleRoute(kindChannel, "addOwner")},
		{method: http.MethodPost, name: "channels.removeOwner", handle: s.roomRoleRoute(kindChannel, "removeOwner")},
		{method: http.MethodPost, name: "channels.addModerator", handle: s.roomRoleRoute(kindChannel, "addModerator")},
		{method: http.MethodPost, name: "channels.removeModerator", handle: s.roomRoleRoute(kindChannel, "removeModerator")},
		{method: http.MethodPost, name: "channels.addLeader", handle: s.roomRoleRoute(kindChannel, "addLeader")},
		{method: http.MethodPost, name: "channels.removeLeader", handle: s.roomRoleRoute(kindChannel, "removeLeader")},
		{method: http.MethodPost, name: "groups.addOwner", handle: s.roomRoleRoute(kindGroup, "addOwner")},
		{method: http.MethodPost, name: "groups.removeOwner", handle: s.roomRoleRoute(kindGroup, "removeOwner")},
		{method: http.MethodPost, name: "groups.addModerator", handle: s.roomRoleRoute(kindGroup, "addModerator")},
		{method: http.MethodPost, name: "groups.removeModerator", handle: s.roomRoleRoute(kindGroup, "removeModerator")},
		{method: http.MethodPost, name: "groups.addLeader", handle: s.roomRoleRoute(kindGroup, "addLeader")},
		{method: http.MethodPost, name: "groups.removeLeader", handle: s.roomRoleRoute(kindGroup, "removeLeader")},
		// typed: integrations.ts, API.v1.get with query.
		{
			method: http.MethodGet, name: "integrations.list", query: integrationsListQuery, handle: s.integrationsList, anyPerm: true,
			perms: []string{permManageOutgoingIntegrations, permManageOwnOutgoingIntegrations, permManageIncomingIntegrations, permManageOwnIncomingIntegrations},
		},
		{method: http.MethodGet, name: "settings/:_id", perms: []string{permViewPrivilegedSetting}, handle: s.settingsGet},
		{method: http.MethodGet, name: "settings.oauth", handle: s.settingsOAuth},
		// typed: oauthapps.ts, API.v1.get with query.
		{method: http.MethodGet, name: "oauth-apps.list", perms: []string{permManageOAuthApps}, query: oauthAppsListQuery, handle: s.oauthAppsList},
	}
}

// Update runs fn on the workspace under the server's lock, so tests can
// change data between (or during) syncs.
func (s *Server) Update(fn func(ws *Workspace)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.ws)
	s.ws.dropIndexes()
}

// View runs fn on the workspace under the server's lock; fn must not keep
// references past its return.
func (s *Server) View(fn func(ws *Workspace)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.ws)
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Calls: maps.Clone(s.stats.Calls), RateLimited: maps.Clone(s.stats.RateLimited), Total429: s.stats.Total429}
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = newStats()
}

// Intercept installs a hook run before normal handling of every request. If
// it returns true it has answered the request itself (fault injection:
// 5xx bursts, resets, slow or truncated bodies). nil removes it.
func (s *Server) Intercept(fn func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.intercept = fn
}

// ServeHTTP routes on the path it receives, so it also works under
// http.StripPrefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	hook := s.intercept
	s.mu.Unlock()
	if hook != nil && hook(w, r) {
		return
	}

	if r.URL.Path == "/api/info" && r.Method == http.MethodGet {
		s.mu.Lock()
		s.stats.Calls["GET info"]++
		rep := s.info(r)
		s.mu.Unlock()
		writeReply(w, rep)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/api/v1/")
	rt := s.routes[r.Method+" "+name]
	if rt == nil {
		// Routes with a trailing path parameter ("livechat/users/agent/:_id").
		if dir, _, cut := cutLast(name); cut {
			rt = s.routes[r.Method+" "+dir+"/:_id"]
		}
	}
	if !ok || rt == nil {
		// Hono's default answer for unmatched paths.
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "404 Not Found")
		return
	}

	var raw []byte
	if r.Body != nil {
		raw, _ = io.ReadAll(r.Body)
	}

	s.mu.Lock()
	rep := s.serveRoute(rt, r, raw, w.Header())
	if r.Method != http.MethodGet {
		s.ws.dropIndexes() // the route may have written
	}
	s.mu.Unlock()
	writeReply(w, rep)
}

// serveRoute runs the 8.x pipeline: authentication → permissionsRequired →
// query/body validation → rate limiter → handler. Failures before the
// limiter therefore do not spend rate budget. Routes validated by
// validateParams on this server (legacyValidation) check their schema in the
// route wrapper instead, after the limiter. Must hold s.mu.
func (s *Server) serveRoute(rt *route, r *http.Request, raw []byte, h http.Header) reply {
	s.stats.Calls[rt.key()]++

	user := s.authenticate(r)
	if user == nil {
		return notLoggedIn()
	}
	if user.Username == "" && !rt.withoutUsername {
		return forbiddenMeteor("Users must have a username")
	}
	legacy := s.legacyValidation(rt)
	// Before 8.0 the wrapper (apps/meteor/app/api/server/ApiClass.ts,
	// addRoute) checked permissionsRequired itself, after the limiter and
	// validateParams; 8.x runs permissionsMiddleware ahead of the wrapper
	// (apps/meteor/server/api/ApiClass.ts).
	permsInWrapper := legacy && s.versionBefore(8, 0)
	if len(rt.perms) > 0 && !permsInWrapper && !s.hasRoutePermissions(user, rt) {
		return permissionDenied()
	}

	c := &call{s: s, ws: s.ws, user: user, r: r, query: parseQuery(r.URL.RawQuery), now: s.opts.Now()}
	body := parseBody(r.Header.Get("Content-Type"), raw)
	if !legacy {
		// The router (packages/http-router/src/Router.ts) checks the query,
		// then the body, before the action.
		if rt.query != nil {
			if msgs := rt.query.validate(c.query); msgs != nil {
				return invalidQuery(msgs)
			}
		}
		if rt.body != nil {
			if msgs := rt.body.validate(body); msgs != nil {
				return invalidBody(msgs)
			}
		}
	}
	c.body, _ = body.(map[string]any)
	if c.body == nil {
		c.body = map[string]any{}
	}

	if !s.opts.DisableRateLimiter && !s.ws.hasPermission(user, permAPIBypassRateLimit, nil) {
		v := s.limiter.hit(rt.key(), clientIP(r), c.now)
		v.setHeaders(h)
		if !v.allowed {
			s.stats.RateLimited[rt.key()]++
			s.stats.Total429++
			return tooManyRequests(v.waitSeconds())
		}
	}
	if legacy {
		// validateParams checks queryParams on GET and bodyParams otherwise.
		sc, data := rt.body, body
		if r.Method == http.MethodGet {
			sc, data = rt.query, any(c.query)
		}
		if sc != nil {
			if msgs := sc.validate(data); msgs != nil {
				return legacyInvalidParams(msgs)
			}
		}
		if permsInWrapper && len(rt.perms) > 0 && !s.hasRoutePermissions(user, rt) {
			return permissionDenied()
		}
	}
	return rt.handle(c)
}

// legacyValidation reports whether rt validates through validateParams
// (route.legacy).
func (s *Server) legacyValidation(rt *route) bool { return rt.legacy }

// authenticate accepts only the X-User-Id / X-Auth-Token pair; a mismatch is
// not retried with other methods.
func (s *Server) authenticate(r *http.Request) *User {
	uid, token := r.Header.Get("X-User-Id"), r.Header.Get("X-Auth-Token")
	if uid == "" || token == "" {
		return nil
	}
	u := s.ws.userByID(uid)
	if u == nil || !u.hasToken(token) {
		return nil
	}
	return u
}

func (s *Server) hasRoutePermissions(u *User, rt *route) bool {
	for _, p := range rt.perms {
		has := s.ws.hasPermission(u, p, nil)
		if rt.anyPerm && has {
			return true
		}
		if !rt.anyPerm && !has {
			return false
		}
	}
	return !rt.anyPerm
}

// writeReply sends a JSON reply with the router's fixed headers.
func writeReply(w http.ResponseWriter, rep reply) {
	b, err := marshal(rep.body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(rep.status)
	_, _ = w.Write(b) // the client went away; nothing left to do
}

// info serves GET /api/info (apps/meteor/server/api/default/info.ts →
// getServerInfo in apps/meteor/server/api/lib/getServerInfo.ts): no
// authentication required and never rate limited. Everyone gets the
// version trimmed to major.minor (getTrimmedServerVersion); a caller
// holding view-statistics gets the full version instead, in the same key
// position, plus "info": the build's rocketchat.info.
func (s *Server) info(r *http.Request) reply {
	u := s.authenticate(r)
	privileged := u != nil && s.ws.hasPermission(u, permViewStatistics, nil)
	version := trimmedVersion(s.opts.Version)
	if privileged {
		version = s.opts.Version
	}
	base := "http://" + r.Host
	fields := []field{
		{"workspaceUrl", base},
		{"hashedWorkspaceUrl", hashString(base)},
		{keyVersion, version},
	}
	if privileged {
		fields = append(fields, field{"info", buildInfo(s.opts.Version)})
	}
	fields = append(fields, field{"minimumClientVersions", object{{"desktop", "3.9.6"}, {"mobile", "4.39.0"}}})
	return success(fields...)
}

// versionBefore reports whether the server's version is older than
// major.minor (an unreadable version counts as current).
func (s *Server) versionBefore(major, minor int) bool {
	var maj, mnr int
	if _, err := fmt.Sscanf(s.opts.Version, "%d.%d", &maj, &mnr); err != nil {
		return false
	}
	return maj < major || maj == major && mnr < minor
}

// trimmedVersionRE is getTrimmedServerVersion's
// Info.version.replace(/(\d+\.\d+).*/, '$1')
// (apps/meteor/server/api/lib/getTrimmedServerVersion.ts).
var trimmedVersionRE = regexp.MustCompile(`(\d+\.\d+).*`)

func trimmedVersion(v string) string {
	m := trimmedVersionRE.FindStringSubmatchIndex(v)
	if m == nil {
		return v
	}
	return v[:m[0]] + v[m[2]:m[3]] + v[m[1]:]
}

// buildInfo is the Info object the build writes into rocketchat.info
// (apps/meteor/packages/rocketchat-version/plugin/compile-version.js): the
// version, then build, marketplaceApiVersion (the Apps-Engine version) and
// commit (git log hash, date, author, subject; then describe's tag and the
// branch), in that key order. The values are stand-ins for a release build.
func buildInfo(version string) object {
	build := object{
		{"date", "2026-05-04T09:12:41.512Z"},
		{"nodeVersion", "v22.16.0"},
		{"arch", "x64"},
		{"platform", "linux"},
		{"osRelease", "6.8.0-1027-aws"},
		{"totalMemory", 16_508_653_568},
		{"freeMemory", 9_118_285_824},
		{"cpus", 4},
	}
	commit := object{
		{"hash", "9c2f0e5b7d4a1e8c3b6f2d9a0e7c4b1f8d5a2e6c"},
		{"date", "Mon May 4 06:02:17 2026 -0300"},
		{"author", "Rocket.Chat Bot"},
		{"subject", "Release " + version},
		{"tag", version},
		{"branch", "HEAD"},
	}
	return object{{keyVersion, version}, {"build", build}, {"marketplaceApiVersion", "1.66.0"}, {"commit", commit}}
}
