package connector

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://ci.example.com/hooks/deploy", "https://ci.example.com/hooks/deploy"},
		{"https://ci.example.com/hooks/deploy?key=abc&x=1", "https://ci.example.com/hooks/deploy?key=REDACTED&x=REDACTED"},
		{"https://user:pass@ci.example.com/in", "https://REDACTED@ci.example.com/in"},
		{"https://hooks.slack.com/services/T0AAAA/B0BBBB/abcdefGHIJKL12345678", "https://hooks.slack.com/services/T0AAAA/B0BBBB/REDACTED"},
		{"https://discord.com/api/webhooks/123456789012345678/abcDEF_ghi-JKL0123456789", "https://discord.com/api/webhooks/123456789012345678/REDACTED"},
		{"http://10.0.0.5:8080/a/b#frag", "http://10.0.0.5:8080/a/b"},
		{"  https://ci.example.com/x  ", "https://ci.example.com/x"},
		{"not a url", "(not a URL; not shown)"},
		{"https://%zz/secret", "(not a URL; not shown)"},
		{"", "(not a URL; not shown)"},
	} {
		if got := redactURL(tc.in); got != tc.want {
			t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Long ids of plain digits or words are kept: they name, they do not unlock.
	for _, seg := range []string{"123456789012345678", "integration-webhooks", "short1"} {
		if looksLikeToken(seg) {
			t.Errorf("%q taken for a token", seg)
		}
	}
}

func TestIntegrationCoverageAndAdvice(t *testing.T) {
	held := func(perms ...string) *validation {
		v := &validation{me: &client.Me{Username: "svc"}, permissions: map[string]bool{}}
		for _, p := range perms {
			v.permissions[p] = true
		}
		return v
	}
	in, out, app := incomingWebhookResourceType.GetId(), outgoingWebhookResourceType.GetId(), oauthAppResourceType.GetId()
	for _, tc := range []struct {
		name            string
		v               *validation
		in, out, app    coverage
		toListAllIn     []string
		toListAllOutput []string
	}{
		{name: "nothing", v: held(), toListAllIn: []string{permManageIncoming}, toListAllOutput: []string{permManageOutgoing}},
		{name: "admin-like", v: held(permManageIncoming, permManageOutgoing, permManageOwnIncoming, permManageOwnOutgoing, permManageOAuthApps),
			in: coverAll, out: coverAll, app: coverAll},
		{name: "own pair", v: held(permManageOwnIncoming, permManageOwnOutgoing), in: coverOwn, out: coverOwn,
			toListAllIn: []string{permManageIncoming, permManageOutgoing}, toListAllOutput: []string{permManageIncoming, permManageOutgoing}},
		{name: "incoming only", v: held(permManageIncoming), in: coverAll, toListAllOutput: []string{permManageOutgoing}},
		{name: "own incoming, all outgoing", v: held(permManageOwnIncoming, permManageOutgoing), in: coverOwn, out: coverAll,
			toListAllIn: []string{permManageIncoming}},
		// The server's quirk: the own pair narrows both, manage-incoming or not.
		{name: "incoming and the own pair", v: held(permManageIncoming, permManageOwnIncoming, permManageOwnOutgoing), in: coverOwn, out: coverOwn,
			toListAllIn: []string{permManageOutgoing}, toListAllOutput: []string{permManageOutgoing}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := []coverage{tc.v.coverage(in), tc.v.coverage(out), tc.v.coverage(app)}; !slices.Equal(got, []coverage{tc.in, tc.out, tc.app}) {
				t.Errorf("coverage %v, want %v", got, []coverage{tc.in, tc.out, tc.app})
			}
			if got := tc.v.toListAll(in); !slices.Equal(got, tc.toListAllIn) {
				t.Errorf("to list all incoming: %v, want %v", got, tc.toListAllIn)
			}
			if got := tc.v.toListAll(out); !slices.Equal(got, tc.toListAllOutput) {
				t.Errorf("to list all outgoing: %v, want %v", got, tc.toListAllOutput)
			}
		})
	}
}

// A connector without credentials — the capabilities command's — offers
// every type, and makes no call doing so.
func TestZeroConnectorOffersEveryType(t *testing.T) {
	var ids []string
	for _, s := range (&Connector{}).ResourceSyncers(context.Background()) {
		ids = append(ids, s.ResourceType(context.Background()).GetId())
	}
	want := []string{"user", "role", "team", "permission", "incoming-webhook", "outgoing-webhook", "oauth-app", "room"}
	if !slices.Equal(ids, want) {
		t.Errorf("types %v, want %v", ids, want)
	}
	// Each type's capability permissions: TestCapabilitiesNamePermissions
	// (cmd/baton-rocketchat) reads them from the generated capabilities.
}

// Over https, integrations and apps link to their page in the admin UI.
func TestNonHumanLinks(t *testing.T) {
	base := externalBase{url: &url.URL{Scheme: "https", Host: "chat.example.com", Path: "/rc"}}
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		it   client.Integration
		want string
	}{
		{client.Integration{ID: "in1", Type: client.IntegrationIncoming, Name: "a", CreatedAt: created}, "https://chat.example.com/rc/admin/integrations/edit/incoming/in1"},
		{client.Integration{ID: "out1", Type: client.IntegrationOutgoing, Name: "b"}, "https://chat.example.com/rc/admin/integrations/edit/outgoing/out1"},
	} {
		r, err := integrationResource(&tc.it, coverAll, base)
		if err != nil {
			t.Fatal(err)
		}
		link := &v2.ExternalLink{}
		annos := annotations.Annotations(r.GetAnnotations())
		if ok, _ := annos.Pick(link); !ok || link.GetUrl() != tc.want {
			t.Errorf("%s: link %q, want %q", tc.it.ID, link.GetUrl(), tc.want)
		}
		// Without a poster or creator the trait names no identity.
		st := &v2.SecretTrait{}
		if ok, _ := annos.Pick(st); !ok || st.HasIdentityId() || st.HasCreatedById() {
			t.Errorf("%s: secret trait %v", tc.it.ID, st)
		}
	}
	r, err := oauthAppResource(&client.OAuthApp{ID: "app1", Name: ""}, base)
	if err != nil {
		t.Fatal(err)
	}
	link := &v2.ExternalLink{}
	annos := annotations.Annotations(r.GetAnnotations())
	if ok, _ := annos.Pick(link); !ok || link.GetUrl() != "https://chat.example.com/rc/admin/oauth-apps/edit/app1" || r.GetDisplayName() != "app1" {
		t.Errorf("app: link %q, name %q", link.GetUrl(), r.GetDisplayName())
	}
	if d := integrationDescription(&client.Integration{Type: client.IntegrationOutgoing, URLs: []string{"::bad"}}); d != "Outgoing webhook; answers are posted as its account (disabled)" {
		t.Errorf("description of a bare outgoing webhook: %q", d)
	}
}
