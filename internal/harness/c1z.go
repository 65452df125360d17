package harness

import (
	"context"
	"errors"
	"fmt"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/dotc1z"
)

// Contents is everything the latest finished sync in a c1z file holds.
type Contents struct {
	SyncID        string
	ResourceTypes []*v2.ResourceType
	Resources     []*v2.Resource
	Entitlements  []*v2.Entitlement
	Grants        []*v2.Grant
}

// ErrNoFinishedSync means the file holds no completed sync: what a failed
// run must leave behind, if it leaves anything.
var ErrNoFinishedSync = errors.New("c1z holds no finished sync")

// ReadC1Z reads the latest finished sync from a c1z file.
func ReadC1Z(ctx context.Context, path, tmpDir string) (_ *Contents, err error) {
	store, err := dotc1z.NewStore(ctx, path, dotc1z.WithReadOnly(true), dotc1z.WithTmpDir(tmpDir))
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	defer func() { err = errors.Join(err, store.Close(ctx)) }()

	latest, err := store.SyncMeta().LatestFinishedSyncOfAnyType(ctx)
	if err != nil {
		return nil, fmt.Errorf("finding the latest sync: %w", err)
	}
	if latest == nil {
		return nil, ErrNoFinishedSync
	}
	if err := store.SetCurrentSync(ctx, latest.ID); err != nil {
		return nil, err
	}
	out := &Contents{SyncID: latest.ID}

	var token string
	for {
		resp, err := store.ListResourceTypes(ctx, v2.ResourceTypesServiceListResourceTypesRequest_builder{PageToken: token}.Build())
		if err != nil {
			return nil, err
		}
		out.ResourceTypes = append(out.ResourceTypes, resp.GetList()...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	for {
		resp, err := store.ListResources(ctx, v2.ResourcesServiceListResourcesRequest_builder{PageToken: token}.Build())
		if err != nil {
			return nil, err
		}
		out.Resources = append(out.Resources, resp.GetList()...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	for {
		resp, err := store.ListEntitlements(ctx, v2.EntitlementsServiceListEntitlementsRequest_builder{PageToken: token}.Build())
		if err != nil {
			return nil, err
		}
		out.Entitlements = append(out.Entitlements, resp.GetList()...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	for {
		resp, err := store.ListGrants(ctx, v2.GrantsServiceListGrantsRequest_builder{PageToken: token}.Build())
		if err != nil {
			return nil, err
		}
		out.Grants = append(out.Grants, resp.GetList()...)
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	return out, nil
}
