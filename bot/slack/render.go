package slack

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/accessbot/accessbot/governance"
)

// Identifiers in messages and modals, shared with the HTTP handlers.
const (
	ActionApprove       = "approve"      // button; value = request id
	ActionDeny          = "deny"         // button; value = request id
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

// Block Kit limits that slack-go does not check.
const (
	maxBlocks      = 50
	maxSectionText = 3000
	maxFieldText   = 2000
	maxOptions     = 100
	maxOptionValue = 75
	maxOptionText  = 75
	maxTitle       = 24
	maxHeader      = 150
	maxFallback    = 3000
)

// Escape makes user-supplied text inert in mrkdwn: no <!channel>, <@U…> or link can be
// injected, and bare @here/@channel/@everyone cannot ping anyone.
func Escape(s string) string {
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
	for _, m := range []string{"@here", "@channel", "@everyone"} {
		s = replaceFold(s, m, "@\u200b"+m[1:])
	}
	return s
}

func replaceFold(s, old, repl string) string {
	lower := strings.ToLower(s)
	var b strings.Builder
	for {
		i := strings.Index(lower, old)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(repl)
		s, lower = s[i+len(old):], lower[i+len(old):]
	}
}

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func mrkdwn(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, truncate(s, maxSectionText), false, false)
}

func plain(s string, limit int) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.PlainTextType, truncate(s, limit), false, false)
}

func section(s string) slackapi.Block { return slackapi.NewSectionBlock(mrkdwn(s), nil, nil) }

func note(s string) slackapi.Block {
	return slackapi.NewContextBlock("", slackapi.NewTextBlockObject(slackapi.MarkdownType, truncate(s, maxSectionText), false, false))
}

