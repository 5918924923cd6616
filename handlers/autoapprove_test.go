package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/governancetest"
	"github.com/accessbot/accessbot/governance/pagerduty"
	"github.com/accessbot/accessbot/governance/pagerduty/pdfake"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

const pdKey = "y_NbAkKc66ryYTWUXYEu"

// autoCatalog has an item approved at once for whoever is on call for PSCHED1, up to 4h.
const autoCatalog = `
items:
  - id: prod-shell
    name: Production shell
    backend: builtin
    defaultDuration: 2h
    approvers: ["Bob <bob@example.com>"]
    autoApprove:
      - pagerduty:
          schedules: [PSCHED1]
        maxDuration: 4h
`

// newAutoWorld is a world of autoCatalog with a fake PagerDuty where Carol is user PCAROL.
func newAutoWorld(t *testing.T) (*world, *pdfake.Server) {
	pd := pdfake.Start(t, pdKey)
	pd.AddUser(pdfake.User{ID: "PCAROL", Name: "Carol", Email: "carol@example.com"})
	client, err := pagerduty.New(pagerduty.Options{BaseURL: pd.URL, APIKey: pdKey, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	w := &world{t: t, prefix: redistest.Prefix(t), clock: governance.NewManualClock(t0), slack: slackfake.Start(t, people...),
		logs: &governancetest.Logs{}, catalog: autoCatalog, onCall: client, workspaces: slackbot.Workspaces{Teams: []string{slackfake.TeamID}}}
	w.slack.AddChannel("CADMINS")
	w.start()
	return w, pd
}

func TestAutoApproval_OnCallIsApprovedAtOnceAndNeverSilently(t *testing.T) {
	w, pd := newAutoWorld(t)
	pd.SetOnCall(pdfake.OnCall{UserID: "PCAROL", ScheduleID: "PSCHED1", PolicyID: "PPOL1", Level: 1})

	answer := w.ask("UCAROL", "request prod-shell for 1h because INC-7 paged")
	assert.Contains(t, answer, "Request AR-1 for Production shell `prod-shell`, 1h, was approved automatically: you are on call in PagerDuty (schedule PSCHED1)")
	assert.Equal(t, governance.StateActive, w.state("AR-1"))
	assert.NotEmpty(t, w.grantEnd("AR-1"), "granted")

	bob := w.dmText("UBOB")
	assert.Contains(t, bob, "FYI: Carol (carol@example.com) asked for Production shell `prod-shell` (1h) — request AR-1 — and it was approved automatically, without you")
	assert.NotContains(t, bob, "Approve", "an FYI asks nothing of the approver")
	dave := w.lastDM("UDAVE")
	assert.Contains(t, dave, "As an admin you may revoke it.")
	assert.Contains(t, dave, "Revoke")
	assert.Contains(t, w.dmText("UCAROL"), "was approved automatically: you are on call in PagerDuty (schedule PSCHED1)")

	calls := pd.Calls()
	require.Len(t, calls, 2)
	assert.Equal(t, "Token token="+pdKey, calls[1].Auth)
	assert.Equal(t, url.Values{"user_ids[]": {"PCAROL"}, "schedule_ids[]": {"PSCHED1"}, "limit": {"100"}}, calls[1].Query)

	var approve []governance.AuditRecord
	require.NoError(t, w.store.Audit(context.Background(), t0.Add(-time.Hour), t0.Add(time.Hour), func(a governance.AuditRecord) error {
		if a.Event == governance.EventApprove {
			approve = append(approve, a)
		}
		return nil
	}))
	require.Len(t, approve, 1)
	assert.Equal(t, governance.SystemActor, approve[0].Actor)
	assert.Equal(t, "auto-approved: requester is on call in PagerDuty (schedule PSCHED1)", approve[0].Detail)

	// The admin revokes it from the FYI.
	w.click("UDAVE", slackbot.ActionRevoke, "AR-1")
	assert.Contains(t, w.replies("UDAVE", 1)[0], "is revoked")
	w.drain()
	assert.Equal(t, governance.StateRevoked, w.state("AR-1"))
}

func TestAutoApproval_OffCallLongerOrPagerDutyFailingOrSlowAsksTheApprovers(t *testing.T) {
	tests := []struct {
		name string
		text string
		set  func(pd *pdfake.Server)
	}{
		{"off call", "request prod-shell for 1h because INC-7", func(pd *pdfake.Server) {
			pd.SetOnCall(pdfake.OnCall{UserID: "PSOMEONE", ScheduleID: "PSCHED1", PolicyID: "PPOL1", Level: 1})
		}},
		{"on call for another schedule", "request prod-shell for 1h because INC-7", func(pd *pdfake.Server) {
			pd.SetOnCall(pdfake.OnCall{UserID: "PCAROL", ScheduleID: "POTHER", PolicyID: "PPOL1", Level: 1})
		}},
		{"longer than the rule allows", "request prod-shell for 8h because INC-7", func(pd *pdfake.Server) {
			pd.SetOnCall(pdfake.OnCall{UserID: "PCAROL", ScheduleID: "PSCHED1", PolicyID: "PPOL1", Level: 1})
		}},
		{"PagerDuty failing", "request prod-shell for 1h because INC-7", func(pd *pdfake.Server) {
			pd.SetOnCall(pdfake.OnCall{UserID: "PCAROL", ScheduleID: "PSCHED1", PolicyID: "PPOL1", Level: 1})
			pd.Fail(http.StatusServiceUnavailable)
		}},
		{"PagerDuty too slow", "request prod-shell for 1h because INC-7", func(pd *pdfake.Server) {
			pd.SetOnCall(pdfake.OnCall{UserID: "PCAROL", ScheduleID: "PSCHED1", PolicyID: "PPOL1", Level: 1})
			pd.Hang()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, pd := newAutoWorld(t)
			tt.set(pd)
			assert.Contains(t, w.ask("UCAROL", tt.text), "is waiting for Bob")
			assert.Equal(t, governance.StatePendingApproval, w.state("AR-1"))
			assert.Contains(t, w.card("UBOB"), "Approve", "Bob decides, as usual")
			assert.Empty(t, w.dms("UDAVE"), "no FYI")
		})
	}
}

// Teams carries the Revoke button too: the holder (here) or an admin ends the access from it.
func TestTeams_TheRevokeButtonEndsTheAccess(t *testing.T) {
	w := newTeamsWorld(t)
	w.install("29:carol")
	w.sayTeams("29:carol", "request vpn for 1h because travelling")
	w.drain()
	w.approve("UBOB", "AR-1")
	require.Equal(t, governance.StateActive, w.state("AR-1"))
	assert.Contains(t, w.execute("29:alice", "revoke", "AR-1", nil)["value"], "There is no request AR-1", "Alice has no part in it")
	resp := w.execute("29:carol", "revoke", "AR-1", nil)
	assert.Contains(t, teamsfake.CardText(resp["value"]), "Your access to **Office VPN** `vpn` (request **AR-1**) is revoked")
	assert.Equal(t, governance.StateRevoked, w.state("AR-1"))
}
