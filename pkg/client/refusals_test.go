package client

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Bodies from docs/rocketchat-api.md §3.4-§3.7a, §4.2, §4.3, §5.2, §5.6 and §7.6.
func TestRefusalPredicates(t *testing.T) {
	preds := map[string]func(error) bool{
		"IsUserNotFound":     IsUserNotFound,
		"IsTeamNotFound":     IsTeamNotFound,
		"IsAlreadyInRole":    IsAlreadyInRole,
		"IsNotInRole":        IsNotInRole,
		"IsMemberMissing":    IsMemberMissing,
		"IsInvalidUserID":    IsInvalidUserID,
		"IsLastAdmin":        IsLastAdmin,
		"IsLastTeamOwner":    IsLastTeamOwner,
		"IsFederatedRefusal": IsFederatedRefusal,
		"IsInactiveUser":     IsInactiveUser,
		"IsFieldUnavailable": IsFieldUnavailable,
		"IsBlockedUsername":  IsBlockedUsername,
		"IsInvalidUsername":  IsInvalidUsername,
		"IsSettingAbsent":    IsSettingAbsent,
		"UserLastOwnerRooms": func(err error) bool { _, ok := UserLastOwnerRooms(err); return ok },
		"IsRoomNotFound":     IsRoomNotFound,
		"IsAlreadyRoomRole":  IsAlreadyRoomRole,
		"IsNotRoomRole":      IsNotRoomRole,
		"IsLastRoomOwner":    IsLastRoomOwner,
	}
	for _, tc := range []struct {
		name     string
		endpoint string
		status   int
		body     string
		want     []string // the predicates that hold; all others must not
	}{
		{"users.info unknown user", "users.info", 400, `{"success":false,"error":"User not found."}`, []string{"IsUserNotFound"}},
		{"setActiveStatus unknown user", "users.setActiveStatus", 400, `{"success":false,"error":"User not found"}`, []string{"IsUserNotFound"}},
		{"users.delete unknown user", "users.delete", 400,
			`{"success":false,"error":"The required \"userId\" or \"username\" param provided does not match any user [error-invalid-user]","errorType":"error-invalid-user"}`,
			[]string{"IsUserNotFound"}},
		{"user-not-found type", "users.info", 400, `{"success":false,"error":"[error-user-not-found]","errorType":"error-user-not-found"}`, []string{"IsUserNotFound"}},
		{"teams.info unknown team", "teams.info", 400, `{"success":false,"error":"Team not found"}`, []string{"IsTeamNotFound"}},
		{"teams.members unknown team", "teams.members", 400, body400TeamGone, []string{"IsTeamNotFound"}},
		{"already in role", "roles.addUserToRole", 400,
			`{"success":false,"error":"User already in role [error-user-already-in-role]","errorType":"error-user-already-in-role"}`, []string{"IsAlreadyInRole"}},
		{"not in role", "roles.removeUserFromRole", 400,
			`{"success":false,"error":"User is not in this role [error-user-not-in-role]","errorType":"error-user-not-in-role"}`, []string{"IsNotInRole"}},
		{"last admin by role", "roles.removeUserFromRole", 400,
			`{"success":false,"error":"You need to have at least one admin [error-admin-required]","errorType":"error-admin-required"}`, []string{"IsLastAdmin"}},
		{"last admin by deactivation", "users.setActiveStatus", 400,
			`{"success":false,"error":"Leaving the app without an active admin is not allowed [error-action-not-allowed]","errorType":"error-action-not-allowed",` +
				`"details":{"method":"removeUserFromRole","action":"Remove_last_admin"}}`, []string{"IsLastAdmin"}},
		// Rooms, docs/rocketchat-api.md §10.
		{"private group hidden or unknown", "groups.members", 400,
			`{"success":false,"error":"The required \"roomId\" or \"roomName\" param provided does not match any group [error-room-not-found]","errorType":"error-room-not-found"}`,
			[]string{"IsRoomNotFound"}},
		{"admin view of an unknown room", "rooms.adminRooms.getRoom", 400, `{"success":false,"error":"not-allowed","errorType":"Not Allowed"}`, []string{"IsRoomNotFound"}},
		{"room role held already", "channels.addModerator", 400,
			`{"success":false,"error":"User is already a moderator [error-user-already-moderator]","errorType":"error-user-already-moderator"}`, []string{"IsAlreadyRoomRole"}},
		{"room role not held", "channels.removeLeader", 400,
			`{"success":false,"error":"User is not a leader [error-user-not-leader]","errorType":"error-user-not-leader"}`, []string{"IsNotRoomRole"}},
		{"last room owner's role", "channels.removeOwner", 400,
			`{"success":false,"error":"This is the last owner. Please set a new owner before removing this one. [error-remove-last-owner]","errorType":"error-remove-last-owner"}`,
			[]string{"IsLastRoomOwner"}},
		{"last room owner kicked", "groups.kick", 400,
			`{"success":false,"error":"You are the last owner. Please set new owner before leaving the room. [error-you-are-last-owner]","errorType":"error-you-are-last-owner"}`,
			[]string{"IsLastRoomOwner"}},
		{"member missing", "teams.removeMember", 400, `{"success":false,"error":"member-does-not-exist"}`, []string{"IsMemberMissing"}},
		{"last team owner", "teams.removeMember", 400, body400LastOwner, []string{"IsLastTeamOwner"}},
		{"inactive user", "teams.removeMember", 400, `{"success":false,"error":"invalid-user"}`, []string{"IsInactiveUser"}},
		{"logout removed nothing", "users.logout", 400,
			`{"success":false,"error":"Invalid user id [error-invalid-user-id]","errorType":"error-invalid-user-id"}`, []string{"IsInvalidUserID"}},
		{"federated deactivation", "users.setActiveStatus", 400,
			`{"success":false,"error":"Cannot change federated users status [error-user-is-federated]","errorType":"error-user-is-federated"}`, []string{"IsFederatedRefusal"}},
		{"federated deletion", "users.delete", 400,
			`{"success":false,"error":"User participated in federation, this user can only be deactivated permanently [error-not-allowed]","errorType":"error-not-allowed"}`,
			[]string{"IsFederatedRefusal"}},
		{"last owner of rooms", "users.delete", 400,
			`{"success":false,"error":"[user-last-owner]","errorType":"user-last-owner","details":{"shouldBeRemoved":["b"],"shouldChangeOwner":["a"]}}`,
			[]string{"UserLastOwnerRooms"}},
		{"field unavailable", "users.create", 400,
			`{"success":false,"error":"alice is already in use :( [error-field-unavailable]","errorType":"error-field-unavailable","details":{"field":"alice"}}`,
			[]string{"IsFieldUnavailable"}},
		{"blocked username", "users.create", 400,
			`{"success":false,"error":"admin is blocked and can't be used! [error-blocked-username]","errorType":"error-blocked-username"}`, []string{"IsBlockedUsername"}},
		{"invalid username", "users.create", 400,
			`{"success":false,"error":"a b is not a valid username, use only letters, numbers, dots, hyphens and underscores [error-input-is-not-a-valid-field]","errorType":"error-input-is-not-a-valid-field"}`,
			[]string{"IsInvalidUsername"}},
		{"absent setting", "settings/:_id", 400, `{"success":false}`, []string{"IsSettingAbsent"}},
		{"a bare 400 elsewhere is not a team or user refusal", "users.info", 400, `{"success":false}`, []string{"IsSettingAbsent"}},
		{"permission refusal", "settings/:_id", 403, body403Mw, nil},
		{"not found", "users.listByStatus", 404, body404, nil},
		{"server error", "users.info", 500, `{"success":false,"error":"User not found"}`, []string{"IsUserNotFound"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newAPIError(http.MethodPost, tc.endpoint, tc.status, []byte(tc.body), nil)
			for _, err := range []error{e, fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", e))} {
				for name, pred := range preds {
					if got, want := pred(err), slices.Contains(tc.want, name); got != want {
						t.Errorf("%s(%v) = %v, want %v", name, err, got, want)
					}
				}
			}
		})
	}
}

