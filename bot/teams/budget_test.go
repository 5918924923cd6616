package teams_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/teams"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
)

func TestSize_CountsAsTeamsDoes(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want int
	}{
		{"ASCII: two bytes a character", "ab", 2 * len(`"ab"`)},
		{"accents: two bytes too", "é", 2 * 3},
		{"emoji: a surrogate pair", "😀", 2*2 + 4},
		{"JSON's escapes count", `"\`, 2 * len(`"\"\\"`)},
		{"no HTML escapes", "<&>", 2 * len(`"<&>"`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, teams.Size(tt.v)) })
	}
}

func TestConnector_ACardTeamsRefusesAsTooLargeIsSaidInTheLog(t *testing.T) {
	fake := teamsfake.Start(t, appID)
	var logs bytes.Buffer
	c := teams.NewConnector(teams.ConnectorOptions{AppID: appID, AppPassword: "secret", TokenURL: fake.TokenURL(),
		ServiceHosts: []string{fake.URL}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	conv := teams.Conversation{ServiceURL: fake.URL, ID: "a:1"}

	// 25,000 ASCII characters: 25 KB as sent, 50 KB as Teams counts.
	big := schema.Activity{Type: schema.Message, Text: strings.Repeat("x", 25_000)}
	_, err := c.Send(context.Background(), conv, big)
	require.ErrorIs(t, err, teams.ErrTooLarge)
	assert.True(t, governance.IsPermanent(err), "sending it again will not help")
	var e *teams.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 413, e.Status)
	assert.Equal(t, "MessageSizeTooBig", e.Code)
	assert.Equal(t, "Message size too large.", e.Message)
	assert.Contains(t, logs.String(), `"msg":"teams refused an activity as too large; it is not sent again"`)
	assert.Contains(t, logs.String(), fmt.Sprintf(`"size_utf16":%d`, teams.Size(big)))
	require.Len(t, fake.Refused(), 1)
	assert.Equal(t, teams.Size(big), fake.Refused()[0].Size, "the fake measures as accessbot does")
	assert.Empty(t, fake.Calls(), "nothing was delivered")

	// Over accessbot's budget but within what Teams takes: sent, and said.
	logs.Reset()
	over := schema.Activity{Type: schema.Message, Text: strings.Repeat("x", 15_000)}
	_, err = c.Send(context.Background(), conv, over)
	require.NoError(t, err)
	assert.Contains(t, logs.String(), `"msg":"teams activity over accessbot's size budget"`)
}