// Date renders t so that each reader sees it in their own time zone, with a UTC fallback.
func Date(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} at {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

func person(p governance.Person) string {
	if p.Name != "" && p.Email != "" {
		return Escape(p.Name) + " (" + Escape(p.Email) + ")"
	}
	return Escape(p.Display())
}

func itemText(r *governance.Request) string {
	return "*" + Escape(r.Item.Name) + "* `" + Escape(r.Item.ID) + "`"
}

func quote(s string) string {
	if s == "" {
		return "_none given_"
	}
	return "> " + strings.ReplaceAll(Escape(s), "\n", "\n> ")
}

func decideButtons(id string) slackapi.Block {
	approve := slackapi.NewButtonBlockElement(ActionApprove, id, plain("Approve", 75)).WithStyle(slackapi.StylePrimary)
	deny := slackapi.NewButtonBlockElement(ActionDeny, id, plain("Deny", 75)).WithStyle(slackapi.StyleDanger)
	return slackapi.NewActionBlock("decide:"+id, approve, deny)
}

// ApprovalCard is the message an approver gets: who asks for what, for how long and why,
// with Approve and Deny while the request is pending, and the outcome once it is not.
func ApprovalCard(r *governance.Request) (blocks []slackapi.Block, fallback string) {
	fields := []*slackapi.TextBlockObject{
		mrkdwn("*Requester*\n" + person(r.Requester)),
		mrkdwn("*Item*\n" + itemText(r)),
		mrkdwn("*Duration*\n" + governance.FormatDuration(r.Duration)),
		mrkdwn("*Requested*\n" + Date(r.CreatedAt)),
	}
	blocks = []slackapi.Block{
		slackapi.NewHeaderBlock(plain("Access request "+r.ID, maxHeader)),
		slackapi.NewSectionBlock(nil, fields, nil),
		section("*Reason*\n" + quote(r.Reason)),
	}
	if r.State == governance.StatePendingApproval {
		blocks = append(blocks, decideButtons(r.ID),
			note("You are an approver of "+Escape(r.Item.Name)+". The first decision counts; the others' cards update."))
	} else {
		blocks = append(blocks, section(Outcome(r)))
	}
	fallback = fmt.Sprintf("%s asks for %s (%s), request %s", r.Requester.Display(), r.Item.Name, governance.FormatDuration(r.Duration), r.ID)
	return blocks, truncate(fallback, maxFallback)
}

// Outcome says in one line what became of a request that is no longer pending.
func Outcome(r *governance.Request) string {
	d := r.Decision
	switch {
	case r.State == governance.StateCancelled:
		return ":no_entry_sign: Cancelled by " + person(r.Requester) + " at " + Date(r.CancelledAt) + "."
	case r.State == governance.StateTimedOut:
		return ":hourglass: Timed out: nobody decided in time."
	case d != nil && d.Approved:
		return ":white_check_mark: Approved by " + person(d.By) + " at " + Date(d.At) + "."
	case d != nil:
		return ":x: Denied by " + person(d.By) + " at " + Date(d.At) + ": " + Escape(d.Reason)
	}
	return "Now " + r.State.Label() + "."
}

// NoticeText is what a person is told by a notice.
func NoticeText(n governance.Notice) string {
	r := n.Request
	it := itemText(r)
	switch n.Kind {
	case governance.NoticeReceived:
		return fmt.Sprintf("Your request %s for %s (%s) went to %s for approval.", r.ID, it, governance.FormatDuration(r.Duration), Escape(r.ApproverNames()))
	case governance.NoticeApproved:
		by := "An approver"
		if r.Decision != nil {
			by = person(r.Decision.By)
		}
		return fmt.Sprintf(":white_check_mark: %s approved your request %s for %s. Granting it now.", by, r.ID, it)
	case governance.NoticeDenied:
		by, reason := "An approver", ""
		if r.Decision != nil {
			by, reason = person(r.Decision.By), r.Decision.Reason
		}
		return fmt.Sprintf(":x: %s denied your request %s for %s:\n%s\nIf you still need it, reply to them or ask again with more detail.", by, r.ID, it, quote(reason))
	case governance.NoticeSubmitted:
		return fmt.Sprintf("Your request %s for %s was handed to %s. You will hear when the access is active.", r.ID, it, Escape(r.Item.Backend))
	case governance.NoticeActive:
		if end := r.EndsAt(); !end.IsZero() {
			return fmt.Sprintf(":unlock: Your access to %s is active until %s (request %s).", it, Date(end), r.ID)
		}
		return fmt.Sprintf(":unlock: Your access to %s is active, with no end date (request %s).", it, r.ID)
	case governance.NoticeFailed:
		return fmt.Sprintf(":warning: Your request %s for %s could not be granted: %s. Nothing was granted; ask your access admins, quoting %s.",
			r.ID, it, Escape(r.Failure), r.ID)
	case governance.NoticeCancelled:
		return fmt.Sprintf("Your request %s for %s was cancelled.", r.ID, it)
	}
	return fmt.Sprintf("Request %s for %s is now %s.", r.ID, it, r.State.Label())
}

// Message is a message body for an HTTP response or a response_url.
type Message struct {
	ResponseType    string           `json:"response_type,omitempty"`
	Text            string           `json:"text"`
	Blocks          []slackapi.Block `json:"blocks,omitempty"`
	ReplaceOriginal bool             `json:"replace_original"`
}

// Ephemeral is a message only the person who acted sees.
func Ephemeral(text string, blocks ...slackapi.Block) Message {
	if len(blocks) > maxBlocks {
		blocks = append(blocks[:maxBlocks-1], note("… and more; narrow it down with `/access status`."))
	}
	return Message{ResponseType: slackapi.ResponseTypeEphemeral, Text: truncate(text, maxFallback), Blocks: blocks}
}

// Problem is the message for a refusal or error: the sentence a governance.Problem carries.
func Problem(msg string) Message { return Ephemeral(msg, section(":warning: "+Escape(msg))) }

// RequestCreated acknowledges a new request.
func RequestCreated(r *governance.Request) Message {
	text := fmt.Sprintf("Request %s for %s (%s) is waiting for %s.", r.ID, r.Item.Name, governance.FormatDuration(r.Duration), r.ApproverNames())
	return Ephemeral(text, section(fmt.Sprintf(":inbox_tray: Request *%s* for %s, %s, is waiting for %s. You will be told the decision here.",
		r.ID, itemText(r), governance.FormatDuration(r.Duration), Escape(r.ApproverNames()))),
		note("Changed your mind? `/access cancel "+r.ID+"`"))
}

// Cancelled acknowledges a cancellation.
func Cancelled(r *governance.Request) Message {
	return Ephemeral("Request "+r.ID+" is cancelled.", section(":no_entry_sign: Request *"+r.ID+"* for "+itemText(r)+" is cancelled; its approvers' cards say so."))
}

// Status lists a person's requests.
func Status(rs []*governance.Request) Message {
	if len(rs) == 0 {
		return Ephemeral("You have no requests.", section("You have no requests yet. Try `/access request <item> for 8h because <reason>`, or `/access help` for the catalog."))
	}
	blocks := []slackapi.Block{section("*Your requests*, newest first:")}
	for _, r := range rs {
		line := fmt.Sprintf("*%s* %s, %s — *%s*", r.ID, itemText(r), governance.FormatDuration(r.Duration), r.State.Label())
		switch {
		case r.State == governance.StatePendingApproval:
			line += " (waiting for " + Escape(r.ApproverNames()) + ")"
		case r.State == governance.StateActive && !r.EndsAt().IsZero():
			line += " until " + Date(r.EndsAt())
		case r.State == governance.StateDenied && r.Decision != nil:
			line += ": " + Escape(r.Decision.Reason)
		case r.State == governance.StateFailed:
			line += ": " + Escape(r.Failure)
		}
		blocks = append(blocks, section(line))
	}
	return Ephemeral(fmt.Sprintf("You have %d requests.", len(rs)), blocks...)
}

// Pending lists the requests waiting for a person's decision, each with working buttons.
func Pending(rs []*governance.Request) Message {
	if len(rs) == 0 {
		return Ephemeral("Nothing is waiting for your decision.", section(":tada: Nothing is waiting for your decision."))
	}
	blocks := []slackapi.Block{section(fmt.Sprintf("*%d waiting for your decision*, oldest first:", len(rs)))}
	for i, r := range rs {
		if len(blocks)+2 > maxBlocks-1 {
			blocks = append(blocks, note(fmt.Sprintf("… and %d more.", len(rs)-i)))
			break
		}
		blocks = append(blocks,
			section(fmt.Sprintf("*%s* %s asks for %s, %s, since %s\n%s", r.ID, person(r.Requester), itemText(r),
				governance.FormatDuration(r.Duration), Date(r.CreatedAt), quote(r.Reason))),
			decideButtons(r.ID))
	}
	return Ephemeral(fmt.Sprintf("%d requests wait for your decision.", len(rs)), blocks...)
}

// Help explains every command, with the catalog.
func Help(items []governance.Item) Message {
	blocks := []slackapi.Block{
		section("*accessbot* — ask for access, and approve it, without leaving Slack."),
		section("`/access request <item> [for <duration>] [because <reason>]`\nAsk for access. Durations: `30m`, `8h`, `7d`, `1d12h`; without one you get the item's default.\n" +
			"_Example:_ `/access request prod-db-read for 8h because investigating INC-4711`"),
		section("`/access` — open a form to ask for access\n`/access status` — your requests and their states\n" +
			"`/access pending` — requests waiting for your decision, with Approve and Deny\n`/access cancel AR-7` — withdraw your own pending request\n`/access help` — this"),
		section("*What can be requested*"),
	}
	for i, it := range items {
		if len(blocks) >= maxBlocks-1 {
			blocks = append(blocks, note(fmt.Sprintf("… and %d more items.", len(items)-i)))
			break
		}
		line := fmt.Sprintf("`%s` *%s*", Escape(it.ID), Escape(it.Name))
		if it.Description != "" {
			line += " — " + Escape(it.Description)
		}
		line += "\nDefault " + governance.FormatDuration(it.DefaultDuration)
		if it.MaxDuration > 0 {
			line += ", at most " + governance.FormatDuration(it.MaxDuration)
		}
		if it.JustificationRequired {
			line += "; a reason is required"
		}
		blocks = append(blocks, section(line))
	}
	return Ephemeral("accessbot help: /access request <item> for <duration> because <reason>", blocks...)
}

// RequestForm is the modal that asks for access.
func RequestForm(items []governance.Item) slackapi.ModalViewRequest {
	var options []*slackapi.OptionBlockObject
	for _, it := range items {
		if len(options) == maxOptions {
			break
		}
		if len(it.ID) > maxOptionValue {
			continue // cannot be chosen from a select; still requestable by command
		}
		options = append(options, slackapi.NewOptionBlockObject(it.ID, plain(it.Name, maxOptionText), nil))
	}
	item := slackapi.NewOptionsSelectBlockElement(slackapi.OptTypeStatic, plain("Choose what you need", 150), InputActionID(BlockItem), options...)
	duration := slackapi.NewPlainTextInputBlockElement(plain("e.g. 8h — empty means the item's default", 150), InputActionID(BlockDuration))
	reason := slackapi.NewPlainTextInputBlockElement(plain("Why do you need it? Some items require a reason.", 150), InputActionID(BlockReason)).WithMultiline(true)
	reason.MaxLength = governance.MaxReasonLength
	return slackapi.ModalViewRequest{
		Type: slackapi.VTModal, CallbackID: CallbackRequestForm,
		Title: plain("Request access", maxTitle), Submit: plain("Request", maxTitle), Close: plain("Cancel", maxTitle),
		Blocks: slackapi.Blocks{BlockSet: []slackapi.Block{
			slackapi.NewInputBlock(BlockItem, plain("Item", 2000), nil, item),
			slackapi.NewInputBlock(BlockDuration, plain("Duration", 2000), nil, duration).WithOptional(true),
			slackapi.NewInputBlock(BlockReason, plain("Reason", 2000), nil, reason).WithOptional(true),
		}},
	}
}

// DenyForm is the modal that asks an approver why they deny request r.
func DenyForm(r *governance.Request) slackapi.ModalViewRequest {
	reason := slackapi.NewPlainTextInputBlockElement(plain("Tell the requester why, and what to do instead", 150), InputActionID(BlockReason)).WithMultiline(true)
	reason.MaxLength = governance.MaxReasonLength
	return slackapi.ModalViewRequest{
		Type: slackapi.VTModal, CallbackID: CallbackDenyReason, PrivateMetadata: r.ID,
		Title: plain("Deny "+r.ID, maxTitle), Submit: plain("Deny", maxTitle), Close: plain("Back", maxTitle),
		Blocks: slackapi.Blocks{BlockSet: []slackapi.Block{
			section(fmt.Sprintf("%s asks for %s, %s.\n%s", person(r.Requester), itemText(r), governance.FormatDuration(r.Duration), quote(r.Reason))),
			slackapi.NewInputBlock(BlockReason, plain("Reason for denying", 2000), nil, reason),
		}},
	}
}
