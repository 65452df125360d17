package harness

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/conductorone/baton-sdk/pkg/types/sessions"
)

// ErrSessionStoreNotSet is what every SessionStore call returns before the
// syncer has handed the store of its sync over.
var ErrSessionStoreNotSet = errors.New("harness: session store used before the syncer set one")

var (
	_ sessions.SessionStore    = (*SessionStore)(nil)
	_ sessions.SetSessionStore = (*SessionStore)(nil)
)

// SessionStore is the session store connectors see, wired the way the baton
// CLI wires it: connectorbuilder.WithSessionStore(store) gives it to a
// connector, sdksync.WithSessionStore(store) lets the SDK syncer install the
// c1z-backed store of the sync it opens (SetSessionStore), and every
// sessions.SessionStore method forwards to that store. Until the syncer sets
// one, calls fail with ErrSessionStoreNotSet.
//
// Several connector instances may share one SessionStore (SyncHosted does),
// which is what makes it the shared state of a hosted sync. The zero value is
// ready to use; use it by pointer. Safe for concurrent use.
type SessionStore struct {
	mu      sync.RWMutex
	backing sessions.SessionStore
}

// SetSessionStore installs the store every later call forwards to. The SDK
// syncer calls it when it opens the c1z of a sync.
func (s *SessionStore) SetSessionStore(_ context.Context, store sessions.SessionStore) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backing = store
}

func (s *SessionStore) current(op string) (sessions.SessionStore, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.backing == nil {
		return nil, fmt.Errorf("session %s: %w", op, ErrSessionStoreNotSet)
	}
	return s.backing, nil
}

// Get forwards to the store the syncer set.
func (s *SessionStore) Get(ctx context.Context, key string, opt ...sessions.SessionStoreOption) ([]byte, bool, error) {
	b, err := s.current("Get")
	if err != nil {
		return nil, false, err
	}
	return b.Get(ctx, key, opt...)
}

// GetMany forwards to the store the syncer set.
func (s *SessionStore) GetMany(ctx context.Context, keys []string, opt ...sessions.SessionStoreOption) (map[string][]byte, []string, error) {
	b, err := s.current("GetMany")
	if err != nil {
		return nil, nil, err
	}
	return b.GetMany(ctx, keys, opt...)
}

// Set forwards to the store the syncer set.
func (s *SessionStore) Set(ctx context.Context, key string, value []byte, opt ...sessions.SessionStoreOption) error {
	b, err := s.current("Set")
	if err != nil {
		return err
	}
	return b.Set(ctx, key, value, opt...)
}

// SetMany forwards to the store the syncer set.
func (s *SessionStore) SetMany(ctx context.Context, values map[string][]byte, opt ...sessions.SessionStoreOption) error {
	b, err := s.current("SetMany")
	if err != nil {
		return err
	}
	return b.SetMany(ctx, values, opt...)
}

// Delete forwards to the store the syncer set.
func (s *SessionStore) Delete(ctx context.Context, key string, opt ...sessions.SessionStoreOption) error {
	b, err := s.current("Delete")
	if err != nil {
		return err
	}
	return b.Delete(ctx, key, opt...)
}

// Clear forwards to the store the syncer set.
func (s *SessionStore) Clear(ctx context.Context, opt ...sessions.SessionStoreOption) error {
	b, err := s.current("Clear")
	if err != nil {
		return err
	}
	return b.Clear(ctx, opt...)
}

// GetAll forwards to the store the syncer set.
func (s *SessionStore) GetAll(ctx context.Context, pageToken string, opt ...sessions.SessionStoreOption) (map[string][]byte, string, error) {
	b, err := s.current("GetAll")
	if err != nil {
		return nil, "", err
	}
	return b.GetAll(ctx, pageToken, opt...)
}
