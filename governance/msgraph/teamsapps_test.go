package msgraph_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/msgraph"
	"github.com/accessbot/accessbot/governance/msgraph/msgraphtest"
)

const installApp = "7e1d4b1a-5c0e-4b8e-9d3c-1f2a3b4c5d6e"

var installPeople = []msgraphtest.User{
	{ID: "aad-bob", Mail: "bob@example.com", UserPrincipalName: "bob@example.com", DisplayName: "Bob"},
	{ID: "aad-dana", Mail: "dana@example.com", UserPrincipalName: "dana@example.com", DisplayName: "Dana"},
}

func newTeamsApps(t *testing.T, catalogID string) (*msgraph.TeamsApps, *msgraphtest.TeamsGraph, *msgraph.Client) {
	g := msgraphtest.StartTeamsGraph(t, "tenant-1", installApp, "secret", installPeople...)
	c, err := msgraph.New(msgraph.Options{BaseURL: g.BaseURL(), LoginURL: g.LoginURL(), TenantID: "tenant-1", ClientID: installApp,
		ClientSecret: "secret", Name: "Microsoft Teams", Permission: msgraph.TeamsPermission})
	require.NoError(t, err)
	return msgraph.NewTeamsApps(c, msgraph.TeamsAppsOptions{GraphURL: g.BaseURL(), ManifestID: installApp, CatalogID: catalogID}), g, c
}

func TestTeamsApps_InstallsAndFindsThePersonalChat(t *testing.T) {
	apps, g, _ := newTeamsApps(t, "")
	chat, name, err := apps.Install(context.Background(), "Bob@Example.com")
	require.NoError(t, err)
	assert.True(t, g.Installed("aad-bob"))
	assert.Equal(t, msgraphtest.TeamsChatID("aad-bob", installApp), chat)
	assert.Equal(t, "Bob", name)
	id, err := apps.CatalogID(context.Background())
	require.NoError(t, err)
	assert.Equal(t, g.CatalogID, id, "looked up by the manifest id")
}

func TestTeamsApps_SomeoneWhoInstalledItThemselvesIsNotInstalledAgain(t *testing.T) {
	apps, g, _ := newTeamsApps(t, "catalog-"+installApp)
	g.Install("aad-dana")
	_, _, err := apps.Install(context.Background(), "dana@example.com")
	require.NoError(t, err)
	for _, c := range g.Calls() {
		assert.NotEqual(t, http.MethodPost+" /users/aad-dana/teamwork/installedApps", c.Method+" "+c.Path)
		assert.NotEqual(t, "/appCatalogs/teamsApps", c.Path, "the configured catalog id is not looked up")
	}
}

func TestTeamsApps_AConflictMeansInstalledMeanwhile(t *testing.T) {
	apps, g, _ := newTeamsApps(t, "")
	g.RaceInstall("aad-bob")
	chat, _, err := apps.Install(context.Background(), "bob@example.com")
	require.NoError(t, err, "409 Conflict: another replica (or Bob) installed it first")
	assert.Equal(t, msgraphtest.TeamsChatID("aad-bob", installApp), chat)
}

func TestTeamsApps_RefusalsSayWhatToFix(t *testing.T) {
	apps, g, c := newTeamsApps(t, "")
	_, _, err := apps.Install(context.Background(), "nobody@example.com")
	assert.True(t, errors.Is(err, governance.ErrNotFound), "%v", err)
	assert.True(t, governance.IsPermanent(err))

	g.Consent(false)
	_, _, err = apps.Install(context.Background(), "bob@example.com")
	require.Error(t, err)
	var p *governance.Problem
	require.True(t, errors.As(err, &p), "%v", err)
	assert.Contains(t, p.Message, "TeamsAppInstallation.ReadWriteSelfForUser.All", "the admins are told which permission to consent to")
	assert.True(t, governance.IsPermanent(err))

	wrong := msgraph.NewTeamsApps(c, msgraph.TeamsAppsOptions{GraphURL: g.BaseURL(), ManifestID: "another-app"})
	_, _, err = wrong.Install(context.Background(), "bob@example.com")
	assert.ErrorContains(t, err, "publish accessbot's app package to the org catalog")
}

func TestTeamsGraphFake_RefusesWhatGraphRefuses(t *testing.T) {
	_, g, c := newTeamsApps(t, "")
	ctx := context.Background()
	path := "/users/aad-bob/teamwork/installedApps"
	bind := map[string]string{"teamsApp@odata.bind": "https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/" + g.CatalogID}
	require.NoError(t, c.Do(ctx, http.MethodPost, path, nil, bind, nil))
	var ge *msgraph.Error
	require.True(t, errors.As(c.Do(ctx, http.MethodPost, path, nil, bind, nil), &ge))
	assert.Equal(t, http.StatusConflict, ge.Status)
	require.True(t, errors.As(c.Do(ctx, http.MethodPost, "/users/aad-dana/teamwork/installedApps", nil,
		map[string]string{"teamsApp@odata.bind": "https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/another"}, nil), &ge))
	assert.Equal(t, http.StatusNotFound, ge.Status, "only an app of the org catalog is installed")
	require.True(t, errors.As(c.Do(ctx, http.MethodPost, "/users/aad-dana/teamwork/installedApps", nil,
		map[string]string{"teamsApp@odata.bind": bind["teamsApp@odata.bind"], "extra": "x"}, nil), &ge))
	assert.Equal(t, http.StatusBadRequest, ge.Status, "unknown fields are refused")
	require.True(t, errors.As(c.Do(ctx, http.MethodGet, "/users/aad-dana/teamwork/installedApps/installation-9/chat", nil, nil, nil), &ge))
	assert.Equal(t, http.StatusNotFound, ge.Status, "no chat without the installation")
}
