package simulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Fixed ids of the rooms roomsWorkspace adds to smallWorkspace.
const (
	roomGeneral  = "RoomGeneralGGGGGG" // public; alice owner, carol moderator, bob (deactivated), plain
	roomSecret   = "RoomSecretSSSSSSS" // private; carol owner, alice leader; the admin is not in it
	roomOps      = "RoomOpsOOOOOOOOOO" // private; the admin owns it
	roomOld      = "RoomOldOOOOOOOOOO" // public, archived
	roomAlphaDev = "RoomAlphaDevAAAAA" // public, in the public team alpha
	roomBetaPlan = "RoomBetaPlanBBBBB" // public, in the private team beta
	roomDisc     = "RoomDiscDDDDDDDDD" // discussion of roomSecret
	roomDM       = "RoomDMDDDDDDDDDDD" // alice ↔ carol
	roomLive     = "RoomLiveLLLLLLLLL" // omnichannel, carol serving
	roomAnnounce = "RoomAnnounceAAAAA" // public broadcast; alice owner, plain
	roomMatrix   = "RoomMatrixMMMMMMM" // public, federated; alice owner, carol
	roomEmpty    = "RoomEmptyEEEEEEEE" // public, default, featured; plain without roles field
)

// roomsWorkspace is smallWorkspace plus rooms of every kind.
func roomsWorkspace() *Workspace {
	ws := smallWorkspace()
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	sub := func(uid string, m int, roles ...string) RoomSubscription {
		s := RoomSubscription{UserID: uid, CreatedAt: at(m)}
		if roles != nil {
			s.Roles = roles
		}
		return s
	}
	ws.Rooms = []*Room{
		{ID: roomGeneral, Name: "general", Type: RoomPublic, CreatorID: idAlice, CreatorUsername: "alice", CreatedAt: at(10),
			Subscriptions: []RoomSubscription{sub(idAlice, 10, roleOwner), sub(idCarol, 11, roleModerator), sub(idBob, 12), sub(idPlain, 13)}},
		{ID: roomSecret, Name: "secret", Type: RoomPrivate, CreatorID: idCarol, CreatorUsername: "carol", CreatedAt: at(20),
			Subscriptions: []RoomSubscription{sub(idCarol, 20, roleOwner), sub(idAlice, 21, roleLeader)}},
		{ID: roomOps, Name: "ops", Type: RoomPrivate, CreatorID: idAdmin, CreatorUsername: "svc-admin", CreatedAt: at(30),
			Subscriptions: []RoomSubscription{sub(idAdmin, 30, roleOwner), sub(idPlain, 31)}},
		{ID: roomOld, Name: "old-news", Type: RoomPublic, Archived: true, CreatorID: idAlice, CreatorUsername: "alice", CreatedAt: at(40),
			Subscriptions: []RoomSubscription{sub(idAlice, 40, roleOwner)}},
		{ID: roomAlphaDev, Name: "alpha-dev", Type: RoomPublic, TeamID: teamAlpha, CreatorID: idAlice, CreatorUsername: "alice", CreatedAt: at(50),
			Subscriptions: []RoomSubscription{sub(idAlice, 50, roleOwner)}},
		{ID: roomBetaPlan, Name: "beta-plans", Type: RoomPublic, TeamID: teamBeta, CreatorID: idCarol, CreatorUsername: "carol", CreatedAt: at(60),
			Subscriptions: []RoomSubscription{sub(idCarol, 60, roleOwner)}},
		{ID: roomDisc, Name: "dXcRoomName", FName: "Secret talk", Type: RoomPrivate, ParentID: roomSecret, CreatorID: idCarol, CreatorUsername: "carol",
			CreatedAt: at(70), Subscriptions: []RoomSubscription{sub(idCarol, 70, roleOwner)}},
		{ID: roomDM, Type: RoomDirect, CreatedAt: at(80), Subscriptions: []RoomSubscription{sub(idAlice, 80), sub(idCarol, 80)}},
		{ID: roomLive, Name: "Visitor Vera", Type: RoomLivechat, CreatedAt: at(90), Subscriptions: []RoomSubscription{sub(idCarol, 90)}},
		{ID: roomAnnounce, Name: "announce", Type: RoomPublic, Broadcast: true, ReadOnly: true, CreatorID: idAlice, CreatorUsername: "alice",
			CreatedAt: at(100), Subscriptions: []RoomSubscription{sub(idAlice, 100, roleOwner), sub(idPlain, 101)}},
		{ID: roomMatrix, Name: "matrix-room", Type: RoomPublic, Federated: true, CreatorID: idAlice, CreatorUsername: "alice", CreatedAt: at(110),
			Subscriptions: []RoomSubscription{sub(idAlice, 110, roleOwner), sub(idCarol, 111)}},
		{ID: roomEmpty, Name: "lobby", Type: RoomPublic, Default: true, Featured: true, CreatorID: idAdmin, CreatorUsername: "svc-admin",
			CreatedAt: at(120), Subscriptions: []RoomSubscription{sub(idAdmin, 120, roleOwner), sub(idPlain, 121)}},
	}
	return ws
}

func roomsHarness() *harness {
	return newHarness(roomsWorkspace(), Options{DisableRateLimiter: true})
}

func roomIDs(t *testing.T, r response) []string {
	t.Helper()
	return ids(items(t, r, "rooms"))
}

// roomErr is a thrown Meteor.Error(code, reason) without details.
func roomErr(code, reason string) string {
	return `{"success":false,"error":"` + reason + ` [` + code + `]","errorType":"` + code + `"}`
}

// methodErr is a thrown Meteor.Error(code, reason, {method}).
func methodErr(code, reason, method string) string {
	return `{"success":false,"error":"` + reason + ` [` + code + `]","errorType":"` + code + `","details":{"method":"` + method + `"}}`
}

const (
	errNoChannel = `The required \"roomId\" or \"roomName\" param provided does not match any channel`
	errNoGroup   = `The required \"roomId\" or \"roomName\" param provided does not match any group`
)

