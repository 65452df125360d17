// Command demo shows the connector's main job end to end: it starts the
// Rocket.Chat simulator on localhost, runs the real baton-rocketchat binary
// against it, and prints what the resulting c1z holds.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	connectorPath := flag.String("connector", filepath.Join("dist", runtime.GOOS+"_"+runtime.GOARCH, "baton-rocketchat"), "path to the baton-rocketchat binary (make build writes it there)")
	out := flag.String("file", "sync.c1z", "c1z file to write")
	users := flag.Int("users", 500, "users in the simulated workspace")
	teams := flag.Int("teams", 25, "teams in the simulated workspace")
	paced := flag.Bool("paced", false, "sync as the least-privilege reader, under a rate limiter scaled to 10 calls per second")
	rooms := flag.Int("rooms", 0, "also sync rooms (an opt-in resource type): this many channels, private groups and discussions in the simulated workspace")
	flag.Parse()

	size := simulator.Size{Users: *users, Teams: *teams, MembersPerTeam: 30, Rooms: *rooms, MembersPerRoom: 20}
	gen := simulator.Generate(42, size)
	opts := simulator.Options{}
	cred, who := gen.Admin, "admin (exempt from the rate limiter)"
	if *paced {
		opts = simulator.Options{RateLimitCalls: 10, RateLimitWindow: time.Second}
		cred, who = gen.Reader, "governance reader (paced by the rate limiter, 10 calls/s per endpoint)"
	}
	sim := simulator.NewServer(gen.Workspace, opts)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Close()
	baseURL := "http://" + lis.Addr().String()

	fmt.Printf("Simulated Rocket.Chat at %s: %d users, %d teams, %d rooms. Syncing as %s.\n\n", baseURL, *users, *teams, *rooms, who)
	_ = os.Remove(*out)
	start := time.Now()
	args := []string{"--base-url", baseURL, "-f", *out, "--log-level", "warn"}
	if *rooms > 0 {
		// Rooms are opt-in: naming the types to sync selects them (the
		// reader cannot list webhooks and OAuth apps, so it does not ask).
		types := "user,role,team,permission,incoming-webhook,outgoing-webhook,oauth-app,room"
		if *paced {
			types = "user,role,team,permission,room"
		}
		args = append(args, "--sync-resource-types", types)
	}
	cmd := exec.Command(*connectorPath, args...)
	// Credentials go through the environment, never the command line.
	cmd.Env = append(os.Environ(), "BATON_USER_ID="+cred.UserID, "BATON_AUTH_TOKEN="+cred.Token)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("running %s: %w", *connectorPath, err)
	}
	elapsed := time.Since(start)

	tmp, err := os.MkdirTemp("", "demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	contents, err := harness.ReadC1Z(context.Background(), *out, tmp)
	if err != nil {
		return err
	}
	printSummary(contents, *out, elapsed)
	printCalls(sim.Stats())
	return nil
}

func printSummary(c *harness.Contents, path string, elapsed time.Duration) {
	fmt.Printf("Wrote %s in %s (sync %s)\n\n", path, elapsed.Round(time.Millisecond), c.SyncID)
	var active, disabled, teamsListed, service, federated int
	names := map[string]string{}
	perType := map[string]int{}
	for _, r := range c.Resources {
		perType[r.GetId().GetResourceType()]++
		names[r.GetId().GetResourceType()+":"+r.GetId().GetResource()] = r.GetDisplayName()
		if r.GetId().GetResourceType() != "user" {
			continue
		}
		if r.GetStatus().GetStatus() == v2.Status_RESOURCE_STATUS_DISABLED {
			disabled++
			// The profile says whether the sync read a deactivated
			// user's teams (pkg/connector/deactivated.go).
			if strings.HasPrefix(r.GetProfile().GetFields()["team_memberships"].GetStringValue(), "listed") {
				teamsListed++
			}
		} else {
			active++
		}
		if t, err := resource.GetUserTrait(r); err == nil && t.GetAccountType() == v2.UserTrait_ACCOUNT_TYPE_SERVICE {
			service++
		}
		if r.GetProfile().GetFields()["federated"].GetBoolValue() {
			federated++
		}
	}
	fmt.Printf("  users        %5d  (%d active, %d deactivated, %d bots/apps as service accounts, %d Matrix-federated)\n",
		perType["user"], active, disabled, service, federated)
	if disabled > 0 {
		fmt.Printf("               team memberships of %d of the %d deactivated users read with users.listTeams\n", teamsListed, disabled)
	}
	fmt.Printf("  roles        %5d\n", perType["role"])
	fmt.Printf("  teams        %5d\n", perType["team"])
	if perType["room"] > 0 {
		unlisted := 0
		for _, r := range c.Resources {
			if r.GetId().GetResourceType() == "room" && r.GetProfile().GetFields()["members_source"].GetStringValue() == "none" {
				unlisted++
			}
		}
		fmt.Printf("  rooms        %5d  (%d whose members the token cannot read)\n", perType["room"], unlisted)
	}
	fmt.Printf("  entitlements %5d\n", len(c.Entitlements))
	fmt.Printf("  grants       %5d\n\n", len(c.Grants))

	holders := map[string]int{}
	for _, g := range c.Grants {
		holders[g.GetEntitlement().GetId()]++
	}
	type row struct {
		name string
		n    int
	}
	var roles []row
	for _, e := range c.Entitlements {
		res := e.GetResource().GetId()
		if n := holders[e.GetId()]; res.GetResourceType() == "role" && n > 0 {
			roles = append(roles, row{names["role:"+res.GetResource()], n})
		}
	}
	sort.Slice(roles, func(i, j int) bool {
		return roles[i].n > roles[j].n || (roles[i].n == roles[j].n && roles[i].name < roles[j].name)
	})
	fmt.Println("  Workspace roles and how many users hold them:")
	for _, r := range roles {
		fmt.Printf("    %-24s %5d\n", r.name, r.n)
	}
	fmt.Println()
	fmt.Println("Inspect it with the baton CLI (`make baton` installs it into .tools/bin):")
	fmt.Println("    .tools/bin/baton resources -f " + path + " -t user")
	fmt.Println("    .tools/bin/baton grants -f " + path + " -e role:admin:assigned")
}

func printCalls(stats simulator.Stats) {
	keys := make([]string, 0, len(stats.Calls))
	for k := range stats.Calls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Println("\nRocket.Chat API calls the sync made:")
	for _, k := range keys {
		fmt.Printf("    %-28s %5d\n", k, stats.Calls[k])
	}
	fmt.Printf("    429 answers                  %5d\n", stats.Total429)
}
