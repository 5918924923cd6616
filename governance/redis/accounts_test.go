package redis

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSwapAccount_OnlyOverWhatTheCallerRead(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	swapped, err := s.SwapAccount(ctx, "sailpoint", "Carol@example.com", nil, []byte("v1"))
	require.NoError(t, err)
	assert.True(t, swapped, "unconditional")

	got, ok, err := s.SealedAccount(ctx, "sailpoint", "carol@example.com")
	require.NoError(t, err)
	require.True(t, ok, "e-mail in any case")
	assert.Equal(t, []byte("v1"), got)

	swapped, err = s.SwapAccount(ctx, "sailpoint", "carol@example.com", []byte("v0"), []byte("v2"))
	require.NoError(t, err)
	assert.False(t, swapped, "another replica saved since v0 was read")
	swapped, err = s.SwapAccount(ctx, "sailpoint", "carol@example.com", []byte("v1"), []byte("v2"))
	require.NoError(t, err)
	assert.True(t, swapped)
	_, err = s.SwapAccount(ctx, "entra", "carol@example.com", nil, []byte("e1"))
	require.NoError(t, err)

	all, err := s.SealedAccounts(ctx, "carol@example.com")
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"sailpoint": []byte("v2"), "entra": []byte("e1")}, all)

	swapped, err = s.SwapAccount(ctx, "sailpoint", "carol@example.com", []byte("v1"), nil)
	require.NoError(t, err)
	assert.False(t, swapped, "a stale delete changes nothing")
	swapped, err = s.SwapAccount(ctx, "sailpoint", "carol@example.com", []byte("v2"), nil)
	require.NoError(t, err)
	assert.True(t, swapped)
	_, ok, err = s.SealedAccount(ctx, "sailpoint", "carol@example.com")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestAccountsKey_HasATagOfItsOwn(t *testing.T) {
	k := keys{prefix: "p", shards: 16}
	assert.Equal(t, "p:{acct:carol@example.com}:accounts", k.accounts("Carol@Example.com"))
	assert.Equal(t, "p:{acct:a(b)c}:accounts", k.accounts("a{b}c"), "braces would move the slot")
}

// A swap whose answer was lost, sent again by go-redis, finds its own value stored: it
// swapped. Another caller's swap from the same value did not.
func TestSwapAccount_SentAgainAfterItsAnswerWasLostStillSwapped(t *testing.T) {
	ctx := context.Background()
	s, proxy := droppingStore(t)
	_, err := s.SwapAccount(ctx, "sailpoint", "carol@example.com", nil, []byte("v1")) // the script is loaded
	require.NoError(t, err)
	proxy.dropNextAnswerTo("evalsha")
	swapped, err := s.SwapAccount(ctx, "sailpoint", "carol@example.com", []byte("v1"), []byte("v2"))
	require.NoError(t, err)
	require.Equal(t, 1, proxy.dropped())
	assert.True(t, swapped, "its refreshed token is the one stored")
	swapped, err = s.SwapAccount(ctx, "sailpoint", "carol@example.com", []byte("v1"), []byte("v3"))
	require.NoError(t, err)
	assert.False(t, swapped, "another refresh from v1 lost")
}
