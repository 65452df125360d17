package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	"github.com/conductorone/baton-rocketchat/pkg/simulator"
)

// buildBinary compiles the connector once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "baton-rocketchat")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestExitCodes runs the real binary the way ConductorOne's connector CI
// does: bad credentials exit with the gRPC code as the process status, and
// capabilities and config work without credentials.
func TestExitCodes(t *testing.T) {
	bin := buildBinary(t)
	gen := simulator.Generate(2, simulator.Size{Users: 30, Teams: 2, MembersPerTeam: 5})
	env := testenv.Start(t, gen.Workspace, simulator.Options{}, "")

	for _, tc := range []struct {
		name     string
		args     []string
		env      []string
		wantCode int
		mentions string
		noC1Z    bool
	}{
		{name: "capabilities without credentials", args: []string{"capabilities"}, wantCode: 0, mentions: "CAPABILITY_PROVISION"},
		{name: "config without credentials", args: []string{"config"}, wantCode: 0, mentions: "auth-token"},
		{name: "bogus token", wantCode: 16, mentions: "wrong or revoked", noC1Z: true,
			env: []string{"BATON_BASE_URL=" + env.BaseURL, "BATON_USER_ID=" + gen.Admin.UserID, "BATON_AUTH_TOKEN=bogus-token-value"}},
		{name: "plain user's token", wantCode: 7, mentions: "view-all-teams", noC1Z: true,
			env: []string{"BATON_BASE_URL=" + env.BaseURL, "BATON_USER_ID=" + gen.Plain.UserID, "BATON_AUTH_TOKEN=" + gen.Plain.Token}},
		{name: "not a URL", wantCode: 3, mentions: "base-url",
			env: []string{"BATON_BASE_URL=ftp://chat.example.com", "BATON_USER_ID=x", "BATON_AUTH_TOKEN=y"}},
		{name: "admin syncs", wantCode: 0,
			env: []string{"BATON_BASE_URL=" + env.BaseURL, "BATON_USER_ID=" + gen.Admin.UserID, "BATON_AUTH_TOKEN=" + gen.Admin.Token}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c1z := filepath.Join(dir, "sync.c1z")
			args := append([]string{"-f", c1z, "--log-format", "json"}, tc.args...)
			var (
				out  bytes.Buffer
				code int
			)
			// baton-sdk v0.25.0 races on failure: while the CLI exits with the
			// error's gRPC code, a goroutine watching the connector's child
			// process (internal/connector/connector.go) may call os.Exit(0)
			// first when shutdown kills the child. Exit 0 after a failure is
			// that race; anything else is the answer.
			for attempt := 1; attempt <= 5; attempt++ {
				out.Reset()
				_ = os.Remove(c1z)
				cmd := exec.Command(bin, args...)
				cmd.Env = append(cleanEnv(), tc.env...)
				cmd.Stdout, cmd.Stderr = &out, &out
				err := cmd.Run()
				code = 0
				var exitErr *exec.ExitError
				if errors.As(err, &exitErr) {
					code = exitErr.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				if code != 0 || tc.wantCode == 0 {
					break
				}
				t.Logf("attempt %d exited 0 after a failure (the SDK's shutdown race); running again", attempt)
			}
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d\n%s", code, tc.wantCode, out.String())
			}
			if tc.mentions != "" && !strings.Contains(out.String(), tc.mentions) {
				t.Errorf("output does not mention %q:\n%s", tc.mentions, out.String())
			}
			for _, secret := range []string{gen.Plain.Token, gen.Admin.Token, "bogus-token-value"} {
				if strings.Contains(out.String(), secret) {
					t.Errorf("output contains a token")
				}
			}
			if tc.noC1Z {
				if _, err := harness.ReadC1Z(t.Context(), c1z, t.TempDir()); err == nil {
					t.Errorf("failed run left a c1z with a finished sync")
				}
			}
			if tc.name == "admin syncs" {
				got, err := harness.ReadC1Z(t.Context(), c1z, t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				if len(got.Resources) == 0 || len(got.Grants) == 0 {
					t.Errorf("sync wrote %d resources, %d grants", len(got.Resources), len(got.Grants))
				}
			}
		})
	}
}

// cleanEnv drops BATON_* variables a developer may have set.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BATON_") {
			env = append(env, kv)
		}
	}
	return append(env, "BATON_DISABLE_HTTP_CACHE=true")
}
