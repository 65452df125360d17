package harness

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/conductorone/baton-sdk/pkg/types/sessions"
)

// StoreFaults makes a session store lose what a real one can: every
// DropWrite-th value written is silently not kept, every MissRead-th value
// read comes back missing, and every FailCall-th call fails. Zero turns a
// fault off. Counting is deterministic, so a run can be repeated.
type StoreFaults struct {
	DropWrite, MissRead, FailCall int64
}

// errStoreFault is what a failing call of a FaultyStore returns.
var errStoreFault = errors.New("harness: injected session store failure")

// FaultyStore is a session store that forwards to another and injects the
// faults of its StoreFaults; Injected counts them.
type FaultyStore struct {
	sessions.SessionStore
	Faults StoreFaults

	calls, writes, reads atomic.Int64
	injected             atomic.Int64
}

// Injected is how many faults the store has injected: values dropped or
// missed, and calls failed.
func (f *FaultyStore) Injected() int64 { return f.injected.Load() }

func every(n int64, counter *atomic.Int64) bool {
	return n > 0 && counter.Add(1)%n == 0
}

func (f *FaultyStore) fail() bool {
	if every(f.Faults.FailCall, &f.calls) {
		f.injected.Add(1)
		return true
	}
	return false
}

func (f *FaultyStore) miss() bool {
	if every(f.Faults.MissRead, &f.reads) {
		f.injected.Add(1)
		return true
	}
	return false
}

func (f *FaultyStore) drop() bool {
	if every(f.Faults.DropWrite, &f.writes) {
		f.injected.Add(1)
		return true
	}
	return false
}

// Get may fail or miss.
func (f *FaultyStore) Get(ctx context.Context, key string, opt ...sessions.SessionStoreOption) ([]byte, bool, error) {
	if f.fail() {
		return nil, false, errStoreFault
	}
	v, ok, err := f.SessionStore.Get(ctx, key, opt...)
	if ok && f.miss() {
		return nil, false, err
	}
	return v, ok, err
}

// GetMany may fail, or miss some of the values.
func (f *FaultyStore) GetMany(ctx context.Context, keys []string, opt ...sessions.SessionStoreOption) (map[string][]byte, []string, error) {
	if f.fail() {
		return nil, nil, errStoreFault
	}
	found, missing, err := f.SessionStore.GetMany(ctx, keys, opt...)
	for k := range found {
		if f.miss() {
			delete(found, k)
			missing = append(missing, k)
		}
	}
	return found, missing, err
}

// Set may fail or drop the value.
func (f *FaultyStore) Set(ctx context.Context, key string, value []byte, opt ...sessions.SessionStoreOption) error {
	if f.fail() {
		return errStoreFault
	}
	if f.drop() {
		return nil
	}
	return f.SessionStore.Set(ctx, key, value, opt...)
}

// SetMany may fail, or drop some of the values.
func (f *FaultyStore) SetMany(ctx context.Context, values map[string][]byte, opt ...sessions.SessionStoreOption) error {
	if f.fail() {
		return errStoreFault
	}
	kept := make(map[string][]byte, len(values))
	for k, v := range values {
		if !f.drop() {
			kept[k] = v
		}
	}
	return f.SessionStore.SetMany(ctx, kept, opt...)
}
