package connector_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	"github.com/conductorone/baton-rocketchat/pkg/connector"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// variedWorkspace has more than a page of users, teams larger than a page,
// and every kind of account the connector must label.
func variedWorkspace() *simulator.Generated {
	return simulator.Generate(7, simulator.Size{Users: 260, Teams: 9, MembersPerTeam: 40})
}

func TestSyncIsCompleteAndExact(t *testing.T) {
	for _, tc := range []struct {
		name, prefix, suffix string
	}{
		{name: "plain base URL"},
		{name: "trailing slash", suffix: "/"},
		{name: "path prefix", prefix: "/chat"},
		{name: "path prefix and trailing slash", prefix: "/chat", suffix: "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gen := variedWorkspace()
			withNonHumans(gen)
			env := testenv.Start(t, gen.Workspace, simulator.Options{}, tc.prefix)
			got := testenv.MustSync(t, newConnector(t, env.BaseURL+tc.suffix, gen.Admin, nil))
			var ws *simulator.Workspace
			env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
			assertMatchesWorkspaceAs(t, got, ws, gen.Admin.UserID)
		})
	}
}

// assertMatchesWorkspace checks the c1z against an oracle computed straight
// from the simulator's data: every resource, entitlement and grant, nothing
// extra. Not knowing who synced, it checks the non-human identity types
// (offered only with permissions) as far as the c1z offers them, as complete
// listings.
func assertMatchesWorkspace(t *testing.T, got *harness.Contents, ws *simulator.Workspace) {
	t.Helper()
	assertMatchesWorkspaceAs(t, got, ws, "")
}

// assertMatchesWorkspaceAs is assertMatchesWorkspace for a sync made with the
// token of callerID (when not empty): the non-human identity types must then
// be offered exactly when that user's permissions list them, holding what
// Rocket.Chat shows that user.
func assertMatchesWorkspaceAs(t *testing.T, got *harness.Contents, ws *simulator.Workspace, callerID string) {
	t.Helper()
	byType := got.ResourcesByType()

	// Users: all of them, with status, account type, login, emails, federation.
	if len(byType["user"]) != len(ws.Users) {
		t.Errorf("users: got %d, want %d", len(byType["user"]), len(ws.Users))
	}
	for _, u := range ws.Users {
		r, ok := byType["user"][u.ID]
		if !ok {
			t.Errorf("user %s (%s) missing", u.ID, u.Username)
			continue
		}
		checkUser(t, r, u)
	}

	roles := map[string]*simulator.Role{}
	for _, role := range ws.Roles {
		roles[role.ID] = role
		r, ok := byType["role"][role.ID]
		if !ok {
			t.Errorf("role %s missing", role.ID)
			continue
		}
		if r.GetDisplayName() != role.Name {
			t.Errorf("role %s display name %q, want %q", role.ID, r.GetDisplayName(), role.Name)
		}
		if got := profileString(r, "scope"); got != role.Scope {
			t.Errorf("role %s scope %q, want %q", role.ID, got, role.Scope)
		}
	}
	if len(byType["role"]) != len(ws.Roles) {
		t.Errorf("roles: got %d, want %d", len(byType["role"]), len(ws.Roles))
	}
	for _, team := range ws.Teams {
		r, ok := byType["team"][team.ID]
		if !ok {
			t.Errorf("team %s missing", team.ID)
			continue
		}
		wantType := map[int]string{0: "public", 1: "private"}[team.Type]
		if r.GetDisplayName() != team.Name || profileString(r, "type") != wantType {
			t.Errorf("team %s: name %q type %q, want %q %q", team.ID, r.GetDisplayName(), profileString(r, "type"), team.Name, wantType)
		}
	}
	if len(byType["team"]) != len(ws.Teams) {
		t.Errorf("teams: got %d, want %d", len(byType["team"]), len(ws.Teams))
	}
	if len(byType["permission"]) != len(ws.Permissions) {
		t.Errorf("permissions: got %d, want %d", len(byType["permission"]), len(ws.Permissions))
	}
	withResources := []string{"permission", "role", "user"}
	if len(ws.Teams) > 0 {
		withResources = append(withResources, "team")
	}
	withResources = append(withResources, checkNonHumans(t, got, byType, ws, callerID)...)
	// Rooms, an opt-in type, are checked by assertRooms: here only that a
	// sync that offers them lists some when the workspace has some.
	roomsSynced := slices.Contains(got.ResourceTypeIDs(), "room")
	if roomsSynced && slices.ContainsFunc(ws.Rooms, func(r *simulator.Room) bool {
		return r.Type == simulator.RoomPublic || r.Type == simulator.RoomPrivate
	}) {
		withResources = append(withResources, "room")
	}
	notRoom := func(id string) bool { return !roomsSynced || !strings.HasPrefix(id, "room:") }
	gotWith := keys(byType)
	sort.Strings(gotWith)
	sort.Strings(withResources)
	if !slices.Equal(gotWith, withResources) {
		t.Errorf("resource types with resources: %v, want %v", gotWith, withResources)
	}

	var wantEnts []string
	for _, role := range ws.Roles {
		wantEnts = append(wantEnts, "role:"+role.ID+":assigned")
	}
	for _, team := range ws.Teams {
		for _, e := range []string{"member", "owner", "moderator", "leader"} {
			wantEnts = append(wantEnts, "team:"+team.ID+":"+e)
		}
	}
	for id := range ws.Permissions {
		wantEnts = append(wantEnts, "permission:"+id+":granted")
	}
	var gotEnts []string
	for _, e := range got.Entitlements {
		if notRoom(e.GetId()) {
			gotEnts = append(gotEnts, e.GetId())
		}
	}
	diffSets(t, "entitlements", gotEnts, wantEnts)

	var wantGrants []string
	for _, u := range ws.Users {
		for _, rid := range u.Roles {
			if role, ok := roles[rid]; ok && role.Scope == "Users" {
				wantGrants = append(wantGrants, "role:"+rid+":assigned:user:"+u.ID)
			}
		}
	}
	listed := deactivatedTeamsListed(t, byType["user"], ws)
	for _, team := range ws.Teams {
		for _, m := range team.Members {
			u := ws.UserByID(m.UserID)
			switch {
			case u == nil:
				continue
			case !u.Active && listed[u.ID]:
				// Read with users.listTeams, which reports ownership only.
				wantGrants = append(wantGrants, "team:"+team.ID+":member:user:"+m.UserID)
				if slices.Contains(m.Roles, "owner") {
					wantGrants = append(wantGrants, "team:"+team.ID+":owner:user:"+m.UserID)
				}
				continue
			case !u.Active:
				continue // Rocket.Chat's teams.members leaves deactivated users out.
			}
			wantGrants = append(wantGrants, "team:"+team.ID+":member:user:"+m.UserID)
			for _, tr := range m.Roles {
				if tr == "owner" || tr == "moderator" || tr == "leader" {
					wantGrants = append(wantGrants, "team:"+team.ID+":"+tr+":user:"+m.UserID)
				}
			}
		}
	}
	wantGrants = append(wantGrants, permissionGrants(ws)...)
	diffSets(t, "grants", slices.DeleteFunc(got.GrantIDs(), func(id string) bool { return !notRoom(id) }), wantGrants)
}

