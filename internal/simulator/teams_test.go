package simulator

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
)

func TestTeamsListAll(t *testing.T) {
	h := small()
	expect(t, h.get(t, "/api/v1/teams.listAll", &credPlain), http.StatusForbidden, bodyPermissionDenied)
	r := h.get(t, "/api/v1/teams.listAll?count=1&offset=1&sort=ignored", &credReader)
	expect(t, r, http.StatusOK,
		`{"teams":[{"_id":"TeamBetaBBBBBBBBB","name":"beta","type":1,"createdAt":"2025-01-02T04:04:05.678Z",`+
			`"createdBy":{"_id":"CarolCCCCCCCCCCCC","username":"carol"},"_updatedAt":"2025-01-02T04:04:05.678Z",`+
			`"roomId":"RoomBetaBBBBBBBBB","rooms":0,"numberOfUsers":2}],"total":2,`+
			`"count":1,"offset":1,"success":true}`)
}

func TestTeamsListAndInfo(t *testing.T) {
	h := small()
	if got := ids(items(t, h.get(t, "/api/v1/teams.list", &credPlain), "teams")); !slices.Equal(got, []string{teamAlpha}) {
		t.Errorf("plain teams: %v", got)
	}
	if got := ids(items(t, h.get(t, `/api/v1/teams.list?sort={"name":-1}`, &credAlice), "teams")); !slices.Equal(got, []string{teamBeta, teamAlpha}) {
		t.Errorf("alice teams: %v", got)
	}
	expectCode(t, h.get(t, "/api/v1/teams.list?sort=x", &credAlice), http.StatusBadRequest)

	bot := credBot(t, h)
	expectCode(t, h.get(t, "/api/v1/teams.info?teamName=alpha", &bot), http.StatusOK)
	expect(t, h.get(t, "/api/v1/teams.info?teamId="+teamBeta, &credPlain), http.StatusForbidden, `{"success":false,"error":"unauthorized"}`)
	r := h.get(t, "/api/v1/teams.info?teamId="+teamBeta, &credReader)
	if r.code != http.StatusOK || r.body["teamInfo"].(map[string]any)["roomId"] != roomBeta {
		t.Errorf("reader info: %s", r.raw)
	}
	expect(t, h.get(t, "/api/v1/teams.info?teamId=nope", &credReader), http.StatusBadRequest, `{"success":false,"error":"Team not found"}`)
}

// credBot gives the bot a token, for a caller holding no team membership.
func credBot(t *testing.T, h *harness) Credential {
	t.Helper()
	h.srv.Update(func(ws *Workspace) { ws.UserByID(idBot).Tokens = []string{"bot-token"} })
	return Credential{idBot, "bot-token"}
}

