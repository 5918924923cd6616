package redis

import (
	"context"
	"strconv"
	"testing"
)

// BenchmarkCreate is the store's share of a slash command: reserve the id for the
// command's idempotency key, then create the request with a card for each of its two
// approvers, its due time and its audit record (two round trips).
func BenchmarkCreate(b *testing.B) {
	ctx := context.Background()
	s := newStore(b, Options{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id, err := s.ReserveID(ctx, "bench-"+strconv.Itoa(i))
		if err != nil {
			b.Fatal(err)
		}
		r := request(id, "carol@example.com", "alice@example.com", "bob@example.com")
		if _, err := s.Create(ctx, r, createEffects(r)); err != nil {
			b.Fatal(err)
		}
	}
}