// teamsListedNote starts a deactivated user's profile note when the sync
// lists its team memberships (pkg/connector/deactivated.go).
const teamsListedNote = "listed from users.listTeams"

// deactivatedTeamsListed is the set of deactivated users whose profiles say
// their team memberships are listed. Every deactivated user's profile says
// whether they are, and the listed ones are the first deactivated users in
// users.listByStatus order (username): all of them, some or none, as the
// rate limit allowed. The tests of deactivated.go check how many.
func deactivatedTeamsListed(t *testing.T, users map[string]*v2.Resource, ws *simulator.Workspace) map[string]bool {
	t.Helper()
	sorted := slices.Clone(ws.Users)
	slices.SortStableFunc(sorted, func(a, b *simulator.User) int { return strings.Compare(a.Username, b.Username) })
	listed := map[string]bool{}
	prefix := true
	for _, u := range sorted {
		r := users[u.ID]
		if u.Active || r == nil {
			continue
		}
		note := r.GetProfile().GetFields()["team_memberships"].GetStringValue()
		switch {
		case note == "":
			t.Errorf("deactivated user %s: the profile does not say whether its team memberships are listed", u.Username)
		case strings.HasPrefix(note, teamsListedNote):
			if !prefix {
				t.Errorf("deactivated user %s is listed after one that is not: the listed ones must be the first", u.Username)
			}
			listed[u.ID] = true
		default:
			prefix = false
		}
	}
	return listed
}

// nonHumanTypes are the resource types offered only when the token's user
// may list them.
var nonHumanTypes = []string{"incoming-webhook", "outgoing-webhook", "oauth-app"}

// nonHumanCoverage is how much of each non-human type Rocket.Chat shows
// callerID ("all", "own" or "none"), from its global roles, as
// mountIntegrationQueryBasedOnPermissions and oauth-apps.list decide.
func nonHumanCoverage(ws *simulator.Workspace, callerID string) map[string]string {
	u := ws.UserByID(callerID)
	held := func(p string) bool {
		for _, r := range u.Roles {
			if slices.Contains(ws.Permissions[p], r) {
				return true
			}
		}
		return false
	}
	allIn, allOut := held("manage-incoming-integrations"), held("manage-outgoing-integrations")
	ownIn, ownOut := held("manage-own-incoming-integrations"), held("manage-own-outgoing-integrations")
	pick := func(all, own bool) string {
		switch {
		case all:
			return "all"
		case own:
			return "own"
		}
		return "none"
	}
	in, out := pick(allIn, ownIn), pick(allOut, ownOut)
	switch {
	case allIn && allOut:
		in, out = "all", "all"
	case ownIn && ownOut:
		in, out = "own", "own"
	}
	return map[string]string{"incoming-webhook": in, "outgoing-webhook": out, "oauth-app": pick(held("manage-oauth-apps"), false)}
}

