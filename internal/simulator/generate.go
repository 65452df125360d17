package simulator

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Credential is a user id and personal access token pair for the
// X-User-Id / X-Auth-Token headers.
type Credential struct {
	UserID, Token string
}

// Size is how big a generated workspace is.
type Size struct {
	// Users is the total, the special accounts included.
	Users int
	Teams int
	// MembersPerTeam is the average team size; sizes vary around it, and
	// the first team is made larger than a 100-item page when there are
	// enough users.
	MembersPerTeam int
	// Rooms is the number of channels, private groups and discussions
	// outside teams' main rooms (some inside teams); direct messages and
	// omnichannel rooms come on top. MembersPerRoom is their average size.
	// Zero makes none, and leaves the rest of the workspace as without.
	Rooms, MembersPerRoom int
}

// Generated is a workspace with credentials of its service accounts.
type Generated struct {
	Workspace *Workspace
	// Admin holds the admin role, so it is exempt from rate limiting.
	Admin Credential
	// Reader holds only the custom governance-reader role: every read
	// permission a sync needs but not api-bypass-rate-limit.
	Reader Credential
	// Plain holds the plain user role.
	Plain Credential
}

// FederationOrigin of generated Matrix users.
const matrixOrigin = "matrix.example.org"

// genBase is the generated workspace's "now"; dates fall before it.
var genBase = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

var firstNames = []string{
	"Ada", "Alan", "Amara", "Bruno", "Carla", "Chen", "Dana", "Diego", "Elif", "Emeka",
	"Farah", "Felix", "Greta", "Hana", "Hugo", "Ines", "Ivan", "Jade", "Jonas", "Kai",
	"Lara", "Liam", "Maya", "Mateo", "Nadia", "Noah", "Olga", "Omar", "Priya", "Quinn",
	"Rafael", "Rosa", "Sami", "Sofia", "Tariq", "Tomas", "Uma", "Vera", "Wei", "Yara", "Zoe",
}

var lastNames = []string{
	"Abbott", "Barros", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
	"Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quiroga", "Rossi", "Schmidt", "Tanaka",
	"Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zhang", "Novak", "Silva", "Kim", "Murphy",
}

var teamWords = []string{
	"platform", "security", "design", "support", "finance", "legal", "growth", "data", "infra", "mobile",
	"web", "sales", "marketing", "research", "people", "ops", "qa", "devrel", "billing", "identity",
}

var botNames = []string{"deploy", "alerts", "standup", "jira", "github", "pagerduty", "backup", "metrics"}

var appNames = []string{"jitsi", "zapier", "giphy", "poll", "reminder", "translate"}

// Generate builds a realistic workspace; the same seed and size always give
// the same workspace, ids and tokens included.
func Generate(seed int64, size Size) *Generated {
	if size == (Size{}) {
		size = Size{Users: 200, Teams: 12, MembersPerTeam: 25}
	}
	g := &generator{
		r:     rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)), //nolint:gosec // a seeded generator is the point: same seed, same workspace
		ws:    NewWorkspace(),
		names: map[string]bool{},
	}
	return g.run(size)
}

type generator struct {
	r     *rand.Rand
	ws    *Workspace
	names map[string]bool // usernames taken
}

