package client

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// UsersEndpoint selects how users are listed.
type UsersEndpoint string

const (
	// UsersListByStatus (Rocket.Chat 6.8+) returns every user with emails,
	// global roles and the federated flag.
	UsersListByStatus UsersEndpoint = "users.listByStatus"
	// UsersList is the fallback for older servers: it never returns
	// federated, and hides emails and roles without view-full-other-user-info.
	UsersList UsersEndpoint = "users.list"
)

// UsersEndpointFor picks the users endpoint for a server version:
// users.listByStatus from 6.8, which returns emails, roles and the federated
// flag for every user, users.list before (docs/rocketchat-api.md §3.1,
// §3.2). An unreadable version is taken as a current server.
func UsersEndpointFor(version string) UsersEndpoint {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return UsersListByStatus
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return UsersListByStatus
	}
	if major < 6 || (major == 6 && minor < 8) {
		return UsersList
	}
	return UsersListByStatus
}

// FirstUsersPage reads the first page of a users listing from preferred, and
// returns the endpoint that answered (or, on failure, the one tried last) so
// the rest of the listing keeps to it. Servers older than 6.8 have no
// users.listByStatus and answer it 404 (docs §3.2): then the page is read
// from users.list instead. Later pages go through UsersPage with the
// returned endpoint, where a 404 is a fault, not an old server.
func (c *Client) FirstUsersPage(ctx context.Context, preferred UsersEndpoint, offset, count int) (Page[User], UsersEndpoint, error) {
	p, err := c.UsersPage(ctx, preferred, offset, count)
	if err == nil || preferred != UsersListByStatus || status.Code(err) != codes.NotFound {
		return p, preferred, err
	}
	ctxzap.Extract(ctx).Info("rocket.chat has no users.listByStatus (older than 6.8); listing users with users.list")
	p, err = c.UsersPage(ctx, UsersList, offset, count)
	return p, UsersList, err
}

// UserInfo reads one user by id.
func (c *Client) UserInfo(ctx context.Context, userID string) (*User, error) {
	return c.userInfo(ctx, url.Values{paramUserID: {userID}})
}

// UserByUsername reads one user by username.
func (c *Client) UserByUsername(ctx context.Context, username string) (*User, error) {
	return c.userInfo(ctx, url.Values{paramUsername: {username}})
}

func (c *Client) userInfo(ctx context.Context, lookup url.Values) (*User, error) {
	var out struct {
		User User `json:"user"`
	}
	if err := c.get(ctx, "users.info", lookup, &out); err != nil {
		return nil, err
	}
	return &out.User, nil
}

// InactiveReasonPendingApproval is IUser.inactiveReason for a user who
// registered while Accounts_ManuallyApproveNewUsers was on and waits for an
// admin's approval.
const InactiveReasonPendingApproval = "pending_approval"

// PendingApprovalUserIDs lists the users waiting for approval. No route
// returns inactiveReason itself (users.listByStatus's projection and
// users.info's fields leave it out: apps/meteor/server/api/lib/users.ts
// findPaginatedUsersByStatus; apps/meteor/app/lib/server/functions/getFullUserData.ts),
// but users.listByStatus filters on it from Rocket.Chat 8.0, and the filter
// for pending_approval alone matches only those users (docs §3.1a). search
// narrows it to usernames and names containing it ("" for all). Older
// servers answer the unknown parameter 400 (IsUnknownParameter).
func (c *Client) PendingApprovalUserIDs(ctx context.Context, search string) ([]string, error) {
	var ids []string
	fetch := func(ctx context.Context, offset, count int) (Page[User], error) {
		q := pageQuery(offset, count)
		q.Set("status", "deactivated")
		q.Set("inactiveReason[]", InactiveReasonPendingApproval)
		if search != "" {
			q.Set("searchTerm", search)
		}
		return listPage[User](ctx, c, string(UsersListByStatus), "users", q, offset)
	}
	err := walk(ctx, string(UsersListByStatus), "users pending approval", fetch,
		func(u User) string { return u.ID },
		func(users []User) error {
			for _, u := range users {
				ids = append(ids, u.ID)
			}
			return nil
		})
	return ids, err
}
