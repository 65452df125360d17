package harness

import (
	"slices"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// Flattened views of Contents. Tests and benchmarks look synced objects up
// by id and by type far more often than they walk the lists, so the lookups
// live here once instead of in every test file.

// ResourcesByType indexes the resources by type, then by resource id.
func (c *Contents) ResourcesByType() map[string]map[string]*v2.Resource {
	out := map[string]map[string]*v2.Resource{}
	for _, r := range c.Resources {
		rt := r.GetId().GetResourceType()
		if out[rt] == nil {
			out[rt] = map[string]*v2.Resource{}
		}
		out[rt][r.GetId().GetResource()] = r
	}
	return out
}

// ResourcesOf indexes the resources of one type by resource id; it is empty,
// not nil, when there are none.
func (c *Contents) ResourcesOf(typ string) map[string]*v2.Resource {
	out := map[string]*v2.Resource{}
	for _, r := range c.Resources {
		if r.GetId().GetResourceType() == typ {
			out[r.GetId().GetResource()] = r
		}
	}
	return out
}

// ResourceCounts counts the stored resources per type, duplicates included,
// so a count can be compared with what a workspace implies.
func (c *Contents) ResourceCounts() map[string]int {
	out := map[string]int{}
	for _, r := range c.Resources {
		out[r.GetId().GetResourceType()]++
	}
	return out
}

// ResourceTypeIDs lists the ids of the resource types offered, sorted.
func (c *Contents) ResourceTypeIDs() []string {
	var out []string
	for _, rt := range c.ResourceTypes {
		out = append(out, rt.GetId())
	}
	slices.Sort(out)
	return out
}

// ResourceType is the resource type with id, or nil.
func (c *Contents) ResourceType(id string) *v2.ResourceType {
	for _, rt := range c.ResourceTypes {
		if rt.GetId() == id {
			return rt
		}
	}
	return nil
}

// Entitlement is the last stored entitlement with id, or nil.
func (c *Contents) Entitlement(id string) *v2.Entitlement {
	var out *v2.Entitlement
	for _, e := range c.Entitlements {
		if e.GetId() == id {
			out = e
		}
	}
	return out
}

// Grant is the first stored grant with id, or nil.
func (c *Contents) Grant(id string) *v2.Grant {
	for _, g := range c.Grants {
		if g.GetId() == id {
			return g
		}
	}
	return nil
}

// GrantIDs lists the grant ids in stored order, duplicates included.
func (c *Contents) GrantIDs() []string {
	var out []string
	for _, g := range c.Grants {
		out = append(out, g.GetId())
	}
	return out
}

// Objects lists every stored resource, entitlement and grant, in that
// order: what a check that applies to all synced objects walks.
func (c *Contents) Objects() []proto.Message {
	var out []proto.Message
	for _, r := range c.Resources {
		out = append(out, r)
	}
	for _, e := range c.Entitlements {
		out = append(out, e)
	}
	for _, g := range c.Grants {
		out = append(out, g)
	}
	return out
}

// Messages lists the resource types followed by Objects: everything the
// sync stored.
func (c *Contents) Messages() []proto.Message {
	out := make([]proto.Message, 0, len(c.ResourceTypes))
	for _, rt := range c.ResourceTypes {
		out = append(out, rt)
	}
	return append(out, c.Objects()...)
}

// AccountInfo builds the AccountInfo of a CreateAccount request, as the
// baton runtime does from a ticket: the first email is the primary one,
// and profile (when not nil) becomes the profile struct.
func AccountInfo(login string, emails []string, profile map[string]any) (*v2.AccountInfo, error) {
	var es []*v2.AccountInfo_Email
	for i, e := range emails {
		es = append(es, v2.AccountInfo_Email_builder{Address: e, IsPrimary: i == 0}.Build())
	}
	b := v2.AccountInfo_builder{Login: login, Emails: es}
	if profile != nil {
		s, err := structpb.NewStruct(profile)
		if err != nil {
			return nil, err
		}
		b.Profile = s
	}
	return b.Build(), nil
}
