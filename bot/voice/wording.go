package voice

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/accessbot/accessbot/governance"
)

// How much of someone else's text a message shows, in characters.
const (
	maxName     = 200  // an item's name
	maxID       = 100  // an item's id, a backend's name
	maxList     = 500  // approvers, what a backend waits for, a short failure
	maxDetail   = 1000 // a reason in a notice, a backend's message
	maxCardNote = 2000 // the reason on an approval card
	maxRowNote  = 200  // the reason in a row of a list: the approval card has it whole
)

// OriginalCard is the caption of a link back to the approval card a reminder is about.
const OriginalCard = "Open the original card"

// The approval card is drawn for every request, so its lines (and person and item) are
// Text literals of spans: each argument of line is an interface value, which costs an
// allocation of its own for a span or a string that is not a constant.

// person is a person as people read them: "Alice (alice@example.com)".
func person(p governance.Person) Text {
	if p.Name != "" && p.Email != "" && !strings.EqualFold(p.Name, p.Email) {
		return Text{user(p.Name, 0), words(" ("), user(p.Email, 0), words(")")}
	}
	return Text{user(p.Display(), 0)}
}

// item is a request's item: its name, and the id people type.
func item(r *governance.Request) Text {
	return Text{{Kind: User, Style: Strong, Text: r.Item.Name, Limit: maxName}, words(" "),
		{Kind: User, Style: Code, Text: r.Item.ID, Limit: maxID}}
}

func id(r *governance.Request) Span { return strong(r.ID) }

func approvers(r *governance.Request) Span { return user(r.ApproverNames(), maxList) }

// backend is the item's backend as people name it: "SailPoint", not "sailpoint".
func backend(r *governance.Request) Span { return backendSpan(r.Item.Backend) }

// backendSpan is a backend as people name it.
func backendSpan(name string) Span {
	if n := BackendName(name); n != name {
		return Span{Kind: Words, Text: n}
	}
	return user(name, maxID)
}

// BackendName is a backend as people name it: "SailPoint", not "sailpoint"; a name it
// does not know is given back as it is.
func BackendName(name string) string { return governance.BackendTitle(name) }

// whenTheyDecide is the end of "you will hear …": one approver, or several of them.
func whenTheyDecide(r *governance.Request) string {
	if r.Staged() {
		return " for approval. You will hear here as each stage is decided."
	}
	if len(r.Deciders()) == 1 {
		return " for approval. You will hear here when they decide."
	}
	return " for approval. You will hear here when one of them decides."
}

func duration(r *governance.Request) string { return governance.FormatDuration(r.Duration) }

// quote is someone's reason, set apart, or "none given".
func quote(s string, n int32) Span {
	if strings.TrimSpace(s) == "" {
		return emph("none given")
	}
	return Span{Kind: Quote, Text: s, Limit: n}
}

// decide is the Approve and Deny buttons while r waits for a decision.
func decide(r *governance.Request) []Button {
	if r.State != governance.StatePendingApproval && len(r.Desk.Open()) == 0 {
		return nil
	}
	return []Button{{Action: Approve, Request: r}, {Action: Deny, Request: r}}
}

