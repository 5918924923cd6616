package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/cmd/internal/clitest"
	"github.com/accessbot/accessbot/governance/permissions/pmfake"
	"github.com/accessbot/accessbot/governance/redis/redistest"
	"github.com/accessbot/accessbot/governance/sailpoint/iscfake"
)

func TestDoctor(t *testing.T) {
	fake := slackfake.Start(t)
	redisURL := "redis://" + redistest.Client(t).(*goredis.Client).Options().Addr
	cfg := clitest.WriteConfig(t, "slack:\n  apiURL: "+fake.APIURL()+"\n")
	prod := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "REDIS_URL": redisURL}

	t.Run("everything in order", func(t *testing.T) {
		out := clitest.NewOutput()
		require.NoError(t, run(context.Background(), []string{"accessbot", "doctor", "-config", cfg}, clitest.Env(prod), out))
		assert.Contains(t, out.String(), "✓ redis")
		assert.Contains(t, out.String(), "✓ slack      bot @accessbot in Fake Workspace (T0FAKE); serves the token's workspace, T0FAKE")
		assert.Contains(t, out.String(), "– admins")
		assert.Contains(t, out.String(), "everything accessbot needs is in order")
	})
	t.Run("a rejected token and an unreachable Redis are explained", func(t *testing.T) {
		fake.Fail("auth.test", 1, slackfake.Failure{Error: "invalid_auth"})
		broken := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "REDIS_URL": "redis://127.0.0.1:1/0"}
		out := clitest.NewOutput()
		err := run(context.Background(), []string{"accessbot", "doctor", "-config", cfg}, clitest.Env(broken), out)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "2 problem(s)")
		assert.Contains(t, out.String(), "✗ redis")
		assert.Contains(t, out.String(), "cannot reach Redis")
		assert.Contains(t, out.String(), "SLACK_BOT_TOKEN is not a working bot token")
	})
	t.Run("a token of a workspace the configuration does not serve", func(t *testing.T) {
		out := clitest.NewOutput()
		elsewhere := map[string]string{"SLACK_TEAM_IDS": "T0ELSE"}
		for k, v := range prod {
			elsewhere[k] = v
		}
		err := run(context.Background(), []string{"accessbot", "doctor", "-config", cfg}, clitest.Env(elsewhere), out)
		require.Error(t, err)
		assert.Contains(t, out.String(), "✗ slack")
		assert.Contains(t, out.String(), "the bot token belongs to workspace Fake Workspace (T0FAKE), which slack.teams and slack.enterprise do not name")
	})
	t.Run("Socket Mode: the app token is checked with apps.connections.open", func(t *testing.T) {
		socket := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": slackfake.AppToken, "REDIS_URL": redisURL}
		out := clitest.NewOutput()
		err := run(context.Background(), []string{"accessbot", "doctor", "-config", cfg}, clitest.Env(socket), out)
		require.Error(t, err, "Slack has no Socket Mode for this app yet")
		assert.Contains(t, out.String(), "apps.connections.open failed")
		assert.Contains(t, out.String(), "Socket Mode must be on in the app's settings")

		fake.StartSocketMode(t)
		out = clitest.NewOutput()
		require.NoError(t, run(context.Background(), []string{"accessbot", "doctor", "-config", cfg}, clitest.Env(socket), out))
		assert.Contains(t, out.String(), "serves the token's workspace, T0FAKE; Socket Mode connects")
	})
	t.Run("development mode", func(t *testing.T) {
		out := clitest.NewOutput()
		require.NoError(t, run(context.Background(), []string{"accessbot", "doctor"}, clitest.Env(nil), out))
		assert.Contains(t, out.String(), "– redis      embedded")
		assert.Contains(t, out.String(), "– slack      development mode")
		assert.Contains(t, out.String(), "✓ builtin")
		assert.Contains(t, out.String(), "– teams")
	})
}

func TestDoctor_PermissionsManagementSignIn(t *testing.T) {
	pm := pmfake.New(pmfake.Options{Token: "delegated"})
	t.Cleanup(pm.Close)
	refresh := "good-refresh-token"
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/contoso.onmicrosoft.com/oauth2/v2.0/token" || r.PostFormValue("refresh_token") != refresh {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"AADSTS70008: The refresh token has expired due to inactivity."}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"token_type":"Bearer","access_token":"delegated","expires_in":3600,"refresh_token":"rotated"}`)
	}))
	t.Cleanup(login.Close)
	cfg := clitest.WriteConfig(t, "permissions:\n  graphURL: "+pm.BaseURL()+"\n  loginURL: "+login.URL+"\ncatalog:\n"+
		"  - id: gcp-viewer\n    name: GCP viewer\n    backend: permissions\n    ref: gcp:acme-prod:role:roles/viewer\n    defaultDuration: 1h\n    approvers: [a@example.com]\n")
	vars := map[string]string{"SLACK_SIGNING_SECRET": "test-secret", "AZURE_TENANT_ID": "contoso.onmicrosoft.com", "PERMISSIONS_CLIENT_ID": "c", "PERMISSIONS_REFRESH_TOKEN": refresh}

	out := clitest.NewOutput()
	require.NoError(t, run(context.Background(), []string{"accessbot", "doctor", "-config", cfg}, clitest.Env(vars), out))
	assert.Contains(t, out.String(), "✓ permissions")
	assert.Contains(t, out.String(), "the delegated sign-in works")

	vars["PERMISSIONS_REFRESH_TOKEN"] = "lapsed"
	out = clitest.NewOutput()
	require.Error(t, run(context.Background(), []string{"accessbot", "doctor", "-config", cfg}, clitest.Env(vars), out))
	assert.Contains(t, out.String(), "✗ permissions")
	assert.Contains(t, out.String(), "PERMISSIONS_REFRESH_TOKEN")
}

