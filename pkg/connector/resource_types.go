package connector

import (
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
)

// Resource type ids are a contract with ConductorOne and other tools.
var (
	userResourceType = v2.ResourceType_builder{
		Id:          "user",
		DisplayName: "User",
		Description: "A Rocket.Chat account: a person, a bot or an app user.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_USER},
		Annotations: annotations.New(&v2.SkipEntitlementsAndGrants{}),
	}.Build()
	roleResourceType = v2.ResourceType_builder{
		Id:          "role",
		DisplayName: "Role",
		Description: "A Rocket.Chat role, built-in or custom. Workspace-scoped roles are assigned to users; room-scoped roles are held per room or team.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_ROLE},
		// Every role's holders come from one pass over the users.
		Annotations: annotations.New(&v2.TypeScopedGrants{}),
	}.Build()
	teamResourceType = v2.ResourceType_builder{
		Id:          "team",
		DisplayName: "Team",
		Description: "A Rocket.Chat team, public or private, with its members and their team roles.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_GROUP},
	}.Build()
	permissionResourceType = v2.ResourceType_builder{
		Id:          "permission",
		DisplayName: "Permission",
		Description: "A Rocket.Chat permission and the roles that hold it; through a workspace role, every holder of the role holds it.",
		// Every permission's holders come from one pass over permissions.listAll.
		Annotations: annotations.New(&v2.TypeScopedGrants{}),
	}.Build()
)
