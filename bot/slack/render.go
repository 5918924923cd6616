package slack

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/accessbot/accessbot/governance"
)

// Identifiers in messages and modals, shared with the HTTP handlers.
const (
	ActionApprove       = "approve"      // button; value = request id
	ActionDeny          = "deny"         // button; value = request id
	ActionExtend        = "extend"       // button on an expiry warning; value = request id
	CallbackDenyReason  = "deny_reason"  // modal; private_metadata = request id
	CallbackRequestForm = "request_form" // modal
	// Input block ids equal governance.Problem.Field values, so a validation error lands
	// on the field at fault.
	BlockItem     = "item"
	BlockDuration = "duration"
	BlockReason   = "reason"
)

// InputActionID is the action id of the input element inside an input block.
func InputActionID(block string) string { return block + "_input" }

// Escape makes user-supplied text inert in mrkdwn: &, < and > become entities, so no
// <!channel>, <!here>, <@U…> or link can be injected, and a bare @here, @channel or
// @everyone gets a zero-width space so it cannot ping anyone either.
func Escape(s string) string { return escapeN(s, -1) }

// escapeN is Escape with the result cut to at most n characters (n < 0: no limit), never
// inside an entity, the cut marked with "…".
func escapeN(s string, n int) string {
	s = neutraliseMentions(s)
	var b strings.Builder
	pieces := 0
	cut := -1 // byte length of b when it last fitted n-1 characters
	for _, r := range s {
		var p string
		switch r {
		case '&':
			p = "&amp;"
		case '<':
			p = "&lt;"
		case '>':
			p = "&gt;"
		default:
			p = string(r)
		}
		if n >= 0 && cut < 0 && pieces+utf8.RuneCountInString(p) > n-1 {
			cut = b.Len()
		}
		pieces += utf8.RuneCountInString(p)
		b.WriteString(p)
	}
	if n >= 0 && pieces > n {
		return b.String()[:cut] + "…"
	}
	return b.String()
}

var broadcasts = []string{"here", "channel", "everyone"}

// neutraliseMentions puts a zero-width space after the @ of a bare @here, @channel or
// @everyone (any case), where it stands as a word of its own.
func neutraliseMentions(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] != '@' || (i > 0 && isWordByte(s[i-1])) {
			continue
		}
		for _, w := range broadcasts {
			end := i + 1 + len(w)
			if end <= len(s) && strings.EqualFold(s[i+1:end], w) && (end == len(s) || !isWordByte(s[end])) {
				b.WriteString("\u200b")
				break
			}
		}
	}
	return b.String()
}

// isWordByte reports whether c belongs to a word, so that the @ of an e-mail address
// (alice@here.example) is left alone.
func isWordByte(c byte) bool {
	return c >= utf8.RuneSelf || unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)) || c == '_'
}

// cutMrkdwn cuts our own mrkdwn to at most n characters without leaving half a <…>
// token or half an entity behind, marking the cut. User text inside has been escaped
// already, so every < and & left in s is ours.
func cutMrkdwn(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	out := string(r[:n-1])
	if lt := strings.LastIndexByte(out, '<'); lt > strings.LastIndexByte(out, '>') {
		out = out[:lt]
	}
	if amp := strings.LastIndexByte(out, '&'); amp > strings.LastIndexByte(out, ';') {
		out = out[:amp]
	}
	return out + "…"
}

// cutPlain cuts plain text (labels, titles, options) to n characters.
func cutPlain(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// Date renders t so that each reader sees it in their own time zone, with a UTC fallback
// where Slack cannot format it.
func Date(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} at {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

func mrkdwn(s string, limit int) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, cutMrkdwn(s, limit), false, false)
}

func plain(s string, limit int) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.PlainTextType, cutPlain(s, limit), true, false)
}

func section(s string) slackapi.Block {
	return slackapi.NewSectionBlock(mrkdwn(s, maxSectionText), nil, nil)
}

func note(s string) slackapi.Block {
	return slackapi.NewContextBlock("", mrkdwn(s, maxSectionText))
}

// person is a person as people read them: "Alice (alice@example.com)".
func person(p governance.Person) string {
	if p.Name != "" && p.Email != "" && !strings.EqualFold(p.Name, p.Email) {
		return Escape(p.Name) + " (" + Escape(p.Email) + ")"
	}
	return Escape(p.Display())
}