func (g *generator) run(size Size) *Generated {
	ws := g.ws
	readerRole := g.customRole("governance-reader", "Read-only identity governance", scopeUsers, false)
	supportLead := g.customRole("support-lead", "Support team lead", scopeUsers, false)
	g.customRole("room-helper", "Helps moderate team rooms", scopeSubscriptions, false)
	compliance := g.customRole("compliance-officer", "Compliance reviews", scopeUsers, true)
	readerPerms := []string{permViewDRoom, permViewFullOtherUserInfo, permViewAllTeams, permAccessPermissions}
	if size.Rooms > 0 {
		// Rooms are listed with view-room-administration (rooms.adminRooms).
		// Members with view-c-room (public channels), view-joined-room
		// (the rooms the reader is in) and view-broadcast-member-list.
		readerPerms = append(readerPerms, "view-room-administration", permViewCRoom, permViewJoinedRoom, permViewBroadcastMemberList)
	}
	for _, p := range readerPerms {
		ws.Permissions[p] = append(ws.Permissions[p], readerRole.ID)
	}

	cat := g.add(&User{
		ID: rocketCat, Username: rocketCat, Name: "Rocket.Cat", Type: userTypeBot, Active: true,
		Roles: []string{roleBot}, Status: statusOnline, CreatedAt: genBase.AddDate(-3, 0, 0),
	})
	cat.LastLogin = timePtr(genBase.Add(-time.Hour))
	admin := g.service("baton-admin", "Baton Admin Service", []string{roleAdmin})
	reader := g.service("governance-reader", "Governance Reader", []string{readerRole.ID})
	plain := g.service("plain.user", "Plain User", []string{roleUser})

	rest := max(size.Users-4, 0)
	nBots := rest / 50
	nApps := rest / 60
	nFed := rest / 25
	if rest >= 10 {
		nBots++
	}
	if rest >= 20 {
		nApps++
	}
	if rest >= 15 {
		nFed++
	}
	nHumans := rest - nBots - nApps - nFed

	var humans []*User
	for i := range nHumans {
		humans = append(humans, g.human(i, supportLead.ID, compliance.ID))
	}
	for i := range nBots {
		g.bot(i)
	}
	for i := range nApps {
		g.app(i)
	}
	var feds []*User
	for range nFed {
		feds = append(feds, g.federated())
	}
	g.teams(size, humans, feds, plain)
	if size.Rooms > 0 {
		g.rooms(size, humans, feds, plain, admin)
	}

	return &Generated{
		Workspace: ws,
		Admin:     Credential{admin.ID, admin.Tokens[0]},
		Reader:    Credential{reader.ID, reader.Tokens[0]},
		Plain:     Credential{plain.ID, plain.Tokens[0]},
	}
}

func (g *generator) customRole(name, desc, scope string, mandatory2FA bool) *Role {
	r := &Role{ID: randomID(g.r), Name: name, Description: desc, Scope: scope, Mandatory2FA: mandatory2FA}
	g.ws.Roles = append(g.ws.Roles, r)
	return r
}

func (g *generator) add(u *User) *User {
	if u.ID == "" {
		u.ID = randomID(g.r)
	}
	g.names[strings.ToLower(u.Username)] = true
	g.ws.Users = append(g.ws.Users, u)
	return u
}

// service creates a service account holding one personal access token.
func (g *generator) service(username, name string, roles []string) *User {
	return g.add(&User{
		Username: username, Name: name, Type: userTypeUser, Active: true, Roles: roles, Status: statusOnline,
		Emails:    []Email{{Address: username + "@example.com", Verified: true}},
		CreatedAt: genBase.AddDate(0, -6, 0), LastLogin: timePtr(genBase.Add(-30 * time.Minute)),
		Password: g.token()[:16], Tokens: []string{g.token()},
	})
}

func (g *generator) uniqueName(base string) string {
	name := base
	for n := 2; g.names[strings.ToLower(name)]; n++ {
		name = base + itoa(n)
	}
	return name
}

func (g *generator) created() time.Time {
	return genBase.Add(-time.Duration(g.r.Int64N(int64(730 * 24 * time.Hour)))).Truncate(time.Millisecond)
}

func (g *generator) after(t time.Time) time.Time {
	span := genBase.Sub(t)
	if span <= 0 {
		return t
	}
	return t.Add(time.Duration(g.r.Int64N(int64(span)))).Truncate(time.Millisecond)
}

func (g *generator) pct(p int) bool { return g.r.IntN(100) < p }

