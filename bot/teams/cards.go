package teams

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/accessbot/accessbot/governance"
)

// Card is an Adaptive Card as JSON. Cards use schema 1.5, the highest Teams renders for
// bots; buttons are Action.Execute (Universal Actions) with an Action.Submit fallback for
// clients that cannot execute.
type Card = map[string]any

// The verbs of the card buttons, and the card inputs.
const (
	VerbApprove = "approve"
	VerbDeny    = "deny"
	VerbExtend  = "extend"
	VerbRequest = "request"

	InputReason   = "reason"
	InputItem     = "item"
	InputDuration = "duration"

	// DataFrom in a button's data says which card the click came from: FromList for a
	// list of several requests (pending, digest), whose answer must keep the others.
	DataFrom = "from"
	FromList = "list"
)

// ContentType is an Adaptive Card attachment's content type.
const ContentType = "application/vnd.microsoft.card.adaptive"

const cardVersion = "1.5"

func card(body []any, actions ...any) Card {
	c := Card{"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"version": cardVersion, "body": body}
	if len(actions) > 0 {
		c["actions"] = actions
	}
	return c
}

func text(s string, opts ...func(map[string]any)) map[string]any {
	t := map[string]any{"type": "TextBlock", "text": s, "wrap": true}
	for _, o := range opts {
		o(t)
	}
	return t
}

func heading(t map[string]any) { t["weight"] = "Bolder"; t["size"] = "Medium" }
func subtle(t map[string]any)  { t["isSubtle"] = true; t["size"] = "Small" }

func facts(kv ...string) map[string]any {
	fs := []any{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			fs = append(fs, map[string]any{"title": kv[i], "value": kv[i+1]})
		}
	}
	return map[string]any{"type": "FactSet", "facts": fs}
}

// execute is a button: Action.Execute with verb and data, falling back to Action.Submit
// with the same data (and the verb in it) where Execute is not supported.
func execute(title, verb string, data map[string]any) map[string]any {
	d := map[string]any{"verb": verb}
	for k, v := range data {
		d[k] = v
	}
	return map[string]any{"type": "Action.Execute", "title": title, "verb": verb, "data": d,
		"fallback": map[string]any{"type": "Action.Submit", "title": title, "data": d}}
}

// Escape makes user text inert in a TextBlock: no markdown, links or mentions.
func Escape(s string) string { return escapeN(s, -1) }

