// Package config defines the connector's configuration schema. The same field
// names are used for CLI flags, BATON_* environment variables and the form in
// ConductorOne's hosted connector.
package config

import (
	"github.com/conductorone/baton-sdk/pkg/field"
)

//go:generate go run ./gen

var (
	// BaseURLField is the workspace address; a path prefix (https://host/chat) is allowed.
	BaseURLField = field.StringField(
		"base-url",
		field.WithDisplayName("Rocket.Chat base URL"),
		field.WithDescription("The address of your Rocket.Chat workspace, as users open it in a browser, "+
			"for example https://chat.example.com or https://example.com/chat."),
		field.WithPlaceholder("https://chat.example.com"),
		field.WithRequired(true),
		field.WithStructFieldName("BaseURL"),
	)
	// UserIDField is the id of the account that owns the personal access token.
	UserIDField = field.StringField(
		"user-id",
		field.WithDisplayName("User ID"),
		field.WithDescription("The user ID shown when the personal access token is created "+
			"(My Account > Personal Access Tokens > Add). It is sent as X-User-Id."),
		field.WithRequired(true),
		field.WithStructFieldName("UserID"),
	)
	// AuthTokenField is the personal access token; it is a secret.
	AuthTokenField = field.StringField(
		"auth-token",
		field.WithDisplayName("Auth token"),
		field.WithDescription("A personal access token of a Rocket.Chat administrator or governance service account "+
			"(My Account > Personal Access Tokens > Add). It is sent as X-Auth-Token and never logged."),
		field.WithRequired(true),
		field.WithIsSecret(true),
	)

	// AllDeactivatedTeamsField trades sync time for a complete picture of
	// deactivated users' team memberships under the rate limiter.
	AllDeactivatedTeamsField = field.BoolField(
		"all-deactivated-team-memberships",
		field.WithDisplayName("List every deactivated user's team memberships"),
		field.WithDescription("Rocket.Chat's team member lists leave deactivated users out, so their teams are read one user "+
			"at a time. By default a rate-limited account reads only as many as cost no extra time (9 per sync with the "+
			"default limit); with this on it reads them all at the limiter's pace, about 6 seconds per deactivated user "+
			"under the default limit of 10 calls a minute. An account with api-bypass-rate-limit always reads them all."),
		field.WithDefaultValue(false),
	)

	// AllRoomMembershipsField trades sync time for a complete picture of
	// rooms' members under the rate limiter.
	AllRoomMembershipsField = field.BoolField(
		"all-room-memberships",
		field.WithDisplayName("List every room's members, private groups included"),
		field.WithDescription("With rooms synced, Rocket.Chat shows a private group's members only to its own members, or "+
			"one user's rooms at a time to an account with view-other-user-channels. By default a rate-limited account reads "+
			"each user's rooms only when that costs no extra time, and otherwise marks the private groups it is not in as "+
			"unread; with this on it reads every user's rooms at the limiter's pace, about 6 seconds per user under the "+
			"default limit of 10 calls a minute. Needs view-other-user-channels. An account with api-bypass-rate-limit and "+
			"view-other-user-channels always reads them all."),
		field.WithDefaultValue(false),
	)

	// Configuration is the connector's full schema.
	Configuration = field.NewConfiguration(
		[]field.SchemaField{BaseURLField, UserIDField, AuthTokenField, AllDeactivatedTeamsField, AllRoomMembershipsField},
		field.WithConnectorDisplayName("Rocket.Chat"),
		field.WithHelpUrl("/docs/baton/rocketchat"),
		field.WithIconUrl("/static/app-icons/rocketchat.svg"),
	)
)
