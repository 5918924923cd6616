package handlers_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/entra"
	"github.com/accessbot/accessbot/governance/entra/graphfake"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

const (
	entraCarol   = "3f2c1b0a-9d8e-4f7a-8b6c-5d4e3f2a1b0c"
	entraPackage = "0b3c4d5e-1111-2222-3333-444455556666"
	entraPolicy  = "0b3c4d5e-1111-2222-3333-444455556667"
)

const entraCatalog = `
items:
  - id: payroll
    name: Payroll Reader
    backend: entra
    ref: ` + entraPackage + `/` + entraPolicy + `
    approvers: ["Alice <alice@example.com>"]
    defaultDuration: 8h
`

// newEntraTenant is a fake Graph that knows Carol and the payroll package, and the Entra
// backend over it.
func newEntraTenant(t *testing.T, clock *governance.ManualClock) (*graphfake.Server, *entra.Backend) {
	g := graphfake.New(graphfake.Options{Now: clock.Now})
	t.Cleanup(g.Close)
	g.AddUser(graphfake.User{ID: entraCarol, Mail: "carol@example.com", UserPrincipalName: "carol@example.com", DisplayName: "Carol"})
	g.AddPackage(graphfake.Package{ID: entraPackage, DisplayName: "Payroll Reader",
		Policies: []graphfake.Policy{{ID: entraPolicy, DisplayName: "Direct assignment", AllowedTargetScope: "notSpecified"}}})
	be, err := g.Backend(clock)
	require.NoError(t, err)
	return g, be
}

func TestEntra_FromSlashCommandToDeliveredAccessAndRemoved(t *testing.T) {
	clock := governance.NewManualClock(t0)
	g, be := newEntraTenant(t, clock)
	w := newBackendWorld(t, entraCatalog, clock, be)

	assert.Contains(t, ephemeral(t, w.command("UCAROL", "request payroll for 2h because month end")), "AR-1")
	w.aliceApproves("AR-1")

	created := g.Created()
	require.Len(t, created, 1)
	assert.Equal(t, "adminAdd", created[0]["requestType"])
	assert.Equal(t, map[string]any{"targetId": entraCarol, "assignmentPolicyId": entraPolicy, "accessPackageId": entraPackage}, created[0]["assignment"])
	assert.Equal(t, "month end — approved in chat by alice@example.com (accessbot request AR-1)", created[0]["justification"])
	assert.Contains(t, strings.Join(w.dms("UCAROL"), "\n"), "was handed to entra")

	r, err := w.store.Get(t.Context(), "AR-1")
	require.NoError(t, err)
	g.SetState(r.Submission.ExternalID, "delivered")
	w.sweepAfter(time.Minute)
	assert.Contains(t, strings.Join(w.dms("UCAROL"), "\n"), "Your access to Payroll Reader `payroll` is active until 2026-11-23 11:00 UTC")

	assert.Contains(t, ephemeral(t, w.command("UCAROL", "revoke payroll")), "is revoked")
	w.drain()
	created = g.Created()
	require.Len(t, created, 2)
	assert.Equal(t, "adminRemove", created[1]["requestType"])
}

func TestEntra_ATeamsRequesterIsTheObjectIdTeamsVouchesFor(t *testing.T) {
	clock := governance.NewManualClock(t0)
	g, be := newEntraTenant(t, clock)
	w := &world{t: t, prefix: redistest.Prefix(t), clock: clock, slack: slackfake.Start(t, people...), logs: &logBuffer{},
		catalog: entraCatalog, extra: []governance.Backend{be}, teams: teamsfake.Start(t, teamsApp, teamsPeople...)}
	w.slack.AddChannel("CADMINS")
	w.start()
	w.install("29:carol")

	ask := w.activity("29:carol", "message", map[string]any{"text": "request payroll for 2h because month end"})
	ask["from"].(map[string]any)["aadObjectId"] = entraCarol
	before := len(w.teams.Calls())
	require.Equal(t, http.StatusOK, w.postTeams(ask).Code)
	w.teams.Wait(t, before+1, 5*time.Second)
	w.aliceApproves("AR-1")

	created := g.Created()
	require.Len(t, created, 1)
	assert.Equal(t, entraCarol, created[0]["assignment"].(map[string]any)["targetId"])
	for _, c := range g.Calls() {
		assert.NotEqual(t, "/users", c.Path, "Carol is not looked up by e-mail: Teams told her object id")
	}
}