// checkNonHumans checks the non-human identity types of a c1z and returns
// those that hold resources. With callerID, each type must be offered
// exactly when the user can list it; without, the types offered must be
// complete listings.
func checkNonHumans(t *testing.T, got *harness.Contents, byType map[string]map[string]*v2.Resource, ws *simulator.Workspace, callerID string) []string {
	t.Helper()
	offered := map[string]*v2.ResourceType{}
	for _, rt := range got.ResourceTypes {
		offered[rt.GetId()] = rt
	}
	for _, core := range []string{"user", "role", "team", "permission"} {
		if offered[core] == nil {
			t.Errorf("resource type %s not offered", core)
		}
	}
	cover := map[string]string{"incoming-webhook": "all", "outgoing-webhook": "all", "oauth-app": "all"}
	if callerID != "" {
		cover = nonHumanCoverage(ws, callerID)
	}
	var withResources []string
	for _, typ := range nonHumanTypes {
		rt := offered[typ]
		switch {
		case callerID != "" && (rt != nil) != (cover[typ] != "none"):
			t.Errorf("resource type %s offered=%v, but the caller's coverage is %s", typ, rt != nil, cover[typ])
			continue
		case rt == nil:
			if len(byType[typ]) > 0 {
				t.Errorf("%d resources of type %s, which is not offered", len(byType[typ]), typ)
			}
			continue
		}
		partial := strings.Contains(rt.GetDescription(), "Partial listing")
		if partial != (cover[typ] == "own") {
			t.Errorf("resource type %s: partial=%v, coverage %s (%s)", typ, partial, cover[typ], rt.GetDescription())
		}
		want := map[string]bool{}
		for _, it := range ws.Integrations {
			kind := map[string]string{simulator.IntegrationIncoming: "incoming-webhook", simulator.IntegrationOutgoing: "outgoing-webhook"}[it.Type]
			if kind == typ && (cover[typ] == "all" || it.CreatedByID == callerID) {
				want[it.ID] = true
				checkIntegration(t, byType[typ][it.ID], it, cover[typ])
			}
		}
		if typ == "oauth-app" {
			for _, app := range ws.OAuthApps {
				want[app.ID] = true
				checkOAuthApp(t, byType[typ][app.ID], app)
			}
		}
		for id := range byType[typ] {
			if !want[id] {
				t.Errorf("%s %s listed, but Rocket.Chat does not show it to the caller", typ, id)
			}
		}
		if len(byType[typ]) != len(want) {
			t.Errorf("%s: %d resources, want %d", typ, len(byType[typ]), len(want))
		}
		if len(want) > 0 {
			withResources = append(withResources, typ)
		}
	}
	return withResources
}

func checkIntegration(t *testing.T, r *v2.Resource, it *simulator.Integration, cover string) {
	t.Helper()
	if r == nil {
		t.Errorf("integration %s (%s) missing", it.ID, it.Name)
		return
	}
	wantName := it.Name
	if strings.TrimSpace(wantName) == "" {
		wantName = it.ID
	}
	wantStatus := v2.Status_RESOURCE_STATUS_ENABLED
	if !it.Enabled {
		wantStatus = v2.Status_RESOURCE_STATUS_DISABLED
	}
	if r.GetDisplayName() != wantName || r.GetStatus().GetStatus() != wantStatus {
		t.Errorf("integration %s: name %q status %v, want %q %v", it.ID, r.GetDisplayName(), r.GetStatus().GetStatus(), wantName, wantStatus)
	}
	st := &v2.SecretTrait{}
	annos := annotations.Annotations(r.GetAnnotations())
	if ok, _ := annos.Pick(st); !ok || st.GetIdentityId().GetResource() != it.UserID || st.GetIdentityId().GetResourceType() != "user" ||
		st.GetCreatedById().GetResource() != it.CreatedByID {
		t.Errorf("integration %s: secret trait %v, want identity %s created by %s", it.ID, st, it.UserID, it.CreatedByID)
	}
	p := r.GetProfile().AsMap()
	if p["type"] != it.Type || p["posts_as_username"] != it.Username || p["enabled"] != it.Enabled ||
		p["script_runs"] != (it.ScriptEnabled && it.ScriptCompiled != "") {
		t.Errorf("integration %s: profile %v", it.ID, p)
	}
	if scope, _ := p["listing_scope"].(string); (scope == "own") != (cover == "own") {
		t.Errorf("integration %s: listing_scope %q with coverage %s", it.ID, scope, cover)
	}
}