func itemText(r *governance.Request) string {
	return "*" + escapeN(r.Item.Name, 200) + "* `" + escapeN(r.Item.ID, 100) + "`"
}

func approverNames(r *governance.Request) string { return escapeN(r.ApproverNames(), 500) }

// quote renders user text (a reason) as a block quote, at most n characters.
func quote(s string, n int) string {
	if strings.TrimSpace(s) == "" {
		return "_none given_"
	}
	return "> " + strings.ReplaceAll(escapeN(s, n), "\n", "\n> ")
}

func decideButtons(r *governance.Request) slackapi.Block {
	approve := slackapi.NewButtonBlockElement(ActionApprove, r.ID, plain("Approve", maxButtonText)).WithStyle(slackapi.StylePrimary)
	deny := slackapi.NewButtonBlockElement(ActionDeny, r.ID, plain("Deny", maxButtonText)).WithStyle(slackapi.StyleDanger)
	// A new block id per version, as Slack asks of updated messages.
	return slackapi.NewActionBlock(fmt.Sprintf("decide:%s:%d", r.ID, r.Version), approve, deny)
}

// ApprovalCard is the message an approver gets: who asks for what, for how long and why,
// with Approve and Deny while the request is pending, and the outcome, without buttons,
// once it is not. fallback is the notification text.
func ApprovalCard(r *governance.Request) (blocks []slackapi.Block, fallback string) {
	fields := []*slackapi.TextBlockObject{
		mrkdwn("*Requester*\n"+person(r.Requester), maxFieldText),
		mrkdwn("*Item*\n"+itemText(r), maxFieldText),
		mrkdwn("*Duration*\n"+governance.FormatDuration(r.Duration), maxFieldText),
		mrkdwn("*Requested*\n"+Date(r.CreatedAt), maxFieldText),
	}
	blocks = []slackapi.Block{
		slackapi.NewHeaderBlock(plain("Access request "+r.ID, maxHeader)),
		slackapi.NewSectionBlock(nil, fields, nil),
		section("*Reason*\n" + quote(r.Reason, 2000)),
	}
	if r.State == governance.StatePendingApproval {
		blocks = append(blocks, decideButtons(r),
			note(fmt.Sprintf("Request %s · approvers: %s · the first decision counts, and everyone's card shows it.", r.ID, approverNames(r))))
		fallback = fmt.Sprintf("%s asks for %s (%s) — request %s is waiting for your decision.",
			Escape(r.Requester.Display()), escapeN(r.Item.Name, 200), governance.FormatDuration(r.Duration), r.ID)
	} else {
		blocks = append(blocks, section(Outcome(r)), note("Request "+r.ID))
		fallback = fmt.Sprintf("Request %s: %s", r.ID, fallbackText(Outcome(r)))
	}
	return blocks, cutMrkdwn(fallback, maxText)
}

// Outcome says in one line what became of a request that is no longer pending.
func Outcome(r *governance.Request) string {
	d := r.Decision
	switch {
	case r.State == governance.StateCancelled:
		return ":no_entry_sign: Cancelled by requester " + person(r.Requester) + " at " + Date(r.CancelledAt) + "."
	case r.State == governance.StateTimedOut:
		return ":hourglass: Timed out: nobody decided in time. The requester may ask again."
	case d != nil && d.Approved:
		return ":white_check_mark: Approved by " + person(d.By) + " at " + Date(d.At) + "."
	case d != nil:
		return ":x: Denied by " + person(d.By) + " at " + Date(d.At) + ":\n" + quote(d.Reason, 1000)
	}
	return "Now " + r.State.Label() + "."
}

