package redis

import (
	"sync"

	"github.com/accessbot/accessbot/governance"
)

// handedMax bounds the tasks claimed at enqueue time that wait for this process's
// dispatcher; past it, tasks are left in the outbox for whoever claims first.
const handedMax = 1024

// handedTasks are outbox tasks a transition of this Store claimed in the same script that
// enqueued them (apply.lua), for the consumer that claims woken tasks here: the dispatcher
// of this process, which then delivers them without a round trip to ask for them. Until it
// has asked once (ClaimWoken), nothing is claimed this way, so a process that runs no
// dispatcher (the CLI) leaves its tasks to the others. Tasks claimed this way are in that
// consumer's pending list like any other: if the process stops before delivering them,
// another takes them over after ReclaimAfter.
type handedTasks struct {
	mu       sync.Mutex
	consumer string // who ClaimWoken last claimed for
	tasks    []governance.Task
}

// consumerFor is the consumer to claim n tasks for at enqueue time, or "" for none.
func (h *handedTasks) consumerFor(n int) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.tasks)+n > handedMax {
		return ""
	}
	return h.consumer
}

// add keeps tasks claimed for consumer at enqueue time until its dispatcher takes them,
// and says whether it did: false when that dispatcher stopped taking them meanwhile
// (ClaimLast), and nobody here will deliver them.
func (h *handedTasks) add(consumer string, ts []governance.Task) bool {
	if consumer == "" || len(ts) == 0 {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if consumer != h.consumer {
		return false
	}
	h.tasks = append(h.tasks, ts...)
	return true
}

// take hands over up to max tasks claimed for consumer; a ClaimWoken names the consumer
// to claim for from now on, and a ClaimLast that leaves none stops claiming for anyone.
func (h *handedTasks) take(consumer string, max int, scope governance.ClaimScope) []governance.Task {
	h.mu.Lock()
	defer h.mu.Unlock()
	if scope == governance.ClaimWoken {
		h.consumer = consumer
	}
	if consumer != h.consumer || max <= 0 {
		return nil
	}
	n := min(max, len(h.tasks))
	out := h.tasks[:n:n]
	h.tasks = h.tasks[n:]
	if len(h.tasks) == 0 {
		h.tasks = nil
		if scope == governance.ClaimLast {
			h.consumer = ""
		}
	}
	if n == 0 {
		return nil
	}
	return out
}