// ApprovalCard is the message an approver gets: who asks for what, for how long and why,
// with Approve and Deny while the request is pending, and the outcome, without buttons,
// once it is not. A request of several stages, or of several required approvals, shows
// where its approval stands and who approved so far.
func ApprovalCard(r *governance.Request) Message {
	m := Message{
		Title: "Access request " + r.ID,
		Fields: []Field{{"Requester", person(r.Requester)}, {"Item", item(r)},
			{"Duration", Text{words(duration(r))}}, {"Requested", Text{date(r.CreatedAt)}}},
		Body: []Paragraph{{Text: Text{strong("Reason"), words("\n"), quote(r.Reason, maxCardNote)}}},
	}
	if r.Extends != "" {
		m.Title = "Extension request " + r.ID
		m.Fields = append(m.Fields, Field{"Extends", extends(r)})
	}
	if r.RequestedBy != nil {
		m.Fields[0] = Field{"For", person(r.Requester)}
		m.Fields = slices.Insert(m.Fields, 1, Field{"Asked by", person(*r.RequestedBy)})
	}
	if r.Staged() {
		m.Fields = append(m.Fields, Field{"Approval", StageProgress(r)})
		if len(r.Approvals) > 0 {
			m.Fields = append(m.Fields, Field{"Approved so far", approvedSoFar(r)})
		}
	}
	if r.State == governance.StatePendingApproval {
		m.Buttons = decide(r)
		m.Context = Text{words("Request "), words(r.ID), words(" · approvers: "), approvers(r),
			words(" · the first decision counts, and everyone's card shows it.")}
		if r.Staged() {
			m.Context = Text{words("Request "), words(r.ID), words(" · waiting for: "), approvers(r),
				words(" · one Deny ends it, and everyone's card shows each decision.")}
		}
		m.Summary = Text{user(r.Requester.Display(), 0), words(" asks for "), user(r.Item.Name, maxName), words(" ("),
			words(duration(r)), words(") — request "), words(r.ID), words(" is waiting for your decision.")}
		return m
	}
	outcome := Outcome(r)
	m.Body = append(m.Body, outcome)
	m.Context = line("Request " + r.ID)
	m.Summary = line("Request ", r.ID, ": ", outcome.Text)
	return m
}

// ApprovalCardFor is r's approval card as recipient sees it: the buttons only while they
// may decide it now (not once they approved, nor while another stage decides). A card of
// the admins' channel ("admins#…") keeps them while r is pending.
func ApprovalCardFor(r *governance.Request, recipient string) Message {
	m := ApprovalCard(r)
	if recipient != "" && !strings.HasPrefix(recipient, "admins#") && !r.CanDecide(governance.Person{Email: recipient}) {
		m.Buttons = nil
		if r.State == governance.StatePendingApproval && r.HasApproved(governance.Person{Email: recipient}) {
			m.Body = append(m.Body, para(IconApproved, "You approved it; it is waiting for ", approvers(r), "."))
		}
	}
	return m
}

// StageProgress says where a request's approval stands: "1 of 2 required · stage 2 of 2:
// owners" (approvals of the stage deciding now, of those it requires).
func StageProgress(r *governance.Request) Text {
	all, st := r.AllStages(), r.CurrentStage()
	got := len(r.StageApprovals())
	if r.Decision != nil && r.Decision.Approved && r.State != governance.StatePendingApproval {
		got = st.Required
	}
	t := line(fmt.Sprintf("%d of %d required", got, st.Required))
	if len(all) > 1 {
		t = line(t, fmt.Sprintf(" · stage %d of %d: ", r.Stage+1, len(all)), user(st.Name, maxID))
	}
	return t
}

// approvedSoFar names who approved, stage by stage when there are several: "manager:
// Dave (dave@example.com) · owners: Alice (alice@example.com)".
func approvedSoFar(r *governance.Request) Text {
	all := r.AllStages()
	var t Text
	for i, d := range r.Approvals {
		stage := min(d.Stage, len(all)-1)
		switch {
		case len(all) > 1 && (i == 0 || r.Approvals[i-1].Stage != d.Stage):
			if i > 0 {
				t = line(t, " · ")
			}
			t = line(t, user(all[stage].Name, maxID), ": ")
		case i > 0:
			t = line(t, ", ")
		}
		t = line(t, person(d.By))
	}
	return t
}

// AdminAlert is what the admins get when a request escalates: the approval card, with
// working buttons, under a line saying why they see it.
func AdminAlert(r *governance.Request) Message {
	m := ApprovalCard(r)
	m.Lead = []Paragraph{para(IconAlert, strong("Escalated:"), " nobody has decided ", r.ID, " since ", date(r.CreatedAt),
		fmt.Sprintf(" (escalation %d). Approvers so far: ", r.Escalations), approvers(r), ". As an admin you may decide it.")}
	m.Summary = line("Escalated: ", user(r.Requester.Display(), 0), " asks for ", user(r.Item.Name, maxName), " — request ", r.ID,
		" has waited since ", date(r.CreatedAt), ".")
	return m
}