// NoticeText is what a requester is told by a notice, in mrkdwn.
func NoticeText(n governance.Notice) string {
	r := n.Request
	it := itemText(r)
	switch n.Kind {
	case governance.NoticeReceived:
		return fmt.Sprintf(":inbox_tray: Your request *%s* for %s (%s) went to %s for approval. You will hear here when one of them decides.",
			r.ID, it, governance.FormatDuration(r.Duration), approverNames(r))
	case governance.NoticeApproved:
		by := "An approver"
		if r.Decision != nil {
			by = person(r.Decision.By)
		}
		return fmt.Sprintf(":white_check_mark: %s approved your request *%s* for %s. Granting it now; you will hear when the access is active.", by, r.ID, it)
	case governance.NoticeDenied:
		by, reason := "An approver", ""
		if r.Decision != nil && r.Decision.Approved { // approved here, denied in the backend's own approvals
			return fmt.Sprintf(":x: Your request *%s* for %s was approved here but denied in %s: %s\nIf you still need it, talk to your access admins.",
				r.ID, it, escapeN(r.Item.Backend, 100), escapeN(r.Failure, 1000))
		}
		if r.Decision != nil {
			by, reason = person(r.Decision.By), r.Decision.Reason
		}
		return fmt.Sprintf(":x: %s denied your request *%s* for %s:\n%s\nIf you still need it, talk to them, or ask again with more detail.",
			by, r.ID, it, quote(reason, 1000))
	case governance.NoticeSubmitted:
		return fmt.Sprintf(":hourglass_flowing_sand: Your request *%s* for %s was handed to %s. You will hear when the access is active.",
			r.ID, it, escapeN(r.Item.Backend, 100))
	case governance.NoticeActive:
		if end := r.EndsAt(); !end.IsZero() {
			return fmt.Sprintf(":unlock: Your access to %s is active until %s (request *%s*).", it, Date(end), r.ID)
		}
		return fmt.Sprintf(":unlock: Your access to %s is active, with no end (request *%s*).", it, r.ID)
	case governance.NoticeFailed:
		if r.Duplicate {
			return fmt.Sprintf(":information_source: Nothing new was requested for *%s* (%s): %s",
				r.ID, it, escapeN(r.Failure, 1000))
		}
		return fmt.Sprintf(":warning: Your request *%s* for %s could not be granted: %s. Nothing was granted; ask your access admins for help, quoting %s.",
			r.ID, it, escapeN(r.Failure, 1000), r.ID)
	case governance.NoticeCancelled:
		if r.Failure != "" {
			return fmt.Sprintf(":no_entry_sign: Your request *%s* for %s was cancelled in %s: %s",
				r.ID, it, escapeN(r.Item.Backend, 100), escapeN(r.Failure, 1000))
		}
		return fmt.Sprintf(":no_entry_sign: Your request *%s* for %s was cancelled.", r.ID, it)
	case governance.NoticeWaiting:
		waiting := ""
		if r.Submission != nil {
			waiting = r.Submission.Waiting
		}
		return fmt.Sprintf(":hourglass_flowing_sand: Your request *%s* for %s is waiting for %s. You will hear when the access is active.",
			r.ID, it, escapeN(waiting, 500))
	case governance.NoticeRevoked:
		by := "An admin"
		if r.RevokedBy != nil {
			by = person(*r.RevokedBy)
		}
		return fmt.Sprintf(":lock: %s revoked your access to %s (request *%s*). Ask again with `/access request %s` if you still need it.",
			by, it, r.ID, escapeN(r.Item.ID, 100))
	case governance.NoticeReminder:
		return fmt.Sprintf(":alarm_clock: Reminder: %s has been waiting since %s for your decision on *%s*, %s for %s.\n%s",
			person(r.Requester), Date(r.CreatedAt), r.ID, it, governance.FormatDuration(r.Duration), quote(r.Reason, 1000))
	case governance.NoticeEscalated:
		to := "another approver"
		if len(r.Approvers) > 0 {
			to = person(r.Approvers[len(r.Approvers)-1])
		}
		return fmt.Sprintf(":arrow_up: Nobody has decided your request *%s* for %s yet, so it went to %s as well. The earlier approvers can still decide.",
			r.ID, it, to)
	case governance.NoticeTimedOut:
		if r.Failure != "" {
			return fmt.Sprintf(":hourglass: Your request *%s* for %s lapsed in %s: %s. If you still need it, ask again: `/access request %s`.",
				r.ID, it, escapeN(r.Item.Backend, 100), escapeN(r.Failure, 1000), escapeN(r.Item.ID, 100))
		}
		return fmt.Sprintf(":hourglass: Nobody decided your request *%s* for %s in time, so it has lapsed. If you still need it, ask again: `/access request %s`.",
			r.ID, it, escapeN(r.Item.ID, 100))
	case governance.NoticeExpiring:
		return fmt.Sprintf(":hourglass_flowing_sand: Your access to %s ends %s (request *%s*). Need longer? Extend asks your approvers for another %s.",
			it, Date(r.EndsAt()), r.ID, governance.FormatDuration(r.Duration))
	case governance.NoticeEnded:
		return fmt.Sprintf(":lock: Your access to %s has ended (request *%s*). Ask again with `/access request %s` if you need it back.",
			it, r.ID, escapeN(r.Item.ID, 100))
	}
	return fmt.Sprintf("Your request *%s* for %s is now %s.", r.ID, it, r.State.Label())
}

