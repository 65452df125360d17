package connector

import (
	"context"
	"fmt"

	"github.com/conductorone/baton-rocketchat/pkg/client"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// oauthAppDetail refines the apps' NonHumanIdentityTrait.
const oauthAppDetail = "rocketchat.oauth_app"

// oauthAppSyncer lists the OAuth applications registered with Rocket.Chat's
// OAuth provider: non-human identities with a standing credential (the
// client secret, never read: client.OAuthApp has no field for it).
type oauthAppSyncer struct{ c *Connector }

func (s *oauthAppSyncer) ResourceType(context.Context) *v2.ResourceType {
	return s.c.optionalResourceType(oauthAppResourceType)
}

// List returns the apps, read whole with one oauth-apps.list call.
func (s *oauthAppSyncer) List(ctx context.Context, _ *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	if err := s.c.configured(); err != nil {
		return nil, nil, err
	}
	if _, _, err := s.c.optionalCoverage(ctx, oauthAppResourceType); err != nil {
		return nil, nil, err
	}
	base := s.c.httpsBase()
	return listResources(ctx, s.c, s.c.oauthAppsListing(), opts, func(app *client.OAuthApp) (*v2.Resource, error) {
		return oauthAppResource(app, base)
	})
}

// Entitlements: Rocket.Chat keeps no per-user assignment of an OAuth app.
func (s *oauthAppSyncer) Entitlements(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

func (s *oauthAppSyncer) Grants(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

// oauthAppsListing reads oauth-apps.list, which is not paginated: the whole
// answer is the listing, handed to the SDK in pages like the others.
func (c *Connector) oauthAppsListing() *listing[client.OAuthApp] {
	o, _ := optionalTypeByID(oauthAppResourceType.GetId())
	return &listing[client.OAuthApp]{
		key:      "oauth-apps",
		what:     o.what,
		endpoint: "oauth-apps.list",
		id:       func(a client.OAuthApp) string { return a.ID },
		fetch: func(ctx context.Context, offset, _ int) (client.Page[client.OAuthApp], error) {
			apps, err := c.client.ListOAuthApps(ctx)
			switch {
			case status.Code(err) == codes.PermissionDenied:
				return client.Page[client.OAuthApp]{}, optionalRefusal(o, "oauth-apps.list", err)
			case err != nil:
				return client.Page[client.OAuthApp]{}, syncError("listing OAuth apps", err)
			}
			total := len(apps)
			return client.Page[client.OAuthApp]{Items: apps[min(offset, total):], Offset: offset, Total: total}, nil
		},
	}
}

// oauthAppResource turns an OAuth app into an app resource marked as a
// non-human identity registered with a standing credential.
func oauthAppResource(app *client.OAuthApp, base externalBase) (*v2.Resource, error) {
	profile := map[string]any{
		"oauth_app_id": app.ID,
		profileKeyName: app.Name,
		"active":       app.Active,
	}
	setText(profile, "client_id", app.ClientID)
	setText(profile, "redirect_uri", app.RedirectURI)
	setText(profile, "created_by_id", app.CreatedBy.ID)
	setText(profile, "created_by_username", app.CreatedBy.Username)
	setTime(profile, "created_at", app.CreatedAt)

	resourceStatus, statusDetail := v2.Status_RESOURCE_STATUS_ENABLED, ""
	var traitOpts []resource.AppTraitOption
	if !app.Active {
		resourceStatus, statusDetail = v2.Status_RESOURCE_STATUS_DISABLED, "inactive"
		traitOpts = append(traitOpts, resource.WithAppFlags(v2.AppTrait_APP_FLAG_INACTIVE))
	}
	description := "OAuth app: users who authorize it let it act for them in Rocket.Chat"
	if app.RedirectURI != "" {
		description += "; redirects to " + app.RedirectURI
	}
	if app.CreatedBy.Username != "" {
		description += "; created by @" + app.CreatedBy.Username
	}
	opts := []resource.ResourceOption{
		resource.WithResourceStatus(resourceStatus, statusDetail),
		resource.WithResourceProfile(profile),
		resource.WithDescription(clip(description, maxDescription)),
		resource.WithNHIType(v2.NonHumanIdentityTrait_NHI_TYPE_APP_REGISTRATION, oauthAppDetail),
	}
	opts = append(opts, base.identity(app.ID, app.CreatedAt, "admin/oauth-apps/edit", app.ID)...)
	r, err := resource.NewAppResource(clip(nameOrID(app.Name, app.ID), maxDisplayName), oauthAppResourceType, app.ID, traitOpts, opts...)
	if err != nil {
		return nil, fmt.Errorf("building OAuth app %s: %w", app.ID, err)
	}
	return r, nil
}
