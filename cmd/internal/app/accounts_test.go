package app

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/accounts/oauthfake"
	redisstore "github.com/accessbot/accessbot/governance/redis"
)

// A backend whose people connect their accounts gets the connected accounts, reached at
// publicURL and sealed under ACCESSBOT_TOKEN_KEY; without one, there are none.
func TestOpenAccounts_OnlyForBackendsThatConnect(t *testing.T) {
	c := &Config{}
	c.Accounts.PublicURL = "https://accessbot.example.com"
	c.Accounts.TokenKey = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	store := redisstore.New(goredis.NewClient(&goredis.Options{Addr: miniredis.RunT(t).Addr()}), redisstore.Options{})
	log := slog.New(slog.DiscardHandler)

	none, err := c.openAccounts(store, map[string]governance.Connector{}, nil, governance.SystemClock{}, log)
	require.NoError(t, err)
	assert.Nil(t, none)

	idp := oauthfake.Start(t, nil)
	conns := map[string]governance.Connector{"fakeidp": &oauthfake.Connector{Server: idp, Client: oauthfake.Client{ID: "accessbot"}, PKCE: true}}
	m, err := c.openAccounts(store, conns, nil, governance.SystemClock{}, log)
	require.NoError(t, err)
	assert.Equal(t, []string{"fakeidp"}, m.Backends())
	link, _, err := m.Link(context.Background(), governance.ChatUser{Platform: "slack", ID: "U1", Email: "carol@example.com"}, "fakeidp")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(link, "https://accessbot.example.com/connect/fakeidp?t=k1."), link)

	c.Accounts.TokenKey = ""
	_, err = c.openAccounts(store, conns, nil, governance.SystemClock{}, log)
	assert.ErrorContains(t, err, "ACCESSBOT_TOKEN_KEY is empty")

	got, err := c.Accounts.Probe(context.Background(), conns)
	assert.Error(t, err, "doctor refuses a missing key")
	assert.Empty(t, got)
	c.Accounts.TokenKey = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	got, err = c.Accounts.Probe(context.Background(), conns)
	require.NoError(t, err)
	assert.Contains(t, got, `token key "k1" seals and opens; sign-in of fakeidp answers`)
}

// connectingBackend is a backend whose people may connect accounts once its OAuth client
// is configured.
type connectingBackend struct {
	governance.Backend
	*oauthfake.Connector
	configured bool
}

func (b connectingBackend) Connectable() bool { return b.configured }

// A backend that is a Connector counts only when its sign-in is configured: a SailPoint
// without a connect client needs no public URL and no token key.
func TestConnector_OnlyWhenItsSignInIsConfigured(t *testing.T) {
	conn := &oauthfake.Connector{}
	_, ok := connector(connectingBackend{Connector: conn, configured: false})
	assert.False(t, ok)
	got, ok := connector(connectingBackend{Connector: conn, configured: true})
	assert.True(t, ok)
	assert.NotNil(t, got)
	_, ok = connector(struct{ governance.Backend }{})
	assert.False(t, ok, "not a Connector")
}
