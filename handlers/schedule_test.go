package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/governancetest"
)

func (w *world) sweepAfter(d time.Duration) {
	w.t.Helper()
	w.clock.Advance(d)
	governancetest.SweepAll(w.t, w.svc)
	w.drain()
}

func TestScheduleCommand_ShowsThePlanToThoseInvolved(t *testing.T) {
	w := newWorld(t)
	ephemeral(t, w.command("UCAROL", "request vpn because travelling"))
	plan := ephemeral(t, w.command("UCAROL", "schedule AR-1"))
	for _, want := range []string{"AR-1", "waiting for approval", "2026-11-26 09:00 UTC — reminder 1", "2026-11-27 09:00 UTC — escalation 1", "2026-12-07 09:00 UTC — timeout"} {
		assert.Contains(t, plan, want)
	}
	assert.Contains(t, ephemeral(t, w.command("UALICE", "schedule AR-1")), "There is no request AR-1; ")

	w.drain()
	w.sweepAfter(3 * governance.Day)
	assert.Contains(t, ephemeral(t, w.command("UBOB", "schedule AR-1")), "✓ 2026-11-26 09:00 UTC — reminder 1", "done steps are marked")
}

func TestReminderAndEscalation_ThroughSlack(t *testing.T) {
	w := newWorld(t)
	w.ask("UCAROL", "request vpn because travelling")

	w.sweepAfter(3 * governance.Day)
	bob := w.dms("UBOB")
	require.Len(t, bob, 2, "the card, then the reminder")
	assert.Contains(t, bob[1], "Reminder")
	assert.Contains(t, bob[1], "[ Approve ] [ Deny ]", "the reminder's buttons work like the card's")
	assert.Contains(t, bob[1], "Open the original card")
	assert.Contains(t, bob[1], "archives/DUBOB/p", "the link points at Bob's card")

	w.sweepAfter(governance.Day)
	require.Len(t, w.dms("UERIN"), 1, "the fallback approver gets a card")
	assert.Contains(t, w.dms("UERIN")[0], "[ Approve ] [ Deny ]")
	assert.Contains(t, strings.Join(w.dms("UCAROL"), "\n"), "erin@example.com")
	alerts := w.slack.Messages("CADMINS")
	require.Len(t, alerts, 1, "the admin channel is alerted")
	alert := slackbot.BlocksText(alerts[0].Blocks)
	assert.Contains(t, alert, "Escalated")
	assert.Contains(t, alert, "[ Approve ] [ Deny ]")

	// Dave is an admin: after escalation he may decide from the alert.
	w.approve("UDAVE", "AR-1")
	r, err := w.store.Get(context.Background(), "AR-1")
	require.NoError(t, err)
	assert.Equal(t, governance.StateActive, r.State)
	assert.Equal(t, "dave@example.com", r.Decision.By.Email)
	assert.NotContains(t, slackbot.BlocksText(w.slack.Messages("CADMINS")[0].Blocks), "[ Approve ]", "the alert is updated too")
}

func TestDigest_ArrivesAsADMWithWorkingButtons(t *testing.T) {
	w := newWorld(t)
	w.ask("UCAROL", "request vpn because travelling")
	n, err := w.svc.Digest(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only Bob has something waiting")
	bob := w.dms("UBOB")
	require.Len(t, bob, 2, "the card, then the digest")
	assert.Contains(t, bob[1], "Your access-request digest")
	assert.Contains(t, bob[1], "AR-1")
	assert.Contains(t, bob[1], "[ Approve ] [ Deny ]")
}

func TestExtend_FromTheExpiryWarning(t *testing.T) {
	w := newWorld(t)
	ephemeral(t, w.command("UCAROL", "request vpn because travelling")) // 30d by default
	w.drain()
	w.approve("UBOB", "AR-1")

	w.sweepAfter(30*governance.Day - time.Hour) // the 1h warning
	told := w.dms("UCAROL")
	warning := told[len(told)-1]
	assert.Contains(t, warning, "ends")
	assert.Contains(t, warning, "[ Extend ]")

	w.click("UERIN", slackbot.ActionExtend, "AR-1")
	assert.Contains(t, w.replies("UERIN", 1)[0], "There is no request AR-1", "a stranger learns nothing")

	w.click("UCAROL", slackbot.ActionExtend, "AR-1")
	assert.Contains(t, w.replies("UCAROL", 1)[0], "AR-2")
	w.drain()
	assert.Contains(t, w.card("UBOB"), "Access request AR-1", "Bob's first card")
	card := w.lastDM("UBOB")
	assert.Contains(t, card, "Extension request AR-2")
	assert.Contains(t, card, "Extends: AR-1 by 30d, until", "what it extends, by how much, until when")

	w.approve("UBOB", "AR-2")
	assert.Equal(t, t0.Add(60*governance.Day), w.grantEnd("AR-1"), "the grant now runs 30 more days")
}

func TestExtend_ByCommandForAnotherDuration(t *testing.T) {
	w := newWorld(t)
	w.ask("UCAROL", "request vpn for 2d because travelling")
	w.approve("UBOB", "AR-1")
	answer := ephemeral(t, w.command("UCAROL", "extend AR-1 for 1 day"))
	assert.Contains(t, answer, "You asked to extend AR-1 by 1d, until")
	assert.Contains(t, answer, "request AR-2 is waiting for")
	w.drain()
	card := w.lastDM("UBOB")
	assert.Contains(t, card, "Extension request AR-2")
	assert.Contains(t, card, "Extends: AR-1 by 1d, until")
	w.approve("UBOB", "AR-2")
	assert.Equal(t, t0.Add(3*governance.Day), w.grantEnd("AR-1"), "2 days, then 1 more")
}
