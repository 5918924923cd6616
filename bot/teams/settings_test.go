package teams_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/teams"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
)

const (
	botAppID  = "7e1d4b1a-5c0e-4b8e-9d3c-1f2a3b4c5d6e"
	ourTenant = "11111111-2222-3333-4444-555555555555"
)

func TestSettings_CheckListsEveryProblemAtOnce(t *testing.T) {
	s := teams.Settings{AppID: "my-bot", Tenants: []string{"contoso"}, MetadataURL: "http://login.example.com"}
	s.AdminChannel.ConversationID = "19:abc@thread.tacv2"
	errs := s.Check()
	for i, want := range []string{
		`TEAMS_APP_ID "my-bot" is not a Microsoft app id`,
		"TEAMS_APP_PASSWORD is not set",
		`teams tenant "contoso" is not an Entra tenant id`,
		"set both serviceURL and conversationID",
		`teams metadataURL "http://login.example.com" is not an https URL`,
	} {
		if assert.Greater(t, len(errs), i, want) {
			assert.ErrorContains(t, errs[i], want)
		}
	}
	assert.Len(t, errs, 5)

	off := teams.Settings{AppPassword: "pw"}
	assert.ErrorContains(t, off.Check()[0], "set TEAMS_APP_ID")
	assert.Empty(t, (&teams.Settings{}).Check(), "Teams off needs nothing")
}

func TestSettings_ServesTheTenantsListedOrTheOrganisationsOwn(t *testing.T) {
	tests := []struct {
		name     string
		settings teams.Settings
		home     string
		want     []string
	}{
		{"listed", teams.Settings{AppID: botAppID, Tenants: []string{ourTenant}}, "0b3c4d5e-1111-2222-3333-444455556666", []string{ourTenant}},
		{"from a single-ourTenant token URL", teams.Settings{AppID: botAppID, TokenURL: "https://login.microsoftonline.com/" + ourTenant + "/oauth2/v2.0/token"}, "", []string{ourTenant}},
		{"the home ourTenant", teams.Settings{AppID: botAppID}, ourTenant, []string{ourTenant}},
		{"none known", teams.Settings{AppID: botAppID}, "contoso.onmicrosoft.com", nil},
		{"Teams off", teams.Settings{}, ourTenant, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.settings.Defaults(tt.home)
			assert.Equal(t, tt.want, tt.settings.Tenants)
		})
	}
}

func TestSettings_TheEnvironmentWinsOverTheFile(t *testing.T) {
	vars := map[string]string{"TEAMS_APP_ID": botAppID, "TEAMS_TENANT_IDS": ourTenant + ", 0b3c4d5e-1111-2222-3333-444455556666", "TEAMS_APP_PASSWORD": "pw"}
	s := teams.Settings{AppID: "from-file"}
	s.FromEnv(governance.Env{Get: func(n string) string { return vars[n] }, Secret: func(n string) string { return vars[n] }})
	assert.Equal(t, botAppID, s.AppID)
	assert.Equal(t, []string{ourTenant, "0b3c4d5e-1111-2222-3333-444455556666"}, s.Tenants)
	assert.Equal(t, "pw", s.AppPassword)
	assert.Empty(t, s.Check())
}

func TestSettings_InstallNeedsOneTenantAndAnHTTPSServiceURL(t *testing.T) {
	s := teams.Settings{AppID: botAppID, AppPassword: "pw", Tenants: []string{ourTenant, "0b3c4d5e-1111-2222-3333-444455556666"}}
	s.Install.Enabled, s.Install.ServiceURL = true, "http://smba.example.com/teams/"
	errs := s.Check()
	if assert.Len(t, errs, 2) {
		assert.ErrorContains(t, errs[0], "teams.install: accessbot installs itself for people of one tenant")
		assert.ErrorContains(t, errs[1], `teams install.serviceURL "http://smba.example.com/teams/" is not an https URL`)
	}

	s.Tenants, s.Install.ServiceURL = []string{ourTenant}, ""
	assert.Empty(t, s.Check())
	assert.NotNil(t, s.Installer(catalogApps{}), "the tenant served")
	s.Install.Enabled = false
	assert.Nil(t, s.Installer(catalogApps{}), "off unless enabled")
}

// catalogApps is Apps that find the app in the org catalog, or not.
type catalogApps struct {
	id  string
	err error
}

func (c catalogApps) Install(context.Context, string) (string, string, error) { return "", "", c.err }
func (c catalogApps) CatalogID(context.Context) (string, error)               { return c.id, c.err }

func TestSettings_ProbeFindsTheAppInTheCatalogWhenInstallIsOn(t *testing.T) {
	bf := teamsfake.Start(t, botAppID)
	s := teams.Settings{AppID: botAppID, AppPassword: "pw", Tenants: []string{"tenant-1"}, TokenURL: bf.TokenURL()}
	msg, err := s.Probe(context.Background(), nil)
	require.NoError(t, err)
	assert.NotContains(t, msg, "installs itself", "teams.install off")

	s.Install.Enabled = true
	msg, err = s.Probe(context.Background(), catalogApps{id: "catalog-" + botAppID})
	require.NoError(t, err)
	assert.Contains(t, msg, "installs itself for people who never wrote to it (org catalog app catalog-"+botAppID+")")

	_, err = s.Probe(context.Background(), catalogApps{err: errors.New("403 Forbidden")})
	assert.ErrorContains(t, err, "teams.install")
	assert.ErrorContains(t, err, "AppCatalog.Read.All", "says what to grant")
}
