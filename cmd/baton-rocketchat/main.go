// Command baton-rocketchat syncs a Rocket.Chat workspace into a c1z file,
// or serves it to ConductorOne in daemon mode.
package main

import (
	"context"

	cfg "github.com/conductorone/baton-rocketchat/pkg/config"
	"github.com/conductorone/baton-rocketchat/pkg/connector"
	"github.com/conductorone/baton-sdk/pkg/config"
	"github.com/conductorone/baton-sdk/pkg/connectorrunner"
)

var version = "dev"

func main() {
	connector.Version = version
	config.RunConnector(context.Background(), "baton-rocketchat", version, cfg.Configuration, connector.New,
		connectorrunner.WithDefaultCapabilitiesConnectorBuilderV2(&connector.Connector{}),
		// Pages of a listing are served by whichever connector process is
		// free (ConductorOne's hosted runner): later pages find what the
		// first read in the session store.
		connectorrunner.WithSessionStoreEnabled(),
	)
}
