package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/cmd/internal/clitest"
	"github.com/accessbot/accessbot/governance"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

func TestAuditExport_StreamsTheTrailAsJSONLinesWithinBounds(t *testing.T) {
	client := redistest.Client(t)
	prefix := redistest.Prefix(t)
	store := redisstore.New(client, redisstore.Options{Prefix: prefix})
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i := range 30 {
		id := fmt.Sprintf("AR-%d", i+1)
		r := &governance.Request{ID: id, Version: 1, State: governance.StatePendingApproval,
			Requester: governance.Person{Email: "carol@example.com"}, CreatedAt: t0.Add(time.Duration(i) * time.Hour)}
		_, err := store.Create(context.Background(), r, governance.Effects{Audit: []governance.AuditRecord{{
			At: r.CreatedAt, RequestID: id, Event: governance.EventRequest, To: r.State, Actor: "carol@example.com", Platform: "slack"}}})
		require.NoError(t, err)
	}
	cfg := clitest.WriteConfig(t, "redis:\n  prefix: "+prefix+"\n")
	url := "redis://" + client.(*goredis.Client).Options().Addr
	var out bytes.Buffer
	err := run(context.Background(), []string{"accessbot", "audit", "export", "-config", cfg, "--since", "2026-11-01T12:00:00Z", "--until", "2026-11-02"},
		clitest.Env(map[string]string{"SLACK_SIGNING_SECRET": "test-secret", "REDIS_URL": url}), &out)
	require.NoError(t, err)

	var got []governance.AuditRecord
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var a governance.AuditRecord
		require.NoError(t, json.Unmarshal(sc.Bytes(), &a), sc.Text())
		got = append(got, a)
	}
	require.Len(t, got, 12, "12:00 to 23:00 on Nov 1")
	assert.Equal(t, t0.Add(3*time.Hour), got[0].At)
	for i := 1; i < len(got); i++ {
		assert.True(t, got[i].At.After(got[i-1].At), "oldest first")
	}
	assert.Equal(t, "slack", got[0].Platform)
}

func TestAuditExport_BadInputSaysWhatToDo(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"accessbot", "audit"}, nil, "usage: accessbot audit export"},
		{[]string{"accessbot", "audit", "export", "--since", "yesterday"}, nil, "2026-11-01T09:00:00Z"},
		{[]string{"accessbot", "audit", "export", "--since", "2026-11-02", "--until", "2026-11-01"}, nil, "must be after"},
		{[]string{"accessbot", "audit", "export"}, nil, "set REDIS_URL"},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args, clitest.Env(tt.env), &bytes.Buffer{})
		require.Error(t, err, tt.args)
		assert.Contains(t, err.Error(), tt.want)
	}
}
