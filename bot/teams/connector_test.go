package teams_test

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/teams"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
)

func connector(fake *teamsfake.Server) *teams.Connector {
	return teams.NewConnector(teams.ConnectorOptions{AppID: appID, AppPassword: "secret", TokenURL: fake.TokenURL(),
		ServiceHosts: []string{fake.URL}, Timeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)})
}

func TestConnector_SendsUpdatesAndReturnsActivityIDs(t *testing.T) {
	fake := teamsfake.Start(t, appID, teamsfake.User{ID: "29:carol", Email: "Carol@Example.com", Name: "Carol"})
	c := connector(fake)
	conv := teams.Conversation{ServiceURL: fake.URL, ID: "a:1/../../evil?x=1#f"}

	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Go(func() {
			id, err := c.Send(context.Background(), conv, teams.Activity(message("hello"), "hello"))
			assert.NoError(t, err)
			ids[i] = id
		})
	}
	wg.Wait()
	assert.Equal(t, 1, fake.TokensIssued(), "eight first sends share one token request")
	assert.NotContains(t, ids, "")
	calls := fake.Calls()
	require.Len(t, calls, 8)
	assert.Equal(t, "a:1/../../evil?x=1#f", calls[0].Conversation, "the conversation id is one escaped path segment")

	require.NoError(t, c.Update(context.Background(), conv, ids[0], teams.Activity(message("changed"), "changed")))
	last := fake.Calls()[8]
	assert.Equal(t, http.MethodPut, last.Method)
	assert.Equal(t, ids[0], last.ActivityID)

	m, err := c.Member(context.Background(), conv, "29:carol")
	require.NoError(t, err)
	assert.Equal(t, "Carol@Example.com", m.Email)
}

func TestConnector_CallsOnlyAllowedServiceURLs(t *testing.T) {
	fake := teamsfake.Start(t, appID)
	c := connector(fake)
	for _, u := range []string{"https://evil.example.com", "http://smba.trafficmanager.net/amer/", "https://smba.trafficmanager.net.evil.com/",
		"https://user@smba.trafficmanager.net/", "not a url", ""} {
		_, err := c.Send(context.Background(), teams.Conversation{ServiceURL: u, ID: "a:1"}, teams.Activity(message("x"), "x"))
		assert.ErrorIs(t, err, teams.ErrServiceURL, u)
		assert.True(t, governance.IsPermanent(err))
	}
	assert.Empty(t, fake.Calls())
	assert.Zero(t, fake.TokensIssued(), "no token leaves for a host not on the list")

	public := teams.NewConnector(teams.ConnectorOptions{AppID: appID, AppPassword: "x"})
	for _, u := range []string{"https://smba.trafficmanager.net/amer/", "https://smba.infra.gcc.teams.microsoft.com/gcc", "https://smba.infra.gov.teams.microsoft.us/gcch"} {
		assert.NoError(t, public.CheckServiceURL(u), u)
	}
}

func TestConnector_ErrorsSayWhetherToRetry(t *testing.T) {
	fake := teamsfake.Start(t, appID)
	c := connector(fake)
	_, err := c.Member(context.Background(), teams.Conversation{ServiceURL: fake.URL, ID: "a:1"}, "29:nobody")
	var e *teams.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "MemberNotFoundInConversation", e.Code)
	assert.True(t, governance.IsPermanent(err))

	big := make([]byte, 120<<10)
	for i := range big {
		big[i] = 'x'
	}
	_, err = c.Send(context.Background(), teams.Conversation{ServiceURL: fake.URL, ID: "a:1"},
		schema.Activity{Type: schema.Message, Text: string(big)})
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "MessageSizeTooBig", e.Code)
}

// message is a card that says s.
func message(s string) teams.Card {
	return teams.Card{"type": "AdaptiveCard", "version": "1.5", "body": []any{map[string]any{"type": "TextBlock", "text": s}}}
}