func TestDoctor_SailPointWithTheDocumentedBaseURL(t *testing.T) {
	isc := sailpointTenant(t, iscfake.Options{})
	cfg := clitest.WriteConfig(t, sailpointCatalog)
	// SailPoint's documentation gives the base URL with /v3 at the end.
	vars := map[string]string{"SLACK_SIGNING_SECRET": "test-secret", "SAILPOINT_BASE_URL": isc.URL + "/v3", "SAILPOINT_CLIENT_ID": "pat-id", "SAILPOINT_CLIENT_SECRET": "pat-secret"}
	out := clitest.NewOutput()
	require.NoError(t, run(context.Background(), []string{"accessbot", "doctor", "-config", cfg}, clitest.Env(vars), out), out.String())
	assert.Contains(t, out.String(), "✓ sailpoint")
}

func TestDoctor_SailPointTokenMustBeAnOrgAdmins(t *testing.T) {
	cfg := clitest.WriteConfig(t, sailpointCatalog)
	for _, level := range []string{iscfake.OrgAdmin, "USER"} {
		t.Run(level, func(t *testing.T) {
			isc := sailpointTenant(t, iscfake.Options{UserLevel: level})
			vars := map[string]string{"SLACK_SIGNING_SECRET": "test-secret", "SAILPOINT_BASE_URL": isc.URL, "SAILPOINT_CLIENT_ID": "pat-id", "SAILPOINT_CLIENT_SECRET": "pat-secret"}
			out := clitest.NewOutput()
			err := run(context.Background(), []string{"accessbot", "doctor", "-config", cfg}, clitest.Env(vars), out)
			if level == iscfake.OrgAdmin {
				require.NoError(t, err, out.String())
				assert.Contains(t, out.String(), "✓ sailpoint")
				assert.Contains(t, out.String(), "accessbot's token is an ORG_ADMIN's personal access token")
				return
			}
			require.Error(t, err)
			assert.Contains(t, out.String(), "✗ sailpoint")
			assert.Contains(t, out.String(), "the token's identity "+iscfake.ServiceIdentityID+" is not an ORG_ADMIN")
			assert.Contains(t, out.String(), "give that identity the ORG_ADMIN user level")
		})
	}
}

const sailpointCatalog = "catalog:\n  - id: x\n    name: X\n    backend: sailpoint\n    ref: ROLE:2c918086749d78830174a1a40e121518\n    approvers: [a@example.com]\n"

// sailpointTenant is a fake ISC tenant with the service identity and one other.
func sailpointTenant(t *testing.T, o iscfake.Options) *iscfake.Server {
	isc := iscfake.New(o)
	t.Cleanup(isc.Close)
	isc.AddIdentity(iscfake.ServiceIdentityID, "accessbot@example.com", iscfake.ServiceIdentityName, "")
	isc.AddIdentity("2c9180857182305e0171993735622948", "carol@example.com", "Carol", "")
	// approvals: accessbot (the default) goes with ISC creating no approvals of its own.
	isc.SetConfig(json.RawMessage(`{"approvalsMustBeExternal": true}`))
	return isc
}