// NoticeBlocks is a notice as a message: its blocks and the notification text. A
// reminder of a pending request carries the Approve and Deny buttons.
func NoticeBlocks(n governance.Notice) (blocks []slackapi.Block, fallback string) {
	text := NoticeText(n)
	blocks = []slackapi.Block{section(text)}
	if n.Kind == governance.NoticeReminder && n.Request.State == governance.StatePendingApproval {
		blocks = append(blocks, decideButtons(n.Request))
	}
	if n.Kind == governance.NoticeExpiring && n.Request.State == governance.StateActive {
		extend := slackapi.NewButtonBlockElement(ActionExtend, n.Request.ID, plain("Extend", maxButtonText)).WithStyle(slackapi.StylePrimary)
		blocks = append(blocks, slackapi.NewActionBlock(fmt.Sprintf("extend:%s:%d", n.Request.ID, n.Request.Version), extend))
	}
	return blocks, cutMrkdwn(fallbackText(text), maxText)
}

// AdminAlert is the message the admin channel gets when a request escalates: the
// approval card, with working buttons, under a line saying why it is there.
func AdminAlert(r *governance.Request) (blocks []slackapi.Block, fallback string) {
	card, _ := ApprovalCard(r)
	head := section(fmt.Sprintf(":rotating_light: *Escalated:* nobody has decided %s since %s (escalation %d). Approvers so far: %s. "+
		"As an admin you may decide it.", r.ID, Date(r.CreatedAt), r.Escalations, approverNames(r)))
	fallback = fmt.Sprintf("Escalated: %s asks for %s — request %s has waited since %s.",
		Escape(r.Requester.Display()), escapeN(r.Item.Name, 200), r.ID, r.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
	return append([]slackapi.Block{head}, card...), cutMrkdwn(fallback, maxText)
}

// Message is a message body for an HTTP answer or a response_url: ephemeral unless said
// otherwise, and never replacing the message it answers.
type Message struct {
	ResponseType    string           `json:"response_type,omitempty"`
	Text            string           `json:"text"`
	Blocks          []slackapi.Block `json:"blocks,omitempty"`
	ReplaceOriginal bool             `json:"replace_original"`
}

// Ephemeral is a message only the person who acted sees. text is mrkdwn (escaped where it
// holds user text); it is the whole message when no blocks are given, else the
// notification text.
func Ephemeral(text string, blocks ...slackapi.Block) Message {
	if len(blocks) > MaxMessageBlocks {
		blocks = append(blocks[:MaxMessageBlocks-1:MaxMessageBlocks-1], note(fmt.Sprintf("…and %d more — see `/access status`.", len(blocks)-MaxMessageBlocks+1)))
	}
	return Message{ResponseType: slackapi.ResponseTypeEphemeral, Text: cutMrkdwn(text, maxText), Blocks: blocks}
}

// say is an ephemeral message of one section; its notification text is the same words.
func say(text string, extra ...slackapi.Block) Message {
	return Ephemeral(fallbackText(text), append([]slackapi.Block{section(text)}, extra...)...)
}

// ErrorMessage is what a person sees when their command or click fails: a
// governance.Problem's own sentence, or, for anything else, an apology with ref, the
// reference under which the handler logged the detail.
func ErrorMessage(err error, ref string) Message {
	return say(":warning: " + Escape(ErrorText(err, ref)))
}

// ErrorText is ErrorMessage as plain text, for places that show plain text (the field
// errors of a modal).
func ErrorText(err error, ref string) string {
	var p *governance.Problem
	if errors.As(err, &p) {
		return p.Message
	}
	return "Something went wrong on our side; try again in a minute. (ref " + ref + ")"
}

// RequestCreated acknowledges a new request: its id, the item, the duration and who will
// decide.
func RequestCreated(r *governance.Request) Message {
	reason := ""
	if r.Reason != "" {
		reason = "\n" + quote(r.Reason, 1000)
	}
	return say(fmt.Sprintf(":inbox_tray: Request *%s* for %s, %s, is waiting for %s. I will tell you their decision in a direct message.%s",
		r.ID, itemText(r), governance.FormatDuration(r.Duration), approverNames(r), reason),
		note("Changed your mind? `/access cancel "+r.ID+"`"))
}

// Working tells the person their command takes longer than Slack waits for an answer,
// and that the answer will follow.
func Working() Message {
	return say(":hourglass_flowing_sand: Working on it… this takes a moment; I will answer here when it is done.")
}

// Busy tells the person accessbot has too much in hand to take their command now, and
// that nothing was done.
func Busy() Message {
	return say(":hourglass: accessbot is busy right now and did nothing with this; try again in a minute.")
}

// Cancelled acknowledges a cancellation.
func Cancelled(r *governance.Request) Message {
	return say(fmt.Sprintf(":no_entry_sign: Request *%s* for %s is cancelled; its approvers' cards say so.", r.ID, itemText(r)))
}

// Revoked acknowledges an early end of access.
func Revoked(r *governance.Request) Message {
	whose := "Your access"
	if r.RevokedBy != nil && !r.RevokedBy.Is(r.Requester) {
		whose = person(r.Requester) + "'s access"
	}
	return say(fmt.Sprintf(":lock: %s to %s (request *%s*) is revoked; %s is removing it now.", whose, itemText(r), r.ID, escapeN(r.Item.Backend, 100)))
}

// Approved tells an approver their approval was recorded.
func Approved(r *governance.Request) Message {
	return say(fmt.Sprintf(":white_check_mark: You approved *%s*: %s for %s, %s. %s is told, and the access is being granted.",
		r.ID, itemText(r), person(r.Requester), governance.FormatDuration(r.Duration), Escape(r.Requester.Display())))
}

// capped appends rows (each one or more blocks) to head while the message stays within
// the block limit, ending with more(n) when n rows did not fit.
func capped(head []slackapi.Block, rows [][]slackapi.Block, more func(n int) string) []slackapi.Block {
	blocks := head
	for i, row := range rows {
		if len(blocks)+len(row) > MaxMessageBlocks-1 {
			return append(blocks, note(more(len(rows)-i)))
		}
		blocks = append(blocks, row...)
	}
	return blocks
}

// Status lists a person's requests with their states.
func Status(rs []*governance.Request) Message {
	if len(rs) == 0 {
		return say("You have no requests yet. Try `/access request &lt;item&gt; for 8h because &lt;reason&gt;`, or `/access help` for the catalog.")
	}
	var rows [][]slackapi.Block
	for _, r := range rs {
		line := fmt.Sprintf("*%s* %s, %s — *%s*", r.ID, itemText(r), governance.FormatDuration(r.Duration), r.State.Label())
		switch {
		case r.State == governance.StatePendingApproval:
			line += " (waiting for " + approverNames(r) + ")"
		case r.State == governance.StateActive && !r.EndsAt().IsZero():
			line += " until " + Date(r.EndsAt())
		case r.State == governance.StateActive:
			line += ", no end"
		case r.State == governance.StateSubmitted && r.Submission != nil && r.Submission.Waiting != "":
			line += " (waiting for " + escapeN(r.Submission.Waiting, 300) + ")"
		case r.State == governance.StateRevoked && r.RevokedBy != nil:
			line += " by " + person(*r.RevokedBy)
		case r.Failure != "" && (r.State == governance.StateFailed || r.State == governance.StateDenied ||
			r.State == governance.StateCancelled || r.State == governance.StateTimedOut):
			line += ": " + escapeN(r.Failure, 500)
		case r.State == governance.StateDenied && r.Decision != nil:
			line += " by " + person(r.Decision.By) + ": " + escapeN(r.Decision.Reason, 500)
		}
		line += "\nasked " + Date(r.CreatedAt)
		rows = append(rows, []slackapi.Block{section(line)})
	}
	blocks := capped([]slackapi.Block{section("*Your requests*, newest first:")}, rows,
		func(n int) string {
			return fmt.Sprintf("…and %d more — see `/access status` once these are done.", n)
		})
	return Ephemeral(fmt.Sprintf("You have %d requests.", len(rs)), blocks...)
}

// Pending lists the requests waiting for a person's decision, each with working Approve
// and Deny buttons (the same actions as the approval card).
func Pending(rs []*governance.Request) Message {
	if len(rs) == 0 {
		return say(":tada: Nothing is waiting for your decision.")
	}
	var rows [][]slackapi.Block
	for _, r := range rs {
		rows = append(rows, []slackapi.Block{
			section(fmt.Sprintf("*%s* %s asks for %s, %s, since %s\n%s", r.ID, person(r.Requester), itemText(r),
				governance.FormatDuration(r.Duration), Date(r.CreatedAt), quote(r.Reason, 1000))),
			decideButtons(r),
		})
	}
	blocks := capped([]slackapi.Block{section(fmt.Sprintf("*%d waiting for your decision*, oldest first:", len(rs)))}, rows,
		func(n int) string {
			return fmt.Sprintf("…and %d more — decide these, then `/access pending` shows the rest.", n)
		})
	return Ephemeral(fmt.Sprintf("%d requests wait for your decision.", len(rs)), blocks...)
}

// Help explains every command with an example, and lists the catalog: ids, default and
// maximum durations, and whether a reason is required.
func Help(items []governance.Item) Message {
	head := []slackapi.Block{
		section("*accessbot* — ask for access, and approve it, without leaving Slack."),
		section("`/access request &lt;item&gt; [for &lt;duration&gt;] [because &lt;reason&gt;]` — ask for access. Durations look like `30m`, `8h`, `7d` or `1d12h`; " +
			"without one you get the item's default.\n_Example:_ `/access request prod-db-read for 8h because investigating INC-4711`"),
		section("`/access` — open a form to ask for access\n" +
			"`/access status` — your requests and where they are\n" +
			"`/access pending` — requests waiting for your decision, with Approve and Deny\n" +
			"`/access cancel AR-7` — withdraw your own request while it waits, or while the access system works on it\n" +
			"`/access revoke &lt;item&gt;` — give up access you hold now; `/access revoke &lt;item&gt; from &lt;e-mail&gt;` ends a direct report's (managers, admins)\n" +
			"`/access schedule AR-7` — the reminders, escalations and timeout planned for a request, or when its access ends\n" +
			"`/access help` — this"),
		section("*What you can request*"),
	}
	// Items are packed into as few sections as fit, so a long catalog stays in one message.
	var rows [][]slackapi.Block
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			rows = append(rows, []slackapi.Block{section(cur.String())})
			cur.Reset()
		}
	}
	for _, it := range items {
		line := fmt.Sprintf("• `%s` *%s*", escapeN(it.ID, 100), escapeN(it.Name, 200))
		if it.Search {
			line = fmt.Sprintf("• *%s* — ask for anything %s offers by its name: `/access request &lt;name&gt;`", escapeN(it.Name, 200), escapeN(it.Backend, 100))
		}
		if it.Description != "" {
			line += " — " + escapeN(it.Description, 300)
		}
		line += "\n   default " + governance.FormatDuration(it.DefaultDuration)
		if it.MaxDuration > 0 {
			line += ", at most " + governance.FormatDuration(it.MaxDuration)
		}
		if it.JustificationRequired {
			line += "; a reason is required"
		}
		if cur.Len() > 0 && utf8.RuneCountInString(cur.String())+1+utf8.RuneCountInString(line) > maxSectionText {
			flush()
		}
		if cur.Len() > 0 {
			cur.WriteString("\n")
		}
		cur.WriteString(line)
	}
	flush()
	if len(items) == 0 {
		rows = append(rows, []slackapi.Block{section("_The catalog is empty; ask your admins to add items._")})
	}
	blocks := capped(head, rows, func(n int) string {
		return fmt.Sprintf("…and %d more groups of items — ask for one by id: `/access request &lt;id&gt;`.", n)
	})
	return Ephemeral("accessbot help: /access request &lt;item&gt; for &lt;duration&gt; because &lt;reason&gt;", blocks...)
}

