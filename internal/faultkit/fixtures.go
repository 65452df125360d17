package faultkit

import (
	"slices"
	"strings"
	"testing"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/pkg/client"
)

// Fixture pickers: fault tests aim a fault at one page or one user, so they
// pick users and teams whose removal or rewriting touches nothing else.

// SortedByUsername lists the users in users.listByStatus order.
func SortedByUsername(ws *simulator.Workspace) []*simulator.User {
	users := slices.Clone(ws.Users)
	slices.SortStableFunc(users, func(a, b *simulator.User) int { return strings.Compare(a.Username, b.Username) })
	return users
}

// InTeam reports whether uid is a member of any team.
func InTeam(ws *simulator.Workspace, uid string) bool {
	for _, team := range ws.Teams {
		for _, m := range team.Members {
			if m.UserID == uid {
				return true
			}
		}
	}
	return false
}

// holdsCredential reports whether u is one of gen's credentialed users.
func holdsCredential(gen *simulator.Generated, u *simulator.User) bool {
	switch u.ID {
	case gen.Admin.UserID, gen.Reader.UserID, gen.Plain.UserID:
		return true
	}
	return false
}

// Bystander picks a user in the sorted range [from, to) who holds none of
// gen's credentials and is in no team, so removing it touches nothing else.
func Bystander(t *testing.T, gen *simulator.Generated, ws *simulator.Workspace, from, to int) *simulator.User {
	t.Helper()
	sorted := SortedByUsername(ws)
	for _, u := range sorted[from:min(to, len(sorted))] {
		if holdsCredential(gen, u) {
			continue
		}
		if !InTeam(ws, u.ID) {
			return u
		}
	}
	t.Fatalf("no bystander user in sorted range [%d,%d)", from, to)
	return nil
}

// BigTeam returns a team with more active members than one page.
func BigTeam(t *testing.T, ws *simulator.Workspace) *simulator.Team {
	t.Helper()
	for _, team := range ws.Teams {
		active := 0
		for _, m := range team.Members {
			if u := ws.UserByID(m.UserID); u != nil && u.Active {
				active++
			}
		}
		if active > client.PageSize {
			return team
		}
	}
	t.Fatal("the fixture has no team larger than a page")
	return nil
}

// PlainUsers picks n active people holding none of gen's credentials, by id
// order.
func PlainUsers(t *testing.T, gen *simulator.Generated, ws *simulator.Workspace, n int) []*simulator.User {
	t.Helper()
	var out []*simulator.User
	for _, u := range ws.Users {
		if holdsCredential(gen, u) || !u.Active || u.Federated || u.Type != "user" {
			continue
		}
		out = append(out, u)
		if len(out) == n {
			return out
		}
	}
	t.Fatalf("the fixture has fewer than %d plain users", n)
	return nil
}