// Outcome says in one line what became of a request that is no longer pending.
func Outcome(r *governance.Request) Paragraph {
	d := r.Decision
	switch {
	case r.State == governance.StateCancelled && r.CancelledBy != nil:
		return para(IconStop, "Cancelled by ", person(*r.CancelledBy), ", who asked for it, at ", date(r.CancelledAt), ".")
	case r.State == governance.StateCancelled:
		return para(IconStop, "Cancelled by requester ", person(r.Requester), " at ", date(r.CancelledAt), ".")
	case r.State == governance.StateTimedOut:
		return para(IconTimeUp, "Timed out: nobody decided in time. The requester may ask again.")
	case d != nil && d.Approved:
		return para(IconApproved, "Approved by ", person(d.By), " at ", date(d.At), ".")
	case d != nil:
		return para(IconDenied, "Denied by ", person(d.By), " at ", date(d.At), ":\n", quote(d.Reason, maxDetail))
	}
	return para(IconNone, "Now "+r.State.Label()+".")
}

// Notice is what a notice tells its reader. A reminder of a pending request carries the
// Approve and Deny buttons, an expiry warning of active access the Extend button.
func Notice(n governance.Notice) Message {
	r := n.Request
	m := Message{Body: []Paragraph{noticeText(n)}}
	switch {
	case n.Kind == governance.NoticeReminder:
		m.Buttons = decide(r)
	case n.Kind == governance.NoticeExpiring && r.State == governance.StateActive:
		m.Buttons = []Button{{Action: Extend, Request: r}}
	case n.Kind == governance.NoticeAutoApprovedAdmin && !r.State.Terminal():
		m.Buttons = []Button{{Action: Revoke, Request: r}}
	}
	return m
}