func TestRoomsAdminRooms(t *testing.T) {
	h := roomsHarness()
	get := func(query string, cred *Credential) response {
		return h.get(t, "/api/v1/rooms.adminRooms"+query, cred)
	}
	cases := []struct {
		name, query string
		cred        *Credential
		code        int
		body        string   // exact body, when set
		ids         []string // listed room ids in order, when body is empty
	}{
		// findAdminRooms (apps/meteor/server/api/lib/rooms.ts) checks
		// view-room-administration itself and throws a plain Error: 400, no errorType.
		{name: "no permission", query: "", cred: &credPlain, code: http.StatusBadRequest, body: `{"success":false,"error":"error-not-authorized"}`},
		// isRoomsAdminRoomsProps (packages/rest-typings/src/v1/rooms.ts) is closed;
		// typed query validation answers before the handler runs.
		{name: "unknown param", query: "?roomId=x", cred: &credPlain, code: http.StatusBadRequest,
			body: `{"success":false,"errorType":"error-invalid-params","error":"must NOT have additional properties"}`},
		{name: "types not an array", query: "?types=c", cred: &credAdmin, code: http.StatusBadRequest,
			body: `{"success":false,"errorType":"error-invalid-params","error":"must be array"}`},
		// parseJsonQuery runs before the permission check.
		{name: "bad sort", query: "?sort=name", cred: &credPlain, code: http.StatusBadRequest,
			body: `{"success":false,"error":"Invalid sort parameter provided: \"name\" [error-invalid-sort]","errorType":"error-invalid-sort","details":{"helperMethod":"parseJsonQuery"}}`},
		// Rooms.findByNameOrFnameContainingAndTypes (packages/models/src/models/Rooms.ts):
		// c and p only: no DMs, no omnichannel, and — without "discussions" and
		// "teams" — no discussions and no team main rooms. Sorted {default: -1, name: 1}.
		{name: "channels and groups", query: "?types[]=c&types[]=p", cred: &credAdmin, code: http.StatusOK,
			ids: []string{roomEmpty, roomAlphaDev, roomAnnounce, roomBetaPlan, roomGeneral, roomMatrix, roomOld, roomOps, roomSecret}},
		// "teams" adds the teams' main rooms (teamMain exists), "discussions" the discussions.
		{name: "teams", query: "?types[]=teams", cred: &credAdmin, code: http.StatusOK, ids: []string{roomAlpha, roomBeta}},
		{name: "discussions", query: "?types[]=discussions", cred: &credAdmin, code: http.StatusOK, ids: []string{roomDisc}},
		// No types: every type, still without discussions and team main rooms;
		// DMs and omnichannel rooms have no name, which sorts first.
		{name: "no types", query: "", cred: &credAdmin, code: http.StatusOK,
			ids: []string{roomEmpty, roomDM, roomLive, roomAlphaDev, roomAnnounce, roomBetaPlan, roomGeneral, roomMatrix, roomOld, roomOps, roomSecret}},
		// filter: name (of non-federated rooms), fname, or a DM's usernames, ignoring case.
		{name: "filter", query: "?filter=%20SEC%20&types[]=p&types[]=discussions", cred: &credAdmin, code: http.StatusOK, ids: []string{roomDisc, roomSecret}},
		{name: "filter dm username", query: "?filter=carol&types[]=d", cred: &credAdmin, code: http.StatusOK, ids: []string{roomDM}},
		{name: "sort", query: `?types[]=c&sort={"usersCount":-1,"name":1}`, cred: &credAdmin, code: http.StatusOK,
			ids: []string{roomGeneral, roomAnnounce, roomEmpty, roomMatrix, roomAlphaDev, roomBetaPlan, roomOld}},
		// The adminFields projection (apps/meteor/lib/rooms/adminFields.ts), in
		// document order; usersCount counts the deactivated bob.
		{name: "projection", query: "?filter=general&types[]=c", cred: &credAdmin, code: http.StatusOK,
			body: `{"rooms":[{"_id":"RoomGeneralGGGGGG","fname":"general","name":"general","t":"c","msgs":0,"usersCount":4,` +
				`"u":{"_id":"AliceAAAAAAAAAAAA","username":"alice","name":"Alice Liddell"},"ts":"2025-01-02T03:14:05.678Z","ro":false}],` +
				`"count":1,"offset":0,"total":1,"success":true}`},
		{name: "team main room", query: "?types[]=teams&filter=beta&count=1", cred: &credAdmin, code: http.StatusOK,
			body: `{"rooms":[{"_id":"RoomBetaBBBBBBBBB","fname":"beta","teamId":"TeamBetaBBBBBBBBB","teamMain":true,"name":"beta","t":"p","msgs":0,` +
				`"usersCount":2,"u":{"_id":"CarolCCCCCCCCCCCC","username":"carol","name":"Carol King"},"ts":"2025-01-02T04:04:05.678Z","ro":false}],` +
				`"count":1,"offset":0,"total":1,"success":true}`},
		{name: "dm and livechat", query: "?types[]=d&types[]=l", cred: &credAdmin, code: http.StatusOK,
			body: `{"rooms":[{"_id":"RoomDMDDDDDDDDDDD","t":"d","usernames":["alice","carol"],"usersCount":2,"msgs":0,` +
				`"ts":"2025-01-02T04:24:05.678Z","uids":["AliceAAAAAAAAAAAA","CarolCCCCCCCCCCCC"]},` +
				`{"_id":"RoomLiveLLLLLLLLL","msgs":0,"usersCount":1,"fname":"Visitor Vera","t":"l","ts":"2025-01-02T04:34:05.678Z","cl":false}],` +
				`"count":2,"offset":0,"total":2,"success":true}`},
		// getPaginationItems: offset/count, count=0 is every room.
		{name: "paging", query: "?types[]=c&types[]=p&offset=2&count=3", cred: &credAdmin, code: http.StatusOK, ids: []string{roomAnnounce, roomBetaPlan, roomGeneral}},
		{name: "count zero", query: "?types[]=c&types[]=p&types[]=teams&types[]=discussions&count=0", cred: &credAdmin, code: http.StatusOK,
			ids: []string{roomEmpty, roomAlpha, roomAlphaDev, roomAnnounce, roomBeta, roomBetaPlan, roomDisc, roomGeneral, roomMatrix, roomOld, roomOps, roomSecret}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := get(tc.query, tc.cred)
			if tc.body != "" {
				expect(t, r, tc.code, tc.body)
				return
			}
			expectCode(t, r, tc.code)
			if got := roomIDs(t, r); !slices.Equal(got, tc.ids) {
				t.Errorf("rooms %v\nwant  %v", got, tc.ids)
			}
			if num(r.body["total"]) < len(tc.ids) {
				t.Errorf("total %v", r.body["total"])
			}
		})
	}
	// The default and featured flags show; team rooms carry teamId.
	r := get("?filter=lobby", &credAdmin)
	if room := items(t, r, "rooms")[0]; room["default"] != true || room["featured"] != true {
		t.Errorf("lobby: %s", r.raw)
	}
	if room := items(t, get("?filter=alpha-dev", &credAdmin), "rooms")[0]; room["teamId"] != teamAlpha || hasKey(room, "teamMain") {
		t.Errorf("alpha-dev: %v", room)
	}
	if n := h.srv.Stats().Calls["GET rooms.adminRooms"]; n != len(cases)+2 {
		t.Errorf("calls %d", n)
	}
}

