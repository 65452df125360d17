// Package harness runs the connector in process the way the baton runtime
// does (over gRPC, through the SDK's syncer) and reads c1z files back. Tests,
// benchmarks and the demo share it.
package harness

import (
	"context"
	"errors"
	"fmt"
	"net"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/connectorclient"
	sdksync "github.com/conductorone/baton-sdk/pkg/sync"
	"github.com/conductorone/baton-sdk/pkg/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// Conn is a connector served over an in-memory gRPC connection.
type Conn struct {
	types.ConnectorClient
	conn   *grpc.ClientConn
	server *grpc.Server
}

// Serve wraps a connector builder the way the SDK runtime does and connects
// a client to it.
func Serve(ctx context.Context, builder connectorbuilder.ConnectorBuilderV2, opts ...connectorbuilder.Opt) (*Conn, error) {
	srv, err := connectorbuilder.NewConnector(ctx, builder, opts...)
	if err != nil {
		return nil, fmt.Errorf("building connector server: %w", err)
	}
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(64<<20), grpc.MaxSendMsgSize(64<<20))
	register(gs, srv)
	go func() { _ = gs.Serve(lis) }()

	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(context.Context, string) (net.Conn, error) { return lis.Dial() }),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)),
	)
	if err != nil {
		gs.Stop()
		return nil, fmt.Errorf("dialing in-memory connector: %w", err)
	}
	return &Conn{ConnectorClient: connectorclient.NewConnectorClient(ctx, conn), conn: conn, server: gs}, nil
}

// Close shuts the connection and the server down.
func (c *Conn) Close() error {
	err := c.conn.Close()
	c.server.Stop()
	return err
}

func register(gs *grpc.Server, srv types.ConnectorServer) {
	v2.RegisterConnectorServiceServer(gs, srv)
	v2.RegisterResourceTypesServiceServer(gs, srv)
	v2.RegisterResourcesServiceServer(gs, srv)
	v2.RegisterEntitlementsServiceServer(gs, srv)
	v2.RegisterGrantsServiceServer(gs, srv)
	v2.RegisterAssetServiceServer(gs, srv)
	v2.RegisterResourceGetterServiceServer(gs, srv)
	v2.RegisterEventServiceServer(gs, srv)
	v2.RegisterTicketsServiceServer(gs, srv)
	v2.RegisterActionServiceServer(gs, srv)
	v2.RegisterGrantManagerServiceServer(gs, srv)
	v2.RegisterResourceManagerServiceServer(gs, srv)
	v2.RegisterResourceDeleterServiceServer(gs, srv)
	v2.RegisterAccountManagerServiceServer(gs, srv)
	v2.RegisterCredentialManagerServiceServer(gs, srv)
}

// SyncOptions tune a Sync.
type SyncOptions struct {
	TmpDir  string
	Workers int
	// ResourceTypes, when set, is the syncer's resource type selection, as
	// --sync-resource-types sets it (the connector gets the same list in
	// its cli.ConnectorOpts).
	ResourceTypes []string
}

// Sync runs a full sync of builder into the c1z file at path, as
// `baton-rocketchat -f path` would: the connector gets a SessionStore through
// connectorbuilder.WithSessionStore and the syncer fills it in with the
// c1z-backed store of the sync (sdksync.WithSessionStore), as the CLI does.
// Like the CLI, it resumes an unfinished sync already in the file.
func Sync(ctx context.Context, builder connectorbuilder.ConnectorBuilderV2, path string, o SyncOptions) (err error) {
	store := &SessionStore{}
	conn, err := Serve(ctx, builder, connectorbuilder.WithSessionStore(store))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, conn.Close()) }()
	return runSyncer(ctx, ctx, conn, store, path, o)
}

// runSyncer runs the SDK syncer against client into the c1z at path. The
// sync itself runs under syncCtx; the syncer is created and closed (the c1z
// packed) under ctx, so cancelling syncCtx interrupts the sync but still
// leaves a c1z carrying its last checkpoint.
func runSyncer(ctx, syncCtx context.Context, client types.ConnectorClient, store *SessionStore, path string, o SyncOptions) error {
	opts := []sdksync.SyncOpt{sdksync.WithC1ZPath(path), sdksync.WithSessionStore(store)}
	if o.TmpDir != "" {
		opts = append(opts, sdksync.WithTmpDir(o.TmpDir))
	}
	if o.Workers > 0 {
		opts = append(opts, sdksync.WithWorkerCount(o.Workers))
	}
	if len(o.ResourceTypes) > 0 {
		opts = append(opts, sdksync.WithSyncResourceTypes(o.ResourceTypes))
	}
	s, err := sdksync.NewSyncer(ctx, client, opts...)
	if err != nil {
		return fmt.Errorf("creating syncer: %w", err)
	}
	syncErr := s.Sync(syncCtx)
	closeErr := s.Close(ctx)
	if syncErr != nil {
		return syncErr
	}
	return closeErr
}
