package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

var (
	alice = governance.Person{Email: "alice@example.com", Name: "Alice"}
	bob   = governance.Person{Email: "bob@example.com", Name: "Bob"}
	carol = governance.Person{Email: "carol@example.com", Name: "Carol"}
)

func pendingRequest() *governance.Request {
	return &governance.Request{ID: "AR-7", Version: 1, State: governance.StatePendingApproval, Requester: carol,
		Item: governance.ItemRef{ID: "prod-db", Name: "Production database", Backend: "builtin"}, Duration: 8 * time.Hour,
		Reason: "INC-1", Approvers: []governance.Person{alice, bob}, CreatedAt: t0}
}

// wire encodes v as Slack receives it (encoding/json's default would hide "<" as \u003c).
func wire(t *testing.T, v any) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return b.String()
}

// noticeText is a notice as a person reads it.
func noticeText(n governance.Notice) string {
	blocks, _ := Blocks(voice.Notice(n))
	b, _ := json.Marshal(blocks)
	return BlocksText(b)
}

// text renders blocks as a person reads them.
func text(t *testing.T, blocks []slackapi.Block) string {
	t.Helper()
	b, err := json.Marshal(blocks)
	require.NoError(t, err)
	return BlocksText(b)
}

const hostile = "<!channel> <@U123> <!here|here> <https://evil.example|click> @here @Channel @everyone & done"

func TestEscape_NoMentionOrLinkCanBeInjected(t *testing.T) {
	got := Escape(hostile)
	for _, bad := range []string{"<!", "<@", "<http", "@here", "@Channel", "@everyone"} {
		assert.NotContains(t, got, bad)
	}
	assert.Contains(t, got, "&amp; done")
	assert.Equal(t, "a &lt;b&gt; &amp;", Escape("a <b> &"))
	assert.Equal(t, "alice@here.example", Escape("alice@here.example"), "an e-mail address is not a broadcast")
	assert.Equal(t, "@\u200bhere, please", Escape("@here, please"))
}

func TestEscape_CutsNeverSplitAnEntity(t *testing.T) {
	got := escapeN(strings.Repeat("&", 100), 12)
	assert.Equal(t, "&amp;&amp;…", got)
	assert.Equal(t, "abc", escapeN("abc", 3), "text that fits is not cut")
}

func TestCutMrkdwn_NeverLeavesHalfAToken(t *testing.T) {
	s := "x" + Date(t0)
	got := cutMrkdwn(s, 20)
	assert.Equal(t, "x…", got)
}

func TestApprovalCard_PendingShowsEverythingAnApproverNeeds(t *testing.T) {
	r := pendingRequest()
	blocks, fallback := Blocks(voice.ApprovalCard(r))
	got := text(t, blocks)
	for _, want := range []string{"Access request AR-7", "Requester: Carol (carol@example.com)", "Item: Production database `prod-db`",
		"Duration: 8h", "Requested: 2026-11-23 09:00 UTC", "> INC-1", "[ Approve ] [ Deny ]", "Request AR-7"} {
		assert.Contains(t, got, want)
	}
	w := wire(t, blocks)
	assert.Contains(t, w, `"action_id":"approve","value":"AR-7"`)
	assert.Contains(t, w, `"action_id":"deny","value":"AR-7"`)
	assert.Contains(t, w, `"style":"primary"`)
	assert.Contains(t, w, `"style":"danger"`)
	assert.Contains(t, w, "<!date^1795424400^{date_short_pretty} at {time}|2026-11-23 09:00 UTC>", "times show in each reader's zone")
	assert.Equal(t, "Carol asks for Production database (8h) — request AR-7 is waiting for your decision.", fallback)
	assert.NoError(t, CheckBlocks(blocks, MaxMessageBlocks))
}

