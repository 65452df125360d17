package faultkit

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	"google.golang.org/grpc/codes"
)

// Checks every sync under faults must pass: a completed one stored each
// object once and validly; a failed one said why without leaking the token
// and left no finished sync behind.

// NoDuplicates checks no resource, entitlement or grant is stored twice.
func NoDuplicates(t *testing.T, got *harness.Contents) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range got.Resources {
		seen["resource "+r.GetId().GetResourceType()+":"+r.GetId().GetResource()]++
	}
	for _, e := range got.Entitlements {
		seen["entitlement "+e.GetId()]++
	}
	for _, g := range got.Grants {
		seen["grant "+g.GetId()]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("%s stored %d times", k, n)
		}
	}
}

// Valid checks every stored resource, entitlement and grant passes the
// SDK's proto validation, which the C1 backend applies too.
func Valid(t *testing.T, got *harness.Contents) {
	t.Helper()
	type validator interface{ ValidateAll() error }
	for _, o := range got.Objects() {
		v, ok := o.(validator)
		if !ok {
			t.Errorf("stored %T has no validation", o)
			continue
		}
		if err := v.ValidateAll(); err != nil {
			msg := err.Error()
			if len(msg) > 300 {
				msg = msg[:300] + "..."
			}
			t.Errorf("stored object fails the SDK's validation: %s", msg)
		}
	}
}

// WantFailure checks a failed sync: that its message holds no credential
// (token, when not empty), its gRPC code and that the message says what
// failed (testenv.WantCode), and that the c1z at path holds no finished sync.
func WantFailure(t *testing.T, path string, err error, code codes.Code, token string, mentions ...string) {
	t.Helper()
	// Checked first, so a wrong code cannot hide a leak.
	if err != nil && token != "" && strings.Contains(err.Error(), token) {
		t.Errorf("error leaks the token: %v", err)
	}
	testenv.WantCode(t, err, code, mentions...)
	// A run that fails before the first sync step may leave no file at all.
	if fi, serr := os.Stat(path); serr == nil && fi.Size() > 0 {
		if _, rerr := harness.ReadC1Z(context.Background(), path, t.TempDir()); !errors.Is(rerr, harness.ErrNoFinishedSync) {
			t.Errorf("reading the c1z of a failed sync: %v, want ErrNoFinishedSync", rerr)
		}
	}
}
