package connector

import (
	"context"
	"testing"
	"time"
)

func TestPageTokensBelongToTheirReading(t *testing.T) {
	a, b := &snapshot{nonce: newNonce()}, &snapshot{nonce: newNonce()}
	for _, tc := range []struct {
		name  string
		token string
		want  int
	}{
		{name: "first page", token: "", want: 0},
		{name: "own token", token: a.pageToken(7), want: 7},
		{name: "another reading's token restarts", token: b.pageToken(7), want: 0},
		{name: "old plain number restarts", token: "7", want: 0},
		{name: "garbage restarts", token: a.nonce + ".x", want: 0},
		{name: "negative restarts", token: a.nonce + ".-3", want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := a.position(tc.token); got != tc.want {
				t.Errorf("position(%q) = %d, want %d", tc.token, got, tc.want)
			}
		})
	}
	if a.nextToken(-1) != "" {
		t.Error("no next page must give an empty token")
	}
}

func TestWorkQueueHandsOutInOrderToManyWorkers(t *testing.T) {
	q := workQueue{wake: make(chan struct{}, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	const n = 200
	got := make(chan string, n)
	for range 4 {
		go func() {
			for {
				id, ok := q.pop(ctx)
				if !ok {
					return
				}
				got <- id
			}
		}()
	}
	for i := range n {
		q.push(string(rune('a' + i%26)))
	}
	for i := range n {
		select {
		case <-got:
		case <-ctx.Done():
			t.Fatalf("only %d of %d ids handed out", i, n)
		}
	}
	cancel()
	if _, ok := q.pop(ctx); ok {
		t.Error("pop after the context ended handed out an id")
	}
}