func TestRoomsAdminRoomsGetRoom(t *testing.T) {
	h := roomsHarness()
	// findAdminRoom (apps/meteor/server/api/lib/rooms.ts): any room, no access check.
	expect(t, h.get(t, "/api/v1/rooms.adminRooms.getRoom?rid="+roomSecret, &credAdmin), http.StatusOK,
		`{"_id":"RoomSecretSSSSSSS","fname":"secret","name":"secret","t":"p","msgs":0,"usersCount":2,`+
			`"u":{"_id":"CarolCCCCCCCCCCCC","username":"carol","name":"Carol King"},"ts":"2025-01-02T03:24:05.678Z","ro":false,"success":true}`)
	expect(t, h.get(t, "/api/v1/rooms.adminRooms.getRoom?rid=nope", &credAdmin), http.StatusBadRequest,
		`{"success":false,"error":"not-allowed","errorType":"Not Allowed"}`)
	expect(t, h.get(t, "/api/v1/rooms.adminRooms.getRoom?rid="+roomSecret, &credPlain), http.StatusBadRequest, `{"success":false,"error":"error-not-authorized"}`)
	// An ABAC-managed room's attributes are part of the admin projection
	// (RoomAdminFieldsType in packages/core-typings/src/IRoom.ts).
	h.srv.Update(func(ws *Workspace) {
		ws.RoomByID(roomOps).ABACAttributes = []ABACAttribute{{Key: "clearance", Values: []string{"secret"}}}
	})
	if r := h.get(t, "/api/v1/rooms.adminRooms.getRoom?rid="+roomOps, &credAdmin); !strings.HasSuffix(r.raw,
		`"ro":false,"abacAttributes":[{"key":"clearance","values":["secret"]}],"success":true}`) {
		t.Errorf("ops: %s", r.raw)
	}
	// isRoomsAdminRoomsGetRoomProps takes rid only.
	expect(t, h.get(t, "/api/v1/rooms.adminRooms.getRoom?roomId="+roomSecret, &credAdmin), http.StatusBadRequest,
		`{"success":false,"errorType":"error-invalid-params","error":"must NOT have additional properties"}`)
}

func TestRoomsInfo(t *testing.T) {
	h := roomsHarness()
	cases := []struct {
		name, query string
		cred        *Credential
		code        int
		body        string
		check       func(t *testing.T, r response)
	}{
		// rooms.info (apps/meteor/server/api/v1/rooms.ts) findRoomByIdOrName.
		{name: "no param", query: "", cred: &credAdmin, code: http.StatusBadRequest,
			body: roomErr("error-roomid-param-not-provided", `The parameter \"roomId\" or \"roomName\" is required`)},
		{name: "unknown room", query: "?roomId=nope", cred: &credAdmin, code: http.StatusBadRequest, body: roomErr("error-room-not-found", errNoChannel)},
		// canAccessRoom has no admin bypass: a private group the admin is not in.
		{name: "private not member", query: "?roomId=" + roomSecret, cred: &credAdmin, code: http.StatusBadRequest,
			body: `{"success":false,"error":"not-allowed","errorType":"Not Allowed"}`},
		// A public room is open to view-c-room holders, members or not.
		{name: "public", query: "?roomName=general", cred: &credCarol, code: http.StatusOK, check: func(t *testing.T, r response) {
			room := r.body["room"].(map[string]any)
			if room["_id"] != roomGeneral || hasKey(r.body, "team") || hasKey(r.body, "parent") {
				t.Errorf("%s", r.raw)
			}
		}},
		// Team.getRoomInfo (apps/meteor/server/services/team/service.ts): the team,
		// and for a room that is not the main one the main room as parent.
		{name: "team channel", query: "?roomId=" + roomAlphaDev, cred: &credPlain, code: http.StatusOK,
			body: `{"room":{"_id":"RoomAlphaDevAAAAA","fname":"alpha-dev","_updatedAt":"2025-01-02T03:54:05.678Z","teamId":"TeamAlphaAAAAAAAA",` +
				`"name":"alpha-dev","t":"c","msgs":0,"usersCount":1,"u":{"_id":"AliceAAAAAAAAAAAA","username":"alice","name":"Alice Liddell"},` +
				`"ts":"2025-01-02T03:54:05.678Z","ro":false},"team":{"_id":"TeamAlphaAAAAAAAA","name":"alpha","type":0,"roomId":"RoomAlphaAAAAAAAA"},` +
				`"parent":{"_id":"RoomAlphaAAAAAAAA","fname":"alpha","name":"alpha","t":"c"},"success":true}`},
		{name: "team main room", query: "?roomId=" + roomAlpha, cred: &credPlain, code: http.StatusOK, check: func(t *testing.T, r response) {
			if r.body["room"].(map[string]any)["teamMain"] != true || !hasKey(r.body, "team") || hasKey(r.body, "parent") {
				t.Errorf("%s", r.raw)
			}
		}},
		// A public room of a private team: only the team's members.
		{name: "private team channel", query: "?roomId=" + roomBetaPlan, cred: &credPlain, code: http.StatusBadRequest,
			body: `{"success":false,"error":"not-allowed","errorType":"Not Allowed"}`},
		{name: "private team channel member", query: "?roomId=" + roomBetaPlan, cred: &credAlice, code: http.StatusOK},
		// A discussion: whoever can access the parent; the parent is shown.
		{name: "discussion", query: "?roomId=" + roomDisc, cred: &credAlice, code: http.StatusOK, check: func(t *testing.T, r response) {
			p := r.body["parent"].(map[string]any)
			if p["_id"] != roomSecret || p["t"] != "p" || !hasKey(p, "u") {
				t.Errorf("%s", r.raw)
			}
		}},
		// Archived rooms are readable (checkedArchived: false).
		{name: "archived", query: "?roomId=" + roomOld, cred: &credPlain, code: http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.get(t, "/api/v1/rooms.info"+tc.query, tc.cred)
			switch {
			case tc.body != "":
				expect(t, r, tc.code, tc.body)
			default:
				expectCode(t, r, tc.code)
				if tc.check != nil {
					tc.check(t, r)
				}
			}
		})
	}
}

