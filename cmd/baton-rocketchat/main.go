// Command baton-rocketchat syncs a Rocket.Chat workspace into a c1z file,
// or serves it to ConductorOne in daemon mode.
package main

import (
	"context"
	"os"
	"slices"

	cfg "github.com/conductorone/baton-rocketchat/pkg/config"
	"github.com/conductorone/baton-rocketchat/pkg/connector"
	"github.com/conductorone/baton-sdk/pkg/cli"
	"github.com/conductorone/baton-sdk/pkg/config"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/connectorrunner"
)

var version = "dev"

func main() {
	connector.Version = version
	config.RunConnector(context.Background(), "baton-rocketchat", version, cfg.Configuration, newConnector,
		connectorrunner.WithDefaultCapabilitiesConnectorBuilderV2(&connector.Connector{}),
		// Pages of a listing are served by whichever connector process is
		// free (ConductorOne's hosted runner): later pages find what the
		// first read in the session store.
		connectorrunner.WithSessionStoreEnabled(),
	)
}

// newConnector builds the connector and, in the process that runs a task,
// checks the token before anything starts. baton-sdk v0.25.0 runs the
// connector in a child process; when a task fails there, shutdown kills the
// child and a goroutine waiting on it (internal/connector/connector.go in
// the SDK) may call os.Exit(0) before the CLI exits with the error's code.
// Refused here, a bad token or a token without the permissions a sync needs
// exits with its gRPC code (16, 7) every time, before any child exists.
func newConnector(ctx context.Context, c *cfg.Rocketchat, opts *cli.ConnectorOpts) (connectorbuilder.ConnectorBuilderV2, []connectorbuilder.Opt, error) {
	builder, builderOpts, err := connector.New(ctx, c, opts)
	if err != nil || !runsTasks(os.Args[1:]) {
		return builder, builderOpts, err
	}
	if _, err := builder.Validate(ctx); err != nil {
		return nil, nil, err
	}
	return builder, builderOpts, nil
}

// runsTasks tells the process that runs syncs and provisioning (the CLI and
// daemon mode) from the connector service it starts, and from the hosted
// runner's lambda server, which validate through the SDK as usual.
func runsTasks(args []string) bool {
	return !slices.Contains(args, "_connector-service") && !slices.Contains(args, "lambda")
}
