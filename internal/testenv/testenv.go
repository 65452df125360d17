// Package testenv starts the Rocket.Chat simulator and the connector for
// end-to-end tests and benchmarks.
package testenv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/pkg/client"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Env is a simulator listening on loopback.
type Env struct {
	Sim     *simulator.Server
	HTTP    *httptest.Server
	BaseURL string
}

// Start serves ws on loopback, under prefix when it is not empty (e.g. "/chat").
func Start(tb testing.TB, ws *simulator.Workspace, opts simulator.Options, prefix string) *Env {
	tb.Helper()
	return Serve(tb, simulator.NewServer(ws, opts), prefix)
}

// Serve serves sim on loopback, under prefix when it is not empty.
func Serve(tb testing.TB, sim *simulator.Server, prefix string) *Env {
	tb.Helper()
	var h http.Handler = sim
	if prefix != "" {
		mux := http.NewServeMux()
		mux.Handle(prefix+"/", http.StripPrefix(prefix, sim))
		h = mux
	}
	ts := httptest.NewServer(h)
	tb.Cleanup(ts.Close)
	return &Env{Sim: sim, HTTP: ts, BaseURL: ts.URL + prefix}
}

// FastRetries makes transient retries quick, for tests of failure paths.
func FastRetries(cfg *client.Config) {
	cfg.Backoff = 5 * time.Millisecond
	cfg.MaxBackoff = 20 * time.Millisecond
}

// Client builds a REST client for baseURL with cred; tweak may adjust its
// configuration. The testenv package builds no connector, so that the
// connector's own (internal) tests can use it too.
func Client(tb testing.TB, baseURL string, cred simulator.Credential, tweak ...func(*client.Config)) *client.Client {
	tb.Helper()
	cfg := client.Config{BaseURL: baseURL, UserID: cred.UserID, Token: cred.Token}
	for _, t := range tweak {
		t(&cfg)
	}
	cl, err := client.New(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("client.New: %v", err)
	}
	return cl
}

// Sync runs a full in-process sync into a fresh c1z and returns its path.
func Sync(tb testing.TB, c connectorbuilder.ConnectorBuilderV2) (string, error) {
	tb.Helper()
	return SyncSelected(tb, c, nil)
}

// SyncSelected is Sync of the resource types selected (all when nil), as
// --sync-resource-types runs it: the connector's options must name the
// same types.
func SyncSelected(tb testing.TB, c connectorbuilder.ConnectorBuilderV2, selected []string) (string, error) {
	tb.Helper()
	dir := tb.TempDir()
	path := filepath.Join(dir, "sync.c1z")
	err := harness.Sync(context.Background(), c, path, harness.SyncOptions{TmpDir: dir, ResourceTypes: selected})
	return path, err
}

// MustSync syncs and reads the result back, failing the test on error.
func MustSync(tb testing.TB, c connectorbuilder.ConnectorBuilderV2) *harness.Contents {
	tb.Helper()
	return MustSyncSelected(tb, c, nil)
}

// MustSyncSelected is MustSync of the resource types selected (SyncSelected).
func MustSyncSelected(tb testing.TB, c connectorbuilder.ConnectorBuilderV2, selected []string) *harness.Contents {
	tb.Helper()
	path, err := SyncSelected(tb, c, selected)
	if err != nil {
		tb.Fatalf("sync: %v", err)
	}
	contents, err := harness.ReadC1Z(context.Background(), path, tb.TempDir())
	if err != nil {
		tb.Fatalf("reading c1z: %v", err)
	}
	return contents
}

// WantCode checks that err failed with the gRPC code a caller acts on and
// that its message says what failed: it mentions each of mentions. A wrong
// code stops the test, since what follows usually depends on the failure.
func WantCode(tb testing.TB, err error, code codes.Code, mentions ...string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("succeeded, want it to fail with %v", code)
	}
	if got := status.Code(err); got != code {
		tb.Fatalf("code %v, want %v (%v)", got, code, err)
	}
	for _, m := range mentions {
		if !strings.Contains(err.Error(), m) {
			tb.Errorf("error does not mention %q: %v", m, err)
		}
	}
}