func checkOAuthApp(t *testing.T, r *v2.Resource, app *simulator.OAuthApp) {
	t.Helper()
	if r == nil {
		t.Errorf("OAuth app %s (%s) missing", app.ID, app.Name)
		return
	}
	annos := annotations.Annotations(r.GetAnnotations())
	nhi, at := &v2.NonHumanIdentityTrait{}, &v2.AppTrait{}
	okNHI, _ := annos.Pick(nhi)
	okApp, _ := annos.Pick(at)
	inactive := slices.Contains(at.GetFlags(), v2.AppTrait_APP_FLAG_INACTIVE)
	if r.GetDisplayName() != app.Name || !okApp || inactive == app.Active || !okNHI ||
		nhi.GetNhiType() != v2.NonHumanIdentityTrait_NHI_TYPE_APP_REGISTRATION || r.GetProfile().AsMap()["client_id"] != app.ClientID {
		t.Errorf("OAuth app %s: %v", app.ID, r)
	}
}

// permissionGrants is the oracle of the permission grants: one to each
// known role holding the permission, and, after the SDK's expansion, one to
// each user holding a workspace role that holds it.
func permissionGrants(ws *simulator.Workspace) []string {
	roles := map[string]*simulator.Role{}
	for _, r := range ws.Roles {
		roles[r.ID] = r
	}
	var out []string
	for id, holders := range ws.Permissions {
		users := map[string]bool{}
		for _, rid := range holders {
			role, ok := roles[rid]
			if !ok {
				continue
			}
			out = append(out, "permission:"+id+":granted:role:"+rid)
			if role.Scope != "Users" {
				continue
			}
			for _, u := range ws.Users {
				if slices.Contains(u.Roles, rid) {
					users[u.ID] = true
				}
			}
		}
		for uid := range users {
			out = append(out, "permission:"+id+":granted:user:"+uid)
		}
	}
	return out
}

func checkUser(t *testing.T, r *v2.Resource, u *simulator.User) {
	t.Helper()
	trait, err := resource.GetUserTrait(r)
	if err != nil {
		t.Errorf("user %s: no user trait: %v", u.ID, err)
		return
	}
	wantName := u.Name
	if wantName == "" {
		wantName = u.Username
	}
	if !displayNameMatches(r.GetDisplayName(), wantName) {
		t.Errorf("user %s display name %q, want %q", u.ID, short(r.GetDisplayName()), short(wantName))
	}
	if trait.GetLogin() != u.Username {
		t.Errorf("user %s login %q, want %q", u.ID, trait.GetLogin(), u.Username)
	}
	wantStatus, wantTrait := v2.Status_RESOURCE_STATUS_ENABLED, v2.UserTrait_Status_STATUS_ENABLED
	switch {
	case u.Active:
	case u.InactiveReason == "pending_approval":
		wantStatus, wantTrait = v2.Status_RESOURCE_STATUS_PENDING, v2.UserTrait_Status_STATUS_PENDING
	default:
		wantStatus, wantTrait = v2.Status_RESOURCE_STATUS_DISABLED, v2.UserTrait_Status_STATUS_DISABLED
	}
	traitStatus := trait.GetStatus().GetStatus() //nolint:staticcheck // older readers still look at the trait status
	if r.GetStatus().GetStatus() != wantStatus || traitStatus != wantTrait {
		t.Errorf("user %s (active=%v): status %v / trait %v", u.ID, u.Active, r.GetStatus().GetStatus(), traitStatus)
	}
	wantType := v2.UserTrait_ACCOUNT_TYPE_HUMAN
	if u.Type == "bot" || u.Type == "app" {
		wantType = v2.UserTrait_ACCOUNT_TYPE_SERVICE
	}
	if trait.GetAccountType() != wantType {
		t.Errorf("user %s (type %q): account type %v, want %v", u.ID, u.Type, trait.GetAccountType(), wantType)
	}
	var gotEmails, wantEmails []string
	for _, e := range trait.GetEmails() {
		gotEmails = append(gotEmails, e.GetAddress())
	}
	for _, e := range u.Emails {
		wantEmails = append(wantEmails, e.Address)
	}
	if !slices.Equal(gotEmails, wantEmails) {
		t.Errorf("user %s emails %v, want %v", u.ID, gotEmails, wantEmails)
	}
	if len(trait.GetEmails()) > 0 && !trait.GetEmails()[0].GetIsPrimary() {
		t.Errorf("user %s: first email is not primary", u.ID)
	}
	if fed := profileBool(r, "federated"); fed != u.Federated {
		t.Errorf("user %s (%s): federated %v, want %v", u.ID, u.Username, fed, u.Federated)
	}
	if u.LastLogin != nil && !trait.GetLastLogin().AsTime().Equal(u.LastLogin.Truncate(time.Millisecond)) {
		t.Errorf("user %s last login %v, want %v", u.ID, trait.GetLastLogin().AsTime(), *u.LastLogin)
	}
}