func TestRefusalPredicatesNeedAnAPIError(t *testing.T) {
	for _, err := range []error{nil, errors.New("team-does-not-exist"), status.Error(codes.NotFound, "User not found"),
		&GiveUpError{Method: "GET", Endpoint: "users.info", Last: errors.New("x")}} {
		if IsUserNotFound(err) || IsTeamNotFound(err) || IsSettingAbsent(err) || IsLastAdmin(err) || IsFederatedRefusal(err) {
			t.Errorf("a predicate matched %v", err)
		}
		if _, ok := UserLastOwnerRooms(err); ok {
			t.Errorf("UserLastOwnerRooms matched %v", err)
		}
		if _, ok := PasswordPolicyRefusal(err); ok {
			t.Errorf("PasswordPolicyRefusal matched %v", err)
		}
		if got := UnavailableField(err, "alice"); got != "" {
			t.Errorf("UnavailableField(%v) = %q", err, got)
		}
	}
}

func TestUserLastOwnerRooms(t *testing.T) {
	for _, tc := range []struct {
		body string
		want string
	}{
		{`{"success":false,"error":"[user-last-owner]","errorType":"user-last-owner","details":{"shouldBeRemoved":["empty"],"shouldChangeOwner":["general","ops"]}}`, "general,ops,empty"},
		{`{"success":false,"error":"[user-last-owner]","errorType":"user-last-owner","details":{}}`, ""},
		{`{"success":false,"error":"[user-last-owner]","errorType":"user-last-owner","details":"unreadable"}`, ""},
		{`{"success":false,"error":"[user-last-owner]","errorType":"user-last-owner"}`, ""},
	} {
		rooms, ok := UserLastOwnerRooms(newAPIError(http.MethodPost, "users.setActiveStatus", 400, []byte(tc.body), nil))
		if !ok || strings.Join(rooms, ",") != tc.want {
			t.Errorf("%s: %v, %v; want %q", tc.body, rooms, ok, tc.want)
		}
	}
}

