package redis

import (
	"sync"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// freshMax bounds how many written requests a Store remembers for its outbox passes; past
// it, a pass reads them back, as it would have without the memory. freshFor is how long
// one is remembered: a woken pass comes within milliseconds, and a task another replica
// delivered leaves nothing here for long.
const (
	freshMax = 4096
	freshFor = 2 * time.Second
)

// freshSnapshots remembers the requests this Store wrote together with outbox tasks, as
// written and with the cards they had at that moment, until an outbox pass of this
// process takes them (Snapshots). The pass that delivers those tasks then need not read
// back what its own process has just written. What another replica changes meanwhile is
// caught where it matters, as with a snapshot read a moment earlier: transitions check
// the stored version, and a card saved from an older version is redrawn (SaveMessageRef
// returns the version).
type freshSnapshots struct {
	mu sync.Mutex
	m  map[string]freshSnapshot
}

type freshSnapshot struct {
	governance.Snapshot
	at time.Time // when it was written (wall clock: this is about this process, not the domain)
}

func (f *freshSnapshots) put(r *governance.Request, cards []governance.MessageRef) {
	cp := *r // the caller's request goes on; the pass clones what it changes
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if f.m == nil {
		f.m = map[string]freshSnapshot{}
	}
	if old, ok := f.m[r.ID]; ok && old.Request.Version > r.Version {
		return
	}
	if len(f.m) >= freshMax {
		for id, old := range f.m {
			if now.Sub(old.at) > freshFor {
				delete(f.m, id)
			}
		}
		if len(f.m) >= freshMax {
			return
		}
	}
	f.m[r.ID] = freshSnapshot{governance.Snapshot{Request: &cp, Cards: cards}, now}
}

// take moves the remembered snapshots of ids into out and returns the ids it did not
// remember. A snapshot is handed out for one pass: the tasks of a request written once
// share it, and a later pass reads afresh.
func (f *freshSnapshots) take(ids []string, out map[string]governance.Snapshot) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.m) == 0 {
		return ids
	}
	var rest []string
	for _, id := range ids {
		if snap, ok := f.m[id]; ok {
			delete(f.m, id)
			if time.Since(snap.at) <= freshFor {
				out[id] = snap.Snapshot
				continue
			}
		}
		rest = append(rest, id)
	}
	return rest
}