func TestSyncLabelsSpecialAccounts(t *testing.T) {
	ws := simulator.NewWorkspace()
	admin := ws.AddUser(&simulator.User{ID: "adminUserId000001", Username: "admin", Name: "Admin", Type: "user", Active: true,
		Roles: []string{"admin", "user"}, Tokens: []string{"admin-token"}, Emails: []simulator.Email{{Address: "admin@example.com", Verified: true}}})
	ws.AddUser(&simulator.User{ID: "rocketCatUserId01", Username: "rocket.cat", Name: "Rocket.Cat", Type: "bot", Active: true, Roles: []string{"bot"}})
	ws.AddUser(&simulator.User{ID: "appUserId00000001", Username: "poll.bot", Name: "Poll App", Type: "app", Active: true, Roles: []string{"app"}})
	ws.AddUser(&simulator.User{ID: "fedUserId00000001", Username: "@alice:matrix.example.org", Name: "@alice:matrix.example.org", Type: "user",
		Active: true, Roles: []string{"federated-external"}, Federated: true, FederationOrigin: "matrix.example.org"})
	ws.AddUser(&simulator.User{ID: "goneUserId0000001", Username: "bob", Type: "user", Active: false, InactiveReason: "deactivated", Roles: []string{"user"}})
	ws.AddUser(&simulator.User{ID: "idleUserId0000001", Username: "carol", Type: "user", Active: false, InactiveReason: "idle_too_long", Roles: []string{"user"}})
	ws.AddUser(&simulator.User{ID: "newUserId00000001", Username: "bobby", Type: "user", Active: false, InactiveReason: "pending_approval", Roles: []string{"user"}})

	env := testenv.Start(t, ws, simulator.Options{}, "")
	c := newConnector(t, env.BaseURL, simulator.Credential{UserID: admin.ID, Token: "admin-token"}, nil)
	got := testenv.MustSync(t, c)
	users := got.ResourcesOf("user")
	for _, tc := range []struct {
		id        string
		service   bool
		federated bool
		status    v2.Status_ResourceStatus
		display   string
	}{
		{id: "adminUserId000001", display: "Admin"},
		{id: "rocketCatUserId01", service: true, display: "Rocket.Cat"},
		{id: "appUserId00000001", service: true, display: "Poll App"},
		{id: "fedUserId00000001", federated: true, display: "@alice:matrix.example.org"},
		// Rocket.Chat's listings never send inactiveReason: an idle sweep's
		// user reads as deactivated, a user waiting for approval as pending.
		{id: "goneUserId0000001", status: v2.Status_RESOURCE_STATUS_DISABLED, display: "bob"},
		{id: "idleUserId0000001", status: v2.Status_RESOURCE_STATUS_DISABLED, display: "carol"},
		{id: "newUserId00000001", status: v2.Status_RESOURCE_STATUS_PENDING, display: "bobby"},
	} {
		if tc.status == v2.Status_RESOURCE_STATUS_UNSPECIFIED {
			tc.status = v2.Status_RESOURCE_STATUS_ENABLED
		}
		r := users[tc.id]
		if r == nil {
			t.Errorf("%s missing", tc.id)
			continue
		}
		trait, _ := resource.GetUserTrait(r)
		if got := trait.GetAccountType() == v2.UserTrait_ACCOUNT_TYPE_SERVICE; got != tc.service {
			t.Errorf("%s service=%v, want %v", tc.id, got, tc.service)
		}
		if got := profileBool(r, "federated"); got != tc.federated {
			t.Errorf("%s federated=%v, want %v", tc.id, got, tc.federated)
		}
		if got := r.GetStatus().GetStatus(); got != tc.status {
			t.Errorf("%s status %v, want %v", tc.id, got, tc.status)
		}
		if r.GetDisplayName() != tc.display {
			t.Errorf("%s display %q, want %q", tc.id, r.GetDisplayName(), tc.display)
		}
		// A targeted sync (ConductorOne refreshing one account) agrees.
		one, err := getResource(t.Context(), c, r.GetId())
		if err != nil {
			t.Fatalf("get %s: %v", tc.id, err)
		}
		if one.GetStatus().GetStatus() != tc.status || one.GetStatus().GetDetails() != r.GetStatus().GetDetails() {
			t.Errorf("targeted %s: status %v %q, want %v %q", tc.id, one.GetStatus().GetStatus(), one.GetStatus().GetDetails(),
				tc.status, r.GetStatus().GetDetails())
		}
	}
	if pending := users["newUserId00000001"]; pending.GetStatus().GetDetails() != "pending_approval" {
		t.Errorf("pending user's status detail %q, want pending_approval", pending.GetStatus().GetDetails())
	}
	if len(users) != 7 {
		t.Errorf("got %d users, want 7", len(users))
	}
}

// getResource reads one resource through its syncer's Get, as a targeted
// sync does.
func getResource(ctx context.Context, c *connector.Connector, id *v2.ResourceId) (*v2.Resource, error) {
	for _, s := range c.ResourceSyncers(ctx) {
		if s.ResourceType(ctx).GetId() != id.GetResourceType() {
			continue
		}
		getter, ok := s.(interface {
			Get(context.Context, *v2.ResourceId, *v2.ResourceId) (*v2.Resource, annotations.Annotations, error)
		})
		if !ok {
			return nil, fmt.Errorf("%s has no Get", id.GetResourceType())
		}
		r, _, err := getter.Get(ctx, id, nil)
		return r, err
	}
	return nil, fmt.Errorf("no syncer for %s", id.GetResourceType())
}

func TestSyncExternalLinksOnlyOverHTTPS(t *testing.T) {
	gen := simulator.Generate(3, simulator.Size{Users: 20, Teams: 2, MembersPerTeam: 5})
	env := testenv.Start(t, gen.Workspace, simulator.Options{}, "")
	got := testenv.MustSync(t, newConnector(t, env.BaseURL, gen.Admin, nil))
	for _, r := range got.Resources {
		var link v2.ExternalLink
		annos := annotations.Annotations(r.GetAnnotations())
		if ok, _ := annos.Pick(&link); ok {
			t.Fatalf("http base URL produced external link %q", link.GetUrl())
		}
	}
}

func TestSyncRefusesTokensThatCannotSeeEverything(t *testing.T) {
	gen := variedWorkspace()
	env := testenv.Start(t, gen.Workspace, simulator.Options{}, "")
	for _, tc := range []struct {
		name     string
		cred     simulator.Credential
		code     codes.Code
		mentions []string
	}{
		{name: "plain user", cred: gen.Plain, code: codes.PermissionDenied,
			mentions: []string{"view-full-other-user-info", "view-all-teams", "admin role"}},
		{name: "bogus token", cred: simulator.Credential{UserID: gen.Admin.UserID, Token: "not-the-token"}, code: codes.Unauthenticated,
			mentions: []string{"wrong or revoked", "Personal Access Tokens"}},
		{name: "unknown user id", cred: simulator.Credential{UserID: "nobody", Token: gen.Admin.Token}, code: codes.Unauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, err := testenv.Sync(t, newConnector(t, env.BaseURL, tc.cred, nil))
			if err == nil {
				t.Fatal("sync succeeded")
			}
			if got := status.Code(err); got != tc.code {
				t.Errorf("code %v, want %v (%v)", got, tc.code, err)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error does not mention %q: %v", m, err)
				}
			}
			if strings.Contains(err.Error(), gen.Admin.Token) {
				t.Errorf("error leaks the token: %v", err)
			}
			if _, err := harness.ReadC1Z(context.Background(), path, t.TempDir()); err == nil {
				t.Errorf("a failed sync left a c1z with a finished sync")
			}
		})
	}
}

func TestSyncUnderRateLimiterIsCompleteWithout429s(t *testing.T) {
	gen := simulator.Generate(11, simulator.Size{Users: 230, Teams: 14, MembersPerTeam: 20})
	withNonHumans(gen)
	env := testenv.Start(t, gen.Workspace, simulator.Options{RateLimitCalls: 10, RateLimitWindow: 250 * time.Millisecond}, "")
	got := testenv.MustSync(t, newConnector(t, env.BaseURL, gen.Reader, nil))
	var ws *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	// The reader's role holds none of the integration and OAuth app
	// permissions: those types are left out, and never listed.
	assertMatchesWorkspaceAs(t, got, ws, gen.Reader.UserID)
	stats := env.Sim.Stats()
	if stats.Total429 != 0 {
		t.Errorf("got %d 429 answers (%v), want none", stats.Total429, stats.RateLimited)
	}
	// One call per listing (count=0) and per team, nothing read twice; the
	// users listing's second call asks which users wait for approval.
	want := map[string]int{
		"GET users.listByStatus": 1 + pendingReads(ws),
		"GET teams.listAll":      1,
		"GET roles.list":         1,
		"GET teams.members":      14,
		// As many deactivated users' teams as the sync's windows allow.
		"GET users.listTeams":   withProbe(min(deactivatedUsers(ws), windowsFor(len(ws.Teams), 10)*10-1)),
		"GET integrations.list": 0,
		"GET oauth-apps.list":   0,
	}
	for k, n := range want {
		if stats.Calls[k] != n {
			t.Errorf("%s called %d times, want %d", k, stats.Calls[k], n)
		}
	}
}

func deactivatedUsers(ws *simulator.Workspace) int {
	n := 0
	for _, u := range ws.Users {
		if !u.Active {
			n++
		}
	}
	return n
}

func profileString(r *v2.Resource, key string) string {
	p := r.GetProfile()
	if p == nil {
		return ""
	}
	return p.GetFields()[key].GetStringValue()
}

func profileBool(r *v2.Resource, key string) bool {
	p := r.GetProfile()
	if p == nil {
		return false
	}
	return p.GetFields()[key].GetBoolValue()
}

