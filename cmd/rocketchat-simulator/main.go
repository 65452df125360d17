// Command rocketchat-simulator serves a generated Rocket.Chat workspace over
// HTTP, for demos and manual runs of the connector.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rocketchat-simulator:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	seed := flag.Int64("seed", 1, "generator seed")
	users := flag.Int("users", 200, "number of users, service accounts included")
	teams := flag.Int("teams", 12, "number of teams")
	perTeam := flag.Int("members-per-team", 25, "average team size")
	calls := flag.Int("rate-limit-calls", 10, "calls per endpoint, per client IP, per window")
	window := flag.Duration("rate-limit-window", time.Minute, "rate limiter window")
	noLimit := flag.Bool("no-rate-limit", false, "disable the rate limiter")
	noInfinite := flag.Bool("no-infinite-count", false, "API_Allow_Infinite_Count=false: count=0 returns the default page size")
	instances := flag.Int("instances", 1, "server instances behind a round-robin balancer, each with its own rate limiter")
	viewOutside := flag.Bool("apply-view-outside-room", false,
		"API_Apply_permission_view-outside-room_on_users-list=true: users.list and users.listByStatus answer 403 to callers without view-outside-room")
	blockedNames := flag.String("blocked-usernames", "",
		"Accounts_BlockedUsernameList: comma-separated usernames users.create refuses, besides all, here, admin, administrator, system and user")
	flag.Parse()

	gen := simulator.Generate(*seed, simulator.Size{Users: *users, Teams: *teams, MembersPerTeam: *perTeam})
	opts := simulator.Options{
		RateLimitCalls:        *calls,
		RateLimitWindow:       *window,
		DisableRateLimiter:    *noLimit,
		InfiniteCountDisabled: *noInfinite,

		ApplyViewOutsideRoomOnUsersList: *viewOutside,
		BlockedUsernameList:             *blockedNames,
	}
	var srv http.Handler
	if *instances > 1 {
		srv = simulator.NewCluster(gen.Workspace, opts, *instances)
	} else {
		srv = simulator.NewServer(gen.Workspace, opts)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Printf("base URL: http://%s\n", ln.Addr())
	for _, c := range []struct {
		label string
		cred  simulator.Credential
	}{{"admin", gen.Admin}, {"reader", gen.Reader}, {"plain", gen.Plain}} {
		fmt.Printf("%s: BATON_USER_ID=%s BATON_AUTH_TOKEN=%s\n", c.label, c.cred.UserID, c.cred.Token)
	}

	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