func TestApprovalCard_DecidedCancelledOrTimedOutHasNoButtons(t *testing.T) {
	tests := []struct {
		name  string
		apply func(r *governance.Request)
		want  string
	}{
		{"approved", func(r *governance.Request) {
			r.State = governance.StateActive
			r.Decision = &governance.Decision{By: alice, Approved: true, At: t0.Add(time.Hour)}
		}, "✅ Approved by Alice (alice@example.com) at 2026-11-23 10:00 UTC."},
		{"denied", func(r *governance.Request) {
			r.State = governance.StateDenied
			r.Decision = &governance.Decision{By: bob, Reason: "use the bastion", At: t0.Add(time.Hour)}
		}, "❌ Denied by Bob (bob@example.com) at 2026-11-23 10:00 UTC:\n> use the bastion"},
		{"cancelled", func(r *governance.Request) {
			r.State = governance.StateCancelled
			r.CancelledAt = t0.Add(time.Minute)
		}, "🚫 Cancelled by requester Carol (carol@example.com) at 2026-11-23 09:01 UTC."},
		{"timed out", func(r *governance.Request) { r.State = governance.StateTimedOut }, "⌛ Timed out: nobody decided in time."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := pendingRequest()
			tt.apply(r)
			blocks, fallback := Blocks(voice.ApprovalCard(r))
			got := text(t, blocks)
			assert.Contains(t, got, tt.want)
			assert.NotContains(t, got, "[ Approve ]")
			assert.NotContains(t, wire(t, blocks), `"actions"`)
			assert.Contains(t, fallback, "Request AR-7: ")
		})
	}
}

func TestRendering_UserTextCannotPingAnyoneAnywhere(t *testing.T) {
	r := pendingRequest()
	r.Reason = hostile
	r.Requester.Name = "<@U999> Mallory @here"
	r.Item.Name = "DB <!here>"
	r.Failure = hostile
	r.Decision = &governance.Decision{By: governance.Person{Email: "x@example.com", Name: "<!everyone>"}, Reason: hostile, At: t0}
	r.Submission = &governance.Submission{End: t0.Add(time.Hour)}

	var outputs []string
	card, fallback := Blocks(voice.ApprovalCard(r))
	outputs = append(outputs, wire(t, card), fallback)
	for _, kind := range []governance.NoticeKind{governance.NoticeReceived, governance.NoticeApproved, governance.NoticeDenied,
		governance.NoticeFailed, governance.NoticeReminder, governance.NoticeEscalated, governance.NoticeExpiring} {
		blocks, fallback := Blocks(voice.Notice(governance.Notice{Kind: kind, Request: r}))
		outputs = append(outputs, wire(t, blocks), fallback)
	}
	alert, fallback := Blocks(voice.AdminAlert(r))
	outputs = append(outputs, wire(t, alert), fallback)
	for _, m := range []Message{Reply(voice.RequestCreated(r)), Reply(voice.Cancelled(r)), Reply(voice.Approved(r)), Reply(voice.Status([]*governance.Request{r})),
		Reply(voice.Pending([]*governance.Request{r})), Reply(voice.Error(&governance.Problem{Message: hostile}, ""))} {
		outputs = append(outputs, wire(t, m))
	}
	outputs = append(outputs, wire(t, DenyForm(r)), wire(t, Reply(voice.Help([]governance.Item{{ID: "x", Name: hostile, Description: hostile}}))))

	for i, out := range outputs {
		for _, bad := range []string{"<!channel>", "<@U123>", "<@U999>", "<!here", "<!everyone>", "<https://evil", "@here", "@Channel", "@everyone"} {
			assert.NotContains(t, out, bad, "output %d", i)
		}
	}
}

