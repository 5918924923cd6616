package teams_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/teams"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
)

const appID = "7e1d4b1a-5c0e-4b8e-9d3c-1f2a3b4c5d6e"

var now = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func validator(fake *teamsfake.Server, clock *time.Time) *teams.Validator {
	return teams.NewValidator(teams.ValidatorOptions{AppID: appID, MetadataURL: fake.MetadataURL(), Now: func() time.Time { return *clock }})
}

func activity(fake *teamsfake.Server) schema.Activity {
	return schema.Activity{Type: schema.Message, ServiceURL: fake.URL, ChannelID: "msteams"}
}

func TestValidator_WhatItAcceptsAndRefuses(t *testing.T) {
	fake := teamsfake.Start(t, appID)
	clock := now
	v := validator(fake, &clock)
	act := activity(fake)
	bearer := func(edit ...func(jwt.MapClaims, map[string]any)) string {
		return "Bearer " + fake.Token(fake.URL, now, edit...)
	}

	id, err := v.AuthenticateRequest(context.Background(), act, bearer(), nil, "")
	require.NoError(t, err)
	assert.Equal(t, fake.URL, id.GetClaimValue("serviceurl"))
	assert.Equal(t, "", id.GetClaimValue("no-such-claim"), "no panic on a missing claim")

	_, err = v.AuthenticateRequest(context.Background(), act, bearer(func(c jwt.MapClaims, _ map[string]any) {
		c["aud"] = []any{"someone-else", appID}
	}), nil, "")
	assert.NoError(t, err, "an array audience naming the bot is fine")

	refused := map[string]string{
		"another bot":                    bearer(func(c jwt.MapClaims, _ map[string]any) { c["aud"] = "another-app" }),
		"an array without us":            bearer(func(c jwt.MapClaims, _ map[string]any) { c["aud"] = []any{"x", 3} }),
		"another issuer":                 bearer(func(c jwt.MapClaims, _ map[string]any) { c["iss"] = "https://evil.example.com" }),
		"expired":                        bearer(func(c jwt.MapClaims, _ map[string]any) { c["exp"] = now.Add(-6 * time.Minute).Unix() }),
		"no expiry":                      bearer(func(c jwt.MapClaims, _ map[string]any) { delete(c, "exp") }),
		"an expiry of the wrong type":    bearer(func(c jwt.MapClaims, _ map[string]any) { c["exp"] = "tomorrow" }),
		"not valid yet":                  bearer(func(c jwt.MapClaims, _ map[string]any) { c["nbf"] = now.Add(6 * time.Minute).Unix() }),
		"another serviceUrl":             bearer(func(c jwt.MapClaims, _ map[string]any) { c["serviceurl"] = "https://evil.example.com/" }),
		"no serviceurl claim":            bearer(func(c jwt.MapClaims, _ map[string]any) { delete(c, "serviceurl") }),
		"a serviceurl with a slash more": bearer(func(c jwt.MapClaims, _ map[string]any) { c["serviceurl"] = c["serviceurl"].(string) + "/" }),
		"a serviceurl in capitals":       bearer(func(c jwt.MapClaims, _ map[string]any) { c["serviceurl"] = strings.ToUpper(c["serviceurl"].(string)) }),
		"a serviceurl number":            bearer(func(c jwt.MapClaims, _ map[string]any) { c["serviceurl"] = 7 }),
		"an unknown key":                 bearer(func(_ jwt.MapClaims, h map[string]any) { h["kid"] = "nope" }),
		"no bearer":                      "Basic dXNlcjpwYXNz",
		"garbage":                        "Bearer a.b.c",
		"empty":                          "",
		"alg none":                       "Bearer " + none(fake),
		"HS256 with a guessable secret":  "Bearer " + hs256(t),
	}
	for name, header := range refused {
		t.Run(name, func(t *testing.T) {
			assert.NotPanics(t, func() {
				_, err := v.AuthenticateRequest(context.Background(), act, header, nil, "")
				assert.ErrorIs(t, err, teams.ErrUnauthorized)
			})
		})
	}

	skewed := bearer(func(c jwt.MapClaims, _ map[string]any) { c["exp"] = now.Add(-4 * time.Minute).Unix() })
	_, err = v.AuthenticateRequest(context.Background(), act, skewed, nil, "")
	assert.NoError(t, err, "5 minutes of clock skew are allowed")

	other := act
	other.ChannelID = "slack"
	_, err = v.AuthenticateRequest(context.Background(), other, bearer(), nil, "")
	assert.ErrorIs(t, err, teams.ErrUnauthorized, "the key is not endorsed for another channel")
}

func none(fake *teamsfake.Server) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": "https://api.botframework.com", "aud": appID,
		"serviceurl": fake.URL, "exp": now.Add(time.Hour).Unix()})
	s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	return s
}

func hs256(t *testing.T) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "https://api.botframework.com", "aud": appID, "exp": now.Add(time.Hour).Unix()})
	tok.Header["kid"] = "key-1"
	s, err := tok.SignedString([]byte("secret"))
	require.NoError(t, err)
	return s
}

func TestValidator_KeysAreCachedAndRefreshedOnRotation(t *testing.T) {
	fake := teamsfake.Start(t, appID)
	clock := now
	v := validator(fake, &clock)
	act := activity(fake)

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := v.AuthenticateRequest(context.Background(), act, "Bearer "+fake.Token(fake.URL, now), nil, "")
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, 1, fake.KeyFetches(), "one fetch serves every request")

	fake.RotateKey()
	_, err := v.AuthenticateRequest(context.Background(), act, "Bearer "+fake.Token(fake.URL, now), nil, "")
	require.ErrorIs(t, err, teams.ErrUnauthorized, "keys are fetched at most every 5 minutes")
	clock = now.Add(6 * time.Minute)
	_, err = v.AuthenticateRequest(context.Background(), act, "Bearer "+fake.Token(fake.URL, now), nil, "")
	require.NoError(t, err, "a token signed by a new key refreshes the keys")
	assert.Equal(t, 2, fake.KeyFetches())

	forged := "Bearer " + fake.Token(fake.URL, now, func(_ jwt.MapClaims, h map[string]any) { h["kid"] = "unknown" })
	for range 10 {
		_, err = v.AuthenticateRequest(context.Background(), act, forged, nil, "")
		assert.ErrorIs(t, err, teams.ErrUnauthorized)
	}
	assert.Equal(t, 2, fake.KeyFetches(), "unknown keys cannot make accessbot hammer the key endpoint")

	clock = now.Add(25 * time.Hour)
	_, err = v.AuthenticateRequest(context.Background(), act, "Bearer "+fake.Token(fake.URL, clock), nil, "")
	require.NoError(t, err)
	assert.Equal(t, 3, fake.KeyFetches(), "keys are fetched again after a day")
}

func TestValidator_UnreachableMetadataRefusesWithoutPanicking(t *testing.T) {
	fake := teamsfake.Start(t, appID)
	clock := now
	v := teams.NewValidator(teams.ValidatorOptions{AppID: appID, MetadataURL: fake.URL + "/nowhere", Now: func() time.Time { return clock }})
	_, err := v.AuthenticateRequest(context.Background(), activity(fake), "Bearer "+fake.Token(fake.URL, now), nil, "")
	require.ErrorIs(t, err, teams.ErrUnauthorized)
	assert.True(t, strings.Contains(err.Error(), "fetch Bot Framework signing keys"), err.Error())
}
