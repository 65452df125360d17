package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
)

// All is the count that asks a listing for every item from the offset on in
// one answer. Rocket.Chat serves it that way while API_Allow_Infinite_Count is
// on (the default); with the setting off it answers API_Default_Count items
// (50) and a larger total, which Page.Complete reports.
const All = 0

// Page is one answer of an offset-paginated listing.
type Page[T any] struct {
	Items []T
	// Offset is where the page starts in the listing.
	Offset int
	// Total is the server's count of all matching items, -1 when it sent none.
	Total int
}

// Complete reports whether the page reaches the end of the listing.
func (p Page[T]) Complete() bool {
	return p.Total < 0 || p.Offset+len(p.Items) >= p.Total
}

// UsersPage reads one page of users, active or not, from endpoint. With count
// All it is the whole listing from offset on in one call.
func (c *Client) UsersPage(ctx context.Context, endpoint UsersEndpoint, offset, count int) (Page[User], error) {
	return listPage[User](ctx, c, string(endpoint), "users", pageQuery(offset, count), offset)
}

// TeamsPage reads one page of teams, public and private (needs view-all-teams).
func (c *Client) TeamsPage(ctx context.Context, offset, count int) (Page[Team], error) {
	return listPage[Team](ctx, c, "teams.listAll", "teams", pageQuery(offset, count), offset)
}

// TeamMembersPage reads one page of a team's members with their team roles.
// Rocket.Chat leaves deactivated users out, and answers an empty list (not an
// error) to a caller who cannot see the team: check view-all-teams first.
// Each call costs the server a scan of every active user whatever the page
// size, so fewer, larger pages are kinder to it.
func (c *Client) TeamMembersPage(ctx context.Context, teamID string, offset, count int) (Page[TeamMember], error) {
	q := pageQuery(offset, count)
	q.Set(paramTeamID, teamID)
	return listPage[TeamMember](ctx, c, "teams.members", "members", q, offset)
}

func listPage[T any](ctx context.Context, c *Client, endpoint, itemsKey string, q url.Values, offset int) (Page[T], error) {
	body := &listingBody[T]{itemsKey: itemsKey}
	r := &request{method: "GET", endpoint: endpoint, query: q, auth: true, listing: q.Get("count") == strconv.Itoa(All)}
	if err := c.do(ctx, r, body); err != nil {
		return Page[T]{}, err
	}
	p := Page[T]{Items: body.items, Offset: offset, Total: -1}
	if body.total != nil {
		p.Total = *body.total
	}
	return p, nil
}

func pageQuery(offset, count int) url.Values {
	return url.Values{"offset": {strconv.Itoa(offset)}, "count": {strconv.Itoa(count)}}
}

// streamDecoder is an answer that decodes itself from the body as it
// arrives, instead of from a copy of the whole body.
type streamDecoder interface {
	decodeFrom(r io.Reader) error
}

// listingBody decodes a listing envelope ({"<itemsKey>":[...],"total":N,...})
// one item at a time, so a whole-workspace answer of tens of megabytes is
// held once, as decoded items, never also as raw bytes.
type listingBody[T any] struct {
	itemsKey string
	items    []T
	total    *int
}

func (b *listingBody[T]) decodeFrom(r io.Reader) error {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		switch key {
		case b.itemsKey:
			if err := b.decodeItems(dec); err != nil {
				return fmt.Errorf("%s: %w", b.itemsKey, err)
			}
		case "total":
			var n int
			if err := dec.Decode(&n); err != nil {
				return fmt.Errorf("total: %w", err)
			}
			b.total = &n
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
		}
	}
	return expectDelim(dec, '}')
}

func (b *listingBody[T]) decodeItems(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil { // "users": null
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("want an array, got %v", tok)
	}
	for dec.More() {
		var item T
		if err := dec.Decode(&item); err != nil {
			return err
		}
		b.items = append(b.items, item)
	}
	return expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}

// errBodyTooLarge marks a body cut at its bound.
var errBodyTooLarge = errors.New("response body too large")

// cappedReader fails once more than n bytes have been read, so a hostile or
// broken server cannot make the client read without end.
type cappedReader struct {
	r io.Reader
	n int64 // bytes still allowed
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		// At the bound: the body must end here.
		var probe [1]byte
		n, err := c.r.Read(probe[:])
		if n > 0 {
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// ActiveUsersWithRole reads every active holder of a global role, with
// lastLogin and createdAt (users.listByStatus, Rocket.Chat 6.8+), page by
// page under the paging policy of Step.
func (c *Client) ActiveUsersWithRole(ctx context.Context, role string) ([]User, error) {
	fetch := func(ctx context.Context, offset, count int) (Page[User], error) {
		q := pageQuery(offset, count)
		q.Set("status", "active")
		q.Set("roles[]", role)
		return listPage[User](ctx, c, string(UsersListByStatus), "users", q, offset)
	}
	var out []User
	err := walk(ctx, string(UsersListByStatus), "active users with role "+role, fetch, func(u User) string { return u.ID },
		func(batch []User) error {
			out = append(out, batch...)
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}