func TestNoticeText_EveryKindSaysSomethingUseful(t *testing.T) {
	r := pendingRequest()
	r.Decision = &governance.Decision{By: alice, Approved: true, At: t0}
	r.Submission = &governance.Submission{End: t0.Add(8 * time.Hour)}
	r.Failure = "the access system refused"
	for kind, want := range map[governance.NoticeKind]string{
		governance.NoticeReceived:  "Your request AR-7 for Production database `prod-db` (8h) went to Alice, Bob for approval.",
		governance.NoticeApproved:  "Alice (alice@example.com) approved your request AR-7",
		governance.NoticeSubmitted: "was handed to the access system",
		governance.NoticeActive:    "Your access to Production database `prod-db` is active until 2026-11-23 17:00 UTC (request AR-7).",
		governance.NoticeFailed:    "could not be granted: the access system refused.",
		governance.NoticeCancelled: "Your request AR-7 for Production database `prod-db` was cancelled.",
		governance.NoticeReminder:  "Reminder: Carol (carol@example.com) has been waiting since 2026-11-23 09:00 UTC for your decision on AR-7",
		governance.NoticeEscalated: "so it went to Bob (bob@example.com) as well",
		governance.NoticeTimedOut:  "Nobody decided your request AR-7",
		governance.NoticeExpiring:  "ends 2026-11-23 17:00 UTC",
		governance.NoticeEnded:     "has ended",
	} {
		req := *r
		if kind != governance.NoticeFailed {
			req.Failure = "" // set only when the backend ended the request
		}
		assert.Contains(t, noticeText(governance.Notice{Kind: kind, Request: &req}), want, kind)
	}

	// Outcomes the backend decided after the chat approval say so, in its words.
	backend := *r
	backend.Failure = "rejected by Olivia Owner: not without a ticket"
	backend.Submission = &governance.Submission{Waiting: "approval in sailpoint by Olivia Owner"}
	backend.RevokedBy = &bob
	for kind, want := range map[governance.NoticeKind]string{
		governance.NoticeDenied:    "was approved here but denied in the access system: rejected by Olivia Owner: not without a ticket",
		governance.NoticeCancelled: "was cancelled in the access system: rejected by Olivia Owner",
		governance.NoticeTimedOut:  "lapsed in the access system: rejected by Olivia Owner",
		governance.NoticeWaiting:   "is waiting for approval in sailpoint by Olivia Owner.",
		governance.NoticeRevoked:   "Bob (bob@example.com) revoked your access to Production database `prod-db` (request AR-7)",
	} {
		assert.Contains(t, noticeText(governance.Notice{Kind: kind, Request: &backend}), want, kind)
	}
	backend.Duplicate, backend.Failure = true, "you already have it in SailPoint"
	assert.Contains(t, noticeText(governance.Notice{Kind: governance.NoticeFailed, Request: &backend}),
		"Nothing new was requested for AR-7 (Production database `prod-db`): you already have it in SailPoint")

	r.Decision = &governance.Decision{By: bob, Reason: "not today"}
	assert.Contains(t, noticeText(governance.Notice{Kind: governance.NoticeDenied, Request: r}),
		"Bob (bob@example.com) denied your request AR-7 for Production database `prod-db`:\n> not today")
	r.Submission.End = time.Time{}
	assert.Contains(t, noticeText(governance.Notice{Kind: governance.NoticeActive, Request: r}), "active, with no end")
}

func TestNoticeBlocks_AReminderCarriesWorkingButtons(t *testing.T) {
	blocks, _ := Blocks(voice.Notice(governance.Notice{Kind: governance.NoticeReminder, Request: pendingRequest()}))
	assert.Contains(t, text(t, blocks), "[ Approve ] [ Deny ]")
	blocks, _ = Blocks(voice.Notice(governance.Notice{Kind: governance.NoticeActive, Request: pendingRequest()}))
	assert.NotContains(t, text(t, blocks), "[ Approve ]")
}

func TestMessages_AreEphemeralAndNeverReplaceTheOriginal(t *testing.T) {
	r := pendingRequest()
	m := Reply(voice.RequestCreated(r))
	w := wire(t, m)
	assert.Contains(t, w, `"response_type":"ephemeral"`)
	assert.Contains(t, w, `"replace_original":false`)
	got := BlocksText([]byte(wire(t, m.Blocks)))
	assert.Contains(t, got, "Request AR-7 for Production database `prod-db`, 8h, is waiting for Alice, Bob.")
	assert.Contains(t, got, "`/access cancel AR-7`")
}

