package governance

import "time"

// WithCardWithin sets how long a card sent waits for the deliveries in progress beside it
// (cardWithin), so that a test on a slow machine does not depend on 20 ms.
func WithCardWithin(d time.Duration) DispatcherOption {
	return func(x *Dispatcher) { x.cardWithin = d }
}