func TestRoomMembers(t *testing.T) {
	h := roomsHarness()
	h.srv.Update(func(ws *Workspace) {
		ws.UserByID(idPlain).Status = statusAway
		ws.RoomByID(roomOps).Archived = true
	})
	cases := []struct {
		name, target string
		cred         *Credential
		code         int
		body         string
		ids          []string
	}{
		// channels.members (apps/meteor/server/api/v1/channels.ts): a public room
		// works for a non-member with view-c-room (canAccessRoom), here the admin.
		// findUsersOfRoom (apps/meteor/server/lib/findUsersOfRoom.ts) lists active
		// users only (bob is deactivated), connected ones (statusConnection
		// online: alice online, plain away) first, then by username.
		{name: "public non-member admin", target: "channels.members?roomId=" + roomGeneral, cred: &credAdmin, code: http.StatusOK,
			body: `{"members":[{"_id":"AliceAAAAAAAAAAAA","username":"alice","status":"online","_updatedAt":"2025-01-04T03:04:05.678Z","name":"Alice Liddell"},` +
				`{"_id":"PlainPPPPPPPPPPPP","username":"plain","status":"away","_updatedAt":"2025-01-02T03:04:05.678Z","name":"Plain User"},` +
				`{"_id":"CarolCCCCCCCCCCCC","username":"carol","status":"offline","_updatedAt":"2025-01-04T03:04:05.678Z","name":"Carol King"}],` +
				`"count":3,"offset":0,"total":3,"success":true}`},
		{name: "sort username desc", target: `channels.members?roomName=general&sort={"username":-1}`, cred: &credAdmin, code: http.StatusOK,
			ids: []string{idPlain, idAlice, idCarol}},
		{name: "paging", target: "channels.members?roomId=" + roomGeneral + "&offset=1&count=1", cred: &credAdmin, code: http.StatusOK, ids: []string{idPlain}},
		{name: "filter", target: "channels.members?roomId=" + roomGeneral + "&filter=KING", cred: &credAdmin, code: http.StatusOK, ids: []string{idCarol}},
		{name: "status", target: "channels.members?roomId=" + roomGeneral + "&status[]=offline", cred: &credAdmin, code: http.StatusOK, ids: []string{idCarol}},
		// check(queryParams, ObjectIncluding({status: Maybe([String])})) throws a Match.Error.
		{name: "status not array", target: "channels.members?roomId=" + roomGeneral + "&status=online", cred: &credAdmin, code: http.StatusBadRequest,
			body: `{"success":false,"error":"Match error: Failed Match.OneOf, Match.Maybe or Match.Optional validation in field status"}`},
		// findChannelByIdOrName: public (and omnichannel) rooms only.
		{name: "channels on group", target: "channels.members?roomId=" + roomSecret, cred: &credAdmin, code: http.StatusBadRequest,
			body: roomErr("error-room-not-found", errNoChannel)},
		// A public room of a private team: canAccessRoom refuses non-members → 403.
		{name: "private team channel", target: "channels.members?roomId=" + roomBetaPlan, cred: &credPlain, code: http.StatusForbidden,
			body: `{"success":false,"error":"unauthorized"}`},
		{name: "private team channel member", target: "channels.members?roomId=" + roomBetaPlan, cred: &credAlice, code: http.StatusOK, ids: []string{idCarol}},
		// Broadcast rooms need view-broadcast-member-list (room-scoped: owners hold it).
		{name: "broadcast", target: "channels.members?roomId=" + roomAnnounce, cred: &credPlain, code: http.StatusForbidden, body: `{"success":false,"error":"unauthorized"}`},
		{name: "broadcast owner", target: "channels.members?roomId=" + roomAnnounce, cred: &credAlice, code: http.StatusOK, ids: []string{idAlice, idPlain}},
		// channels.members does not refuse archived rooms.
		{name: "archived channel", target: "channels.members?roomId=" + roomOld, cred: &credPlain, code: http.StatusOK, ids: []string{idAlice}},
		// groups.members (apps/meteor/server/api/v1/groups.ts) findPrivateGroupByIdOrName:
		// a caller not subscribed gets error-room-not-found, even an admin.
		{name: "group not member admin", target: "groups.members?roomId=" + roomSecret, cred: &credAdmin, code: http.StatusBadRequest,
			body: roomErr("error-room-not-found", errNoGroup)},
		{name: "group member", target: "groups.members?roomName=secret", cred: &credAlice, code: http.StatusOK, ids: []string{idAlice, idCarol}},
		{name: "group no param", target: "groups.members", cred: &credAlice, code: http.StatusBadRequest,
			body: roomErr("error-room-param-not-provided", `The parameter \"roomId\" or \"roomName\" is required`)},
		// groups.members refuses archived groups (findPrivateGroupByIdOrName's
		// checkedArchived defaults to true).
		{name: "archived group", target: "groups.members?roomId=" + roomOps, cred: &credAdmin, code: http.StatusBadRequest,
			body: roomErr("error-room-archived", "The private group, ops, is archived")},
		// A discussion is accessed through its parent.
		{name: "discussion via parent", target: "groups.members?roomId=" + roomDisc, cred: &credAlice, code: http.StatusOK, ids: []string{idCarol}},
		// A team main room is a room too.
		{name: "team main room", target: "groups.members?roomId=" + roomBeta, cred: &credCarol, code: http.StatusOK, ids: []string{idAlice, idCarol}},
		// No query schema: unknown params are ignored.
		{name: "unknown param", target: "channels.members?roomId=" + roomGeneral + "&bogus=1&count=1", cred: &credAdmin, code: http.StatusOK, ids: []string{idAlice}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.get(t, "/api/v1/"+tc.target, tc.cred)
			if tc.body != "" {
				expect(t, r, tc.code, tc.body)
				return
			}
			expectCode(t, r, tc.code)
			if got := ids(items(t, r, "members")); !slices.Equal(got, tc.ids) {
				t.Errorf("members %v, want %v", got, tc.ids)
			}
		})
	}
}

func TestRoomMembersPaging(t *testing.T) {
	gen := Generate(5, Size{Users: 300, Teams: 3, MembersPerTeam: 20, Rooms: 12, MembersPerRoom: 70})
	h := newHarness(gen.Workspace, Options{DisableRateLimiter: true})
	var first *Room
	var active int
	h.srv.View(func(ws *Workspace) {
		first = ws.Rooms[0]
		for _, s := range first.Subscriptions {
			if u := ws.UserByID(s.UserID); u.Active && u.Username != "" {
				active++
			}
		}
	})
	route := "channels.members"
	if first.Type == RoomPrivate {
		route = "groups.members"
	}
	r := h.get(t, "/api/v1/"+route+"?count=0&roomId="+first.ID, &gen.Admin)
	if r.code != http.StatusOK || num(r.body["total"]) != active || len(items(t, r, "members")) != active || active <= 100 {
		t.Fatalf("%s: total %v, %d active", route, r.body["total"], active)
	}
	var paged []string
	for off := 0; off < active; off += 100 {
		r := h.get(t, "/api/v1/"+route+"?count=500&offset="+itoa(off)+"&roomId="+first.ID, &gen.Admin)
		paged = append(paged, ids(items(t, r, "members"))...)
	}
	if !slices.Equal(paged, ids(items(t, h.get(t, "/api/v1/"+route+"?count=0&roomId="+first.ID, &gen.Admin), "members"))) {
		t.Errorf("paging differs from count=0")
	}
	// The reader can list every room.
	all := h.get(t, "/api/v1/rooms.adminRooms?count=0&types[]=c&types[]=p", &gen.Reader)
	for _, room := range items(t, all, "rooms") {
		if room["t"] != "c" && room["t"] != "p" || hasKey(room, "teamMain") || hasKey(room, "prid") {
			t.Errorf("room %v", room)
		}
	}
}

