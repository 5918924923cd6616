package app

import (
	"context"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	redisstore "github.com/accessbot/accessbot/governance/redis"
)

// openRedis connects to the configured Redis, or starts the embedded in-process one when
// none is configured. close releases both.
func openRedis(ctx context.Context, c *Config) (client goredis.UniversalClient, embedded bool, close func(), err error) {
	if c.Redis.Configured() {
		client, err := c.Redis.Open(ctx)
		if err != nil {
			return nil, false, nil, err
		}
		return client, false, func() { client.Close() }, nil
	}
	mr := miniredis.NewMiniRedis()
	if err := mr.StartAddr("127.0.0.1:0"); err != nil {
		return nil, false, nil, fmt.Errorf("start the embedded store: %w", err)
	}
	client = goredis.NewClient(&goredis.Options{Addr: mr.Addr(), Protocol: redisstore.Protocol})
	return client, true, func() { client.Close(); mr.Close() }, nil
}
