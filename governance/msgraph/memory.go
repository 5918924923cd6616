package msgraph

import (
	"strings"
	"sync"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// Memory remembers, for a while, what a backend looked up in the directory by a person's
// e-mail (compared lower-cased and trimmed): the user, and what it learnt with it. Both
// Microsoft backends keep one, so that a burst of requests asks Graph once per person.
type Memory[V any] struct {
	clock governance.Clock
	ttl   time.Duration

	mu sync.Mutex
	m  map[string]memo[V]
}

type memo[V any] struct {
	v  V
	at time.Time
}

// NewMemory keeps each entry for ttl by clock.
func NewMemory[V any](clock governance.Clock, ttl time.Duration) *Memory[V] {
	return &Memory[V]{clock: clock, ttl: ttl, m: map[string]memo[V]{}}
}

// Recall is what was kept for email less than the TTL ago.
func (m *Memory[V]) Recall(email string) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[memoKey(email)]
	if !ok || m.clock.Now().Sub(e.at) >= m.ttl {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Keep keeps v for email from now.
func (m *Memory[V]) Keep(email string, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[memoKey(email)] = memo[V]{v: v, at: m.clock.Now()}
}

// Amend changes what is kept for email, if anything is, without making it younger: what
// is learnt later about a user lives no longer than the user.
func (m *Memory[V]) Amend(email string, change func(*V)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.m[memoKey(email)]; ok {
		change(&e.v)
		m.m[memoKey(email)] = e
	}
}

func memoKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }
