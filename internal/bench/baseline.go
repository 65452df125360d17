package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
)

// Baseline is the naive way to sync Rocket.Chat, kept as a yardstick: plain
// net/http, the server's default page size (50), one endpoint after the
// other, role holders read with one roles.getUsersInRole walk per
// workspace-scoped role, and no pacing — it only waits after a 429, until
// the X-RateLimit-Reset the 429 carried. It reads everything a complete
// sync needs and counts what it would store, but writes no c1z.
type Baseline struct {
	BaseURL string
	Cred    simulator.Credential
	HTTP    *http.Client
	// Max429 bounds the 429s one request may receive (default 1000).
	Max429 int
	// Permissions counts the permissions and their grants too, as a sync
	// with a permission resource type must.
	Permissions bool
}

// BaselineResult is what the baseline read.
type BaselineResult struct {
	Users, Roles, Teams, Permissions int
	RoleGrants, TeamGrants           int
	// PermissionGrants and ExpandedGrants are counted as Expected counts
	// them, from the validation's permissions.listAll answer and the role
	// holders; zero when the connector does not sync permissions.
	PermissionGrants, ExpandedGrants int
	// Calls counts requests sent per endpoint key (429s included).
	Calls   Plan
	Got429  int
	Elapsed time.Duration
}

type blUser struct {
	ID string `json:"_id"`
}

type blRole struct {
	ID    string `json:"_id"`
	Scope string `json:"scope"`
}

type blTeam struct {
	ID string `json:"_id"`
}

type blMember struct {
	User  blUser   `json:"user"`
	Roles []string `json:"roles"`
}