func TestTeamsMembers(t *testing.T) {
	h := small()
	r := h.get(t, "/api/v1/teams.members?teamId="+teamAlpha, &credPlain)
	// Bob is deactivated, so he is left out, and the total counts active members only.
	want := `{"members":[` +
		`{"user":{"_id":"AliceAAAAAAAAAAAA","username":"alice","name":"Alice Liddell",` +
		`"status":"online","settings":{"profile":{}}},"roles":["owner"],"createdBy":{"_id":"AliceAAAAAAAAAAAA",` +
		`"username":"alice"},"createdAt":"2025-01-02T03:04:05.678Z"},` +
		`{"user":{"_id":"CarolCCCCCCCCCCCC","username":"carol","name":"Carol King",` +
		`"status":"offline","settings":{"profile":{}}},"roles":["moderator"],` +
		`"createdBy":{"_id":"AliceAAAAAAAAAAAA","username":"alice"},"createdAt":"2025-01-02T03:05:05.678Z"},` +
		`{"user":{"_id":"PlainPPPPPPPPPPPP","username":"plain","name":"Plain User",` +
		`"status":"offline","settings":{"profile":{}}},"createdBy":{"_id":"AliceAAAAAAAAAAAA",` +
		`"username":"alice"},"createdAt":"2025-01-02T03:07:05.678Z"}` +
		`],"total":3,"count":3,"offset":0,"success":true}`
	expect(t, r, http.StatusOK, want)

	// Neither member nor view-all-teams: an empty page, not an error.
	expect(t, h.get(t, "/api/v1/teams.members?teamName=beta&offset=5", &credPlain), http.StatusOK,
		`{"members":[],"total":0,"count":0,"offset":5,"success":true}`)
	if r := h.get(t, "/api/v1/teams.members?teamName=beta", &credReader); num(r.body["total"]) != 2 {
		t.Errorf("reader on beta: %s", r.raw)
	}
	expect(t, h.get(t, "/api/v1/teams.members?teamId=nope", &credReader), http.StatusBadRequest, `{"success":false,"error":"team-does-not-exist"}`)
	expect(t, h.get(t, "/api/v1/teams.members?teamId="+teamAlpha+"&teamName=alpha", &credReader), http.StatusBadRequest,
		`{"success":false,"errorType":"error-invalid-params","error":"must match exactly one schema in oneOf"}`)
	expect(t, h.get(t, "/api/v1/teams.members", &credReader), http.StatusBadRequest,
		`{"success":false,"errorType":"error-invalid-params","error":"must have required property 'teamId'\n must have required property 'teamName'\n must match exactly one schema in oneOf"}`)
	if got := ids(userObjs(items(t, h.get(t, "/api/v1/teams.members?teamId="+teamAlpha+"&status[]=online", &credReader), "members"))); !slices.Equal(got, []string{idAlice}) {
		t.Errorf("status filter: %v", got)
	}
	if got := ids(userObjs(items(t, h.get(t, "/api/v1/teams.members?teamId="+teamAlpha+"&name=KING", &credReader), "members"))); !slices.Equal(got, []string{idCarol}) {
		t.Errorf("name filter: %v", got)
	}
}

func userObjs(members []map[string]any) []map[string]any {
	out := make([]map[string]any, len(members))
	for i, m := range members {
		out[i] = m["user"].(map[string]any)
	}
	return out
}

func TestTeamsMembersPaging(t *testing.T) {
	gen := Generate(11, Size{Users: 300, Teams: 3, MembersPerTeam: 40})
	h := newHarness(gen.Workspace, Options{DisableRateLimiter: true})
	var big *Team
	var active int
	h.srv.View(func(ws *Workspace) {
		big = ws.Teams[0]
		for _, m := range big.Members {
			if ws.UserByID(m.UserID).Active {
				active++
			}
		}
	})
	if len(big.Members) <= 100 || active == len(big.Members) {
		t.Fatalf("first team should exceed a page and hold inactive members: %d members, %d active", len(big.Members), active)
	}
	var all []string
	for off := 0; ; off += 100 {
		r := h.get(t, "/api/v1/teams.members?count=500&offset="+itoa(off)+"&teamId="+big.ID, &gen.Reader)
		page := items(t, r, "members")
		if num(r.body["total"]) != active || len(page) > 100 {
			t.Fatalf("page at %d: total %v, %d items", off, r.body["total"], len(page))
		}
		if len(page) == 0 {
			break
		}
		all = append(all, ids(userObjs(page))...)
	}
	full := items(t, h.get(t, "/api/v1/teams.members?count=0&teamId="+big.ID, &gen.Reader), "members")
	if len(all) != active || !slices.Equal(all, ids(userObjs(full))) {
		t.Errorf("paged %d, count=0 gave %d, want %d", len(all), len(full), active)
	}
}