func noticeText(n governance.Notice) Paragraph {
	r := n.Request
	it := item(r)
	switch n.Kind {
	case governance.NoticeAutoApproved, governance.NoticeAutoApprovedAdmin:
		t := line("FYI: ", person(r.Requester), " asked for ", it, " (", duration(r), ") — request ", id(r),
			" — and it was approved automatically, without you: the requester is ", user(r.AutoApproved, maxList), ".\n",
			quote(r.Reason, maxDetail), "\nNothing for you to do; the audit trail records the rule.")
		if n.Kind == governance.NoticeAutoApprovedAdmin {
			t = line(t, " As an admin you may revoke it.")
		}
		return para(IconInfo, t)
	case governance.NoticeAskedForYou:
		by := line("Someone")
		if r.RequestedBy != nil {
			by = person(*r.RequestedBy)
		}
		return para(IconInbox, by, " asked for ", it, " (", duration(r), ") for you: request ", id(r), ", now with ", approvers(r),
			" for approval.\n", quote(r.Reason, maxDetail), "\nYou will hear here when they decide. Not wanted? ", cmd("cancel "+r.ID))
	case governance.NoticeNextStage:
		st := r.CurrentStage()
		need := ""
		if st.Required > 1 {
			need = fmt.Sprintf(" (%d of them must approve)", st.Required)
		}
		return para(IconInbox, "Your request ", id(r), " for ", it, fmt.Sprintf(" passed stage %d of %d; stage %d, ", r.Stage, len(r.AllStages()), r.Stage+1),
			user(st.Name, maxID), ", is with ", approvers(r), need, ". You will hear here when they decide.")
	case governance.NoticeReceived:
		if r.Desk != nil {
			return para(IconInbox, "Your request ", id(r), " for ", it, " (", duration(r), ") goes to ", backend(r),
				", whose approval policy names the approvers. You will hear each step.")
		}
		if r.Extends != "" {
			return para(IconInbox, "Your ask to extend ", extends(r), " (request ", id(r), ", for ", it, ") went to ", approvers(r),
				whenTheyDecide(r))
		}
		return para(IconInbox, "Your request ", id(r), " for ", it, " (", duration(r), ") went to ", approvers(r),
			whenTheyDecide(r))
	case governance.NoticeApproved:
		if r.AutoApproved != "" {
			return para(IconApproved, "Your request ", id(r), " for ", it, " was approved automatically: you are ", user(r.AutoApproved, maxList),
				". Granting it now; you will hear when the access is active. Your approvers are told.")
		}
		by := line("An approver")
		if r.Decision != nil {
			by = person(r.Decision.By)
		}
		return para(IconApproved, by, " approved your request ", id(r), " for ", it, ". Granting it now; you will hear when the access is active.")
	case governance.NoticeDenied:
		if r.Decision != nil && r.Decision.Approved { // approved here, denied in the backend's own approvals
			return para(IconDenied, "Your request ", id(r), " for ", it, " was approved here but denied in ", backend(r), ": ",
				user(r.Failure, maxDetail), "\nIf you still need it, talk to your access admins.")
		}
		by, reason := line("An approver"), ""
		if r.Decision != nil {
			by, reason = person(r.Decision.By), r.Decision.Reason
		}
		return para(IconDenied, by, " denied your request ", id(r), " for ", it, ":\n", quote(reason, maxDetail),
			"\nIf you still need it, talk to them, or ask again with more detail.")
	case governance.NoticeSubmitted:
		return para(IconWaiting, "Your request ", id(r), " for ", it, " was handed to ", backend(r), ". You will hear when the access is active.")
	case governance.NoticeActive:
		if end := r.EndsAt(); !end.IsZero() {
			return para(IconUnlock, "Your access to ", it, " is active until ", date(end), " (request ", id(r), ").")
		}
		return para(IconUnlock, "Your access to ", it, " is active, with no end (request ", id(r), ").")
	case governance.NoticeFailed:
		if r.Duplicate {
			return para(IconInfo, "Nothing new was requested for ", id(r), " (", it, "): ", user(r.Failure, maxDetail))
		}
		return para(IconWarning, "Your request ", id(r), " for ", it, " could not be granted: ", user(r.Failure, maxDetail),
			". Nothing was granted; ask your access admins for help, quoting "+r.ID+".")
	case governance.NoticeCancelled:
		if r.Failure != "" {
			return para(IconStop, "Your request ", id(r), " for ", it, " was cancelled in ", backend(r), ": ", user(r.Failure, maxDetail))
		}
		return para(IconStop, "Your request ", id(r), " for ", it, " was cancelled.")
	case governance.NoticeConnect:
		return para(IconWaiting, "Your request ", id(r), " for ", it, " is made in ", backend(r), " as you, so that its own approvers decide it: ",
			"connect your account once with ", cmdWith("connect ", r.Item.Backend, maxID), ", and accessbot makes the request then.")
	case governance.NoticeWaiting:
		waiting := ""
		if r.Submission != nil {
			waiting = r.Submission.Waiting
		}
		return para(IconWaiting, "Your request ", id(r), " for ", it, " is waiting for ", user(waiting, maxList), ". You will hear when the access is active.")
	case governance.NoticeRevoked:
		by := line("An admin")
		if r.RevokedBy != nil {
			by = person(*r.RevokedBy)
		}
		return para(IconLock, by, " revoked your access to ", it, " (request ", id(r), "). Ask again with ",
			cmdWith("request ", r.Item.ID, maxID), " if you still need it.")
	case governance.NoticeStep:
		if r.Desk != nil {
			return stepNotice(r)
		}
	case governance.NoticeReminder:
		return para(IconAlarm, "Reminder: ", person(r.Requester), " has been waiting since ", date(r.CreatedAt), " for your decision on ",
			id(r), ", ", it, " for ", duration(r), ".\n", quote(r.Reason, maxDetail))
	case governance.NoticeEscalated:
		to := line("another approver")
		if len(r.Approvers) > 0 {
			to = person(r.Approvers[len(r.Approvers)-1])
		}
		return para(IconUp, "Nobody has decided your request ", id(r), " for ", it, " yet, so it went to ", to,
			" as well. The earlier approvers can still decide.")
	case governance.NoticeTimedOut:
		if r.Failure != "" {
			return para(IconTimeUp, "Your request ", id(r), " for ", it, " lapsed in ", backend(r), ": ", user(r.Failure, maxDetail),
				". If you still need it, ask again: ", cmdWith("request ", r.Item.ID, maxID), ".")
		}
		return para(IconTimeUp, "Nobody decided your request ", id(r), " for ", it, " in time, so it has lapsed. If you still need it, ask again: ",
			cmdWith("request ", r.Item.ID, maxID), ".")
	case governance.NoticeExpiring:
		return para(IconWaiting, "Your access to ", it, " ends ", date(r.EndsAt()), " (request ", id(r), "). Need longer? Extend asks your approvers for another ",
			duration(r), ".")
	case governance.NoticeEnded:
		return para(IconLock, "Your access to ", it, " has ended (request ", id(r), "). Ask again with ", cmdWith("request ", r.Item.ID, maxID),
			" if you need it back.")
	}
	return para(IconNone, "Your request ", id(r), " for ", it, " is now "+r.State.Label()+".")
}