func TestRoomRoles(t *testing.T) {
	h := roomsHarness()
	h.srv.Update(func(ws *Workspace) {
		r := ws.RoomByID(roomGeneral)
		// room-helper has no description: getRoomRoles does not look for it.
		r.Subscription(idPlain).Roles = []string{"HelperRoleHHHHHHH"}
		r.Subscription(idBob).Roles = []string{"HelperRoleHHHHHHH", roleLeader}
	})
	cases := []struct {
		name, target string
		cred         *Credential
		code         int
		body         string
		users        []string
	}{
		// getRoomRoles (apps/meteor/server/lib/roles/getRoomRoles.ts): subscriptions
		// with a described Subscriptions-scope role, sorted by username, every role
		// of the subscription listed; deactivated users included.
		{name: "public", target: "channels.roles?roomId=" + roomGeneral, cred: &credPlain, code: http.StatusOK, users: []string{idAlice, idBob, idCarol}},
		{name: "exact", target: "channels.roles?roomName=old-news", cred: &credAdmin, code: http.StatusBadRequest,
			body: roomErr("error-room-archived", "The channel, old-news, is archived")},
		// channels.roles is a validateParams route: isChannelsRolesProps fails
		// after the limiter, as Meteor.Error('invalid-params').
		{name: "unknown param", target: "channels.roles?roomId=" + roomGeneral + "&count=1", cred: &credAdmin, code: http.StatusBadRequest,
			body: `{"success":false,"error":"must NOT have additional properties\n must have required property 'roomName'\n must match exactly one schema in oneOf [invalid-params]","errorType":"invalid-params"}`},
		{name: "both params", target: "channels.roles?roomId=" + roomGeneral + "&roomName=general", cred: &credAdmin, code: http.StatusBadRequest,
			body: `{"success":false,"error":"must NOT have additional properties\n must NOT have additional properties\n must match exactly one schema in oneOf [invalid-params]","errorType":"invalid-params"}`},
		// executeGetRoomRoles: a caller who cannot access the room gets error-invalid-user.
		{name: "private team channel", target: "channels.roles?roomId=" + roomBetaPlan, cred: &credPlain, code: http.StatusBadRequest,
			body: methodErr("error-invalid-user", "Invalid user", "getRoomRoles")},
		// groups.roles goes through findPrivateGroupByIdOrName first.
		{name: "group not member admin", target: "groups.roles?roomId=" + roomSecret, cred: &credAdmin, code: http.StatusBadRequest,
			body: roomErr("error-room-not-found", errNoGroup)},
		{name: "group", target: "groups.roles?roomId=" + roomSecret, cred: &credAlice, code: http.StatusOK,
			body: `{"roles":[{"_id":"` + derivedID(roomSecret, idAlice) + `","rid":"RoomSecretSSSSSSS","u":{"_id":"AliceAAAAAAAAAAAA","username":"alice","name":"Alice Liddell"},"roles":["leader"]},` +
				`{"_id":"` + derivedID(roomSecret, idCarol) + `","rid":"RoomSecretSSSSSSS","u":{"_id":"CarolCCCCCCCCCCCC","username":"carol","name":"Carol King"},"roles":["owner"]}],"success":true}`},
		{name: "team main room", target: "channels.roles?roomId=" + roomAlpha, cred: &credPlain, code: http.StatusOK, users: []string{idAlice, idCarol}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.get(t, "/api/v1/"+tc.target, tc.cred)
			if tc.body != "" {
				expect(t, r, tc.code, tc.body)
				return
			}
			expectCode(t, r, tc.code)
			var got []string
			for _, it := range items(t, r, "roles") {
				got = append(got, it["u"].(map[string]any)["_id"].(string))
			}
			if !slices.Equal(got, tc.users) {
				t.Errorf("holders %v, want %v (%s)", got, tc.users, r.raw)
			}
		})
	}
	for _, it := range items(t, h.get(t, "/api/v1/channels.roles?roomId="+roomGeneral, &credPlain), "roles") {
		if it["u"].(map[string]any)["_id"] == idBob && fmt.Sprint(it["roles"]) != "[HelperRoleHHHHHHH leader]" {
			t.Errorf("bob: %v", it)
		}
	}
}

