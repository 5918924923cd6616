package voice_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/teams"
	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// slackText is a message as a Slack user reads it, its commands written as Teams writes
// them.
func slackText(t *testing.T, m voice.Message) string {
	t.Helper()
	blocks, _ := slack.Blocks(m)
	require.NoError(t, slack.CheckBlocks(blocks, slack.MaxMessageBlocks))
	b, err := json.Marshal(blocks)
	require.NoError(t, err)
	return strings.NewReplacer("`/access `", "`request`", "`/access`", "`request`", "`/access ", "`").Replace(slack.BlocksText(b))
}

func TestEveryMessage_SaysTheSameOnSlackAndTeams(t *testing.T) {
	for name, m := range everyMessage(func(*governance.Request) {}) {
		t.Run(name, func(t *testing.T) {
			want := slackText(t, m)
			require.NotEmpty(t, want)
			assert.Equal(t, want, teams.CardText(teams.Render(m)))
		})
	}
}

func TestEveryMessage_CommandsAreWrittenAsEachPlatformWritesThem(t *testing.T) {
	m := voice.RequestCreated(request(governance.StatePendingApproval))
	blocks, _ := slack.Blocks(m)
	b, err := json.Marshal(blocks)
	require.NoError(t, err)
	assert.Contains(t, slack.BlocksText(b), "Changed your mind? `/access cancel AR-7`")
	assert.Contains(t, teams.CardText(teams.Render(m)), "Changed your mind? `cancel AR-7`")

	help := teams.CardText(teams.Render(voice.Help(nil)))
	assert.Contains(t, help, "`request` — open a form", "Slack's bare /access is `request` in Teams")
	assert.NotContains(t, help, "/access")
}

// A refusal's sentence comes from governance with its commands in backticks: they are
// written as each platform writes commands, and other quoted text stays code.
func TestError_CommandsInARefusalAreWrittenAsEachPlatformWritesThem(t *testing.T) {
	m := voice.Error(&governance.Problem{Err: governance.ErrNotPending,
		Message: "AR-3 is active; to give it up, `revoke AR-3`. Durations look like `8h`."}, "")
	blocks, _ := slack.Blocks(m)
	b, err := json.Marshal(blocks)
	require.NoError(t, err)
	assert.Contains(t, slack.BlocksText(b), "to give it up, `/access revoke AR-3`. Durations look like `8h`.")
	assert.Contains(t, teams.CardText(teams.Render(m)), "to give it up, `revoke AR-3`. Durations look like `8h`.")
	odd := voice.Error(&governance.Problem{Err: governance.ErrBadCommand, Message: "I don't know \"`x\"."}, "")
	assert.Contains(t, teams.CardText(teams.Render(odd)), "x", "an unpaired backtick is text")
}

func TestEveryMessage_TheComparisonSeesADroppedSentence(t *testing.T) {
	m := voice.Notice(governance.Notice{Kind: governance.NoticeEnded, Request: request(governance.StateExpired)})
	card := teams.Render(m)
	body := card["body"].([]any)
	tb := body[0].(map[string]any)
	tb["text"] = strings.Split(tb["text"].(string), ". Ask again")[0] + "."
	assert.NotEqual(t, slackText(t, m), teams.CardText(card), "a Teams card without the what-to-do-next sentence differs")
}

func TestEveryMessage_UserTextCanNeitherPingNorFormatOnEitherPlatform(t *testing.T) {
	const hostile = "<!channel> <@U123> @here <https://evil.example|click> [here](https://evil.example) **now** <at>Everyone</at> {{DATE(2020-01-01T00:00:00Z)}}"
	mallory := governance.Person{Email: "mallory@example.com", Name: hostile}
	for name, m := range everyMessage(func(r *governance.Request) {
		r.Reason, r.Failure, r.Item.Name, r.Item.Backend, r.Requester = hostile, hostile, hostile, hostile, mallory
		if r.Decision != nil {
			r.Decision.By, r.Decision.Reason = mallory, hostile
		}
		if r.Submission != nil {
			r.Submission.Waiting = hostile
		}
	}) {
		t.Run(name, func(t *testing.T) {
			blocks, fallback := slack.Blocks(m)
			out, err := json.Marshal(blocks)
			require.NoError(t, err)
			decoded := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(out)) + fallback
			for _, bad := range []string{"<!channel>", "<@U123>", "<https://evil", "@here"} {
				assert.NotContains(t, decoded, bad, "slack")
			}
			card, err := json.Marshal(teams.Render(m))
			require.NoError(t, err)
			for _, bad := range []string{"[here](", "**now**", "<at>", "{{DATE(2020"} {
				assert.NotContains(t, strings.NewReplacer(`\u003c`, "<", `\u003e`, ">").Replace(string(card)), bad, "teams")
			}
		})
	}
}