// Pending lists the requests waiting for a person's decision, oldest first, each with
// working Approve and Deny buttons. A request in the list that is no longer pending (one
// just decided from it, in Teams) says what became of it instead.
func Pending(rs []*governance.Request) Message {
	waiting := 0
	for _, r := range rs {
		if r.State == governance.StatePendingApproval || len(r.Desk.Open()) > 0 {
			waiting++
		}
	}
	if len(rs) == 0 {
		return Message{Body: []Paragraph{para(IconTada, "Nothing is waiting for your decision.")}}
	}
	head := para(IconNone, strong(fmt.Sprintf("%d waiting for your decision", waiting)), ", oldest first:")
	if waiting == 0 {
		head = para(IconTada, "Nothing else is waiting for your decision.")
	}
	m := Message{Body: []Paragraph{head}, List: ListPending,
		Summary: line(fmt.Sprintf("%d requests wait for your decision.", waiting)),
		More: func(n int) Text {
			return line(fmt.Sprintf("…and %d more — decide these, then ", n), cmd("pending"), " shows the rest.")
		}}
	for _, r := range rs {
		row := Message{Body: []Paragraph{para(IconNone, id(r), " ", person(r.Requester), " asks for ", item(r), ", ", duration(r),
			", since ", date(r.CreatedAt), "\n", quote(r.Reason, maxRowNote))}, Buttons: decide(r)}
		if r.Staged() && r.State == governance.StatePendingApproval {
			row.Body = append(row.Body, para(IconNone, StageProgress(r)))
		}
		if r.State != governance.StatePendingApproval && len(r.Desk.Open()) == 0 {
			row.Body = append(row.Body, Outcome(r))
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

// Digest is the daily list of what waits for an approver's decision.
func Digest(rs []*governance.Request) Message {
	m := Pending(rs)
	m.Lead = []Paragraph{para(IconNews, strong("Your access-request digest"))}
	m.List = ListDigest
	m.Summary = line("Digest: ", m.SummaryText())
	return m
}

// ShowMore is the caption of the button that shows the next n rows of a long list.
func ShowMore(n int) string { return fmt.Sprintf("Show %d more", n) }

// PageShown says which rows of a long list a page shows: rows from to to of total.
func PageShown(from, to, total int) Text {
	return line(fmt.Sprintf("Requests %d–%d of %d.", from, to, total))
}

// Status lists a person's requests, newest first, with their states.
func Status(rs []*governance.Request) Message {
	if len(rs) == 0 {
		return Message{Body: []Paragraph{para(IconNone, "You have no requests yet. Try ", cmd("request <item> for 8h because <reason>"),
			", or ", cmd("help"), " for the catalog.")}}
	}
	m := Message{Body: []Paragraph{para(IconNone, strong("Your requests"), ", newest first:")}, List: ListStatus,
		Summary: line(fmt.Sprintf("You have %d requests.", len(rs))),
		More: func(n int) Text {
			return line(fmt.Sprintf("…and %d more — see ", n), cmd("status"), " once these are done.")
		}}
	for _, r := range rs {
		t := line(id(r), " ", item(r), ", ", duration(r), " — ", strong(r.State.Label()))
		switch {
		case r.State == governance.StatePendingApproval:
			t = line(id(r), " ", item(r), ", ", duration(r), " — ", strong("waiting for "), approvers(r))
		case r.State == governance.StateActive && !r.EndsAt().IsZero():
			t = line(t, " until ", date(r.EndsAt()))
		case r.State == governance.StateActive:
			t = line(t, ", no end")
		case r.State == governance.StateSubmitted && r.Submission != nil && r.Submission.Waiting != "":
			t = line(t, " (waiting for ", user(r.Submission.Waiting, maxList), ")")
		case r.State == governance.StateRevoked && r.RevokedBy != nil:
			t = line(t, " by ", person(*r.RevokedBy))
		case r.Failure != "" && (r.State == governance.StateFailed || r.State == governance.StateDenied ||
			r.State == governance.StateCancelled || r.State == governance.StateTimedOut):
			t = line(t, ": ", user(r.Failure, maxList))
		case r.State == governance.StateDenied && r.Decision != nil:
			t = line(t, " by ", person(r.Decision.By), ": ", user(r.Decision.Reason, maxList))
		}
		m.Rows = append(m.Rows, Message{Body: []Paragraph{{Text: line(t, "\nasked ", date(r.CreatedAt))}}})
	}
	return m
}

// Help explains every command with an example, and lists the catalog: ids, default and
// maximum durations, and whether a reason is required.
func Help(items []governance.Item) Message {
	code := func(s string) Span { return Span{Kind: Words, Style: Code, Text: s} }
	m := Message{
		Body: []Paragraph{
			para(IconNone, strong("accessbot"), " — ask for access, and approve it, without leaving the chat."),
			para(IconNone, cmd("request <item> [for <duration>] [because <reason>]"), " — ask for access. Durations look like ",
				code("30m"), ", ", code("8h"), ", ", code("7d"), ", ", code("1d12h"), " or ", code("2 hours"), "; without one you get the item's default.\n",
				emph("Example:"), " ", cmd("request prod-db-read for 8h because investigating INC-4711")),
			para(IconNone, cmd(""), " — open a form to ask for access\n",
				cmd("status"), " — your requests and where they are\n",
				cmd("pending"), " — requests waiting for your decision, with Approve and Deny\n",
				cmd("cancel AR-7"), " — withdraw your own request while it waits, or while the access system works on it\n",
				cmd("extend AR-7 [for <duration>]"), " — ask for more time on access you hold (as long again, or for the duration given)\n",
				cmd("revoke <item>"), " — give up access you hold now; ", cmd("revoke <item> from <e-mail>"), " ends a direct report's (managers, admins)\n",
				cmd("schedule AR-7"), " — the reminders, escalations and timeout planned for a request, or when its access ends\n",
				cmd("request <item> for <e-mail>"), " — ask for a direct report (managers) or anyone (admins); they are told and may cancel\n",
				cmd("connect <system>"), " — connect your own account at a system such as SailPoint, so that accessbot acts there as you; ",
				cmd("connections"), " lists them, ", cmd("disconnect <system>"), " forgets one\n",
				cmd("help"), " — this"),
			para(IconNone, strong("What you can request")),
		},
		Compact: true,
		More: func(n int) Text {
			return line(fmt.Sprintf("…and %d more groups of items — ask for one by id: ", n), cmd("request <id>"), ".")
		},
		Summary: line("accessbot help: ", cmd("request <item> for <duration> because <reason>")),
	}
	for _, it := range items {
		name := Span{Kind: User, Style: Strong, Text: it.Name, Limit: maxName}
		t := line("• ", Span{Kind: User, Style: Code, Text: it.ID, Limit: maxID}, " ", name)
		if it.Search {
			t = line("• ", name, " — ask for anything ", user(it.Backend, maxID), " offers by its name: ", cmd("request <name>"))
		}
		if it.Description != "" {
			t = line(t, " — ", user(it.Description, 300))
		}
		t = line(t, "\n   default "+governance.FormatDuration(it.DefaultDuration))
		if it.MaxDuration > 0 {
			t = line(t, ", at most "+governance.FormatDuration(it.MaxDuration))
		}
		if it.JustificationRequired && it.RequireTicket == nil {
			t = line(t, "; a reason is required")
		}
		if it.RequireTicket != nil {
			t = line(t, "; the reason must contain a ticket (", Span{Kind: User, Style: Code, Text: it.RequireTicket.String(), Limit: maxID}, ")")
		}
		if len(it.Stages) > 1 {
			t = line(t, fmt.Sprintf("; approved in %d stages", len(it.Stages)))
		}
		m.Rows = append(m.Rows, Message{Body: []Paragraph{{Text: t}}})
	}
	if len(items) == 0 {
		m.Rows = []Message{{Body: []Paragraph{para(IconNone, emph("The catalog is empty; ask your admins to add items."))}}}
	}
	return m
}

// Schedule shows what the scheduler plans for a request.
func Schedule(r *governance.Request, steps []governance.Step) Message {
	t := line(id(r), " ", item(r), " is "+r.State.Label()+".")
	if len(steps) == 0 {
		return Message{Body: []Paragraph{{Text: line(t, " Nothing is scheduled for it.")}}}
	}
	if r.State == governance.StatePendingApproval && len(r.AllStages()) > 1 {
		t = line(t, fmt.Sprintf(" Stage %d of %d, ", r.Stage+1, len(r.AllStages())), user(r.CurrentStage().Name, maxID),
			", began ", date(r.StageStart()), fmt.Sprintf(", with %d of %d required approvals so far; its reminders, escalations and timeout count from its start.",
				len(r.StageApprovals()), r.CurrentStage().Required))
	}
	t = line(t, " Planned:")
	for _, st := range steps {
		mark := "•"
		if st.Done {
			mark = "✓"
		}
		t = line(t, "\n"+mark+" ", date(st.At), " — "+st.Label())
		if !st.Arrives.IsZero() {
			t = line(t, " (arrives ", date(st.Arrives), ", within working hours)")
		}
	}
	return Message{Body: []Paragraph{{Text: t}}}
}

// extends says what an extension asks for: which request's access, by how much, until when.
func extends(r *governance.Request) Text {
	return line(strong(r.Extends), " by ", duration(r), ", until ", date(r.ExtendTo))
}

// RequestCreated acknowledges a new request (or an ask for more time, which is one): its
// id, the item, the duration and who will decide.
func RequestCreated(r *governance.Request) Message {
	if r.Desk != nil {
		t := line("Request ", id(r), " for ", item(r), ", ", duration(r), ", goes to ", backend(r), ", whose approval policy names the approvers; ",
			"they decide in chat or in ", backend(r), ". I will tell you each step in a direct message.")
		if r.Reason != "" {
			t = line(t, "\n", quote(r.Reason, maxDetail))
		}
		return Message{Body: []Paragraph{{Icon: IconInbox, Text: t}}, Context: line("Changed your mind? ", cmd("cancel "+r.ID))}
	}
	t := line("Request ", id(r), " for ", item(r), ", ", duration(r), ", is waiting for ", approvers(r),
		". I will tell you their decision in a direct message.")
	if r.Extends != "" {
		t = line("You asked to extend ", extends(r), ", for ", item(r), ": request ", id(r), " is waiting for ", approvers(r),
			". I will tell you their decision in a direct message.")
	}
	if r.RequestedBy != nil {
		t = line("Request ", id(r), " for ", item(r), ", ", duration(r), ", for ", person(r.Requester), ", is waiting for ", approvers(r),
			". They are told, hear the decision, and may cancel it.")
	}
	if r.AutoApproved != "" {
		t = line("Request ", id(r), " for ", item(r), ", ", duration(r), ", was approved automatically: you are ", user(r.AutoApproved, maxList),
			". Granting it now; your approvers are told, and I will tell you when the access is active.")
	}
	if r.Reason != "" {
		t = line(t, "\n", quote(r.Reason, maxDetail))
	}
	return Message{Body: []Paragraph{{Icon: IconInbox, Text: t}}, Context: line("Changed your mind? ", cmd("cancel "+r.ID))}
}

// Working tells the person their command takes longer than the platform waits for an
// answer, and that the answer will follow.
func Working() Message {
	return say(IconWaiting, "Working on it… this takes a moment; I will answer here when it is done.")
}

// Busy tells the person accessbot has too much in hand to take their command now, and
// that nothing was done.
func Busy() Message {
	return say(IconTimeUp, "accessbot is busy right now and did nothing with this; try again in a minute.")
}

// Cancelled acknowledges a cancellation.
func Cancelled(r *governance.Request) Message {
	return say(IconStop, "Request ", id(r), " for ", item(r), " is cancelled; its approvers' cards say so.")
}

// Revoked acknowledges an early end of access.
func Revoked(r *governance.Request) Message {
	whose := line("Your access")
	if r.RevokedBy != nil && !r.RevokedBy.Is(r.Requester) {
		whose = line("The access of ", person(r.Requester))
	}
	return say(IconLock, whose, " to ", item(r), " (request ", id(r), ") is revoked; ", backend(r), " is removing it now.")
}

// Approved tells an approver their approval was recorded: the request is granted now, or
// waits for more approvals.
func Approved(r *governance.Request) Message {
	if r.Desk != nil {
		return say(IconApproved, "You approved ", id(r), ": ", item(r), " for ", person(r.Requester), ". ", backend(r),
			" records the approval as yours; ", user(r.Requester.Display(), 0), " is told.")
	}
	if r.State == governance.StatePendingApproval {
		return say(IconApproved, "You approved ", id(r), ": ", item(r), " for ", person(r.Requester), ". It now stands at ", StageProgress(r),
			", waiting for ", approvers(r), ".")
	}
	return say(IconApproved, "You approved ", id(r), ": ", item(r), " for ", person(r.Requester), ", ", duration(r), ". ",
		user(r.Requester.Display(), 0), " is told, and the access is being granted.")
}

// Error is what a person sees when their command or click fails: a governance.Problem's
// own sentence, or, for anything else, an apology with ref, the reference under which
// the handler logged the detail.
func Error(err error, ref string) Message {
	return say(IconWarning, problemText(ErrorText(err, ref)))
}

// problemText is a Problem's sentence (which may quote what was typed, so all of it is
// someone else's text) with the commands it names in backticks (`revoke AR-7`) written as
// the platform writes commands: `/access revoke AR-7` in Slack, `revoke AR-7` in Teams.
// Anything else in backticks stays code.
func problemText(s string) Text {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 { // an unpaired backtick: no code at all
		return Text{user(s, 0)}
	}
	var t Text
	for i, part := range parts {
		switch {
		case part == "":
		case i%2 == 1 && isCommand(part):
			t = append(t, cmd(part))
		case i%2 == 1:
			t = append(t, Span{Kind: User, Style: Code, Text: part})
		default:
			t = append(t, user(part, 0))
		}
	}
	return t
}

// isCommand reports whether s reads as an accessbot command: a command's name first.
func isCommand(s string) bool {
	name, _, _ := strings.Cut(s, " ")
	switch strings.ToLower(name) {
	case "request", "status", "pending", "cancel", "revoke", "schedule", "extend", "help", "connect", "disconnect", "connections":
		return true
	}
	return false
}

// ErrorText is Error as plain text, for places that show plain text (the field errors of
// a Slack modal, the message Teams shows for a refused click).
// FieldErrorText is ErrorText for the field of a form that the error is about: the
// sentences that tell how to type a command are left out, since the person is not typing one.
func FieldErrorText(err error, ref string) string {
	text := ErrorText(err, ref)
	var kept []string
	for _, sentence := range strings.SplitAfter(text, ". ") {
		if !strings.Contains(sentence, "`") {
			kept = append(kept, sentence)
		}
	}
	if len(kept) == 0 {
		return strings.ReplaceAll(text, "`", "")
	}
	return strings.TrimSpace(strings.Join(kept, ""))
}

func ErrorText(err error, ref string) string {
	var p *governance.Problem
	if errors.As(err, &p) {
		return p.Message
	}
	if ref == "" {
		return "Something went wrong on our side; try again in a minute."
	}
	return "Something went wrong on our side; try again in a minute. (ref " + ref + ")"
}

// say is a message of one paragraph.
func say(icon Icon, parts ...any) Message { return Message{Body: []Paragraph{para(icon, parts...)}} }
