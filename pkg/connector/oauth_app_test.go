package connector_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/faultkit"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"google.golang.org/grpc/codes"
)

// TestOAuthAppsSync: OAuth apps are app resources marked as non-human
// identities registered with a standing credential, active or not, with
// who created them and when, and without their client secret.
func TestOAuthAppsSync(t *testing.T) {
	env := testenv.Start(t, nonHumanWorkspace(), simulator.Options{}, "")
	got := testenv.MustSync(t, newConnector(t, env.BaseURL, nhAdmin, nil))
	apps := got.ResourcesOf("oauth-app")
	if len(apps) != 2 {
		t.Fatalf("%d OAuth apps, want 2", len(apps))
	}
	for _, tc := range []struct {
		id, name, description, redirect, clientID string
		active                                    bool
		created                                   time.Time
	}{
		{appZapier, "Zapier", "OAuth app: users who authorize it let it act for them in Rocket.Chat; " +
			"redirects to https://zapier.example.com/dashboard/auth/oauth/return/App/; created by @svc-admin",
			"https://zapier.example.com/dashboard/auth/oauth/return/App/", "zapierClient00001", true, nhT0},
		{appPortal, "Old portal", "OAuth app: users who authorize it let it act for them in Rocket.Chat; " +
			"redirects to https://portal.example.com/cb; created by @svc-admin",
			"https://portal.example.com/cb", "portalClient00001", false, nhT0.Add(time.Hour)},
	} {
		r := apps[tc.id]
		if r == nil {
			t.Fatalf("app %s missing", tc.id)
		}
		if r.GetDisplayName() != tc.name || r.GetDescription() != tc.description || !r.GetCreatedAt().AsTime().Equal(tc.created) {
			t.Errorf("%s: %q %q %v", tc.id, r.GetDisplayName(), r.GetDescription(), r.GetCreatedAt().AsTime())
		}
		wantStatus, wantFlags := v2.Status_RESOURCE_STATUS_ENABLED, []v2.AppTrait_AppFlag(nil)
		if !tc.active {
			wantStatus, wantFlags = v2.Status_RESOURCE_STATUS_DISABLED, []v2.AppTrait_AppFlag{v2.AppTrait_APP_FLAG_INACTIVE}
		}
		annos := annotations.Annotations(r.GetAnnotations())
		at, nhi := &v2.AppTrait{}, &v2.NonHumanIdentityTrait{}
		if ok, _ := annos.Pick(at); !ok || !slices.Equal(at.GetFlags(), wantFlags) || r.GetStatus().GetStatus() != wantStatus {
			t.Errorf("%s: app trait %v, status %v", tc.id, at, r.GetStatus())
		}
		if ok, _ := annos.Pick(nhi); !ok || nhi.GetNhiType() != v2.NonHumanIdentityTrait_NHI_TYPE_APP_REGISTRATION || nhi.GetNhiDetail() != "rocketchat.oauth_app" {
			t.Errorf("%s: non-human identity trait %v", tc.id, nhi)
		}
		if annos.Contains(&v2.SecretTrait{}) || annos.Contains(&v2.ExternalLink{}) {
			t.Errorf("%s: unexpected annotations %v", tc.id, r.GetAnnotations())
		}
		wantProfile(t, r, map[string]any{
			"oauth_app_id": tc.id, "name": tc.name, "active": tc.active, "client_id": tc.clientID, "redirect_uri": tc.redirect,
			"created_by_id": nhAdminID, "created_by_username": "svc-admin", "created_at": tc.created.Format(time.RFC3339Nano),
		})
	}
	if n := env.Sim.Stats().Calls["GET oauth-apps.list"]; n != 1 {
		t.Errorf("oauth-apps.list called %d times, want 1", n)
	}
}

// TestOAuthAppsNeedTheirOwnPermission: the integration permissions do not
// list OAuth apps; an account with them syncs the webhooks without apps.
func TestOAuthAppsNeedTheirOwnPermission(t *testing.T) {
	env := testenv.Start(t, nonHumanWorkspace(), simulator.Options{}, "")
	got := testenv.MustSync(t, newConnector(t, env.BaseURL, nhInMgr, nil))
	if got.ResourceType("oauth-app") != nil || got.ResourceType("outgoing-webhook") != nil || len(got.ResourcesOf("incoming-webhook")) != 2 {
		t.Errorf("types %v, incoming %v", got.ResourceTypeIDs(), keys(got.ResourcesOf("incoming-webhook")))
	}
	if n := env.Sim.Stats().Calls["GET oauth-apps.list"]; n != 0 {
		t.Errorf("oauth-apps.list called %d times, want none", n)
	}
}

// TestOAuthAppsListingRefused: a 403 on oauth-apps.list (the permission
// taken away after the check) fails the sync and names the permission.
func TestOAuthAppsListingRefused(t *testing.T) {
	f := faultkit.Attach(testenv.Start(t, nonHumanWorkspace(), simulator.Options{}, ""))
	oauthApps := func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/oauth-apps.list") }
	f.Install(&faultkit.Rule{Name: "oauth-apps", Match: oauthApps, Actions: []faultkit.Action{faultkit.Forbidden}, Persistent: true})
	_, err := testenv.Sync(t, newConnector(t, f.BaseURL, nhAdmin, nil))
	testenv.WantCode(t, err, codes.PermissionDenied, "manage-oauth-apps", "OAuth apps")
}