// Sync reads the whole workspace.
func (b *Baseline) Sync(ctx context.Context) (*BaselineResult, error) {
	start := time.Now()
	res := &BaselineResult{Calls: Plan{}}
	if b.HTTP == nil {
		b.HTTP = http.DefaultClient
	}
	if b.Max429 <= 0 {
		b.Max429 = 1000
	}

	var info struct {
		Version string `json:"version"`
	}
	if err := b.get(ctx, res, "/api/info", nil, &info); err != nil {
		return nil, err
	}
	if err := b.get(ctx, res, "/api/v1/me", nil, &struct{}{}); err != nil {
		return nil, err
	}
	var perms struct {
		Update []struct {
			ID    string   `json:"_id"`
			Roles []string `json:"roles"`
		} `json:"update"`
	}
	if err := b.get(ctx, res, "/api/v1/permissions.listAll", nil, &perms); err != nil {
		return nil, err
	}

	err := walk(ctx, b, res, "users.list", nil, func(raw json.RawMessage) (int, error) {
		var p struct {
			Users []blUser `json:"users"`
		}
		err := json.Unmarshal(raw, &p)
		res.Users += len(p.Users)
		return len(p.Users), err
	})
	if err != nil {
		return nil, err
	}

	var roles struct {
		Roles []blRole `json:"roles"`
	}
	if err := b.get(ctx, res, "/api/v1/roles.list", nil, &roles); err != nil {
		return nil, err
	}
	res.Roles = len(roles.Roles)
	holders := map[string][]string{} // workspace role → its holders
	for _, r := range roles.Roles {
		if r.Scope == "Subscriptions" {
			continue
		}
		err := walk(ctx, b, res, "roles.getUsersInRole", url.Values{"role": {r.ID}}, func(raw json.RawMessage) (int, error) {
			var p struct {
				Users []blUser `json:"users"`
			}
			err := json.Unmarshal(raw, &p)
			res.RoleGrants += len(p.Users)
			for _, u := range p.Users {
				holders[r.ID] = append(holders[r.ID], u.ID)
			}
			return len(p.Users), err
		})
		if err != nil {
			return nil, err
		}
	}
	if b.Permissions {
		known := map[string]bool{}
		for _, r := range roles.Roles {
			known[r.ID] = true
		}
		res.Permissions = len(perms.Update)
		for _, p := range perms.Update {
			users := map[string]bool{}
			for _, r := range p.Roles {
				if !known[r] {
					continue
				}
				res.PermissionGrants++
				for _, u := range holders[r] {
					users[u] = true
				}
			}
			res.ExpandedGrants += len(users)
		}
	}

	var teams []blTeam
	err = walk(ctx, b, res, "teams.listAll", nil, func(raw json.RawMessage) (int, error) {
		var p struct {
			Teams []blTeam `json:"teams"`
		}
		err := json.Unmarshal(raw, &p)
		teams = append(teams, p.Teams...)
		return len(p.Teams), err
	})
	if err != nil {
		return nil, err
	}
	res.Teams = len(teams)
	for _, t := range teams {
		err := walk(ctx, b, res, "teams.members", url.Values{"teamId": {t.ID}}, func(raw json.RawMessage) (int, error) {
			var p struct {
				Members []blMember `json:"members"`
			}
			err := json.Unmarshal(raw, &p)
			for _, m := range p.Members {
				res.TeamGrants++
				for _, role := range teamRoles {
					for _, held := range m.Roles {
						if held == role {
							res.TeamGrants++
							break
						}
					}
				}
			}
			return len(p.Members), err
		})
		if err != nil {
			return nil, err
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// walk reads an offset-paginated listing with the server's default page
// size until the offset reaches the total.
func walk(ctx context.Context, b *Baseline, res *BaselineResult, endpoint string, q url.Values, page func(json.RawMessage) (int, error)) error {
	offset := 0
	for {
		query := url.Values{}
		for k, v := range q {
			query[k] = v
		}
		query.Set("offset", strconv.Itoa(offset))
		var raw json.RawMessage
		if err := b.get(ctx, res, "/api/v1/"+endpoint, query, &raw); err != nil {
			return err
		}
		var meta struct {
			Total int `json:"total"`
		}
		if err := json.Unmarshal(raw, &meta); err != nil {
			return fmt.Errorf("%s: %w", endpoint, err)
		}
		n, err := page(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", endpoint, err)
		}
		offset += n
		if n == 0 || offset >= meta.Total {
			return nil
		}
	}
}

// get sends one GET, sleeping until X-RateLimit-Reset after each 429.
func (b *Baseline) get(ctx context.Context, res *BaselineResult, path string, q url.Values, out any) error {
	key := "GET " + strings.TrimPrefix(path, "/api/v1/")
	if path == "/api/info" {
		key = EpInfo
	}
	u := b.BaseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	for got429 := 0; ; {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("X-User-Id", b.Cred.UserID)
		req.Header.Set("X-Auth-Token", b.Cred.Token)
		res.Calls[key]++
		resp, err := b.HTTP.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			res.Got429++
			if got429++; got429 > b.Max429 {
				return fmt.Errorf("%s: still rate limited after %d waits", key, b.Max429)
			}
			resetMs, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
			if err != nil {
				return fmt.Errorf("%s: 429 without X-RateLimit-Reset", key)
			}
			wait := max(time.Until(time.UnixMilli(resetMs)), time.Millisecond)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: HTTP %d: %s", key, resp.StatusCode, body)
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	}
}

// ErrMismatch is returned by Check when a sync's counts differ from the oracle.
var ErrMismatch = errors.New("counts differ from the workspace")

// Check compares what the baseline read with the oracle counts.
func (r *BaselineResult) Check(want Expected) error {
	got := Expected{
		Users: r.Users, Roles: r.Roles, Teams: r.Teams, Permissions: r.Permissions,
		RoleGrants: r.RoleGrants, TeamGrants: r.TeamGrants,
		PermissionGrants: r.PermissionGrants, ExpandedGrants: r.ExpandedGrants,
	}
	want.Memberships = 0
	if got != want {
		return fmt.Errorf("%w: got %+v, want %+v", ErrMismatch, got, want)
	}
	return nil
}