func TestRoomInvite(t *testing.T) {
	h := roomsHarness()
	post := func(route string, cred *Credential, body map[string]any) response {
		return h.post(t, "/api/v1/"+route, cred, body)
	}
	notAllowed := methodErr("error-not-allowed", "Not allowed", "addUsersToRoom")
	cases := []struct {
		name, route string
		cred        *Credential
		body        map[string]any
		code        int
		raw         string
	}{
		// addUsersToRoomMethod (apps/meteor/server/meteor-methods/rooms/addUsersToRoom.ts):
		// a plain member lacks add-user-to-joined-room; a room owner holds it room-scoped.
		{name: "plain member", route: "channels.invite", cred: &credPlain, body: map[string]any{"roomId": roomGeneral, "userId": idBot}, code: http.StatusBadRequest, raw: notAllowed},
		{name: "room owner", route: "channels.invite", cred: &credAlice, body: map[string]any{"roomId": roomGeneral, "userId": idBot}, code: http.StatusOK},
		// Already subscribed: success, nothing changes (an ephemeral message only).
		{name: "existing member", route: "channels.invite", cred: &credAdmin, body: map[string]any{"roomId": roomGeneral, "userIds": []string{idBot, idAlice}}, code: http.StatusOK},
		// Deactivated users are invited all the same (no active check in addUserToRoom).
		{name: "deactivated", route: "channels.invite", cred: &credAdmin, body: map[string]any{"roomId": roomAlphaDev, "username": "BOB"}, code: http.StatusOK},
		// getUserListFromParams: unknown users are dropped; none left is an error.
		{name: "unknown users", route: "channels.invite", cred: &credAdmin, body: map[string]any{"roomId": roomGeneral, "userIds": []string{"nope"}}, code: http.StatusBadRequest,
			raw: `{"success":false,"error":"invalid-user-invite-list","errorType":"Cannot invite if no users are provided"}`},
		{name: "no users", route: "channels.invite", cred: &credAdmin, body: map[string]any{"roomId": roomGeneral}, code: http.StatusBadRequest,
			raw: roomErr("error-users-params-not-provided", `Please provide \"userId\" or \"username\" or \"userIds\" or \"usernames\" as param`)},
		{name: "archived", route: "channels.invite", cred: &credAdmin, body: map[string]any{"roomId": roomOld, "userId": idBot}, code: http.StatusBadRequest,
			raw: roomErr("error-room-archived", "The channel, old-news, is archived")},
		{name: "channels on group", route: "channels.invite", cred: &credAdmin, body: map[string]any{"roomId": roomSecret, "userId": idBot}, code: http.StatusBadRequest,
			raw: roomErr("error-room-not-found", errNoChannel)},
		// groups.invite: add-user-to-any-p-room has no holders, so the admin
		// cannot add to a group it is not in; the group's owner can.
		{name: "group admin not member", route: "groups.invite", cred: &credAdmin, body: map[string]any{"roomId": roomSecret, "userId": idBot}, code: http.StatusBadRequest, raw: notAllowed},
		{name: "group owner", route: "groups.invite", cred: &credCarol, body: map[string]any{"roomName": "secret", "userId": idPlain}, code: http.StatusOK},
		{name: "group no room", route: "groups.invite", cred: &credCarol, body: map[string]any{"userId": idPlain}, code: http.StatusBadRequest,
			raw: roomErr("error-room-param-not-provided", `The parameter \"roomId\" or \"roomName\" is required`)},
		{name: "group unknown users", route: "groups.invite", cred: &credCarol, body: map[string]any{"roomId": roomSecret, "usernames": []string{"ghost"}}, code: http.StatusBadRequest,
			raw: roomErr("error-empty-invite-list", "Cannot invite if no valid users are provided")},
		// The admin owns ops: joined + add-user-to-joined-room.
		{name: "group joined admin", route: "groups.invite", cred: &credAdmin, body: map[string]any{"roomId": roomOps, "userId": idAlice}, code: http.StatusOK},
		// A team main room: Team.addMember writes the membership row.
		{name: "team main room", route: "channels.invite", cred: &credAdmin, body: map[string]any{"roomId": roomAlpha, "userId": idBot}, code: http.StatusOK},
		// userIds that is not an array fails in getUserListFromParams' push.
		{name: "userIds string", route: "channels.invite", cred: &credAdmin, body: map[string]any{"roomId": roomGeneral, "userIds": "x"}, code: http.StatusBadRequest,
			raw: `{"success":false,"error":"userListParam.push is not a function"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.clock.Advance(time.Second)
			r := post(tc.route, tc.cred, tc.body)
			if tc.raw != "" {
				expect(t, r, tc.code, tc.raw)
				return
			}
			expectCode(t, r, tc.code)
		})
	}
	h.srv.View(func(ws *Workspace) {
		g := ws.RoomByID(roomGeneral)
		if len(g.Subscriptions) != 5 {
			t.Errorf("general: %+v", g.Subscriptions)
		}
		bot := g.Subscription(idBot)
		if bot == nil || bot.InviterID != idAlice || bot.InviterUsername != "alice" || !bot.CreatedAt.Equal(newClock().Now().Add(2*time.Second)) || bot.Roles != nil {
			t.Errorf("bot: %+v", bot)
		}
		if ws.RoomByID(roomAlphaDev).Subscription(idBob) == nil || ws.RoomByID(roomSecret).Subscription(idPlain) == nil ||
			ws.RoomByID(roomOps).Subscription(idAlice) == nil || ws.RoomByID(roomSecret).Subscription(idBot) != nil {
			t.Error("invites not applied as expected")
		}
		if m := ws.TeamByID(teamAlpha).member(idBot); m == nil || m.CreatedByID != idAdmin {
			t.Errorf("alpha member: %+v", m)
		}
	})
	// The answer is the room document under "channel" / "group".
	r := post("channels.invite", &credAdmin, map[string]any{"roomId": roomGeneral, "userId": idBot})
	if ch := r.body["channel"].(map[string]any); ch["_id"] != roomGeneral || num(ch["usersCount"]) != 5 {
		t.Errorf("%s", r.raw)
	}
	r = post("groups.invite", &credCarol, map[string]any{"roomId": roomSecret, "userId": idPlain})
	if g := r.body["group"].(map[string]any); g["_id"] != roomSecret || g["t"] != "p" {
		t.Errorf("%s", r.raw)
	}
	// The deactivated invitee is subscribed but not listed as a member.
	if got := ids(items(t, h.get(t, "/api/v1/channels.members?roomId="+roomAlphaDev, &credAdmin), "members")); !slices.Equal(got, []string{idAlice}) {
		t.Errorf("alpha-dev members %v", got)
	}
}

func TestRoomKick(t *testing.T) {
	h := roomsHarness()
	post := func(route string, cred *Credential, body map[string]any) response {
		return h.post(t, "/api/v1/"+route, cred, body)
	}
	cases := []struct {
		name, route string
		cred        *Credential
		body        map[string]any
		code        int
		raw         string
	}{
		// channels.kick validates with isChannelsKickProps (validateParams).
		{name: "username param", route: "channels.kick", cred: &credAdmin, body: map[string]any{"roomId": roomGeneral, "username": "plain"}, code: http.StatusBadRequest,
			raw: `{"success":false,"error":"must have required property 'userId'\n must have required property 'roomName'\n must match exactly one schema in oneOf [invalid-params]","errorType":"invalid-params"}`},
		// removeUserFromRoomMethod (apps/meteor/server/meteor-methods/rooms/removeUserFromRoom.ts):
		// remove-user is room-scoped (admin, owner, moderator).
		{name: "plain member", route: "channels.kick", cred: &credPlain, body: map[string]any{"roomId": roomGeneral, "userId": idCarol}, code: http.StatusBadRequest,
			raw: methodErr("error-not-allowed", "Not allowed", "removeUserFromRoom")},
		// Without kick-user-from-any-c-room the target must be subscribed.
		{name: "owner kicks non-member", route: "channels.kick", cred: &credAlice, body: map[string]any{"roomId": roomGeneral, "userId": idBot}, code: http.StatusBadRequest,
			raw: methodErr("error-user-not-in-room", "User is not in this room", "removeUserFromRoom")},
		// With it (admin) kicking a non-member succeeds and changes nothing.
		{name: "admin kicks non-member", route: "channels.kick", cred: &credAdmin, body: map[string]any{"roomId": roomGeneral, "userId": idBot}, code: http.StatusOK},
		{name: "last owner", route: "channels.kick", cred: &credAdmin, body: map[string]any{"roomId": roomGeneral, "userId": idAlice}, code: http.StatusBadRequest,
			raw: methodErr("error-you-are-last-owner", "You are the last owner. Please set new owner before leaving the room.", "removeUserFromRoom")},
		{name: "moderator kicks member", route: "channels.kick", cred: &credCarol, body: map[string]any{"roomId": roomGeneral, "userId": idPlain}, code: http.StatusOK},
		{name: "deactivated member", route: "channels.kick", cred: &credAdmin, body: map[string]any{"roomId": roomGeneral, "userId": idBob}, code: http.StatusOK},
		{name: "unknown user", route: "channels.kick", cred: &credAdmin, body: map[string]any{"roomId": roomGeneral, "userId": "nope"}, code: http.StatusBadRequest,
			raw: roomErr("error-invalid-user", `The required \"userId\" or \"username\" param provided does not match any users`)},
		{name: "user without username", route: "channels.kick", cred: &credAdmin, body: map[string]any{"roomId": roomGeneral, "userId": idNoName}, code: http.StatusBadRequest,
			raw: `{"success":false,"error":"Invalid user"}`},
		{name: "archived", route: "channels.kick", cred: &credAdmin, body: map[string]any{"roomId": roomOld, "userId": idAlice}, code: http.StatusBadRequest,
			raw: roomErr("error-room-archived", "The channel, old-news, is archived")},
		// groups.kick: kick-user-from-any-p-room has no holders, so a caller who
		// cannot access the group gets error-room-not-found (admins too).
		{name: "group admin not member", route: "groups.kick", cred: &credAdmin, body: map[string]any{"roomId": roomSecret, "userId": idAlice}, code: http.StatusBadRequest,
			raw: roomErr("error-room-not-found", errNoGroup)},
		{name: "group owner", route: "groups.kick", cred: &credCarol, body: map[string]any{"roomId": roomSecret, "username": "alice"}, code: http.StatusOK, raw: `{"success":true}`},
		{name: "group owner non-member", route: "groups.kick", cred: &credCarol, body: map[string]any{"roomId": roomSecret, "userId": idBot}, code: http.StatusBadRequest,
			raw: methodErr("error-user-not-in-room", "User is not in this room", "removeUserFromRoom")},
		{name: "group no user", route: "groups.kick", cred: &credCarol, body: map[string]any{"roomId": roomSecret}, code: http.StatusBadRequest,
			raw: roomErr("error-user-param-not-provided", `The required \"userId\" or \"username\" param was not provided`)},
		// A team main room: the membership row goes too.
		{name: "team main room", route: "channels.kick", cred: &credAdmin, body: map[string]any{"roomId": roomAlpha, "userId": idPlain}, code: http.StatusOK},
		// In a federated room a subscribed caller must be owner or moderator there
		// (Federation.actionAllowed); carol is a plain member.
		{name: "federated plain member", route: "channels.kick", cred: &credCarol, body: map[string]any{"roomId": roomMatrix, "userId": idAlice}, code: http.StatusBadRequest,
			raw: methodErr("error-not-allowed", "Not allowed", "removeUserFromRoom")},
		// Omnichannel rooms do not allow removing users.
		{name: "livechat", route: "channels.kick", cred: &credAdmin, body: map[string]any{"roomId": roomLive, "userId": idCarol}, code: http.StatusBadRequest,
			raw: methodErr("error-not-allowed", "Not allowed", "removeUserFromRoom")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := post(tc.route, tc.cred, tc.body)
			if tc.raw != "" {
				expect(t, r, tc.code, tc.raw)
				return
			}
			expectCode(t, r, tc.code)
			if tc.route == "channels.kick" {
				if ch, ok := r.body["channel"].(map[string]any); !ok || ch["_id"] != tc.body["roomId"] {
					t.Errorf("%s", r.raw)
				}
			}
		})
	}
	h.srv.View(func(ws *Workspace) {
		var left []string
		for _, s := range ws.RoomByID(roomGeneral).Subscriptions {
			left = append(left, s.UserID)
		}
		if !slices.Equal(left, []string{idAlice, idCarol}) {
			t.Errorf("general: %v", left)
		}
		if ws.RoomByID(roomSecret).Subscription(idAlice) != nil {
			t.Error("alice still in secret")
		}
		if tm := ws.TeamByID(teamAlpha); tm.member(idPlain) != nil || tm.subscribed(idPlain) {
			t.Error("plain still in alpha")
		}
	})
}

