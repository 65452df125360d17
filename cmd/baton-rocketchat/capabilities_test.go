package main

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/conductorone/baton-rocketchat/internal/simulator"
)

// TestCapabilitiesNamePermissions reads the generated baton_capabilities.json
// (make generate; make test checks it is current): every resource type
// names the Rocket.Chat permissions it needs, each one a permission
// Rocket.Chat has.
func TestCapabilitiesNamePermissions(t *testing.T) {
	raw, err := os.ReadFile("../../baton_capabilities.json")
	if err != nil {
		t.Fatal(err)
	}
	var caps struct {
		ResourceTypeCapabilities []struct {
			ResourceType struct {
				ID string `json:"id"`
			} `json:"resourceType"`
			OptInRequired bool `json:"optInRequired"`
			Permissions   struct {
				Permissions []struct {
					Permission string `json:"permission"`
				} `json:"permissions"`
			} `json:"permissions"`
		} `json:"resourceTypeCapabilities"`
	}
	if err := json.Unmarshal(raw, &caps); err != nil {
		t.Fatal(err)
	}
	sync := []string{"view-d-room", "view-full-other-user-info"}
	want := map[string][]string{
		"user":             append(slices.Clone(sync), "create-user", "edit-other-user-active-status", "delete-user", "logout-other-user"),
		"role":             append(slices.Clone(sync), "access-permissions", "assign-admin-role", "view-livechat-manager"),
		"team":             append(slices.Clone(sync), "view-all-teams", "add-team-member", "edit-team-member"),
		"permission":       sync,
		"incoming-webhook": append(slices.Clone(sync), "manage-incoming-integrations"),
		"outgoing-webhook": append(slices.Clone(sync), "manage-outgoing-integrations"),
		"oauth-app":        append(slices.Clone(sync), "manage-oauth-apps"),
		"room": append(slices.Clone(sync), "view-room-administration", "view-c-room", "view-joined-room", "view-broadcast-member-list", "view-other-user-channels",
			"add-user-to-any-c-room", "add-user-to-any-p-room", "kick-user-from-any-c-room", "kick-user-from-any-p-room",
			"remove-user", "set-owner", "set-moderator", "set-leader"),
	}
	known := simulator.NewWorkspace().Permissions
	seen := map[string]bool{}
	for _, rc := range caps.ResourceTypeCapabilities {
		id := rc.ResourceType.ID
		seen[id] = true
		// Rooms cost a call or two per room: a customer turns them on.
		if rc.OptInRequired != (id == "room") {
			t.Errorf("%s: opt-in required %v", id, rc.OptInRequired)
		}
		var got []string
		for _, p := range rc.Permissions.Permissions {
			got = append(got, p.Permission)
			if _, ok := known[p.Permission]; !ok {
				t.Errorf("%s names %q, which is not a Rocket.Chat permission", id, p.Permission)
			}
		}
		if w, ok := want[id]; !ok {
			t.Errorf("resource type %s: no expected permissions in this test (add them): it names %v", id, got)
		} else if !slices.Equal(got, w) {
			t.Errorf("%s names %v, want %v", id, got, w)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("resource type %s missing from baton_capabilities.json", id)
		}
	}
}
