package harness

// The methods below cover every method of types.ConnectorClient in
// baton-sdk v0.25.0 (generated once by reflecting over the interface; the
// compile-time assertion in hosted.go catches any drift). Each one hands the
// call to the next instance in turn.

import (
	"context"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types"
	"google.golang.org/grpc"
)

func (r *roundRobin) BulkCreateTickets(ctx context.Context, in *v2.TicketsServiceBulkCreateTicketsRequest, opts ...grpc.CallOption) (*v2.TicketsServiceBulkCreateTicketsResponse, error) {
	return dispatch(ctx, r, "BulkCreateTickets", in, opts, types.ConnectorClient.BulkCreateTickets)
}

func (r *roundRobin) BulkGetTickets(ctx context.Context, in *v2.TicketsServiceBulkGetTicketsRequest, opts ...grpc.CallOption) (*v2.TicketsServiceBulkGetTicketsResponse, error) {
	return dispatch(ctx, r, "BulkGetTickets", in, opts, types.ConnectorClient.BulkGetTickets)
}

func (r *roundRobin) Cleanup(ctx context.Context, in *v2.ConnectorServiceCleanupRequest, opts ...grpc.CallOption) (*v2.ConnectorServiceCleanupResponse, error) {
	return dispatch(ctx, r, "Cleanup", in, opts, types.ConnectorClient.Cleanup)
}

func (r *roundRobin) CreateAccount(ctx context.Context, in *v2.CreateAccountRequest, opts ...grpc.CallOption) (*v2.CreateAccountResponse, error) {
	return dispatch(ctx, r, "CreateAccount", in, opts, types.ConnectorClient.CreateAccount)
}

func (r *roundRobin) CreateResource(ctx context.Context, in *v2.CreateResourceRequest, opts ...grpc.CallOption) (*v2.CreateResourceResponse, error) {
	return dispatch(ctx, r, "CreateResource", in, opts, types.ConnectorClient.CreateResource)
}

func (r *roundRobin) CreateTicket(ctx context.Context, in *v2.TicketsServiceCreateTicketRequest, opts ...grpc.CallOption) (*v2.TicketsServiceCreateTicketResponse, error) {
	return dispatch(ctx, r, "CreateTicket", in, opts, types.ConnectorClient.CreateTicket)
}

func (r *roundRobin) DeleteResource(ctx context.Context, in *v2.DeleteResourceRequest, opts ...grpc.CallOption) (*v2.DeleteResourceResponse, error) {
	return dispatch(ctx, r, "DeleteResource", in, opts, types.ConnectorClient.DeleteResource)
}

func (r *roundRobin) DeleteResourceV2(ctx context.Context, in *v2.DeleteResourceV2Request, opts ...grpc.CallOption) (*v2.DeleteResourceV2Response, error) {
	return dispatch(ctx, r, "DeleteResourceV2", in, opts, types.ConnectorClient.DeleteResourceV2)
}

func (r *roundRobin) GetActionSchema(ctx context.Context, in *v2.GetActionSchemaRequest, opts ...grpc.CallOption) (*v2.GetActionSchemaResponse, error) {
	return dispatch(ctx, r, "GetActionSchema", in, opts, types.ConnectorClient.GetActionSchema)
}

func (r *roundRobin) GetActionStatus(ctx context.Context, in *v2.GetActionStatusRequest, opts ...grpc.CallOption) (*v2.GetActionStatusResponse, error) {
	return dispatch(ctx, r, "GetActionStatus", in, opts, types.ConnectorClient.GetActionStatus)
}

func (r *roundRobin) GetAsset(ctx context.Context, in *v2.AssetServiceGetAssetRequest, opts ...grpc.CallOption) (grpc.ServerStreamingClient[v2.AssetServiceGetAssetResponse], error) {
	return dispatch(ctx, r, "GetAsset", in, opts, types.ConnectorClient.GetAsset)
}

func (r *roundRobin) GetMetadata(ctx context.Context, in *v2.ConnectorServiceGetMetadataRequest, opts ...grpc.CallOption) (*v2.ConnectorServiceGetMetadataResponse, error) {
	return dispatch(ctx, r, "GetMetadata", in, opts, types.ConnectorClient.GetMetadata)
}

func (r *roundRobin) GetResource(ctx context.Context, in *v2.ResourceGetterServiceGetResourceRequest, opts ...grpc.CallOption) (*v2.ResourceGetterServiceGetResourceResponse, error) {
	return dispatch(ctx, r, "GetResource", in, opts, types.ConnectorClient.GetResource)
}

func (r *roundRobin) GetTicket(ctx context.Context, in *v2.TicketsServiceGetTicketRequest, opts ...grpc.CallOption) (*v2.TicketsServiceGetTicketResponse, error) {
	return dispatch(ctx, r, "GetTicket", in, opts, types.ConnectorClient.GetTicket)
}

func (r *roundRobin) GetTicketSchema(ctx context.Context, in *v2.TicketsServiceGetTicketSchemaRequest, opts ...grpc.CallOption) (*v2.TicketsServiceGetTicketSchemaResponse, error) {
	return dispatch(ctx, r, "GetTicketSchema", in, opts, types.ConnectorClient.GetTicketSchema)
}

