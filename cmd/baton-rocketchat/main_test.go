package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
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
		{name: "rooms asked for, reader without view-room-administration", wantCode: 7, mentions: "view-room-administration", noC1Z: true,
			args: []string{"--sync-resource-types", "user,role,team,permission,room"},
			env:  []string{"BATON_BASE_URL=" + env.BaseURL, "BATON_USER_ID=" + gen.Reader.UserID, "BATON_AUTH_TOKEN=" + gen.Reader.Token}},
		{name: "admin syncs", wantCode: 0,
			env: []string{"BATON_BASE_URL=" + env.BaseURL, "BATON_USER_ID=" + gen.Admin.UserID, "BATON_AUTH_TOKEN=" + gen.Admin.Token}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c1z := filepath.Join(dir, "sync.c1z")
			args := append([]string{"-f", c1z, "--log-format", "json"}, tc.args...)
			out, code := runBinary(t, bin, args, append(cleanEnv(), tc.env...))
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d\n%s", code, tc.wantCode, out)
			}
			if tc.mentions != "" && !strings.Contains(out, tc.mentions) {
				t.Errorf("output does not mention %q:\n%s", tc.mentions, out)
			}
			for _, secret := range []string{gen.Plain.Token, gen.Admin.Token, gen.Reader.Token, "bogus-token-value"} {
				if strings.Contains(out, secret) {
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

// runBinary runs the connector and returns its combined output and exit code.
func runBinary(t *testing.T, bin string, args, env []string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return out.String(), exitErr.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), 0
}

// TestExitCodesEveryTime runs each credential failure many times: ConductorOne's
// CI checks the exit code of one run, so a run that exits 0 after a failure
// (baton-sdk v0.25.0's shutdown race, which the connector avoids by
// validating before the SDK starts its child process) fails it.
func TestExitCodesEveryTime(t *testing.T) {
	bin := buildBinary(t)
	gen := simulator.Generate(2, simulator.Size{Users: 30, Teams: 2, MembersPerTeam: 5})
	env := testenv.Start(t, gen.Workspace, simulator.Options{DisableRateLimiter: true}, "")
	// A token whose user can read everything but the teams.
	env.Sim.Update(func(ws *simulator.Workspace) {
		ws.Permissions["view-all-teams"] = slices.DeleteFunc(ws.Permissions["view-all-teams"], func(r string) bool { return r != "admin" })
	})
	for _, tc := range []struct {
		name     string
		cred     simulator.Credential
		token    string
		runs     int
		wantCode int
	}{
		{name: "bogus token", cred: gen.Admin, token: "bogus-token-value", runs: 40, wantCode: 16},
		{name: "plain user's token", cred: gen.Plain, runs: 10, wantCode: 7},
		{name: "reader without view-all-teams", cred: gen.Reader, runs: 10, wantCode: 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := tc.cred.Token
			if tc.token != "" {
				token = tc.token
			}
			environ := append(cleanEnv(), "BATON_BASE_URL="+env.BaseURL, "BATON_USER_ID="+tc.cred.UserID, "BATON_AUTH_TOKEN="+token)
			counts := map[int]int{}
			for i := range tc.runs {
				c1z := filepath.Join(t.TempDir(), "sync.c1z")
				out, code := runBinary(t, bin, []string{"-f", c1z, "--log-format", "json"}, environ)
				counts[code]++
				if code != tc.wantCode && counts[code] == 1 {
					t.Errorf("run %d exited %d, want %d:\n%s", i+1, code, tc.wantCode, out)
				}
			}
			if counts[tc.wantCode] != tc.runs {
				t.Errorf("exit codes over %d runs: %v, want %d every time", tc.runs, counts, tc.wantCode)
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
	return env
}