func TestRoomRoleChanges(t *testing.T) {
	h := roomsHarness()
	h.srv.Update(func(ws *Workspace) {
		// A subscription whose roles field is an empty array, not absent.
		ws.RoomByID(roomMatrix).Subscription(idCarol).Roles = []string{}
	})
	post := func(route string, cred *Credential, body map[string]any) response {
		return h.post(t, "/api/v1/"+route, cred, body)
	}
	gen := func(room, uid string) map[string]any { return map[string]any{"roomId": room, "userId": uid} }
	cases := []struct {
		name, route string
		cred        *Credential
		body        map[string]any
		code        int
		raw         string
	}{
		// addRoomOwner (apps/meteor/server/meteor-methods/rooms/addRoomOwner.ts):
		// set-owner, room-scoped; a plain member lacks it.
		{name: "plain addOwner", route: "channels.addOwner", cred: &credPlain, body: gen(roomGeneral, idPlain), code: http.StatusBadRequest,
			raw: methodErr("error-not-allowed", "Not allowed", "addRoomOwner")},
		{name: "admin addOwner", route: "channels.addOwner", cred: &credAdmin, body: gen(roomGeneral, idPlain), code: http.StatusOK, raw: `{"success":true}`},
		{name: "addOwner twice", route: "channels.addOwner", cred: &credAdmin, body: gen(roomGeneral, idPlain), code: http.StatusBadRequest,
			raw: methodErr("error-user-already-owner", "User is already an owner", "addRoomOwner")},
		{name: "addOwner non-member", route: "channels.addOwner", cred: &credAdmin, body: gen(roomGeneral, idBot), code: http.StatusBadRequest,
			raw: methodErr("error-user-not-in-room", "User is not in this room", "addRoomOwner")},
		// A room owner holds set-moderator there.
		{name: "owner addModerator", route: "channels.addModerator", cred: &credAlice, body: gen(roomGeneral, idBob), code: http.StatusOK},
		{name: "addModerator twice", route: "channels.addModerator", cred: &credAlice, body: gen(roomGeneral, idBob), code: http.StatusBadRequest,
			raw: methodErr("error-user-already-moderator", "User is already a moderator", "addRoomModerator")},
		// removeRoomOwner: error-invalid-room for a target not subscribed,
		// error-user-not-owner, error-remove-last-owner.
		{name: "removeOwner non-member", route: "channels.removeOwner", cred: &credAdmin, body: gen(roomGeneral, idBot), code: http.StatusBadRequest,
			raw: methodErr("error-invalid-room", "Invalid room", "removeRoomOwner")},
		{name: "removeOwner not owner", route: "channels.removeOwner", cred: &credAdmin, body: gen(roomGeneral, idCarol), code: http.StatusBadRequest,
			raw: methodErr("error-user-not-owner", "User is not an owner", "removeRoomOwner")},
		{name: "removeOwner ok", route: "channels.removeOwner", cred: &credAdmin, body: gen(roomGeneral, idPlain), code: http.StatusOK},
		{name: "removeOwner last", route: "channels.removeOwner", cred: &credAlice, body: gen(roomGeneral, idAlice), code: http.StatusBadRequest,
			raw: methodErr("error-remove-last-owner", "This is the last owner. Please set a new owner before removing this one.", "removeRoomOwner")},
		// removeRoomModerator / removeRoomLeader pass a subscription with no roles
		// field (nothing changes) but refuse one whose roles lack the role.
		{name: "removeModerator no roles field", route: "channels.removeModerator", cred: &credAdmin, body: gen(roomEmpty, idPlain), code: http.StatusOK},
		{name: "removeLeader no roles field", route: "channels.removeLeader", cred: &credAdmin, body: gen(roomEmpty, idPlain), code: http.StatusOK},
		{name: "removeModerator not moderator", route: "channels.removeModerator", cred: &credAdmin, body: gen(roomGeneral, idAlice), code: http.StatusBadRequest,
			raw: methodErr("error-user-not-moderator", "User is not a moderator", "removeRoomModerator")},
		{name: "removeModerator non-member", route: "channels.removeModerator", cred: &credAdmin, body: gen(roomGeneral, idBot), code: http.StatusBadRequest,
			raw: methodErr("error-invalid-room", "Invalid room", "removeRoomModerator")},
		{name: "removeLeader non-member", route: "channels.removeLeader", cred: &credAdmin, body: gen(roomGeneral, idBot), code: http.StatusBadRequest,
			raw: methodErr("error-user-not-in-room", "User is not in this room", "removeRoomLeader")},
		{name: "addLeader", route: "channels.addLeader", cred: &credAdmin, body: map[string]any{"roomName": "general", "username": "CAROL"}, code: http.StatusOK},
		{name: "addLeader twice", route: "channels.addLeader", cred: &credAdmin, body: gen(roomGeneral, idCarol), code: http.StatusBadRequest,
			raw: methodErr("error-user-already-leader", "User is already a leader", "addRoomLeader")},
		{name: "removeLeader", route: "channels.removeLeader", cred: &credAdmin, body: gen(roomGeneral, idCarol), code: http.StatusOK},
		{name: "removeLeader not leader", route: "channels.removeLeader", cred: &credAdmin, body: gen(roomGeneral, idCarol), code: http.StatusBadRequest,
			raw: methodErr("error-user-not-leader", "User is not a leader", "removeRoomLeader")},
		// groups.*: findPrivateGroupByIdOrName answers before any permission check.
		{name: "group admin not member", route: "groups.addOwner", cred: &credAdmin, body: gen(roomSecret, idAlice), code: http.StatusBadRequest,
			raw: roomErr("error-room-not-found", errNoGroup)},
		{name: "group owner addOwner", route: "groups.addOwner", cred: &credCarol, body: gen(roomSecret, idAlice), code: http.StatusOK},
		{name: "group removeOwner", route: "groups.removeOwner", cred: &credAlice, body: gen(roomSecret, idCarol), code: http.StatusOK},
		{name: "channels on group", route: "channels.addOwner", cred: &credAdmin, body: gen(roomSecret, idAlice), code: http.StatusBadRequest,
			raw: roomErr("error-room-not-found", errNoChannel)},
		{name: "archived", route: "channels.addOwner", cred: &credAdmin, body: gen(roomOld, idAlice), code: http.StatusBadRequest,
			raw: roomErr("error-room-archived", "The channel, old-news, is archived")},
		// getUserFromParams (apps/meteor/server/api/lib/getUserFromParams.ts).
		{name: "no user", route: "channels.addOwner", cred: &credAdmin, body: map[string]any{"roomId": roomGeneral}, code: http.StatusBadRequest,
			raw: roomErr("error-user-param-not-provided", `The required \"userId\" or \"username\" param was not provided`)},
		{name: "userId number", route: "channels.addOwner", cred: &credAdmin, body: map[string]any{"roomId": roomGeneral, "userId": 7}, code: http.StatusBadRequest,
			raw: `{"success":false,"error":"params.userId?.trim is not a function"}`},
		{name: "no room", route: "channels.addOwner", cred: &credAdmin, body: map[string]any{"userId": idAlice}, code: http.StatusBadRequest,
			raw: roomErr("error-room-not-found", errNoChannel)},
		// A team main room: the team member row gets the role too.
		{name: "team main addOwner", route: "groups.addOwner", cred: &credCarol, body: gen(roomBeta, idAlice), code: http.StatusOK},
		// Federated rooms: the owner/moderator methods skip the permission and,
		// federation being off, refuse to add (a plain Error).
		{name: "federated addOwner", route: "channels.addOwner", cred: &credPlain, body: gen(roomMatrix, idCarol), code: http.StatusBadRequest,
			raw: `{"success":false,"error":"Federation configuration is invalid,unable to change room owners"}`},
		{name: "federated removeModerator empty roles", route: "channels.removeModerator", cred: &credPlain, body: gen(roomMatrix, idCarol), code: http.StatusBadRequest,
			raw: methodErr("error-user-not-moderator", "User is not a moderator", "removeRoomModerator")},
		{name: "federated addLeader checks permission", route: "channels.addLeader", cred: &credPlain, body: gen(roomMatrix, idCarol), code: http.StatusBadRequest,
			raw: methodErr("error-not-allowed", "Not allowed", "addRoomLeader")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := post(tc.route, tc.cred, tc.body)
			if tc.raw != "" {
				expect(t, r, tc.code, tc.raw)
				return
			}
			expectCode(t, r, tc.code)
		})
	}
	h.srv.View(func(ws *Workspace) {
		g := ws.RoomByID(roomGeneral)
		want := map[string]string{idAlice: "[owner]", idCarol: "[moderator]", idBob: "[moderator]", idPlain: "[]"}
		for uid, roles := range want {
			if got := fmt.Sprint(g.Subscription(uid).Roles); got != roles {
				t.Errorf("%s: %s, want %s", uid, got, roles)
			}
		}
		if ws.RoomByID(roomEmpty).Subscription(idPlain).Roles != nil {
			t.Error("lobby: roles field created")
		}
		if s := ws.RoomByID(roomSecret); fmt.Sprint(s.Subscription(idAlice).Roles) != "[leader owner]" || fmt.Sprint(s.Subscription(idCarol).Roles) != "[]" {
			t.Errorf("secret: %+v", s.Subscriptions)
		}
		if m := ws.TeamByID(teamBeta).member(idAlice); !slices.Equal(m.Roles, []string{roleLeader, roleOwner}) {
			t.Errorf("beta alice: %v", m.Roles)
		}
	})
	// Team roles show in teams.members.
	for _, m := range items(t, h.get(t, "/api/v1/teams.members?teamId="+teamBeta, &credCarol), "members") {
		if m["user"].(map[string]any)["_id"] == idAlice && fmt.Sprint(m["roles"]) != "[leader owner]" {
			t.Errorf("teams.members: %v", m)
		}
	}
}

