package connector_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/conductorone/baton-rocketchat/internal/harness"
	"github.com/conductorone/baton-rocketchat/internal/simulator"
	"github.com/conductorone/baton-rocketchat/internal/testenv"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/entitlement"
	"google.golang.org/grpc/codes"
)

// The room provisioning fixture's rooms, on top of provisioningWorkspace.
const (
	generalRoomID  = "generalRoomId0001" // public; alice owns it, bob is in it
	legalRoomID    = "legalRoomId000001" // private; admin and alice are in it, alice owns it
	boardRoomID    = "boardRoomId000001" // private; admin is not in it
	archiveRoomID  = "archiveRoomId0001" // public, archived
	fedRoomID      = "fedRoomId00000001" // public, federated
	abacRoomID     = "abacRoomId0000001" // private, ABAC-managed; admin is in it
	teamSubRoomID  = "teamSubRoomId0001" // public, inside the engineering team
	discussionID   = "discussionId00001" // public discussion of general
	directRoomID   = "directRoomId00001" // a DM: never a resource
	livechatRoomID = "livechatRoomId001" // omnichannel: never a resource
)

func roomProvisioningWorkspace() *simulator.Workspace {
	ws := provisioningWorkspace()
	t0 := time.Date(2025, 7, 1, 9, 0, 0, 0, time.UTC)
	sub := func(uid string, roles ...string) simulator.RoomSubscription {
		s := simulator.RoomSubscription{UserID: uid, CreatedAt: t0}
		if len(roles) > 0 {
			s.Roles = roles
		}
		return s
	}
	room := func(id, name, typ string, subs ...simulator.RoomSubscription) *simulator.Room {
		return ws.AddRoom(&simulator.Room{ID: id, Name: name, Type: typ, CreatorID: aliceID, CreatorUsername: "alice", CreatedAt: t0, Subscriptions: subs})
	}
	room(generalRoomID, "general", simulator.RoomPublic, sub(aliceID, "owner"), sub(bobID))
	room(legalRoomID, "legal-private", simulator.RoomPrivate, sub(aliceID, "owner"), sub(adminID))
	room(boardRoomID, "board", simulator.RoomPrivate, sub(aliceID, "owner"), sub(carolID))
	room(archiveRoomID, "old-news", simulator.RoomPublic, sub(aliceID, "owner")).Archived = true
	room(fedRoomID, "matrix-bridge", simulator.RoomPublic, sub(aliceID, "owner")).Federated = true
	room(abacRoomID, "clearance", simulator.RoomPrivate, sub(aliceID, "owner"), sub(adminID)).ABACAttributes =
		[]simulator.ABACAttribute{{Key: "clearance", Values: []string{"secret"}}}
	room(teamSubRoomID, "eng-standup", simulator.RoomPublic, sub(aliceID, "owner")).TeamID = engTeamID
	room(discussionID, "general-q3", simulator.RoomPublic, sub(aliceID, "owner")).ParentID = generalRoomID
	room(directRoomID, "", simulator.RoomDirect, sub(aliceID), sub(bobID))
	room(livechatRoomID, "visitor-1", simulator.RoomLivechat, sub(bobID))
	return ws
}

func startRoomProvisioning(t *testing.T) *provisioning {
	t.Helper()
	env := testenv.Start(t, roomProvisioningWorkspace(), simulator.Options{}, "")
	c := newConnector(t, env.BaseURL, adminCred, withRooms(), testenv.FastRetries)
	conn, err := harness.Serve(context.Background(), c)
	if err != nil {
		t.Fatalf("serving the connector: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &provisioning{t: t, sim: env.Sim, conn: conn}
}

// roomEntitlement is room:<roomId>:<slug>, as the room syncer emits it.
func roomEntitlement(roomID, slug string) *v2.Entitlement {
	r := v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: "room", Resource: roomID}.Build(), DisplayName: roomID}.Build()
	if slug == "member" {
		return entitlement.NewAssignmentEntitlement(r, slug)
	}
	return entitlement.NewPermissionEntitlement(r, slug)
}