func (g *generator) human(i int, supportLead, compliance string) *User {
	first := firstNames[g.r.IntN(len(firstNames))]
	last := lastNames[g.r.IntN(len(lastNames))]
	username := g.uniqueName(strings.ToLower(first + "." + last))
	u := &User{
		Username: username, Type: userTypeUser, Active: true, Roles: []string{roleUser},
		Emails:    []Email{{Address: username + "@example.com", Verified: g.pct(80)}},
		CreatedAt: g.created(),
	}
	if !g.pct(7) {
		u.Name = first + " " + last
	}
	if g.pct(12) {
		u.Emails = append(u.Emails, Email{Address: strings.ToLower(first) + "." + itoa(i) + "@personal.example.net"})
	}
	switch n := g.r.IntN(100); {
	case n < 3:
		u.Roles = []string{roleUser, roleAdmin}
	case n < 8:
		u.Roles = append(u.Roles, supportLead)
	case n < 12:
		u.Roles = append(u.Roles, roleLivechatAgent)
	case n < 13:
		u.Roles = append(u.Roles, roleLivechatManager, roleLivechatAgent)
	case n < 15:
		u.Roles = append(u.Roles, compliance)
	case n < 17:
		u.Roles = []string{roleGuest}
	}
	if !g.pct(10) {
		u.LastLogin = timePtr(g.after(u.CreatedAt))
	}
	if g.pct(11) {
		u.Active = false
		switch n := g.r.IntN(10); {
		case n < 6:
			u.InactiveReason = inactiveDeactivated
		case n < 9:
			u.InactiveReason = inactiveIdleTooLong
		default:
			u.InactiveReason = inactivePendingApproval
			u.LastLogin = nil
		}
	}
	u.Status = statusOffline
	if u.Active && u.LastLogin != nil {
		switch n := g.r.IntN(100); {
		case n < 30:
			u.Status = statusOnline
		case n < 40:
			u.Status = statusAway
		case n < 45:
			u.Status = statusBusy
		}
	}
	u.RequirePasswordChange = g.pct(5)
	if g.pct(20) {
		u.Nickname = strings.ToLower(first[:1]) + strings.ToLower(last)
	}
	if g.pct(15) {
		u.Bio = "Works on " + teamWords[g.r.IntN(len(teamWords))] + "."
	}
	u.Password = g.token()[:12]
	return g.add(u)
}

func (g *generator) bot(i int) {
	name := botNames[i%len(botNames)]
	created := g.created()
	g.add(&User{
		Username: g.uniqueName(name + "-bot"), Name: strings.ToUpper(name[:1]) + name[1:] + " Bot",
		Type: userTypeBot, Active: true, Roles: []string{roleBot}, Status: statusOnline,
		CreatedAt: created, LastLogin: timePtr(g.after(created)), Tokens: []string{g.token()},
	})
}

func (g *generator) app(i int) {
	name := appNames[i%len(appNames)]
	g.add(&User{
		Username: g.uniqueName(name + ".bot"), Name: strings.ToUpper(name[:1]) + name[1:],
		Type: userTypeApp, Active: true, Roles: []string{roleApp}, Status: statusOnline, CreatedAt: g.created(),
	})
}

func (g *generator) federated() *User {
	first := firstNames[g.r.IntN(len(firstNames))]
	last := lastNames[g.r.IntN(len(lastNames))]
	local := g.uniqueName(strings.ToLower(first + last))
	mxid := "@" + local + ":" + matrixOrigin
	g.names[strings.ToLower(local)] = true
	return g.add(&User{
		Username: mxid, Name: mxid, Type: userTypeUser, Active: true, Roles: []string{roleFederatedExternal},
		Status: statusOffline, CreatedAt: g.created(), Federated: true, FederationOrigin: matrixOrigin,
	})
}