// RequestForm is the modal that asks for access: the item (a select of the catalog), an
// optional duration and an optional reason.
func RequestForm(items []governance.Item) slackapi.ModalViewRequest {
	var options []*slackapi.OptionBlockObject
	for _, it := range items {
		if utf8.RuneCountInString(it.ID) > maxOptionValue || it.Search {
			continue // cannot be a select option; still requestable by command
		}
		if len(options) < maxOptions {
			options = append(options, slackapi.NewOptionBlockObject(it.ID, plain(it.Name, maxOptionText), nil))
		}
	}
	var item slackapi.BlockElement = slackapi.NewOptionsSelectBlockElement(slackapi.OptTypeStatic,
		plain("Choose what you need", maxPlaceholder), InputActionID(BlockItem), options...)
	if len(options) == 0 { // a select needs at least one option: let people type the id
		item = slackapi.NewPlainTextInputBlockElement(plain("The item's id, see /access help", maxPlaceholder), InputActionID(BlockItem))
	}
	duration := slackapi.NewPlainTextInputBlockElement(plain("e.g. 8h — empty means the item's default", maxPlaceholder), InputActionID(BlockDuration))
	reason := slackapi.NewPlainTextInputBlockElement(plain("Why do you need it? Some items require a reason.", maxPlaceholder), InputActionID(BlockReason)).WithMultiline(true)
	reason.MaxLength = governance.MaxReasonLength
	blocks := []slackapi.Block{
		slackapi.NewInputBlock(BlockItem, plain("Item", maxLabel), nil, item),
		slackapi.NewInputBlock(BlockDuration, plain("Duration", maxLabel), plain("30m, 8h, 7d or 1d12h", maxLabel), duration).WithOptional(true),
		slackapi.NewInputBlock(BlockReason, plain("Reason", maxLabel), nil, reason).WithOptional(true),
	}
	if len(items) > len(options) {
		blocks = append(blocks, note(fmt.Sprintf("The list shows %d of the %d items; ask for any other with `/access request &lt;id&gt;` (`/access help` lists them).",
			len(options), len(items))))
	}
	return slackapi.ModalViewRequest{
		Type: slackapi.VTModal, CallbackID: CallbackRequestForm,
		Title: plain("Request access", maxTitle), Submit: plain("Request", maxTitle), Close: plain("Cancel", maxTitle),
		Blocks: slackapi.Blocks{BlockSet: blocks},
	}
}

