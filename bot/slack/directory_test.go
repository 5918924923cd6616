package slack

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/governance"
)

func TestDirectory_LooksUpOnceThenCaches(t *testing.T) {
	fake := slackfake.Start(t, members...)
	cache := newMemCache()
	dir := NewDirectory(NewClient("xoxb-test", fake.APIURL(), nil), cache, WithDirectoryLogger(quiet))
	ctx := context.Background()
	for range 3 {
		p, err := dir.Person(ctx, "UBOB")
		require.NoError(t, err)
		assert.Equal(t, governance.Person{Email: "bob@example.com", Name: "Bob"}, p, "e-mail addresses are lower-cased")
		id, err := dir.UserID(ctx, "BOB@example.com")
		require.NoError(t, err)
		assert.Equal(t, "UBOB", id)
	}
	assert.Len(t, fake.Calls("users.info"), 1, "the second lookup makes no users.info call")
	assert.Empty(t, fake.Calls("users.lookupByEmail"), "users.info already taught the e-mail")
	assert.Equal(t, []time.Duration{CacheTTL}, cache.saved)
	assert.Equal(t, "Asia/Tokyo", cache.m["slack/id/UBOB"].TimeZone)
}

func TestDirectory_AUserWithoutEmailIsToldWhatIsWrong(t *testing.T) {
	fake := slackfake.Start(t, members...)
	dir := NewDirectory(NewClient("xoxb-test", fake.APIURL(), nil), newMemCache(), WithDirectoryLogger(quiet))
	_, err := dir.Person(context.Background(), "UBOT")
	var p *governance.Problem
	require.True(t, errors.As(err, &p), "%v", err)
	assert.ErrorIs(t, err, ErrNoEmail)
	assert.Contains(t, p.Message, "users:read.email")
}

func TestDirectory_MissingScopeTellsWhomToAsk(t *testing.T) {
	fake := slackfake.Start(t, members...)
	fake.Fail("users.info", 1, slackfake.Failure{Error: "missing_scope"})
	dir := NewDirectory(NewClient("xoxb-test", fake.APIURL(), nil), newMemCache(), WithDirectoryLogger(quiet))
	_, err := dir.Person(context.Background(), "UBOB")
	var p *governance.Problem
	require.True(t, errors.As(err, &p), "%v", err)
	assert.Contains(t, p.Message, "Slack admin")
}

func TestDevDirectory_MapsIDsAndAddressesWithoutSlack(t *testing.T) {
	dir := NewDevDirectory(map[string]string{"U42": "Boss@Example.com", "uann": "Ann Smith <ann@example.com>"})
	ctx := context.Background()
	for id, want := range map[string]governance.Person{
		"U123ALICE": {Email: "u123alice@example.com", Name: "U123ALICE"},
		"U42":       {Email: "boss@example.com", Name: "U42"},
		"UANN":      {Email: "ann@example.com", Name: "Ann Smith"},
	} {
		p, err := dir.Person(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, want, p, id)
	}
	for email, want := range map[string]string{"boss@example.com": "U42", "u123alice@example.com": "U123ALICE", "Bob@example.com": "BOB", "ann@example.com": "UANN"} {
		id, err := dir.UserID(ctx, email)
		require.NoError(t, err)
		assert.Equal(t, want, id, email)
	}
}

func TestDirectory_TimeZoneComesFromSlack(t *testing.T) {
	fake := slackfake.Start(t, members...)
	dir := NewDirectory(NewClient("xoxb-test", fake.APIURL(), nil), newMemCache(), WithDirectoryLogger(quiet))
	loc, err := dir.TimeZone(context.Background(), "bob@example.com")
	require.NoError(t, err)
	require.NotNil(t, loc)
	assert.Equal(t, "Asia/Tokyo", loc.String())
	loc, err = NewDevDirectory(nil).TimeZone(context.Background(), "bob@example.com")
	assert.NoError(t, err)
	assert.Nil(t, loc, "development mode knows no zones: the configured default applies")
}
