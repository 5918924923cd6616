package teams

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/msgraph"
)

const installApp = "7e1d4b1a-5c0e-4b8e-9d3c-1f2a3b4c5d6e"

var installPeople = []teamsfake.User{
	{ID: "29:bob", Email: "bob@example.com", Name: "Bob", ObjectID: "aad-bob"},
	{ID: "29:dana", Email: "dana@example.com", Name: "Dana", ObjectID: "aad-dana"},
}

func newInstaller(t *testing.T, catalogID string) (*Installer, *teamsfake.Graph, *msgraph.Client) {
	g := teamsfake.StartGraph(t, "tenant-1", installApp, "secret", installPeople...)
	c, err := msgraph.New(msgraph.Options{BaseURL: g.BaseURL(), LoginURL: g.LoginURL(), TenantID: "tenant-1", ClientID: installApp,
		ClientSecret: "secret", Name: "Microsoft Teams", Permission: GraphPermission})
	require.NoError(t, err)
	return NewInstaller(InstallerOptions{Graph: c, GraphURL: g.BaseURL(), ManifestID: installApp, CatalogID: catalogID,
		ServiceURL: "https://smba.trafficmanager.net/teams/", Tenant: "tenant-1"}), g, c
}

func TestInstaller_InstallsAndFindsThePersonalChat(t *testing.T) {
	inst, g, _ := newInstaller(t, "")
	conv, who, err := inst.Install(context.Background(), "Bob@Example.com")
	require.NoError(t, err)
	assert.True(t, g.Installed("aad-bob"))
	assert.Equal(t, Conversation{ServiceURL: "https://smba.trafficmanager.net/teams/", ID: teamsfake.ChatID("aad-bob", installApp),
		TenantID: "tenant-1"}, conv)
	assert.Equal(t, "bob@example.com", who.Email)
	assert.Equal(t, "tenant-1", who.Org)
	assert.NotEmpty(t, who.Reach)
}

func TestInstaller_SomeoneWhoInstalledItThemselvesIsNotInstalledAgain(t *testing.T) {
	inst, g, _ := newInstaller(t, "catalog-"+installApp)
	g.Install("aad-dana")
	_, _, err := inst.Install(context.Background(), "dana@example.com")
	require.NoError(t, err)
	for _, c := range g.Calls() {
		assert.NotEqual(t, http.MethodPost+" /users/aad-dana/teamwork/installedApps", c.Method+" "+c.Path)
		assert.NotEqual(t, "/appCatalogs/teamsApps", c.Path, "the configured catalog id is not looked up")
	}
}

func TestInstaller_AConflictMeansInstalledMeanwhile(t *testing.T) {
	inst, g, _ := newInstaller(t, "")
	g.RaceInstall("aad-bob")
	conv, _, err := inst.Install(context.Background(), "bob@example.com")
	require.NoError(t, err, "409 Conflict: another replica (or Bob) installed it first")
	assert.Equal(t, teamsfake.ChatID("aad-bob", installApp), conv.ID)
}

func TestInstaller_RefusalsSayWhatToFix(t *testing.T) {
	inst, g, _ := newInstaller(t, "")
	_, _, err := inst.Install(context.Background(), "nobody@example.com")
	assert.True(t, errors.Is(err, governance.ErrNotFound), "%v", err)
	assert.True(t, governance.IsPermanent(err))

	g.Consent(false)
	_, _, err = inst.Install(context.Background(), "bob@example.com")
	require.Error(t, err)
	var p *governance.Problem
	require.True(t, errors.As(err, &p), "%v", err)
	assert.Contains(t, p.Message, "TeamsAppInstallation.ReadWriteSelfForUser.All", "the admins are told which permission to consent to")
	assert.True(t, governance.IsPermanent(err))

	wrong := NewInstaller(InstallerOptions{Graph: inst.graph, GraphURL: g.BaseURL(), ManifestID: "another-app", Tenant: "tenant-1"})
	_, _, err = wrong.Install(context.Background(), "bob@example.com")
	assert.ErrorContains(t, err, "publish accessbot's app package to the org catalog")
}

func TestGraphFake_RefusesWhatGraphRefuses(t *testing.T) {
	_, g, c := newInstaller(t, "")
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