// DenyForm is the modal that asks an approver why they deny request r; the request id
// travels in private_metadata (the handler still checks who submits it).
func DenyForm(r *governance.Request) slackapi.ModalViewRequest {
	reason := slackapi.NewPlainTextInputBlockElement(plain("Tell the requester why, and what to do instead", maxPlaceholder), InputActionID(BlockReason)).WithMultiline(true)
	reason.MaxLength = governance.MaxReasonLength
	return slackapi.ModalViewRequest{
		Type: slackapi.VTModal, CallbackID: CallbackDenyReason, PrivateMetadata: r.ID,
		Title: plain("Deny "+r.ID, maxTitle), Submit: plain("Deny", maxTitle), Close: plain("Back", maxTitle),
		Blocks: slackapi.Blocks{BlockSet: []slackapi.Block{
			section(fmt.Sprintf("%s asks for %s, %s.\n%s", person(r.Requester), itemText(r), governance.FormatDuration(r.Duration), quote(r.Reason, 1000))),
			slackapi.NewInputBlock(BlockReason, plain("Reason for denying", maxLabel), nil, reason),
		}},
	}
}

// Schedule shows what the scheduler plans for a request.
func Schedule(r *governance.Request, steps []governance.Step) Message {
	head := fmt.Sprintf("*%s* %s is %s.", r.ID, itemText(r), r.State.Label())
	if len(steps) == 0 {
		return say(head + " Nothing is scheduled for it.")
	}
	var b strings.Builder
	b.WriteString(head + " Planned:")
	for _, st := range steps {
		mark := "•"
		if st.Done {
			mark = "✓"
		}
		fmt.Fprintf(&b, "\n%s %s — %s", mark, Date(st.At), st.Label())
	}
	return say(b.String())
}
