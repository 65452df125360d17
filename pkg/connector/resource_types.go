package connector

import (
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Resource type ids are a contract with ConductorOne and other tools.
var (
	userResourceType = v2.ResourceType_builder{
		Id:          "user",
		DisplayName: "User",
		Description: "A Rocket.Chat account: a person, a bot or an app user.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_USER},
		Annotations: annotationsOf(&v2.SkipEntitlementsAndGrants{}),
	}.Build()
	roleResourceType = v2.ResourceType_builder{
		Id:          "role",
		DisplayName: "Role",
		Description: "A Rocket.Chat role, built-in or custom. Workspace-scoped roles are assigned to users; room-scoped roles are held per room or team.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_ROLE},
	}.Build()
	teamResourceType = v2.ResourceType_builder{
		Id:          "team",
		DisplayName: "Team",
		Description: "A Rocket.Chat team, public or private, with its members and their team roles.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_GROUP},
	}.Build()
)

// invalidConfig marks a configuration error so the process exits with a
// code that says so, before any sync work.
func invalidConfig(err error) error {
	return status.Error(codes.InvalidArgument, err.Error())
}
