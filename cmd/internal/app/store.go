package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
)

// redisDescription says which Redis is used, without the password.
func (c *Config) redisDescription() string {
	switch {
	case c.Redis.URL != "":
		u, err := url.Parse(c.Redis.URL)
		if err != nil {
			return "REDIS_URL (unparseable)"
		}
		return fmt.Sprintf("%s://%s%s, prefix %q", u.Scheme, u.Host, u.Path, c.Redis.Prefix)
	case len(c.Redis.Addrs) > 0:
		kind := "cluster"
		if c.Redis.MasterName != "" {
			kind = "sentinel " + c.Redis.MasterName
		}
		if c.Redis.TLS {
			kind += " (TLS)"
		}
		return fmt.Sprintf("%s %v, prefix %q", kind, c.Redis.Addrs, c.Redis.Prefix)
	}
	return "embedded in-process store (nothing survives a restart)"
}

// RedisProtocol is the protocol accessbot speaks to Redis (RESP2). It uses nothing RESP3 adds, and with
// RESP2 go-redis skips the check for push notifications it makes before every command.
const RedisProtocol = 2

// universalOptions are the options for redis.addrs: Sentinel with a master name, else
// Redis Cluster, also behind a single configuration endpoint (as managed clusters give
// one), which go-redis would otherwise take for a plain server.
func (c *Config) universalOptions() *goredis.UniversalOptions {
	o := &goredis.UniversalOptions{Addrs: c.Redis.Addrs, MasterName: c.Redis.MasterName, Protocol: RedisProtocol,
		IsClusterMode: c.Redis.MasterName == "",
		Username:      c.Redis.Username, Password: c.RedisPassword, SentinelPassword: c.RedisSentinelPassword}
	if c.Redis.TLS {
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return o
}

// openRedis connects to the configured Redis, or starts the embedded in-process one when
// none is configured. close releases both.
func openRedis(ctx context.Context, c *Config) (client goredis.UniversalClient, embedded bool, close func(), err error) {
	var mr *miniredis.Miniredis
	switch {
	case c.Redis.URL != "":
		opts, err := goredis.ParseURL(c.Redis.URL)
		if err != nil {
			return nil, false, nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		if !strings.Contains(c.Redis.URL, "protocol=") {
			opts.Protocol = RedisProtocol
		}
		client = goredis.NewClient(opts)
	case len(c.Redis.Addrs) > 0:
		client = goredis.NewUniversalClient(c.universalOptions())
	default:
		mr = miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return nil, false, nil, fmt.Errorf("start the embedded store: %w", err)
		}
		client = goredis.NewClient(&goredis.Options{Addr: mr.Addr(), Protocol: RedisProtocol})
		embedded = true
	}
	close = func() {
		client.Close()
		if mr != nil {
			mr.Close()
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		close()
		return nil, false, nil, fmt.Errorf("cannot reach Redis at %s: %w (is it running, and are its address and password right: REDIS_URL, or redis.addrs and REDIS_PASSWORD?)", c.redisDescription(), err)
	}
	return client, embedded, close, nil
}