func TestTeamsAddMembers(t *testing.T) {
	h := small()
	add := func(cred *Credential, body map[string]any) response {
		return h.post(t, "/api/v1/teams.addMembers", cred, body)
	}
	members := func(ms ...map[string]any) []any {
		out := make([]any, len(ms))
		for i, m := range ms {
			out[i] = m
		}
		return out
	}
	expect(t, add(&credPlain, map[string]any{"teamId": teamAlpha, "members": members(map[string]any{"userId": idBot})}), http.StatusForbidden,
		`{"success":false,"error":"unauthorized"}`)
	expect(t, add(&credAdmin, map[string]any{"teamId": "nope", "members": members(map[string]any{"userId": idBot})}), http.StatusBadRequest,
		`{"success":false,"error":"team-does-not-exist"}`)
	expect(t, add(&credAdmin, map[string]any{"teamId": teamAlpha, "members": []any{}}), http.StatusBadRequest,
		`{"success":false,"errorType":"invalid-params","error":"must NOT have fewer than 1 items"}`)
	expect(t, add(&credAdmin, map[string]any{"teamId": teamAlpha, "members": members(map[string]any{"userId": "NoSuchUserXXXXXXX"})}), http.StatusBadRequest,
		`{"success":false,"error":"[user-not-found]","errorType":"user-not-found"}`)
	// Alice owns alpha, so the team-scoped add-team-member applies to her.
	expect(t, add(&credAlice, map[string]any{"teamName": "alpha", "members": members(
		map[string]any{"userId": idBot},
		map[string]any{"userId": idCarol, "roles": []string{"leader"}},
	)}), http.StatusOK, `{"success":true}`)
	// Idempotent, and roles are added rather than replaced.
	expectCode(t, add(&credAdmin, map[string]any{"teamId": teamAlpha, "members": members(map[string]any{"userId": idBot, "roles": []string{"moderator"}})}), http.StatusOK)
	h.srv.View(func(ws *Workspace) {
		tm := ws.TeamByID(teamAlpha)
		if len(tm.Members) != 5 || !slices.Equal(tm.member(idCarol).Roles, []string{"moderator", "leader"}) ||
			!slices.Equal(tm.member(idBot).Roles, []string{"moderator"}) || tm.member(idBot).CreatedByID != idAlice {
			t.Errorf("alpha: %+v", tm.Members)
		}
	})
	// Carol moderates alpha but not beta... she owns beta, so she can add there too.
	expectCode(t, add(&credCarol, map[string]any{"teamId": teamBeta, "members": members(map[string]any{"userId": idPlain})}), http.StatusOK)
}

func TestTeamsUpdateMember(t *testing.T) {
	h := small()
	upd := func(cred *Credential, body map[string]any) response {
		return h.post(t, "/api/v1/teams.updateMember", cred, body)
	}
	expect(t, upd(&credPlain, map[string]any{"teamId": teamAlpha, "member": map[string]any{"userId": idCarol}}), http.StatusForbidden,
		`{"success":false,"error":"unauthorized"}`)
	expectCode(t, upd(&credAdmin, map[string]any{"teamId": teamAlpha, "member": map[string]any{"userId": idCarol, "roles": []string{"leader"}}}), http.StatusOK)
	// No last-owner guard: the only owner can be demoted.
	expectCode(t, upd(&credAdmin, map[string]any{"teamId": teamAlpha, "member": map[string]any{"userId": idAlice, "roles": nil}}), http.StatusOK)
	// Not a member: still a success, nothing changes.
	expect(t, upd(&credAdmin, map[string]any{"teamId": teamBeta, "member": map[string]any{"userId": idBot, "roles": []string{"owner"}}}), http.StatusOK, `{"success":true}`)
	expectCode(t, upd(&credAdmin, map[string]any{"teamId": teamAlpha}), http.StatusBadRequest)
	h.srv.View(func(ws *Workspace) {
		tm := ws.TeamByID(teamAlpha)
		if !slices.Equal(tm.member(idCarol).Roles, []string{"leader"}) || tm.member(idAlice).Roles == nil || len(tm.member(idAlice).Roles) != 0 || ws.TeamByID(teamBeta).member(idBot) != nil {
			t.Errorf("after update: %+v", tm.Members)
		}
	})
	// An emptied role list is sent as [], not omitted.
	for _, m := range items(t, h.get(t, "/api/v1/teams.members?teamId="+teamAlpha, &credAdmin), "members") {
		if m["user"].(map[string]any)["_id"] == idAlice && !hasKey(m, "roles") {
			t.Errorf("alice: %v", m)
		}
	}
}