func TestUsersInfoRooms(t *testing.T) {
	h := roomsHarness()
	// users.info (apps/meteor/server/api/v1/users.ts): includeUserRooms lists every
	// subscription, DMs and team main rooms included, sorted {t: 1, name: 1}.
	r := h.get(t, "/api/v1/users.info?userId="+idCarol+"&includeUserRooms=true", &credAdmin)
	rooms := items(t, response{body: r.body["user"].(map[string]any)}, "rooms")
	var got []string
	for _, room := range rooms {
		got = append(got, room["rid"].(string))
	}
	want := []string{roomAlpha, roomBetaPlan, roomGeneral, roomMatrix, roomDM, roomLive, roomBeta, roomDisc, roomSecret}
	if !slices.Equal(got, want) {
		t.Errorf("rooms %v\nwant  %v", got, want)
	}
	raw := r.raw
	for _, frag := range []string{
		`{"_id":"` + derivedID(roomDM, idCarol) + `","rid":"RoomDMDDDDDDDDDDD","unread":0,"t":"d","name":"alice"}`,
		`{"_id":"` + derivedID(roomSecret, idCarol) + `","unread":0,"rid":"RoomSecretSSSSSSS","name":"secret","t":"p","roles":["owner"]}`,
		`{"_id":"` + derivedID(roomLive, idCarol) + `","unread":0,"rid":"RoomLiveLLLLLLLLL","name":"Visitor Vera","t":"l"}`,
	} {
		if !strings.Contains(raw, frag) {
			t.Errorf("missing %s in %s", frag, raw)
		}
	}
	// A deactivated user's subscriptions are listed too.
	r = h.get(t, "/api/v1/users.info?userId="+idBob+"&includeUserRooms=true", &credAdmin)
	if rooms := items(t, response{body: r.body["user"].(map[string]any)}, "rooms"); len(rooms) != 2 {
		t.Errorf("bob: %s", r.raw)
	}
	// Without view-other-user-channels, another user's rooms are left out.
	r = h.get(t, "/api/v1/users.info?userId="+idCarol+"&includeUserRooms=true", &credPlain)
	if hasKey(r.body["user"].(map[string]any), "rooms") {
		t.Errorf("plain: %s", r.raw)
	}
}

func TestRoomRoutesSchemaFree(t *testing.T) {
	h := roomsHarness()
	// The channels.*/groups.* role, invite and member routes declare no
	// validation (channels.ts, groups.ts): unknown keys are ignored, and an
	// empty body reaches the room lookup.
	expect(t, h.post(t, "/api/v1/channels.addModerator", &credAdmin, map[string]any{}), http.StatusBadRequest, roomErr("error-room-not-found", errNoChannel))
	expect(t, h.post(t, "/api/v1/groups.addModerator", &credAdmin, map[string]any{}), http.StatusBadRequest,
		roomErr("error-room-param-not-provided", `The parameter \"roomId\" or \"roomName\" is required`))
	expect(t, h.post(t, "/api/v1/channels.addModerator", &credAdmin, map[string]any{"roomId": roomGeneral, "userId": idPlain, "extra": true}),
		http.StatusOK, `{"success":true}`)
	if n := h.srv.Stats().Calls["POST channels.addModerator"]; n != 2 {
		t.Errorf("calls %d", n)
	}
}