func (r *roundRobin) Grant(ctx context.Context, in *v2.GrantManagerServiceGrantRequest, opts ...grpc.CallOption) (*v2.GrantManagerServiceGrantResponse, error) {
	return dispatch(ctx, r, "Grant", in, opts, types.ConnectorClient.Grant)
}

func (r *roundRobin) InvokeAction(ctx context.Context, in *v2.InvokeActionRequest, opts ...grpc.CallOption) (*v2.InvokeActionResponse, error) {
	return dispatch(ctx, r, "InvokeAction", in, opts, types.ConnectorClient.InvokeAction)
}

func (r *roundRobin) IssueCredential(ctx context.Context, in *v2.IssueCredentialRequest, opts ...grpc.CallOption) (*v2.IssueCredentialResponse, error) {
	return dispatch(ctx, r, "IssueCredential", in, opts, types.ConnectorClient.IssueCredential)
}

func (r *roundRobin) ListActionSchemas(ctx context.Context, in *v2.ListActionSchemasRequest, opts ...grpc.CallOption) (*v2.ListActionSchemasResponse, error) {
	return dispatch(ctx, r, "ListActionSchemas", in, opts, types.ConnectorClient.ListActionSchemas)
}

func (r *roundRobin) ListEntitlements(ctx context.Context, in *v2.EntitlementsServiceListEntitlementsRequest, opts ...grpc.CallOption) (*v2.EntitlementsServiceListEntitlementsResponse, error) {
	return dispatch(ctx, r, "ListEntitlements", in, opts, types.ConnectorClient.ListEntitlements)
}

func (r *roundRobin) ListEventFeeds(ctx context.Context, in *v2.ListEventFeedsRequest, opts ...grpc.CallOption) (*v2.ListEventFeedsResponse, error) {
	return dispatch(ctx, r, "ListEventFeeds", in, opts, types.ConnectorClient.ListEventFeeds)
}

func (r *roundRobin) ListEvents(ctx context.Context, in *v2.ListEventsRequest, opts ...grpc.CallOption) (*v2.ListEventsResponse, error) {
	return dispatch(ctx, r, "ListEvents", in, opts, types.ConnectorClient.ListEvents)
}

func (r *roundRobin) ListGrants(ctx context.Context, in *v2.GrantsServiceListGrantsRequest, opts ...grpc.CallOption) (*v2.GrantsServiceListGrantsResponse, error) {
	return dispatch(ctx, r, "ListGrants", in, opts, types.ConnectorClient.ListGrants)
}

func (r *roundRobin) ListResourceTypes(ctx context.Context, in *v2.ResourceTypesServiceListResourceTypesRequest, opts ...grpc.CallOption) (*v2.ResourceTypesServiceListResourceTypesResponse, error) {
	return dispatch(ctx, r, "ListResourceTypes", in, opts, types.ConnectorClient.ListResourceTypes)
}

func (r *roundRobin) ListResources(ctx context.Context, in *v2.ResourcesServiceListResourcesRequest, opts ...grpc.CallOption) (*v2.ResourcesServiceListResourcesResponse, error) {
	return dispatch(ctx, r, "ListResources", in, opts, types.ConnectorClient.ListResources)
}

func (r *roundRobin) ListStaticEntitlements(
	ctx context.Context, in *v2.EntitlementsServiceListStaticEntitlementsRequest, opts ...grpc.CallOption,
) (*v2.EntitlementsServiceListStaticEntitlementsResponse, error) {
	return dispatch(ctx, r, "ListStaticEntitlements", in, opts, types.ConnectorClient.ListStaticEntitlements)
}

func (r *roundRobin) ListTicketSchemas(ctx context.Context, in *v2.TicketsServiceListTicketSchemasRequest, opts ...grpc.CallOption) (*v2.TicketsServiceListTicketSchemasResponse, error) {
	return dispatch(ctx, r, "ListTicketSchemas", in, opts, types.ConnectorClient.ListTicketSchemas)
}

func (r *roundRobin) Revoke(ctx context.Context, in *v2.GrantManagerServiceRevokeRequest, opts ...grpc.CallOption) (*v2.GrantManagerServiceRevokeResponse, error) {
	return dispatch(ctx, r, "Revoke", in, opts, types.ConnectorClient.Revoke)
}

func (r *roundRobin) RotateCredential(ctx context.Context, in *v2.RotateCredentialRequest, opts ...grpc.CallOption) (*v2.RotateCredentialResponse, error) {
	return dispatch(ctx, r, "RotateCredential", in, opts, types.ConnectorClient.RotateCredential)
}

func (r *roundRobin) Validate(ctx context.Context, in *v2.ConnectorServiceValidateRequest, opts ...grpc.CallOption) (*v2.ConnectorServiceValidateResponse, error) {
	return dispatch(ctx, r, "Validate", in, opts, types.ConnectorClient.Validate)
}