func diffSets(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := map[string]int{}, map[string]int{}
	for _, s := range got {
		g[s]++
	}
	for _, s := range want {
		w[s]++
	}
	var missing, extra, dup []string
	for s := range w {
		if g[s] == 0 {
			missing = append(missing, s)
		}
	}
	for s, n := range g {
		if w[s] == 0 {
			extra = append(extra, s)
		}
		if n > 1 {
			dup = append(dup, s)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra)+len(dup) > 0 {
		t.Errorf("%s: %d missing %v, %d extra %v, %d duplicated %v", what, len(missing), head(missing), len(extra), head(extra), len(dup), head(dup))
	}
	if len(w) == 0 {
		t.Errorf("%s: oracle expects nothing; the fixture is too small to test", what)
	}
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestSyncFallsBackToUsersListOnOldServers: servers before 6.8 have no
// users.listByStatus; users.list never returns the federated flag, so
// federation is recognised from the username and role.
func TestSyncFallsBackToUsersListOnOldServers(t *testing.T) {
	gen := variedWorkspace()
	env := testenv.Start(t, gen.Workspace, simulator.Options{}, "")
	env.Sim.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/users.listByStatus") {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte("404 Not Found"))
			return true
		}
		return false
	})
	got := testenv.MustSync(t, newConnector(t, env.BaseURL, gen.Admin, nil))
	var ws *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	// Before 6.8 nothing tells users waiting for approval from deactivated
	// ones (users.listByStatus's filter is what does): they sync as disabled.
	for _, u := range ws.Users {
		if u.InactiveReason == "pending_approval" {
			u.InactiveReason = "deactivated"
		}
	}
	assertMatchesWorkspace(t, got, ws)
	if n := env.Sim.Stats().Calls["GET users.list"]; n == 0 {
		t.Errorf("users.list was not used")
	}
}

// displayNameMatches: Baton stores at most 1024 bytes of a name, so a longer
// one must come back cut, at a character boundary, ending in an ellipsis.
func displayNameMatches(got, want string) bool {
	const maxBytes = 1024
	if len(want) <= maxBytes {
		return got == want
	}
	cut, ok := strings.CutSuffix(got, "…")
	return ok && len(got) <= maxBytes && utf8.ValidString(got) && strings.HasPrefix(want, cut) && len(cut) > maxBytes-8
}

// short keeps failure messages readable when names are enormous.
func short(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:80] + fmt.Sprintf("…(%d bytes)", len(s))
}

// TestSyncTwiceWithOneConnectorSeesChanges: in daemon mode one connector
// process serves many syncs; each must read the workspace afresh.
func TestSyncTwiceWithOneConnectorSeesChanges(t *testing.T) {
	gen := simulator.Generate(5, simulator.Size{Users: 120, Teams: 4, MembersPerTeam: 10})
	env := testenv.Start(t, gen.Workspace, simulator.Options{}, "")
	c := newConnector(t, env.BaseURL, gen.Admin, nil)

	first := testenv.MustSync(t, c)
	env.Sim.Update(func(ws *simulator.Workspace) {
		ws.AddUser(&simulator.User{ID: "newcomer000000001", Username: "newcomer", Name: "New Comer", Type: "user",
			Active: true, Roles: []string{"user", "admin"}})
		ws.Teams[0].Members = append(ws.Teams[0].Members, simulator.TeamMember{UserID: "newcomer000000001", Roles: []string{"owner"}})
	})
	second := testenv.MustSync(t, c)
	if first.SyncID == second.SyncID {
		t.Fatal("both syncs have the same id")
	}
	var ws *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	assertMatchesWorkspace(t, second, ws)
	if len(second.Grants) <= len(first.Grants) {
		t.Errorf("second sync has %d grants, first %d: the change was not seen", len(second.Grants), len(first.Grants))
	}
}

// TestSyncFailsOnA404MidListing: the SDK takes NotFound from a listing as a
// warning and skips it, so a 404 in the middle of a sync (a proxy's
// maintenance page, a rolling deploy) must fail the sync instead of
// finishing it with the listing cut short.
func TestSyncFailsOnA404MidListing(t *testing.T) {
	for _, endpoint := range []string{"users.listByStatus", "teams.listAll", "teams.members", "roles.list"} {
		t.Run(endpoint, func(t *testing.T) {
			gen := variedWorkspace()
			// Users are read page by page here, so that the 404 comes
			// mid-listing; a 404 on the first call means an older server.
			paged := endpoint == "users.listByStatus"
			env := testenv.Start(t, gen.Workspace, simulator.Options{InfiniteCountDisabled: paged}, "")
			env.Sim.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, "/"+endpoint) {
					return false
				}
				if paged && r.URL.Query().Get("offset") == "0" {
					return false
				}
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte("404 Not Found"))
				return true
			})
			path, err := testenv.Sync(t, newConnector(t, env.BaseURL, gen.Admin, nil, testenv.FastRetries))
			if err == nil {
				t.Fatal("sync succeeded with a listing answered 404")
			}
			if _, err := harness.ReadC1Z(context.Background(), path, t.TempDir()); err == nil {
				t.Error("the failed sync left a finished sync in the c1z")
			}
		})
	}
}