func TestErrorMessage_ProblemsSpeakForThemselvesOtherErrorsApologiseWithARef(t *testing.T) {
	p := &governance.Problem{Err: governance.ErrNotApprover, Message: "You are not an approver of AR-7."}
	assert.Equal(t, "⚠️ You are not an approver of AR-7.", ResponseText([]byte(wire(t, Reply(voice.Error(fmt.Errorf("wrapped: %w", p), ""))))))
	got := ResponseText([]byte(wire(t, Reply(voice.Error(errors.New("redis: connection refused"), "ab12cd34")))))
	assert.Equal(t, "⚠️ Something went wrong on our side; try again in a minute. (ref ab12cd34)", got)
	assert.NotContains(t, got, "redis", "internal detail stays in the log")
}

func TestHelp_ListsEveryCommandWithExamplesAndTheCatalog(t *testing.T) {
	items := []governance.Item{
		{ID: "prod-db", Name: "Production database", Description: "read-only", DefaultDuration: 8 * time.Hour, MaxDuration: 7 * governance.Day, JustificationRequired: true},
		{ID: "vpn", Name: "Office VPN", DefaultDuration: 30 * governance.Day},
	}
	got := BlocksText([]byte(wire(t, Reply(voice.Help(items)).Blocks)))
	for _, want := range []string{"/access request <item> [for <duration>] [because <reason>]", "/access request prod-db-read for 8h because",
		"/access status", "/access pending", "/access cancel AR-7", "/access help", "`/access` — open a form",
		"`prod-db` Production database — read-only\n   default 8h, at most 7d; a reason is required", "`vpn` Office VPN\n   default 30d"} {
		assert.Contains(t, got, want)
	}
}

// bareAngles returns each "<" in s that opens no Slack mention, link or date, with what
// follows it: Slack reads "<…>" in mrkdwn as a control sequence, so "<item>" would vanish.
func bareAngles(s string) []string {
	var bare []string
	for i := range len(s) {
		rest := s[i:]
		if s[i] == '<' && !slices.ContainsFunc([]string{"<@", "<#", "<!", "<http", "<mailto:"}, func(p string) bool { return strings.HasPrefix(rest, p) }) {
			bare = append(bare, rest[:min(len(rest), 20)])
		}
	}
	return bare
}

func TestHelpStatusAndUsage_NoBareAngleBracketReachesSlack(t *testing.T) {
	var many []governance.Item
	for i := range 400 {
		many = append(many, governance.Item{ID: fmt.Sprintf("item-%d", i), Name: strings.Repeat("n", 200), Description: strings.Repeat("d", 300)})
	}
	catalog := []governance.Item{{ID: "prod-db", Name: "Production database", JustificationRequired: true},
		{ID: "sailpoint", Name: "Anything in SailPoint", Search: true, Backend: "sailpoint"}}
	var rs []*governance.Request
	for i := range 80 {
		r := pendingRequest()
		r.ID = fmt.Sprintf("AR-%d", i)
		rs = append(rs, r)
	}
	messages := map[string]any{
		"help":            Reply(voice.Help(catalog)),
		"help, long":      Reply(voice.Help(many)),
		"help, empty":     Reply(voice.Help(nil)),
		"status, none":    Reply(voice.Status(nil)),
		"status, long":    Reply(voice.Status(rs)),
		"pending, none":   Reply(voice.Pending(nil)),
		"pending, long":   Reply(voice.Pending(rs)),
		"request form":    RequestForm(append(many, catalog...)),
		"request created": Reply(voice.RequestCreated(pendingRequest())),
		"working":         Reply(voice.Working()),
		"schedule, none":  Reply(voice.Schedule(pendingRequest(), nil)),
	}
	for _, text := range []string{"request", "revoke", "sudo make me a sandwich", "cancel", "cancel soon"} {
		_, err := governance.ParseCommand(text)
		require.Error(t, err, text)
		messages["usage: "+text] = Reply(voice.Error(err, ""))
	}
	// slack-go marshals some blocks itself, with encoding/json's \u003c for "<".
	decoded := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")
	for name, m := range messages {
		assert.Empty(t, bareAngles(decoded.Replace(wire(t, m))), name)
	}
	assert.Equal(t, []string{"<item> for"}, bareAngles("<@U1> <#C1|x> <!here> <https://x|y> <mailto:a@b|a@b> <item> for"),
		"the check itself finds a bare <")
}

