package connector

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"sync"

	"github.com/conductorone/baton-sdk/pkg/session"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/conductorone/baton-sdk/pkg/types/sessions"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
)

// shared is where one call of a sync leaves data for later calls of the same
// sync: the SDK's session store, which in ConductorOne's hosted runner is a
// network service shared by every connector process, and in the CLI and
// daemon modes is kept in the c1z by the parent process.
//
// Nothing a page needs is only here: every page token also says where on the
// server its page is, so a missing value costs a read of Rocket.Chat, never
// data. A connector built without a session store (tests, embedders) keeps
// the values in process memory instead.
type shared struct {
	store  sessions.SessionStore
	syncID string
	local  *localStore
}

// errNoSessionStore marks a connector built without a session store.
var errNoSessionStore = errors.New("no session store")

func (c *Connector) shared(opts resource.SyncOpAttrs) shared {
	return shared{store: opts.Session, syncID: opts.SyncID, local: &c.local}
}

// get reads one value; a failing store reads as a missing value.
func (s shared) get(ctx context.Context, key string) ([]byte, bool) {
	if s.store != nil {
		var (
			v  []byte
			ok bool
		)
		err := guardSession(func() error {
			var err error
			v, ok, err = s.store.Get(ctx, key)
			return err
		})
		if err == nil {
			return v, ok
		}
		if !noStore(err) {
			ctxzap.Extract(ctx).Warn("session store read failed; reading Rocket.Chat again instead", zap.String("key", key), zap.Error(err))
			return nil, false
		}
	}
	return s.local.get(s.syncID, key)
}

// setMany stores values in as few requests as the store's size limits allow.
// A failing store only costs later calls a read of Rocket.Chat, so it is
// logged, not returned.
func (s shared) setMany(ctx context.Context, values map[string][]byte) {
	if len(values) == 0 {
		return
	}
	if s.store != nil {
		items := func(yield func(session.SizedItem[[]byte], error) bool) {
			for k, v := range values {
				if !yield(session.SizedItem[[]byte]{Key: k, Value: v, Size: len(k) + len(v)}, nil) {
					return
				}
			}
		}
		err := guardSession(func() error { return session.UnrollSetMany[[]byte](ctx, s.store, items) })
		if err == nil {
			return
		}
		if !noStore(err) {
			ctxzap.Extract(ctx).Warn("session store write failed; later pages will read Rocket.Chat again", zap.Error(err))
			return
		}
	}
	s.local.setMany(s.syncID, values)
}

// guardSession runs one session store operation. The SDK hands a connector
// built without a store a wrapper around a nil store, whose methods panic.
func guardSession(op func() error) error {
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, isRuntime := r.(runtime.Error); !isRuntime {
					panic(r)
				}
				err = errNoSessionStore
			}
		}()
		err = op()
	}()
	return err
}

func noStore(err error) bool {
	return errors.Is(err, errNoSessionStore) || errors.Is(err, session.ErrSessionStoreDisabled)
}

// localStore stands in for a missing session store: the values of the few
// most recent syncs, in this process only.
type localStore struct {
	mu    sync.Mutex
	syncs []localSync // most recent last
}

type localSync struct {
	id     string
	values map[string][]byte
}

// keptLocalSyncs bounds the syncs kept: a daemon may run a few at once.
const keptLocalSyncs = 3

func (l *localStore) get(syncID, key string) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.syncs {
		if s.id == syncID {
			v, ok := s.values[key]
			return v, ok
		}
	}
	return nil, false
}

func (l *localStore) setMany(syncID string, values map[string][]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.syncs {
		if l.syncs[i].id == syncID {
			maps.Copy(l.syncs[i].values, values)
			return
		}
	}
	if len(l.syncs) >= keptLocalSyncs {
		l.syncs = l.syncs[1:]
	}
	l.syncs = append(l.syncs, localSync{id: syncID, values: maps.Clone(values)})
}

// sessionKey builds a key; the store already scopes keys to the sync.
func sessionKey(parts ...any) string {
	key := ""
	for i, p := range parts {
		if i > 0 {
			key += "/"
		}
		key += fmt.Sprint(p)
	}
	return key
}
