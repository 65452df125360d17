package connector_test

import (
	"testing"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	"github.com/conductorone/baton-rocketchat/pkg/client"
	"github.com/conductorone/baton-rocketchat/pkg/connector"
	"github.com/conductorone/baton-sdk/pkg/cli"
)

// newConnector builds a connector for baseURL with cred; tweak may adjust
// the client's configuration.
func newConnector(tb testing.TB, baseURL string, cred simulator.Credential, opts *cli.ConnectorOpts, tweak ...func(*client.Config)) *connector.Connector {
	tb.Helper()
	return connector.NewWithClient(testenv.Client(tb, baseURL, cred, tweak...), opts)
}

// newConnectorWith builds a connector for baseURL with cred and connector
// options, syncing every resource type.
func newConnectorWith(tb testing.TB, baseURL string, cred simulator.Credential, options ...connector.Option) *connector.Connector {
	tb.Helper()
	return connector.NewWithClient(testenv.Client(tb, baseURL, cred), nil, options...)
}