// teams creates public and private teams with owners, moderators, leaders
// and plain members, deactivated and federated members included.
func (g *generator) teams(size Size, humans, feds []*User, plain *User) {
	var creators []*User
	for _, u := range humans {
		if u.Active && slices.Contains(u.Roles, roleUser) {
			creators = append(creators, u)
		}
	}
	if len(creators) == 0 {
		creators = []*User{plain}
	}
	pool := slices.Concat(humans, feds)
	usedNames := map[string]bool{}
	for i := range size.Teams {
		creator := creators[g.r.IntN(len(creators))]
		name := teamWords[g.r.IntN(len(teamWords))]
		for n := 2; usedNames[name]; n++ {
			name = teamWords[g.r.IntN(len(teamWords))] + "-" + itoa(n)
		}
		usedNames[name] = true
		t := &Team{
			ID: randomID(g.r), Name: name, RoomID: randomID(g.r),
			CreatedAt: g.created(), CreatedByID: creator.ID, CreatedByUsername: creator.Username,
		}
		if g.pct(30) || i == 1 {
			t.Type = teamPrivate
		}
		t.Members = append(t.Members, TeamMember{UserID: creator.ID, Roles: []string{roleOwner}, CreatedAt: t.CreatedAt})

		want := size.MembersPerTeam/2 + g.r.IntN(size.MembersPerTeam+1)
		if i == 0 {
			want = max(3*size.MembersPerTeam, 105)
		}
		for _, idx := range g.r.Perm(len(pool)) {
			if len(t.Members) >= want {
				break
			}
			u := pool[idx]
			if u == creator {
				continue
			}
			m := TeamMember{UserID: u.ID, CreatedAt: g.after(t.CreatedAt)}
			switch n := g.r.IntN(100); {
			case n < 4:
				m.Roles = []string{roleOwner}
			case n < 9:
				m.Roles = []string{roleModerator}
			case n < 11:
				m.Roles = []string{roleModerator, roleLeader}
			case n < 13:
				m.Roles = []string{roleLeader}
			}
			t.Members = append(t.Members, m)
		}
		// The plain account belongs to a public and a private team, so
		// member-only views have something to show.
		if i < 2 && t.member(plain.ID) == nil {
			t.Members = append(t.Members, TeamMember{UserID: plain.ID, CreatedAt: g.after(t.CreatedAt)})
		}
		g.ws.Teams = append(g.ws.Teams, t)
	}
}

var roomWords = []string{
	"general", "random", "announcements", "incidents", "releases", "hiring", "legal-private", "board", "payroll",
	"oncall", "design-review", "customer-x", "partners", "watercooler", "books", "lunch", "security-alerts", "audit",
}