func TestUsersEndpointFor(t *testing.T) {
	for version, want := range map[string]UsersEndpoint{
		"8.1.0": UsersListByStatus, "6.8.0": UsersListByStatus, "7.0": UsersListByStatus, "6.7.9": UsersList,
		"5.4.0": UsersList, "": UsersListByStatus, "x.y": UsersListByStatus, "7": UsersListByStatus,
	} {
		if got := UsersEndpointFor(version); got != want {
			t.Errorf("UsersEndpointFor(%q) = %s, want %s", version, got, want)
		}
	}
}

func TestFirstUsersPageFallsBackOnce(t *testing.T) {
	users := usersServer(t, 3)
	old := newRecorder(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/users.listByStatus") {
			writeJSON(w, 404, body404)
			return
		}
		users.Config.Handler.ServeHTTP(w, r)
	})
	c := testClient(t, old.URL, nil)

	p, used, err := c.FirstUsersPage(testCtx(t), UsersListByStatus, 0, 100)
	if err != nil || used != UsersList || len(p.Items) != 3 {
		t.Fatalf("FirstUsersPage = %d users from %s, %v; want 3 from users.list", len(p.Items), used, err)
	}
	if old.count() != 2 || old.hit(0).path != "/api/v1/users.listByStatus" || old.hit(1).path != "/api/v1/users.list" {
		t.Errorf("requests %v", old.hits)
	}

	// Asked for users.list, a 404 is a fault: nothing else is tried.
	gone := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 404, body404) })
	c = testClient(t, gone.URL, nil)
	if _, used, err := c.FirstUsersPage(testCtx(t), UsersList, 0, 100); status.Code(err) != codes.NotFound || used != UsersList || gone.count() != 1 {
		t.Errorf("FirstUsersPage(users.list) = %s, %v after %d calls", used, err, gone.count())
	}

	// Other failures of users.listByStatus are not an old server.
	denied := newRecorder(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 403, body403Handler) })
	c = testClient(t, denied.URL, nil)
	if _, used, err := c.FirstUsersPage(testCtx(t), UsersListByStatus, 0, 100); status.Code(err) != codes.PermissionDenied ||
		used != UsersListByStatus || denied.count() != 1 {
		t.Errorf("FirstUsersPage on a 403 = %s, %v after %d calls", used, err, denied.count())
	}
}