func TestStatusAndPending_ListStatesAndButtons(t *testing.T) {
	pending := pendingRequest()
	active := pendingRequest()
	active.ID, active.State = "AR-8", governance.StateActive
	active.Submission = &governance.Submission{End: t0.Add(time.Hour)}
	denied := pendingRequest()
	denied.ID, denied.State = "AR-9", governance.StateDenied
	denied.Decision = &governance.Decision{By: bob, Reason: "no"}

	status := BlocksText([]byte(wire(t, Reply(voice.Status([]*governance.Request{pending, active, denied})).Blocks)))
	assert.Contains(t, status, "AR-7 Production database `prod-db`, 8h — waiting for Alice, Bob")
	assert.Contains(t, status, "AR-8 Production database `prod-db`, 8h — active until 2026-11-23 10:00 UTC")
	assert.Contains(t, status, "AR-9 Production database `prod-db`, 8h — denied by Bob (bob@example.com): no")

	m := Reply(voice.Pending([]*governance.Request{pending}))
	assert.Contains(t, BlocksText([]byte(wire(t, m.Blocks))), "[ Approve ] [ Deny ]")
	assert.Contains(t, wire(t, m), `"action_id":"approve","value":"AR-7"`)
	assert.Contains(t, ResponseText([]byte(wire(t, Reply(voice.Pending(nil))))), "Nothing is waiting for your decision.")
	assert.Contains(t, ResponseText([]byte(wire(t, Reply(voice.Status(nil))))), "You have no requests yet.")
}

func TestBlockKitLimits_LongListsAreCutWithAPointerToTheRest(t *testing.T) {
	var rs []*governance.Request
	for i := range 80 {
		r := pendingRequest()
		r.ID = fmt.Sprintf("AR-%d", i)
		r.Reason = strings.Repeat("&", governance.MaxReasonLength)
		r.Requester.Name = strings.Repeat("n", 5000)
		rs = append(rs, r)
	}
	for name, m := range map[string]Message{"pending": Reply(voice.Pending(rs)), "status": Reply(voice.Status(rs))} {
		require.NoError(t, CheckBlocks(m.Blocks, MaxMessageBlocks), name)
		assert.Len(t, m.Blocks, MaxMessageBlocks, name)
		assert.Regexp(t, `…and \d+ more — `, BlocksText([]byte(wire(t, m.Blocks))), name)
	}
	assert.Contains(t, BlocksText([]byte(wire(t, Reply(voice.Status(rs)).Blocks))), "see `/access status`")

	var items []governance.Item
	for i := range 400 {
		items = append(items, governance.Item{ID: fmt.Sprintf("item-%d", i), Name: strings.Repeat("n", 200), Description: strings.Repeat("d", 300)})
	}
	require.NoError(t, CheckBlocks(Reply(voice.Help(items)).Blocks, MaxMessageBlocks))

	long := pendingRequest()
	long.Reason = strings.Repeat("<", governance.MaxReasonLength)
	long.Item.Name = strings.Repeat("&", 3000)
	card, _ := Blocks(voice.ApprovalCard(long))
	assert.NoError(t, CheckBlocks(card, MaxMessageBlocks), "escaping cannot push a card over a limit")
}