// rooms creates public channels and private groups, some inside teams and
// some discussions of other rooms, with owners, moderators, leaders and
// plain members (deactivated and federated ones included); then a few
// direct messages and omnichannel rooms, which a governance sync leaves out.
// The admin account is in only some private groups, as in real workspaces.
func (g *generator) rooms(size Size, humans, feds []*User, plain, admin *User) {
	pool := slices.Concat(humans, feds)
	if len(pool) == 0 {
		pool = []*User{plain}
	}
	var creators []*User
	for _, u := range humans {
		if u.Active {
			creators = append(creators, u)
		}
	}
	if len(creators) == 0 {
		creators = []*User{plain}
	}
	per := max(size.MembersPerRoom, 2)
	used := map[string]bool{}
	for _, t := range g.ws.Teams {
		used[t.Name] = true
	}
	for i := range size.Rooms {
		creator := creators[g.r.IntN(len(creators))]
		name := roomWords[g.r.IntN(len(roomWords))]
		for n := 2; used[name]; n++ {
			name = roomWords[g.r.IntN(len(roomWords))] + "-" + itoa(n)
		}
		used[name] = true
		r := &Room{
			ID: randomID(g.r), Name: name, Type: RoomPublic, CreatedAt: g.created(),
			CreatorID: creator.ID, CreatorUsername: creator.Username,
		}
		if g.pct(40) || i == 1 {
			r.Type = RoomPrivate
		}
		switch n := g.r.IntN(100); {
		case n < 20 && len(g.ws.Teams) > 0:
			r.TeamID = g.ws.Teams[g.r.IntN(len(g.ws.Teams))].ID
		case n < 30 && len(g.ws.Rooms) > 0:
			parent := g.ws.Rooms[g.r.IntN(len(g.ws.Rooms))]
			if parent.Type == RoomPublic || parent.Type == RoomPrivate {
				r.ParentID, r.Type, r.TeamID = parent.ID, parent.Type, parent.TeamID
				r.FName = "Discussion: " + name
			}
		}
		r.ReadOnly, r.Archived, r.Broadcast = g.pct(5), g.pct(4), g.pct(3)
		r.Default, r.Featured = r.Type == RoomPublic && g.pct(5), g.pct(3)
		if r.Type == RoomPrivate && g.pct(5) {
			r.ABACAttributes = []ABACAttribute{{Key: "clearance", Values: []string{"confidential"}}}
		}
		r.Subscriptions = append(r.Subscriptions, RoomSubscription{UserID: creator.ID, Roles: []string{roleOwner}, CreatedAt: r.CreatedAt})
		want := per/2 + g.r.IntN(per+1)
		if i == 0 {
			want = max(2*per, 105) // more than a page
		}
		for _, idx := range g.r.Perm(len(pool)) {
			if len(r.Subscriptions) >= want {
				break
			}
			u := pool[idx]
			if u == creator {
				continue
			}
			s := RoomSubscription{UserID: u.ID, CreatedAt: g.after(r.CreatedAt)}
			if g.pct(60) {
				s.InviterID, s.InviterUsername = creator.ID, creator.Username
			}
			switch n := g.r.IntN(100); {
			case n < 3:
				s.Roles = []string{roleOwner}
			case n < 8:
				s.Roles = []string{roleModerator}
			case n < 10:
				s.Roles = []string{roleModerator, roleLeader}
			case n < 12:
				s.Roles = []string{roleLeader}
			}
			r.Subscriptions = append(r.Subscriptions, s)
		}
		// The admin account joined public rooms it created or was asked
		// into, and only some private ones: the others hide their members
		// from it (canAccessRoom has no admin bypass).
		if r.Subscription(admin.ID) == nil && (r.Type == RoomPublic && g.pct(30) || r.Type == RoomPrivate && i%2 == 0) {
			r.Subscriptions = append(r.Subscriptions, RoomSubscription{UserID: admin.ID, CreatedAt: g.after(r.CreatedAt)})
		}
		if i < 2 && r.Subscription(plain.ID) == nil {
			r.Subscriptions = append(r.Subscriptions, RoomSubscription{UserID: plain.ID, CreatedAt: g.after(r.CreatedAt)})
		}
		g.ws.Rooms = append(g.ws.Rooms, r)
	}
	// Direct messages and omnichannel rooms: never governance resources.
	for i := range max(size.Rooms/5, 1) {
		a, b := pool[g.r.IntN(len(pool))], pool[g.r.IntN(len(pool))]
		dm := &Room{ID: randomID(g.r), Type: RoomDirect, CreatedAt: g.created(),
			Subscriptions: []RoomSubscription{{UserID: a.ID}}}
		if b != a {
			dm.Subscriptions = append(dm.Subscriptions, RoomSubscription{UserID: b.ID})
		}
		g.ws.Rooms = append(g.ws.Rooms, dm)
		if i%2 == 0 {
			agent := pool[g.r.IntN(len(pool))]
			g.ws.Rooms = append(g.ws.Rooms, &Room{ID: randomID(g.r), Name: "visitor-" + itoa(i), Type: RoomLivechat, CreatedAt: g.created(),
				Subscriptions: []RoomSubscription{{UserID: agent.ID}}})
		}
	}
}

func (g *generator) token() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, 43)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

func timePtr(t time.Time) *time.Time { return &t }

// derivedID makes a stable Rocket.Chat-like id from parts, for records the
// model does not store (subscriptions).
func derivedID(parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p)) // hash writes never fail
		_, _ = h.Write([]byte{0})
	}
	return randomID(rand.New(rand.NewPCG(h.Sum64(), 1))) //nolint:gosec // derived, not secret
}

func hashString(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