func TestTeamsRemoveMember(t *testing.T) {
	h := small()
	rm := func(cred *Credential, body map[string]any) response {
		return h.post(t, "/api/v1/teams.removeMember", cred, body)
	}
	expect(t, rm(&credPlain, map[string]any{"teamId": teamAlpha, "userId": idCarol}), http.StatusForbidden, `{"success":false,"error":"unauthorized"}`)
	expect(t, rm(&credAdmin, map[string]any{"teamId": teamAlpha, "userId": idBob}), http.StatusBadRequest, `{"success":false,"error":"invalid-user"}`)
	expect(t, rm(&credAdmin, map[string]any{"teamId": teamAlpha, "userId": "NoSuchUserXXXXXXX"}), http.StatusBadRequest, `{"success":false,"error":"invalid-user"}`)
	expect(t, rm(&credAdmin, map[string]any{"teamId": teamBeta, "userId": idPlain}), http.StatusBadRequest, `{"success":false,"error":"member-does-not-exist"}`)
	expect(t, rm(&credAdmin, map[string]any{"teamId": teamAlpha, "userId": idAlice}), http.StatusBadRequest, `{"success":false,"error":"last-owner-can-not-be-removed"}`)
	expect(t, rm(&credAdmin, map[string]any{"teamId": teamAlpha, "userId": idAlice, "rooms": []string{}}), http.StatusBadRequest,
		`{"success":false,"errorType":"invalid-params","error":"must NOT have fewer than 1 items"}`)
	// A moderator holds edit-team-member in the team.
	expect(t, rm(&credCarol, map[string]any{"teamId": teamAlpha, "userId": idPlain}), http.StatusOK, `{"success":true}`)
	h.srv.View(func(ws *Workspace) {
		if ws.TeamByID(teamAlpha).member(idPlain) != nil {
			t.Error("plain still a member")
		}
	})
	expect(t, h.get(t, "/api/v1/teams.members?teamId="+teamAlpha, &credPlain), http.StatusOK, `{"members":[],"total":0,"count":0,"offset":0,"success":true}`)
}