func TestCheckBlocks_RefusesWhatSlackWouldRefuse(t *testing.T) {
	button := func(action, value string) slackapi.Block {
		return slackapi.NewActionBlock("b", slackapi.NewButtonBlockElement(action, value, plain("Go", maxButtonText)))
	}
	tests := []struct {
		name   string
		blocks []slackapi.Block
		says   string
	}{
		{"too many blocks", make([]slackapi.Block, 51), "51 blocks"},
		{"section text over 3000", []slackapi.Block{slackapi.NewSectionBlock(slackapi.NewTextBlockObject("mrkdwn", strings.Repeat("x", 3001), false, false), nil, nil)}, "text is 3001"},
		{"button value over 2000", []slackapi.Block{button("approve", strings.Repeat("v", 2001))}, "button value is 2001"},
		{"action_id over 255", []slackapi.Block{button(strings.Repeat("a", 256), "AR-1")}, "action_id is 256"},
		{"block_id over 255", []slackapi.Block{slackapi.NewSectionBlock(mrkdwn("x", 10), nil, nil, slackapi.SectionBlockOptionBlockID(strings.Repeat("b", 256)))}, "block_id is 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckBlocks(tt.blocks, MaxMessageBlocks)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.says)
		})
	}
	assert.NoError(t, CheckBlocks([]slackapi.Block{button("approve", "AR-1")}, MaxMessageBlocks))
}

func TestRequestForm_TheCatalogAsASelectWithFieldsNamedLikeProblems(t *testing.T) {
	var items []governance.Item
	for i := range 150 {
		items = append(items, governance.Item{ID: fmt.Sprintf("item-%d", i), Name: strings.Repeat("n", 200)})
	}
	items = append(items, governance.Item{ID: strings.Repeat("i", 80), Name: "long id"})
	form := RequestForm(items)
	require.NoError(t, CheckView(form))
	w := wire(t, form)
	assert.Equal(t, maxOptions, strings.Count(w, `"value":"item-`), "a static select holds at most 100 options")
	assert.NotContains(t, w, strings.Repeat("i", 80), "an option value over 75 characters is left out")
	assert.Contains(t, w, `"callback_id":"request_form"`)
	for _, block := range []string{BlockItem, BlockDuration, BlockReason} {
		assert.Contains(t, w, `"block_id":"`+block+`"`)
	}
	assert.Contains(t, w, "e.g. 8h — empty means the item's default")
	assert.Contains(t, BlocksText([]byte(wire(t, form.Blocks.BlockSet))), "The list shows 100 of the 151 items")
	assert.Equal(t, []string{"item", "duration", "reason"}, []string{BlockItem, BlockDuration, BlockReason},
		"block ids are governance.Problem.Field values")
}

// A form that asks an approver for more (why they deny, whom to forward to) carries the
// request's id and nothing else, and has the blocks its answer is read from.
func TestDecisionForms_CarryOnlyTheRequestID(t *testing.T) {
	tests := []struct {
		name     string
		form     func(*governance.Request) slackapi.ModalViewRequest
		callback string
		blocks   []string
	}{
		{"deny", DenyForm, CallbackDenyReason, []string{"reason"}},
		{"forward", ForwardForm, CallbackForward, []string{"forward_to", "reason"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := pendingRequest()
			r.ID = "AR-123456789012"
			form := tt.form(r)
			require.NoError(t, CheckView(form))
			assert.Equal(t, tt.callback, form.CallbackID)
			assert.Equal(t, "AR-123456789012", form.PrivateMetadata)
			assert.LessOrEqual(t, len([]rune(form.Title.Text)), maxTitle)
			for _, block := range tt.blocks {
				assert.Contains(t, wire(t, form), `"block_id":"`+block+`"`)
			}
		})
	}
}

func TestCheckView_RefusesALongTitle(t *testing.T) {
	form := DenyForm(pendingRequest())
	form.Title = slackapi.NewTextBlockObject("plain_text", strings.Repeat("t", 25), false, false)
	assert.ErrorContains(t, CheckView(form), "title is 25 characters")
}

