package main

import (
	"bytes"
	"slices"
	"testing"

	slackapi "github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestManifestSlack_PointsAtTheURLWithExactlyTheScopesTheCodeUses(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, manifest([]string{"slack", "--url", "https://bot.corp.example/"}, &out))

	var m slackapi.Manifest
	dec := yaml.NewDecoder(bytes.NewReader(out.Bytes()))
	dec.KnownFields(true) // a typo in the manifest would fail here
	require.NoError(t, dec.Decode(&m))

	require.Len(t, m.Features.SlashCommands, 1)
	assert.Equal(t, "/access", m.Features.SlashCommands[0].Command)
	assert.Equal(t, "https://bot.corp.example/slack/commands", m.Features.SlashCommands[0].Url)
	assert.Equal(t, "https://bot.corp.example/slack/interactions", m.Settings.Interactivity.RequestUrl)
	assert.NotContains(t, out.String(), "example.com")

	// commands: /access; chat:write: cards, notices, chat.update; im:write:
	// conversations.open; users:read: users.info (name, tz); users:read.email: e-mails.
	want := []string{"chat:write", "commands", "im:write", "users:read", "users:read.email"}
	got := slices.Clone(m.OAuthConfig.Scopes.Bot)
	slices.Sort(got)
	assert.Equal(t, want, got)
}

func TestManifestSlack_BadURLSaysWhatToGive(t *testing.T) {
	for _, args := range [][]string{{"slack"}, {"slack", "--url", "http://bot.example"}, {"slack", "--url", "bot.example"}, {"teams"}} {
		err := manifest(args, &bytes.Buffer{})
		require.Error(t, err, args)
		assert.Contains(t, err.Error(), "https://bot.example.com")
	}
}