func escapeN(s string, n int) string {
	if n >= 0 && utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '*', '_', '[', ']', '(', ')', '#', '`', '~', '>', '<', '|', '{', '}', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\r':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Date renders t in the reader's own time zone (Adaptive Card date functions).
func Date(t time.Time) string {
	ts := t.UTC().Format("2006-01-02T15:04:05Z")
	return "{{DATE(" + ts + ", SHORT)}} {{TIME(" + ts + ")}}"
}

func person(p governance.Person) string {
	if p.Name != "" && p.Email != "" && !strings.EqualFold(p.Name, p.Email) {
		return Escape(p.Name) + " (" + Escape(p.Email) + ")"
	}
	return Escape(p.Display())
}

func itemText(r *governance.Request) string {
	return "**" + escapeN(r.Item.Name, 200) + "**"
}

func requestData(r *governance.Request) map[string]any {
	return map[string]any{"request": r.ID, "version": r.Version}
}

// requestFacts are what an approver needs to decide.
func requestFacts(r *governance.Request) map[string]any {
	reason := escapeN(r.Reason, governance.MaxReasonLength)
	if reason == "" {
		reason = "(none given)"
	}
	return facts("Requester", person(r.Requester), "Access", escapeN(r.Item.Name, 200)+" ("+escapeN(r.Item.ID, 100)+")",
		"For", governance.FormatDuration(r.Duration), "Reason", reason, "Asked", Date(r.CreatedAt), "Approvers", escapeN(r.ApproverNames(), 500))
}

// ApprovalCard is the card approvers get: the request, a reason box and Approve and Deny
// while it is pending; who decided, and how, once it is not.
func ApprovalCard(r *governance.Request) Card {
	body := []any{text(fmt.Sprintf("Access request %s", r.ID), heading), requestFacts(r)}
	if r.State != governance.StatePendingApproval {
		return card(append(body, text(Outcome(r))))
	}
	body = append(body, map[string]any{"type": "Input.Text", "id": InputReason, "isMultiline": true,
		"maxLength": governance.MaxReasonLength, "placeholder": "Reason (required to deny)", "label": "Reason"})
	return card(body, execute("Approve", VerbApprove, requestData(r)), execute("Deny", VerbDeny, requestData(r)))
}

// AdminAlertCard is the approval card under a line saying why the admins see it.
func AdminAlertCard(r *governance.Request) Card {
	c := ApprovalCard(r)
	head := text(fmt.Sprintf("Escalated: nobody has decided %s since %s (escalation %d). As an admin you may decide it.",
		r.ID, Date(r.CreatedAt), r.Escalations), func(t map[string]any) { t["color"] = "Attention" })
	c["body"] = append([]any{head}, c["body"].([]any)...)
	return c
}

// Outcome says in one line what became of a request that is no longer pending.
func Outcome(r *governance.Request) string {
	d := r.Decision
	switch {
	case r.State == governance.StateCancelled && d == nil:
		return "Cancelled by the requester at " + Date(r.CancelledAt) + "."
	case r.State == governance.StateTimedOut && d == nil:
		return "Timed out: nobody decided in time. The requester may ask again."
	case d != nil && d.Approved:
		return "Approved by " + person(d.By) + " at " + Date(d.At) + "."
	case d != nil:
		return "Denied by " + person(d.By) + " at " + Date(d.At) + ": " + escapeN(d.Reason, 1000)
	}
	return "Now " + r.State.Label() + "."
}

// NoticeText is what a notice says, in card markdown.
func NoticeText(n governance.Notice) string {
	r := n.Request
	it := itemText(r)
	switch n.Kind {
	case governance.NoticeReceived:
		return fmt.Sprintf("Your request %s for %s (%s) went to %s for approval.", r.ID, it, governance.FormatDuration(r.Duration), escapeN(r.ApproverNames(), 500))
	case governance.NoticeApproved:
		return fmt.Sprintf("%s approved your request %s for %s. Granting it now; you will hear when the access is active.", by(r), r.ID, it)
	case governance.NoticeDenied:
		if r.Decision != nil && r.Decision.Approved {
			return fmt.Sprintf("Your request %s for %s was approved here but denied in %s: %s", r.ID, it, Escape(r.Item.Backend), escapeN(r.Failure, 1000))
		}
		reason := ""
		if r.Decision != nil {
			reason = escapeN(r.Decision.Reason, 1000)
		}
		return fmt.Sprintf("%s denied your request %s for %s: %s. If you still need it, talk to them, or ask again with more detail.", by(r), r.ID, it, reason)
	case governance.NoticeSubmitted:
		return fmt.Sprintf("Your request %s for %s was handed to %s. You will hear when the access is active.", r.ID, it, Escape(r.Item.Backend))
	case governance.NoticeWaiting:
		waiting := ""
		if r.Submission != nil {
			waiting = r.Submission.Waiting
		}
		return fmt.Sprintf("Your request %s for %s is waiting for %s.", r.ID, it, escapeN(waiting, 500))
	case governance.NoticeActive:
		if end := r.EndsAt(); !end.IsZero() {
			return fmt.Sprintf("Your access to %s is active until %s (request %s).", it, Date(end), r.ID)
		}
		return fmt.Sprintf("Your access to %s is active, with no end (request %s).", it, r.ID)
	case governance.NoticeFailed:
		if r.Duplicate {
			return fmt.Sprintf("Nothing new was requested for %s (%s): %s", r.ID, it, escapeN(r.Failure, 1000))
		}
		return fmt.Sprintf("Your request %s for %s could not be granted: %s. Ask your access admins for help, quoting %s.", r.ID, it, escapeN(r.Failure, 1000), r.ID)
	case governance.NoticeCancelled:
		if r.Failure != "" {
			return fmt.Sprintf("Your request %s for %s was cancelled in %s: %s", r.ID, it, Escape(r.Item.Backend), escapeN(r.Failure, 1000))
		}
		return fmt.Sprintf("Your request %s for %s was cancelled.", r.ID, it)
	case governance.NoticeReminder:
		return fmt.Sprintf("Reminder: %s has been waiting since %s for your decision on %s, %s for %s.",
			person(r.Requester), Date(r.CreatedAt), r.ID, it, governance.FormatDuration(r.Duration))
	case governance.NoticeEscalated:
		return fmt.Sprintf("Nobody has decided your request %s for %s yet, so it went to %s as well.", r.ID, it, escapeN(r.ApproverNames(), 500))
	case governance.NoticeTimedOut:
		return fmt.Sprintf("Nobody decided your request %s for %s in time, so it has lapsed. If you still need it, ask again.", r.ID, it)
	case governance.NoticeExpiring:
		return fmt.Sprintf("Your access to %s ends %s (request %s). Need longer? Extend asks your approvers for another %s.",
			it, Date(r.EndsAt()), r.ID, governance.FormatDuration(r.Duration))
	case governance.NoticeEnded:
		return fmt.Sprintf("Your access to %s has ended (request %s).", it, r.ID)
	case governance.NoticeRevoked:
		who := "An admin"
		if r.RevokedBy != nil {
			who = person(*r.RevokedBy)
		}
		return fmt.Sprintf("%s revoked your access to %s (request %s).", who, it, r.ID)
	}
	return fmt.Sprintf("Your request %s for %s is now %s.", r.ID, it, r.State.Label())
}

func by(r *governance.Request) string {
	if r.Decision != nil {
		return person(r.Decision.By)
	}
	return "An approver"
}

// NoticeCard is a notice as a card: a reminder of a pending request carries the decision
// buttons, an expiry warning the Extend button.
func NoticeCard(n governance.Notice) Card {
	body := []any{text(NoticeText(n))}
	r := n.Request
	switch {
	case n.Kind == governance.NoticeReminder && r.State == governance.StatePendingApproval:
		c := ApprovalCard(r)
		c["body"] = append(body, c["body"].([]any)...)
		return c
	case n.Kind == governance.NoticeExpiring && r.State == governance.StateActive:
		return card(body, execute("Extend", VerbExtend, requestData(r)))
	}
	return card(body)
}

// DigestCard lists the requests waiting for an approver, each with its buttons. A request
// in the list that is no longer pending (the one just decided from it) says what became of
// it instead.
func DigestCard(rs []*governance.Request) Card {
	waiting := 0
	for _, r := range rs {
		if r.State == governance.StatePendingApproval {
			waiting++
		}
	}
	head := fmt.Sprintf("%d requests wait for your decision", waiting)
	if waiting == 0 {
		head = "Nothing else waits for your decision."
	}
	body := []any{text(head, heading)}
	for i, r := range rs {
		if i == 20 {
			body = append(body, text(fmt.Sprintf("…and %d more: send `pending` to see them.", len(rs)-20), subtle))
			break
		}
		body = append(body, decisionContainer(r))
	}
	return card(body)
}

// decisionContainer is one pending request with its own reason box and buttons, or a
// decided one with its outcome.
func decisionContainer(r *governance.Request) map[string]any {
	items := []any{
		text(fmt.Sprintf("%s: %s asks for %s for %s", r.ID, person(r.Requester), itemText(r), governance.FormatDuration(r.Duration))),
		text("Reason: "+escapeN(r.Reason, 500), subtle),
	}
	if r.State != governance.StatePendingApproval {
		items = append(items, text(Outcome(r)))
	} else {
		data := requestData(r)
		data[DataFrom] = FromList
		items = append(items,
			map[string]any{"type": "Input.Text", "id": InputReason + "-" + r.ID, "placeholder": "Reason (required to deny)", "maxLength": governance.MaxReasonLength},
			map[string]any{"type": "ActionSet", "actions": []any{execute("Approve", VerbApprove, data), execute("Deny", VerbDeny, data)}})
	}
	return map[string]any{"type": "Container", "separator": true, "items": items}
}

// PendingCard answers `pending`.
func PendingCard(rs []*governance.Request) Card {
	if len(rs) == 0 {
		return card([]any{text("Nothing waits for your decision.")})
	}
	return DigestCard(rs)
}

// StatusCard answers `status`: the person's requests, newest first.
func StatusCard(rs []*governance.Request) Card {
	if len(rs) == 0 {
		return card([]any{text("You have no requests yet. Send `request <item> for 8h because <reason>`, or `help` for the catalog.")})
	}
	body := []any{text("Your requests, newest first", heading)}
	for _, r := range rs {
		line := fmt.Sprintf("%s %s, %s: **%s**", r.ID, itemText(r), governance.FormatDuration(r.Duration), r.State.Label())
		switch {
		case r.State == governance.StatePendingApproval:
			line += " (waiting for " + escapeN(r.ApproverNames(), 300) + ")"
		case r.State == governance.StateSubmitted && r.Submission != nil && r.Submission.Waiting != "":
			line += " (waiting for " + escapeN(r.Submission.Waiting, 300) + ")"
		case r.State == governance.StateActive && !r.EndsAt().IsZero():
			line += " until " + Date(r.EndsAt())
		case r.Failure != "":
			line += ": " + escapeN(r.Failure, 300)
		case r.State == governance.StateDenied && r.Decision != nil:
			line += " by " + person(r.Decision.By) + ": " + escapeN(r.Decision.Reason, 300)
		}
		body = append(body, text(line))
	}
	return card(body)
}

// HelpCard explains the commands and lists the catalog.
func HelpCard(items []governance.Item) Card {
	body := []any{
		text("accessbot: ask for access, and approve it, without leaving Teams.", heading),
		text("- `request <item> for <duration> because <reason>`: ask for access (durations like 30m, 8h, 7d)\n" +
			"- `request`: a form to fill in\n- `status`: your requests\n- `pending`: requests waiting for your decision\n" +
			"- `cancel AR-7`: withdraw your request\n- `revoke <item>`: give up access you hold\n- `schedule AR-7`: what is planned for a request\n- `help`: this"),
		text("What you can request", heading),
	}
	var lines []string
	for _, it := range items {
		if it.Search {
			lines = append(lines, fmt.Sprintf("- **%s**: ask for anything %s offers by its name", escapeN(it.Name, 200), Escape(it.Backend)))
			continue
		}
		line := fmt.Sprintf("- `%s` **%s**, default %s", escapeN(it.ID, 100), escapeN(it.Name, 200), governance.FormatDuration(it.DefaultDuration))
		if it.MaxDuration > 0 {
			line += ", at most " + governance.FormatDuration(it.MaxDuration)
		}
		lines = append(lines, line)
	}
	body = append(body, text(strings.Join(lines, "\n")))
	return card(body)
}

// RequestFormCard asks for access: the item, a duration and a reason. The item is a choice
// of the catalog's fixed items; where there are none (a catalog of searches only) it is
// typed, since a choice set with no choices is not a valid card.
func RequestFormCard(items []governance.Item) Card {
	choices := []any{}
	for _, it := range items {
		if !it.Search {
			choices = append(choices, map[string]any{"title": it.Name, "value": it.ID})
		}
	}
	item := map[string]any{"type": "Input.ChoiceSet", "id": InputItem, "label": "What", "isRequired": true, "choices": choices,
		"errorMessage": "Pick what you need"}
	if len(choices) == 0 {
		item = map[string]any{"type": "Input.Text", "id": InputItem, "label": "What", "isRequired": true,
			"placeholder": "The name of what you need (send help for what you can ask for)", "errorMessage": "Name what you need"}
	}
	return card([]any{
		text("Ask for access", heading),
		item,
		map[string]any{"type": "Input.Text", "id": InputDuration, "label": "For how long", "placeholder": "8h, 2d (empty: the item's default)"},
		map[string]any{"type": "Input.Text", "id": InputReason, "label": "Why", "isMultiline": true, "maxLength": governance.MaxReasonLength},
	}, execute("Request", VerbRequest, map[string]any{}))
}

// Message is a card that says one thing.
func Message(s string) Card { return card([]any{text(s)}) }

// ErrorCard tells a person what went wrong and what to do: a governance Problem's own
// sentence, or a generic one with a reference for the logs.
func ErrorCard(err error, ref string) Card {
	return card([]any{text(ErrorText(err, ref), func(t map[string]any) { t["color"] = "Attention" })})
}

// ErrorText is ErrorCard's sentence.
func ErrorText(err error, ref string) string {
	var p *governance.Problem
	if asProblem(err, &p) {
		return Escape(p.Message)
	}
	return "Something went wrong on our side; nothing was changed. Try again in a minute, and tell your admins the reference " + ref + " if it keeps happening."
}

func asProblem(err error, p **governance.Problem) bool { return errors.As(err, p) }

// RequestCreated answers a request.
func RequestCreated(r *governance.Request) Card {
	return Message(fmt.Sprintf("Request %s for %s, %s, is waiting for %s. You will hear their decision here. Changed your mind? Send `cancel %s`.",
		r.ID, itemText(r), governance.FormatDuration(r.Duration), escapeN(r.ApproverNames(), 500), r.ID))
}

// Cancelled acknowledges a cancellation.
func Cancelled(r *governance.Request) Card {
	return Message(fmt.Sprintf("Request %s for %s is cancelled; its approvers' cards say so.", r.ID, itemText(r)))
}

// Revoked acknowledges an early end of access.
func Revoked(r *governance.Request) Card {
	whose := "Your access"
	if r.RevokedBy != nil && !r.RevokedBy.Is(r.Requester) {
		whose = person(r.Requester) + "'s access"
	}
	return Message(fmt.Sprintf("%s to %s (request %s) is revoked; %s is removing it now.", whose, itemText(r), r.ID, Escape(r.Item.Backend)))
}

// Extending acknowledges an ask for more time.
func Extending(r *governance.Request) Card {
	return Message(fmt.Sprintf("Asked %s for more time: request %s.", escapeN(r.ApproverNames(), 500), r.ID))
}

// ScheduleCard lists what is planned for a request.
func ScheduleCard(r *governance.Request, steps []governance.Step) Card {
	lines := []string{fmt.Sprintf("%s %s is %s.", r.ID, itemText(r), r.State.Label())}
	if len(steps) == 0 {
		lines = append(lines, "Nothing is scheduled for it.")
	}
	for _, st := range steps {
		mark := "-"
		if st.Done {
			mark = "- ✓"
		}
		lines = append(lines, fmt.Sprintf("%s %s: %s", mark, Date(st.At), st.Label()))
	}
	return Message(strings.Join(lines, "\n"))
}

// PlainError is ErrorText without markdown, for a toast-like invoke message.
func PlainError(err error) string {
	var p *governance.Problem
	if asProblem(err, &p) {
		return p.Message
	}
	return "Something went wrong on our side; nothing was changed. Try again in a minute."
}
