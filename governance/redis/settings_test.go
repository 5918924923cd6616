package redis_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	redisstore "github.com/accessbot/accessbot/governance/redis"
)

func TestSettings_CheckListsEveryProblemAtOnce(t *testing.T) {
	s := redisstore.Settings{URL: "http://cache:6379", Addrs: []string{"cache:6379"}, Username: "bot", MasterName: "m", Prefix: "{ab}"}
	errs := s.Check()
	for i, want := range []string{"write it as redis://", "either url (REDIS_URL) or addrs", "go with addrs", "must not contain braces"} {
		if assert.Greater(t, len(errs), i, want) {
			assert.ErrorContains(t, errs[i], want)
		}
	}
	assert.Len(t, errs, 4)
	assert.ErrorContains(t, (&redisstore.Settings{MasterName: "m"}).Check()[0], "masterName needs addrs")
}

func TestSettings_DescribeNeverShowsThePassword(t *testing.T) {
	vars := map[string]string{"REDIS_URL": "rediss://bot:hunter2@cache.example.com:6380/0"}
	s := redisstore.Settings{URL: "redis://from-file:6379/0"}
	s.FromEnv(governance.Env{Get: func(n string) string { return vars[n] }, Secret: func(n string) string { return vars[n] }})
	s.Defaults()
	assert.Equal(t, `rediss://cache.example.com:6380/0, prefix "accessbot"`, s.Describe(), "REDIS_URL wins over the file")
	assert.True(t, s.Configured())
	assert.Contains(t, (&redisstore.Settings{}).Describe(), "embedded")
}

func TestSettings_OpenExplainsAnUnreachableRedis(t *testing.T) {
	_, err := (&redisstore.Settings{URL: "redis://127.0.0.1:1/0"}).Open(context.Background())
	require.Error(t, err)
	assert.ErrorContains(t, err, "cannot reach Redis at redis://127.0.0.1:1/0")
	_, err = (&redisstore.Settings{URL: "redis://127.0.0.1:1/0"}).Probe(context.Background())
	assert.ErrorContains(t, err, "cannot reach Redis")
}
