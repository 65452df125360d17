package client

import (
	"context"
	"net/url"
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

// ListUsers reads every user, active or not, from endpoint and hands them
// to yield in batches of users not seen before.
func (c *Client) ListUsers(ctx context.Context, endpoint UsersEndpoint, yield func([]User) error) error {
	fetch := func(ctx context.Context, offset, count int) (page[User], error) {
		return walkPage(c.UsersPage(ctx, endpoint, offset, count))
	}
	return walk(ctx, string(endpoint), fetch, func(u User) string { return u.ID }, yield)
}

// UserInfo reads one user by id.
func (c *Client) UserInfo(ctx context.Context, userID string) (*User, error) {
	return c.userInfo(ctx, url.Values{"userId": {userID}})
}

// UserByUsername reads one user by username.
func (c *Client) UserByUsername(ctx context.Context, username string) (*User, error) {
	return c.userInfo(ctx, url.Values{"username": {username}})
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