// subscription returns uid's subscription to the room, or nil.
func (p *provisioning) subscription(roomID, uid string) *simulator.RoomSubscription {
	p.t.Helper()
	r := p.state().RoomByID(roomID)
	if r == nil {
		p.t.Fatalf("room %s is not in the simulator", roomID)
	}
	return r.Subscription(uid)
}

// TestProvisionRoomMembership: invite and kick, public and private, with
// the exact writes, and repeats that write nothing.
func TestProvisionRoomMembership(t *testing.T) {
	p := startRoomProvisioning(t)
	for _, tc := range []struct {
		room, route string
	}{
		{generalRoomID, "channels"},
		{legalRoomID, "groups"},
	} {
		ent := roomEntitlement(tc.room, "member")
		_, err := p.grant(ent, carolID)
		mustOK(t, "invite carol to "+tc.room, err)
		p.wantPosts(map[string]int{"POST " + tc.route + ".invite": 1})
		if p.subscription(tc.room, carolID) == nil {
			t.Fatalf("carol is not in %s after the grant", tc.room)
		}
		resp, err := p.grant(ent, carolID)
		p.wantAlreadyGranted("inviting carol again", resp, err)

		_, err = p.revoke(ent, carolID)
		mustOK(t, "kick carol from "+tc.room, err)
		p.wantPosts(map[string]int{"POST " + tc.route + ".kick": 1})
		if p.subscription(tc.room, carolID) != nil {
			t.Fatalf("carol is still in %s after the revoke", tc.room)
		}
		rresp, err := p.revoke(ent, carolID)
		p.wantAlreadyRevoked("kicking carol again", rresp, err)
	}
}

// TestProvisionRoomRoles: owner, moderator and leader, given and taken
// away, idempotent, for members only, never the last owner.
func TestProvisionRoomRoles(t *testing.T) {
	p := startRoomProvisioning(t)
	for _, role := range []struct{ slug, add, remove string }{
		{"owner", "addOwner", "removeOwner"},
		{"moderator", "addModerator", "removeModerator"},
		{"leader", "addLeader", "removeLeader"},
	} {
		ent := roomEntitlement(generalRoomID, role.slug)
		_, err := p.grant(ent, bobID)
		mustOK(t, "grant "+role.slug, err)
		p.wantPosts(map[string]int{"POST channels." + role.add: 1})
		if s := p.subscription(generalRoomID, bobID); s == nil || !slices.Contains(s.Roles, role.slug) {
			t.Fatalf("bob lacks %s after the grant: %v", role.slug, s)
		}
		resp, err := p.grant(ent, bobID)
		p.wantAlreadyGranted("granting "+role.slug+" again", resp, err)
		_, err = p.revoke(ent, bobID)
		mustOK(t, "revoke "+role.slug, err)
		p.wantPosts(map[string]int{"POST channels." + role.remove: 1})
		if s := p.subscription(generalRoomID, bobID); s == nil || slices.Contains(s.Roles, role.slug) {
			t.Fatalf("bob holds %s after the revoke, or left the room: %v", role.slug, s)
		}
		rresp, err := p.revoke(ent, bobID)
		p.wantAlreadyRevoked("revoking "+role.slug+" again", rresp, err)
	}

	// A room role for a non-member: refused, nothing written.
	_, err := p.grant(roomEntitlement(generalRoomID, "moderator"), carolID)
	testenv.WantCode(t, err, codes.FailedPrecondition, "not a member", "grant the room's membership first")
	p.wantPosts(nil)

	// The last owner keeps the role and the room.
	_, err = p.revoke(roomEntitlement(generalRoomID, "owner"), aliceID)
	testenv.WantCode(t, err, codes.FailedPrecondition, "last owner")
	p.wantPosts(nil)
	_, err = p.revoke(roomEntitlement(generalRoomID, "member"), aliceID)
	testenv.WantCode(t, err, codes.FailedPrecondition, "last owner")
	p.wantPosts(nil)
	if s := p.subscription(generalRoomID, aliceID); s == nil || !slices.Contains(s.Roles, "owner") {
		t.Errorf("alice lost the room or its ownership: %v", s)
	}
}