func TestDoctor_SailPointApprovalsModeMustMatchTheTenant(t *testing.T) {
	tests := []struct {
		name     string
		config   string // the sailpoint: block
		external bool
		says     string
	}{
		{name: "accessbot's approvers with ISC's own on", config: "", external: false,
			says: "✗ sailpoint  the approvals mode contradicts SailPoint's configuration: sailpoint.approvals is accessbot, but SailPoint's approvalsMustBeExternal is false, so ISC would ask its own approvers a second time"},
		{name: "ISC's approvers with ISC's approvals off", config: "sailpoint:\n  approvals: backend\n  approveAs: service\n", external: true,
			says: "sailpoint.approvals is backend, but SailPoint's approvalsMustBeExternal is true, so ISC creates no approvals"},
		{name: "ISC's approvers, decided as accessbot", config: "sailpoint:\n  approvals: backend\n  approveAs: service\n", external: false,
			says: "✓ sailpoint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			isc := sailpointTenant(t, iscfake.Options{})
			isc.SetConfig(json.RawMessage(fmt.Sprintf(`{"approvalsMustBeExternal": %t}`, tc.external)))
			cfg := clitest.WriteConfig(t, tc.config+sailpointCatalog)
			vars := map[string]string{"SLACK_SIGNING_SECRET": "test-secret", "SAILPOINT_BASE_URL": isc.URL, "SAILPOINT_CLIENT_ID": "pat-id", "SAILPOINT_CLIENT_SECRET": "pat-secret"}
			out := clitest.NewOutput()
			err := run(context.Background(), []string{"accessbot", "doctor", "-config", cfg}, clitest.Env(vars), out)
			assert.Contains(t, out.String(), tc.says)
			assert.Equal(t, strings.HasPrefix(tc.says, "✓"), err == nil, out.String())
		})
	}
}

func TestDoctor_SailPointConnectClient(t *testing.T) {
	const client = "b61429f5-203d-494c-94c3-04f54e17bc5c"
	tests := []struct {
		name   string
		client iscfake.OAuthClient
		says   []string
	}{
		{name: "a client set up as documented",
			client: iscfake.OAuthClient{ID: client, Secret: "s", Name: "accessbot connect", Enabled: true, AccessType: "OFFLINE",
				RedirectURIs: []string{"https://bot.example.com/oauth/sailpoint/callback"}, GrantTypes: []string{"AUTHORIZATION_CODE", "REFRESH_TOKEN"}},
			says: []string{"✓ sailpoint", "people connect through the OAuth client " + client, "/oauth/authorize; it sends them back to https://bot.example.com/oauth/sailpoint/callback"}},
		{name: "a client that lacks the callback, refresh tokens and OFFLINE",
			client: iscfake.OAuthClient{ID: client, Secret: "s", Enabled: true, AccessType: "ONLINE",
				RedirectURIs: []string{"https://old.example.com/cb"}, GrantTypes: []string{"AUTHORIZATION_CODE"}},
			says: []string{"✗ sailpoint", "lacks the grant type REFRESH_TOKEN: add it", "has accessType ONLINE: set it to OFFLINE",
				"does not list https://bot.example.com/oauth/sailpoint/callback among its redirect URIs (it lists https://old.example.com/cb): add it"}},
		{name: "no such client", client: iscfake.OAuthClient{ID: "someone-elses"},
			says: []string{"✗ sailpoint", "SailPoint has no OAuth client " + client}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			isc := sailpointTenant(t, iscfake.Options{})
			isc.SetConfig(json.RawMessage(`{"approvalsMustBeExternal": false}`))
			isc.AddOAuthClient(tc.client)
			cfg := clitest.WriteConfig(t, "publicURL: https://bot.example.com/\nsailpoint:\n  approvals: backend\n  connect:\n    clientId: "+client+"\n"+sailpointCatalog)
			vars := map[string]string{"SLACK_SIGNING_SECRET": "test-secret", "SAILPOINT_BASE_URL": isc.URL, "SAILPOINT_CLIENT_ID": "pat-id",
				"SAILPOINT_CLIENT_SECRET": "pat-secret", "SAILPOINT_CONNECT_CLIENT_SECRET": "s",
				"ACCESSBOT_TOKEN_KEY": "k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))}
			out := clitest.NewOutput()
			err := run(context.Background(), []string{"accessbot", "doctor", "-config", cfg}, clitest.Env(vars), out)
			for _, want := range tc.says {
				assert.Contains(t, out.String(), want)
			}
			assert.Equal(t, tc.says[0] == "✓ sailpoint", err == nil, out.String())
		})
	}
}

func TestServe_RefusesAnApprovalsModeTheSailPointTenantContradicts(t *testing.T) {
	isc := sailpointTenant(t, iscfake.Options{})
	isc.SetConfig(json.RawMessage(`{"approvalsMustBeExternal": false}`))
	cfg := clitest.WriteConfig(t, sailpointCatalog)
	vars := map[string]string{"SLACK_SIGNING_SECRET": "test-secret", "ACCESSBOT_LISTEN": "127.0.0.1:0", "SAILPOINT_BASE_URL": isc.URL,
		"SAILPOINT_CLIENT_ID": "pat-id", "SAILPOINT_CLIENT_SECRET": "pat-secret"}
	err := run(context.Background(), []string{"accessbot", "serve", "-config", cfg}, clitest.Env(vars), clitest.NewOutput())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sailpoint: the approvals mode contradicts SailPoint's configuration: sailpoint.approvals is accessbot, "+
		"but SailPoint's approvalsMustBeExternal is false")
	assert.Contains(t, err.Error(), "set approvalsMustBeExternal to true in ISC")
}