func TestButtons_FollowTheRequestsLifecycle(t *testing.T) {
	tests := []struct {
		name string
		m    voice.Message
		want []voice.Action
	}{
		{"approval card, pending", voice.ApprovalCard(request(governance.StatePendingApproval)), []voice.Action{voice.Approve, voice.Deny}},
		{"approval card, decided", voice.ApprovalCard(request(governance.StateDenied)), nil},
		{"reminder, pending", voice.Notice(governance.Notice{Kind: governance.NoticeReminder, Request: request(governance.StatePendingApproval)}),
			[]voice.Action{voice.Approve, voice.Deny}},
		{"reminder, decided meanwhile", voice.Notice(governance.Notice{Kind: governance.NoticeReminder, Request: request(governance.StateApproved)}), nil},
		{"expiry warning, active", voice.Notice(governance.Notice{Kind: governance.NoticeExpiring, Request: request(governance.StateActive)}),
			[]voice.Action{voice.Extend}},
		{"expiry warning, already ended", voice.Notice(governance.Notice{Kind: governance.NoticeExpiring, Request: request(governance.StateExpired)}), nil},
		{"any other notice", voice.Notice(governance.Notice{Kind: governance.NoticeActive, Request: request(governance.StateActive)}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []voice.Action
			for _, b := range tt.m.Buttons {
				got = append(got, b.Action)
				assert.Equal(t, "AR-7", b.Request.ID)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// Small wordings a walk-through found wrong: one approver is "they", a backend is named as
// people name it, a form's field error holds no command syntax, and the deny form labels
// the requester's reason.
func TestWording_SaysItAsPeopleDo(t *testing.T) {
	r := request(governance.StatePendingApproval)
	r.Approvers = r.Approvers[:1]
	received := teams.CardText(teams.Render(voice.Notice(governance.Notice{Kind: governance.NoticeReceived, Request: r})))
	assert.Contains(t, received, "You will hear here when they decide.")
	r.Item.Backend = "sailpoint"
	assert.Contains(t, teams.CardText(teams.Render(voice.Revoked(r))), "SailPoint is removing it now")

	err := &governance.Problem{Err: governance.ErrJustificationRequired, Field: "reason",
		Message: "Payroll needs a reason. Add one: `request payroll for 8h because <why you need it>`."}
	assert.Equal(t, "Payroll needs a reason.", voice.FieldErrorText(err, ""))

	deny := voice.DenyForm(request(governance.StatePendingApproval))
	assert.Contains(t, teams.CardText(teams.FormCard(deny, teams.VerbDeny)), "Their reason")
}

// A list longer than a platform shows ends with the same "…and N more" on both: Slack
// where its 50 blocks end, Teams after a page of rows (with a button for the next).
func TestLists_EndWithTheSameMoreOnBothPlatforms(t *testing.T) {
	var rs []*governance.Request
	for i := range 40 {
		rs = append(rs, variant(governance.StatePendingApproval, func(r *governance.Request) { r.ID = fmt.Sprintf("AR-%d", i+1) }))
	}
	m := voice.Pending(rs)
	slackLast := lastLine(slackText(t, m))
	assert.Regexp(t, `^…and \d+ more — decide these, then `+"`pending`"+` shows the rest\.$`, slackLast)
	teamsText := teams.CardText(teams.Render(m))
	assert.Contains(t, teamsText, "\n  …and 30 more — decide these, then `pending` shows the rest.\n[ "+voice.ShowMore(10)+" ]")
	assert.Equal(t, "Show 10 more", voice.ShowMore(10))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// A card about one of the backend's approvals has Approve and Deny for the people it asks
// and a link to it in the backend on both platforms; anyone else's card has no buttons.
func TestDeskCard_ButtonsForTheApproversAndALinkIntoTheBackend(t *testing.T) {
	r := request(governance.StateSubmitted)
	r.Item.Backend = "sailpoint"
	link := "https://acme.identitynow.com/ui/d/approvals"
	r.Desk = &governance.Desk{Approvals: []governance.BackendApproval{{ID: "a1", Owner: "Alice",
		Approvers: []governance.Person{alice}, Status: governance.ApprovalPending, Step: 1, Steps: 2, StepName: "manager", Link: link}}}
	m := voice.CardFor(r, alice)
	var got []voice.Action
	for _, b := range m.Buttons {
		got = append(got, b.Action)
	}
	assert.Equal(t, []voice.Action{voice.Approve, voice.Deny, voice.Forward, voice.Open}, got)
	assert.Contains(t, slackText(t, m), "1 of 2: manager")
	blocks, _ := slack.Blocks(m)
	sb, err := json.Marshal(blocks)
	require.NoError(t, err)
	assert.Contains(t, string(sb), `"url":"`+link+`"`)
	assert.Contains(t, string(sb), "Open in SailPoint")
	tb, err := json.Marshal(teams.Render(m))
	require.NoError(t, err)
	assert.Contains(t, string(tb), `"type":"Action.OpenUrl"`)
	assert.Contains(t, string(tb), link)
	assert.Empty(t, voice.CardFor(r, bob).Buttons, "Bob is not asked")
}

// The home view lists the person's connected accounts where some backend connects them,
// and says how to connect one; where none does, the section is not there.
func TestHome_ShowsConnectedAccounts(t *testing.T) {
	text := func(ms []voice.Message) string {
		var all []string
		for _, m := range ms {
			all = append(all, slackText(t, m))
		}
		return strings.Join(all, "\n")
	}
	h := governance.Home{Person: carol, CanConnect: []string{"sailpoint"},
		Accounts: []governance.Connection{{Backend: "sailpoint", As: governance.Identity{Email: "carol@example.com"}, Since: t0}}}
	got := text(voice.Home(h))
	assert.Contains(t, got, "Your connected accounts")
	assert.Contains(t, got, "SailPoint as carol@example.com, since 2026-11-23 09:00 UTC")
	assert.Contains(t, got, "Connect an account: `connect sailpoint`")
	assert.NotContains(t, text(voice.Home(governance.Home{Person: carol})), "connected accounts")
}

// Every line allocates its spans, so a Span is kept to 64 bytes (a time, two strings and
// the small kind, style and limit packed in one word).
func TestSpan_IsSixtyFourBytes(t *testing.T) {
	assert.Equal(t, uintptr(64), unsafe.Sizeof(voice.Span{}))
}
