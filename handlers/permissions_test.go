package handlers_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/permissions/pmfake"
)

const permissionsCatalog = `
items:
  - id: gcp-viewer
    name: GCP viewer on acme-prod
    backend: permissions
    ref: gcp:acme-prod:role:roles/viewer
    approvers: ["Alice <alice@example.com>"]
    defaultDuration: 1h
    maxDuration: 8h
`

func TestPermissions_FromSlashCommandToGrantedPermissionsAndCancelAll(t *testing.T) {
	clock := governance.NewManualClock(t0)
	pm := pmfake.New(pmfake.Options{Token: "delegated", Now: clock.Now})
	t.Cleanup(pm.Close)
	pm.AddUser(pmfake.User{ID: entraCarol, Mail: "carol@example.com", UserPrincipalName: "carol@example.com", DisplayName: "Carol"})
	be, err := pm.Backend(clock)
	require.NoError(t, err)
	w := newBackendWorld(t, permissionsCatalog, clock, be)

	assert.Contains(t, ephemeral(t, w.command("UCAROL", "request gcp-viewer for 2h because incident 4711")), "AR-1")
	w.aliceApproves("AR-1")

	created := pm.Created()
	require.Len(t, created, 1)
	assert.Equal(t, map[string]any{"duration": "PT2H"}, created[0]["scheduleInfo"].(map[string]any)["expiration"])
	ticket := created[0]["ticketInfo"].(map[string]any)
	assert.Equal(t, "AR-1", ticket["ticketNumber"])
	assert.Equal(t, "accessbot", ticket["ticketSystem"])
	assert.Contains(t, created[0]["justification"], "incident 4711")
	definition := created[0]["requestedPermissions"].(map[string]any)
	assert.Equal(t, "acme-prod", definition["authorizationSystemInfo"].(map[string]any)["authorizationSystemId"])

	r, err := w.store.Get(t.Context(), "AR-1")
	require.NoError(t, err)
	require.Equal(t, governance.StateSubmitted, r.State, r.Failure)
	pm.SetStatus(r.Submission.ExternalID, "approved", "granted")
	w.sweepAfter(time.Minute)
	r, err = w.store.Get(t.Context(), "AR-1")
	require.NoError(t, err)
	assert.Equal(t, governance.StateActive, r.State, r.Failure)
	assert.Contains(t, strings.Join(w.dms("UCAROL"), "\n"), "Your access to GCP viewer on acme-prod `gcp-viewer` is active until")

	assert.Contains(t, ephemeral(t, w.command("UCAROL", "revoke gcp-viewer")), "is revoked")
	w.drain()
	var cancels int
	for _, c := range pm.Calls() {
		if c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/"+r.Submission.ExternalID+"/cancelAll") {
			cancels++
		}
	}
	assert.Equal(t, 1, cancels, "revoke is one cancelAll")
	got, _ := pm.Request(r.Submission.ExternalID)
	assert.Equal(t, "canceled", got.StatusDetail)
}