// TestProvisionRoomRefusals: what the connector refuses before writing,
// each with a message that says what to do.
func TestProvisionRoomRefusals(t *testing.T) {
	p := startRoomProvisioning(t)
	for _, tc := range []struct {
		name     string
		room     string
		slug     string
		user     string
		code     codes.Code
		mentions []string
	}{
		{"private group the token's user is not in", boardRoomID, "member", bobID, codes.FailedPrecondition,
			[]string{"private group", "add the connector's user to the group"}},
		{"archived room", archiveRoomID, "member", bobID, codes.FailedPrecondition, []string{"archived", "unarchive"}},
		{"federated room", fedRoomID, "member", bobID, codes.FailedPrecondition, []string{"federated"}},
		{"ABAC-managed room", abacRoomID, "member", bobID, codes.FailedPrecondition, []string{"ABAC", "clearance=secret"}},
		{"deactivated user", generalRoomID, "member", daveID, codes.FailedPrecondition, []string{"deactivated", "reactivate"}},
		{"team main room", "engMainRoomId0001", "member", carolID, codes.FailedPrecondition, []string{"main room", "team"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.grant(roomEntitlement(tc.room, tc.slug), tc.user)
			testenv.WantCode(t, err, tc.code, tc.mentions...)
			p.wantPosts(nil)
		})
	}
}

// TestRoomsManagedByLDAP: with LDAP channel sync mapping a group to a
// room, its memberships are marked as the directory's, a removal is
// refused (LDAP would add the user back), and so is an addition once LDAP
// also removes users outside the groups.
func TestRoomsManagedByLDAP(t *testing.T) {
	for _, enforced := range []bool{false, true} {
		ws := roomProvisioningWorkspace()
		ws.Settings[simulator.SettingLDAPEnable] = true
		ws.Settings[simulator.SettingLDAPRooms] = true
		ws.Settings[simulator.SettingLDAPRoomsMap] = `{"cn=staff,ou=groups": ["general", "helpdesk"]}`
		ws.Settings[simulator.SettingLDAPRoomsEnforce] = enforced
		env := testenv.Start(t, ws, simulator.Options{}, "")
		c := newConnector(t, env.BaseURL, adminCred, withRooms(), testenv.FastRetries)

		got := testenv.MustSync(t, c)
		for _, g := range got.Grants {
			e := g.GetEntitlement()
			if e.GetResource().GetId().GetResourceType() != "room" {
				continue
			}
			managed := hasAnnotation(g.GetAnnotations(), &v2.GrantImmutable{})
			want := e.GetId() == "room:"+generalRoomID+":member"
			if managed != want {
				t.Errorf("enforced=%v: %s to %s marked immutable %v, want %v", enforced, e.GetId(), g.GetPrincipal().GetId().GetResource(), managed, want)
			}
		}

		conn, err := harness.Serve(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		p := &provisioning{t: t, sim: env.Sim, conn: conn}
		_, err = p.revoke(roomEntitlement(generalRoomID, "member"), bobID)
		testenv.WantCode(t, err, codes.FailedPrecondition, "managed by the directory", "cn=staff,ou=groups")
		p.wantPosts(nil)
		_, err = p.grant(roomEntitlement(generalRoomID, "member"), carolID)
		if enforced {
			testenv.WantCode(t, err, codes.FailedPrecondition, "managed by the directory")
			p.wantPosts(nil)
		} else {
			mustOK(t, "adding carol to general (LDAP does not remove)", err)
			p.wantPosts(map[string]int{"POST channels.invite": 1})
		}
		// Room roles are not LDAP's.
		_, err = p.grant(roomEntitlement(generalRoomID, "moderator"), bobID)
		mustOK(t, "making bob moderator of an LDAP-mapped room", err)
		_ = conn.Close()
	}
}