// The typed check must say exactly what the check of the JSON Slack receives says, for
// every kind of block it takes on, at and around each limit.
func TestCheckTyped_AgreesWithTheWireCheck(t *testing.T) {
	var blocks []slackapi.Block
	for _, n := range []int{0, 1, 75, 76, 150, 151, 255, 256, 2000, 2001, 3000, 3001} {
		s := strings.Repeat("é", n)
		txt := slackapi.NewTextBlockObject("mrkdwn", s, false, false)
		plainTxt := slackapi.NewTextBlockObject("plain_text", s, false, false)
		blocks = append(blocks,
			slackapi.NewSectionBlock(txt, nil, nil),
			slackapi.NewSectionBlock(nil, []*slackapi.TextBlockObject{txt, mrkdwn("x", 10)}, nil),
			slackapi.NewSectionBlock(mrkdwn("x", 10), nil, nil, slackapi.SectionBlockOptionBlockID(s)),
			slackapi.NewHeaderBlock(plainTxt),
			slackapi.NewHeaderBlock(plainTxt, slackapi.HeaderBlockOptionBlockID(s)),
			slackapi.NewDividerBlock(),
			slackapi.NewContextBlock(s, txt),
			slackapi.NewActionBlock("b", slackapi.NewButtonBlockElement(s, "v", plain("Go", 10))),
			slackapi.NewActionBlock("b", slackapi.NewButtonBlockElement("a", s, plain("Go", 10))),
			slackapi.NewActionBlock("b", slackapi.NewButtonBlockElement("a", "v", plainTxt)),
		)
	}
	var fields []*slackapi.TextBlockObject
	var buttons []slackapi.BlockElement
	var texts []slackapi.MixedElement
	for range 26 {
		fields = append(fields, mrkdwn("f", 10))
		buttons = append(buttons, slackapi.NewButtonBlockElement("a", "v", plain("Go", 10)))
		texts = append(texts, mrkdwn("c", 10))
	}
	blocks = append(blocks,
		slackapi.NewSectionBlock(nil, nil, nil),
		slackapi.NewSectionBlock(nil, fields[:10], nil), slackapi.NewSectionBlock(nil, fields[:11], nil),
		slackapi.NewActionBlock("b"), slackapi.NewActionBlock("b", buttons[:25]...), slackapi.NewActionBlock("b", buttons...),
		slackapi.NewContextBlock("c"), slackapi.NewContextBlock("c", texts[:10]...), slackapi.NewContextBlock("c", texts[:11]...),
	)
	blocks = append(blocks, approvalCardBlocks()...)
	typed := 0
	for i, b := range blocks {
		got, known := checkTyped(b)
		if !known {
			continue
		}
		typed++
		want := checkAsSent(b)
		if want == nil {
			assert.NoError(t, got, "block %d", i)
		} else if assert.Error(t, got, "block %d: %v", i, want) {
			assert.Equal(t, want.Error(), got.Error(), "block %d", i)
		}
	}
	assert.Greater(t, typed, len(blocks)*9/10, "nearly all of these take the typed path")
	for _, b := range approvalCardBlocks() {
		_, known := checkTyped(b)
		assert.True(t, known, "an approval card's %s block is checked without encoding it", b.BlockType())
	}
}

// approvalCardBlocks are the blocks of approval cards in every state.
func approvalCardBlocks() []slackapi.Block {
	var out []slackapi.Block
	for _, st := range []governance.State{governance.StatePendingApproval, governance.StateApproved, governance.StateDenied,
		governance.StateActive, governance.StateCancelled, governance.StateFailed, governance.StateTimedOut} {
		r := pendingRequest()
		r.State = st
		if st != governance.StatePendingApproval {
			r.Decision = &governance.Decision{By: governance.Person{Email: "bob@example.com", Name: "Bob"}, Approved: st != governance.StateDenied, Reason: "why"}
		}
		blocks, _ := Blocks(voice.ApprovalCard(r))
		out = append(out, blocks...)
	}
	return out
}

func TestEmoji_EveryIconHasASlackCodeThatReadsBackAsTheIcon(t *testing.T) {
	for _, icon := range voice.Icons() {
		code, ok := emojiCodes[icon]
		require.True(t, ok, "no Slack code for %s", icon)
		assert.Equal(t, string(icon)+" x", PlainText(code+" x"))
	}
}
