package sailpoint_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/governancetest"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/redis/redistest"
	"github.com/accessbot/accessbot/governance/sailpoint"
	"github.com/accessbot/accessbot/governance/sailpoint/iscfake"
)

// ISC limits calls per client_id, not per process: two replicas with the same personal
// access token share one budget through Redis, and together stay under it.
func TestPacing_TwoReplicasShareTheClientIDsBudget(t *testing.T) {
	const rate, perReplica = 20.0, 30
	// The fake's bucket holds half a second of calls, as scheduling jitter on a busy machine
	// bunches paced calls (ISC's own window is 10 s); each replica alone would send 20/s,
	// and the two together twice the limit: 20 of their 60 calls over it.
	isc := iscfake.New(iscfake.Options{RateLimit: rate, Burst: 10})
	t.Cleanup(isc.Close)
	for i := range 2 * perReplica {
		isc.AddIdentity(fmt.Sprintf("2c9180857182305e01719937356%05d", i), fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("Person %d", i), "")
	}
	opts := redisstore.Options{Prefix: redistest.Prefix(t)}
	replicas := make([]*sailpoint.Backend, 2)
	for i := range replicas {
		limiter := redisstore.NewLimiter(redistest.Client(t), opts) // each replica its own connection
		be, err := isc.Backend(governance.SystemClock{}, func(o *sailpoint.Options) {
			o.Rate, o.Burst, o.Limiter = rate, 1, limiter
		})
		require.NoError(t, err)
		replicas[i] = be
	}

	var wg sync.WaitGroup
	for r, be := range replicas {
		for i := range perReplica {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := be.LookupIdentity(context.Background(), governance.Person{Email: fmt.Sprintf("p%d@example.com", r*perReplica+i)})
				assert.NoError(t, err)
			}()
		}
	}
	wg.Wait()
	assert.Zero(t, isc.RateLimited(), "no call over ISC's limit")
}

func TestPacing_WithoutRedisEachReplicaPacesItselfAndSaysSo(t *testing.T) {
	isc := iscfake.New(iscfake.Options{RateLimit: 50, Burst: 2})
	t.Cleanup(isc.Close)
	for i := range 3 {
		isc.AddIdentity(fmt.Sprintf("2c9180857182305e01719937356%05d", i), fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("Person %d", i), "")
	}
	away := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = away.Close() })
	logs := &governancetest.Logs{}
	be, err := isc.Backend(governance.SystemClock{}, func(o *sailpoint.Options) {
		o.Rate, o.Burst = 50, 1
		o.Limiter = redisstore.NewLimiter(away, redisstore.Options{})
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	require.NoError(t, err)
	for i := range 3 {
		_, err := be.LookupIdentity(context.Background(), governance.Person{Email: fmt.Sprintf("p%d@example.com", i)})
		require.NoError(t, err, "Redis away does not stop the calls")
	}
	assert.Zero(t, isc.RateLimited())
	assert.Equal(t, 1, strings.Count(logs.String(), "this process paces itself alone"), "said once, not per call")
}