// TestConcurrentSyncsOnOneConnector: a daemon runs several tasks at once;
// two syncs through one connector must not disturb each other.
func TestConcurrentSyncsOnOneConnector(t *testing.T) {
	gen := simulator.Generate(9, simulator.Size{Users: 150, Teams: 6, MembersPerTeam: 15})
	env := testenv.Start(t, gen.Workspace, simulator.Options{}, "")
	c := newConnector(t, env.BaseURL, gen.Admin, nil)
	var ws *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })

	results := make(chan *harness.Contents, 2)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			path, err := testenv.Sync(t, c)
			if err != nil {
				errs <- err
				return
			}
			got, err := harness.ReadC1Z(context.Background(), path, t.TempDir())
			if err != nil {
				errs <- err
				return
			}
			results <- got
		}()
	}
	for range 2 {
		select {
		case err := <-errs:
			t.Fatalf("sync: %v", err)
		case got := <-results:
			assertMatchesWorkspace(t, got, ws)
		case <-time.After(60 * time.Second):
			t.Fatal("concurrent syncs did not finish")
		}
	}
}

// TestSyncWithoutAPIInfo: /api/info only picks the users endpoint; a proxy
// that exposes just /api/v1 must not stop the sync.
func TestSyncWithoutAPIInfo(t *testing.T) {
	gen := variedWorkspace()
	env := testenv.Start(t, gen.Workspace, simulator.Options{}, "")
	env.Sim.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/info" {
			return false
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("404 Not Found"))
		return true
	})
	got := testenv.MustSync(t, newConnector(t, env.BaseURL, gen.Admin, nil))
	var ws *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })
	assertMatchesWorkspace(t, got, ws)
}

// TestTeamGrantsCarryProvenance: each membership grant says who added the
// member and when, as teams.members reports it, so an access review can ask
// "added by whom, when".
func TestTeamGrantsCarryProvenance(t *testing.T) {
	gen := variedWorkspace()
	env := testenv.Start(t, gen.Workspace, simulator.Options{}, "")
	got := testenv.MustSync(t, newConnector(t, env.BaseURL, gen.Admin, nil))
	var ws *simulator.Workspace
	env.Sim.View(func(w *simulator.Workspace) { ws = w.Clone() })

	checked := 0
	for _, team := range ws.Teams {
		for _, m := range team.Members {
			g := got.Grant("team:" + team.ID + ":member:user:" + m.UserID)
			if u := ws.UserByID(m.UserID); g == nil || !u.Active {
				// Deactivated users' memberships come from users.listTeams,
				// which does not say who added them (TestDeactivatedMembers).
				continue
			}
			byID, by := m.CreatedByID, m.CreatedByUsername
			if byID == "" { // the simulator's default, as Rocket.Chat records the team's creator
				byID, by = team.CreatedByID, team.CreatedByUsername
			}
			meta := &v2.GrantMetadata{}
			annos := annotations.Annotations(g.GetAnnotations())
			if ok, err := annos.Pick(meta); err != nil || !ok {
				t.Fatalf("grant %s has no metadata (%v)", g.GetId(), err)
			}
			f := meta.GetMetadata().GetFields()
			if f["added_by"].GetStringValue() != by || f["added_by_id"].GetStringValue() != byID {
				t.Errorf("grant %s added by %q (%q), want %q (%q)", g.GetId(), f["added_by"].GetStringValue(), f["added_by_id"].GetStringValue(), by, byID)
			}
			if at, err := time.Parse(time.RFC3339Nano, f["added_at"].GetStringValue()); err != nil || !at.Equal(m.CreatedAt.Truncate(time.Millisecond)) {
				t.Errorf("grant %s added at %q, want %v", g.GetId(), f["added_at"].GetStringValue(), m.CreatedAt)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no membership grant checked")
	}
}

// Before 8.0 users.listByStatus has no inactiveReason filter, and nothing
// else tells a user waiting for approval from a deactivated one: such a
// server's pending users sync as disabled, and the sync goes on.
func TestPendingUsersOnServersBefore8(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    v2.Status_ResourceStatus
	}{
		{"8.0.0", v2.Status_RESOURCE_STATUS_PENDING},
		{"7.10.2", v2.Status_RESOURCE_STATUS_DISABLED},
		{"6.5.0", v2.Status_RESOURCE_STATUS_DISABLED}, // users.list
	} {
		t.Run(tc.version, func(t *testing.T) {
			gen := simulator.Generate(5, simulator.Size{Users: 30, Teams: 2, MembersPerTeam: 5})
			gen.Workspace.AddUser(&simulator.User{ID: "newUserId00000001", Username: "newcomer", Type: "user", InactiveReason: "pending_approval", Roles: []string{"user"}})
			env := testenv.Start(t, gen.Workspace, simulator.Options{Version: tc.version}, "")
			got := testenv.MustSync(t, newConnector(t, env.BaseURL, gen.Admin, nil))
			if r := got.ResourcesOf("user")["newUserId00000001"]; r.GetStatus().GetStatus() != tc.want {
				t.Errorf("pending user on %s: status %v, want %v", tc.version, r.GetStatus().GetStatus(), tc.want)
			}
		})
	}
}