// TestTeamsAddMembersSubscribedWithoutMembership follows Team.addMembers
// (apps/meteor/server/services/team/service.ts): each member goes through
// addUserToRoom (apps/meteor/server/lib/rooms/addUserToRoom.ts), which
// returns early when the user already has a subscription to the team's main
// room — before Team.addMember writes the rocketchat_team_member row — and
// the roles are then added with addRolesToMember (matches no row) and
// addRolesToSubscription (matches the subscription). teams.updateMember sets
// the subscription's roles too, Team.removeMembers removes a user who has
// only a subscription (member-does-not-exist needs neither), and
// teams.info's canAccessRoom counts the subscription
// (apps/meteor/server/api/v1/teams.ts).
func TestTeamsAddMembersSubscribedWithoutMembership(t *testing.T) {
	h := small()
	h.srv.Update(func(ws *Workspace) {
		for _, c := range []struct {
			team, user string
			ok         bool
		}{
			{teamAlpha, idBot, true},
			{teamAlpha, idBot, true},   // idempotent
			{teamAlpha, idAlice, true}, // a member is subscribed already
			{teamBeta, idPlain, true},
			{"NoSuchTeamXXXXXXX", idBot, false},
			{teamAlpha, "NoSuchUserXXXXXXX", false},
		} {
			if err := ws.SubscribeToMainRoom(c.team, c.user); (err == nil) != c.ok {
				t.Errorf("SubscribeToMainRoom(%s, %s): %v", c.team, c.user, err)
			}
		}
		if got := ws.TeamByID(teamAlpha).RoomSubscribers; len(got) != 1 || got[0].UserID != idBot || got[0].Roles != nil {
			t.Errorf("alpha subscribers: %+v", got)
		}
	})
	members := func(ms ...map[string]any) []any {
		out := make([]any, len(ms))
		for i, m := range ms {
			out[i] = m
		}
		return out
	}
	// Success for all three; only the unsubscribed user becomes a member.
	expect(t, h.post(t, "/api/v1/teams.addMembers", &credAdmin, map[string]any{"teamId": teamAlpha, "members": members(
		map[string]any{"userId": idBot, "roles": []string{"moderator"}},
		map[string]any{"userId": idFed, "roles": []string{"leader"}},
		map[string]any{"userId": idCarol, "roles": []string{"leader"}},
	)}), http.StatusOK, `{"success":true}`)
	h.srv.View(func(ws *Workspace) {
		tm := ws.TeamByID(teamAlpha)
		for _, c := range []struct {
			user   string
			member bool
			roles  []string // of the subscription (for members, of both)
		}{
			{idBot, false, []string{"moderator"}},
			{idFed, true, []string{"leader"}},
			{idCarol, true, []string{"moderator", "leader"}},
		} {
			if (tm.member(c.user) != nil) != c.member || !slices.Equal(*tm.subscriptionRoles(c.user), c.roles) {
				t.Errorf("%s: member=%v roles=%v", c.user, tm.member(c.user) != nil, *tm.subscriptionRoles(c.user))
			}
		}
	})
	var listed []string
	for _, m := range items(t, h.get(t, "/api/v1/teams.members?teamId="+teamAlpha, &credAdmin), "members") {
		listed = append(listed, m["user"].(map[string]any)["_id"].(string))
	}
	if slices.Contains(listed, idBot) || !slices.Contains(listed, idFed) {
		t.Errorf("teams.members: %v", listed)
	}
	if n := num(items(t, h.get(t, "/api/v1/teams.listAll", &credAdmin), "teams")[0]["numberOfUsers"]); n != 5 {
		t.Errorf("numberOfUsers %d, want 5", n)
	}
	// The subscription and its role are visible where Rocket.Chat reads subscriptions.
	r := h.get(t, "/api/v1/users.info?userId="+idBot+"&includeUserRooms=true", &credAdmin)
	if rooms := items(t, response{body: r.body["user"].(map[string]any)}, "rooms"); len(rooms) != 1 || rooms[0]["rid"] != roomAlpha ||
		fmt.Sprint(rooms[0]["roles"]) != "[moderator]" {
		t.Errorf("rooms: %s", r.raw)
	}
	if got := ids(items(t, h.get(t, "/api/v1/roles.getUsersInRole?role=moderator&roomId="+roomAlpha, &credAdmin), "users")); !slices.Contains(got, idBot) {
		t.Errorf("moderators of alpha: %v", got)
	}

	// updateMember replaces the subscription's roles; owner there is not a team owner.
	expectCode(t, h.post(t, "/api/v1/teams.updateMember", &credAdmin, map[string]any{"teamId": teamAlpha, "member": map[string]any{"userId": idBot, "roles": []string{"owner"}}}), http.StatusOK)
	expect(t, h.post(t, "/api/v1/teams.removeMember", &credAdmin, map[string]any{"teamId": teamAlpha, "userId": idAlice}), http.StatusBadRequest,
		`{"success":false,"error":"last-owner-can-not-be-removed"}`)
	// removeMember drops the subscription; then the user is neither.
	expect(t, h.post(t, "/api/v1/teams.removeMember", &credAdmin, map[string]any{"teamId": teamAlpha, "userId": idBot}), http.StatusOK, `{"success":true}`)
	expect(t, h.post(t, "/api/v1/teams.removeMember", &credAdmin, map[string]any{"teamId": teamAlpha, "userId": idBot}), http.StatusBadRequest,
		`{"success":false,"error":"member-does-not-exist"}`)
	// Unsubscribed now, so the next add makes a member.
	expectCode(t, h.post(t, "/api/v1/teams.addMembers", &credAdmin, map[string]any{"teamId": teamAlpha, "members": members(map[string]any{"userId": idBot})}), http.StatusOK)
	h.srv.View(func(ws *Workspace) {
		if tm := ws.TeamByID(teamAlpha); tm.member(idBot) == nil || tm.subscriber(idBot) != nil {
			t.Errorf("bot after re-add: %+v / %+v", tm.Members, tm.RoomSubscribers)
		}
	})

	// A subscription opens a private team's info, as canAccessRoom allows.
	expectCode(t, small().get(t, "/api/v1/teams.info?teamId="+teamBeta, &credPlain), http.StatusForbidden)
	expectCode(t, h.get(t, "/api/v1/teams.info?teamId="+teamBeta, &credPlain), http.StatusOK)
	// Deleting a user removes its subscriptions.
	expectCode(t, h.post(t, "/api/v1/users.delete", &credAdmin, map[string]any{"userId": idPlain}), http.StatusOK)
	h.srv.View(func(ws *Workspace) {
		if got := ws.TeamByID(teamBeta).RoomSubscribers; len(got) != 0 {
			t.Errorf("beta subscribers after delete: %+v", got)
		}
	})
}
