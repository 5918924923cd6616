package voice

import (
	"fmt"

	"github.com/accessbot/accessbot/governance"
)

// CardFor is the card a person gets about a request: the approval card of a request
// accessbot decides (ApprovalCardFor: buttons only while they may decide it now), or,
// where the backend's own policy decides, a card about the backend's approval that
// person may decide (or did, or that was taken from them).
func CardFor(r *governance.Request, viewer governance.Person) Message {
	if r.Desk == nil {
		return ApprovalCardFor(r, viewer.Email)
	}
	return deskCard(r, viewer)
}

// deskCard is a card about one of the backend's approvals of r, as viewer sees it.
func deskCard(r *governance.Request, viewer governance.Person) Message {
	a, open := r.Desk.OpenFor(viewer)
	if !open {
		a = lastOf(r.Desk, viewer)
	}
	m := Message{
		Title: "Access request " + r.ID,
		Fields: []Field{{"Requester", person(r.Requester)}, {"Item", item(r)},
			{"Duration", line(duration(r))}, {"Requested", line(date(r.CreatedAt))}},
		Body: []Paragraph{para(IconNone, strong("Reason"), "\n", quote(r.Reason, maxCardNote))},
	}
	if s := step(a); s != nil {
		m.Fields = append(m.Fields, Field{"Step", s})
	}
	for _, ans := range a.Answers { // the questions the backend's policy asked the requester
		m.Body = append(m.Body, para(IconNone, user(ans.Question, maxName), "\n", quote(ans.Answer, maxDetail))) // the backend's words: escaped
	}
	if open {
		m.Buttons = []Button{{Action: Approve, Request: r}, {Action: Deny, Request: r}, {Action: Forward, Request: r}}
		if a.Link != "" {
			m.Buttons = append(m.Buttons, Button{Action: Open, Request: r, URL: a.Link, Caption: "Open in " + governance.BackendTitle(r.Item.Backend)})
		}
		m.Context = line("Request ", r.ID, " · ", backend(r), "'s approval policy asks you", owner(a),
			"; your decision is recorded in ", backend(r), " as yours.")
		m.Summary = line(user(r.Requester.Display(), 0), " asks for ", user(r.Item.Name, maxName), " (", duration(r), ") — ",
			backend(r), " waits for your decision on request ", r.ID, ".")
		return m
	}
	outcome := stepOutcome(r, a)
	m.Body = append(m.Body, outcome)
	m.Context = line("Request " + r.ID)
	m.Summary = line("Request ", r.ID, ": ", outcome.Text)
	return m
}

// lastOf is the latest of the approvals viewer could decide, or the latest of all.
func lastOf(d *governance.Desk, viewer governance.Person) governance.BackendApproval {
	for i := len(d.Approvals) - 1; i >= 0; i-- {
		if d.Approvals[i].MayDecide(viewer) {
			return d.Approvals[i]
		}
	}
	if n := len(d.Approvals); n > 0 {
		return d.Approvals[n-1]
	}
	return governance.BackendApproval{}
}

// step is "1 of 2: manager", as much of it as the backend tells.
func step(a governance.BackendApproval) Text {
	var s string
	switch {
	case a.Step > 0 && a.Steps > 0:
		s = fmt.Sprintf("%d of %d", a.Step, a.Steps)
	case a.Step > 0:
		s = fmt.Sprint(a.Step)
	}
	switch {
	case s != "" && a.StepName != "":
		return line(s, ": ", user(a.StepName, maxName))
	case a.StepName != "":
		return line(user(a.StepName, maxName))
	case s != "":
		return line(s)
	}
	return nil
}

// owner is " (as a member of DB owners)" when a group owns the approval.
func owner(a governance.BackendApproval) Text {
	if len(a.Approvers) > 1 && a.Owner != "" {
		return line(" (as a member of ", user(a.Owner, maxName), ")")
	}
	return nil
}

// stepOutcome says what became of one of the backend's approvals.
func stepOutcome(r *governance.Request, a governance.BackendApproval) Paragraph {
	where := line(" in ", backend(r))
	if a.InChat {
		where = nil
	}
	switch a.Status {
	case governance.ApprovalApproved:
		return para(IconApproved, "Approved by ", person(a.DecidedBy), where, " at ", date(a.At), ".", stepOf(a))
	case governance.ApprovalRejected:
		return para(IconDenied, "Rejected by ", person(a.DecidedBy), where, " at ", date(a.At), ":\n", quote(a.Decision, maxDetail))
	case governance.ApprovalMoved:
		if a.InChat {
			return para(IconUp, "Forwarded by ", person(a.DecidedBy), " to ", user(a.MovedTo, maxName), " at ", date(a.At), ":\n", quote(a.Decision, maxDetail))
		}
		return para(IconUp, backend(r), " moved this approval to ", user(a.MovedTo, maxName), "; it is theirs to decide now.")
	case governance.ApprovalGone:
		return para(IconStop, "Withdrawn in ", backend(r), "; nothing is left to decide.")
	}
	return Outcome(r)
}

func stepOf(a governance.BackendApproval) Text {
	if s := step(a); s != nil {
		return line(" (step ", s, ")")
	}
	return nil
}

// stepNotice tells the requester what became of one of the backend's approvals of their
// request: the latest one decided.
func stepNotice(r *governance.Request) Paragraph {
	it := item(r)
	for i := len(r.Desk.Approvals) - 1; i >= 0; i-- {
		a := r.Desk.Approvals[i]
		switch a.Status {
		case governance.ApprovalApproved:
			next := line(" You will hear when ", backend(r), " asks its next approver, or grants the access.")
			switch {
			case a.Steps > 0 && a.Step >= a.Steps:
				next = line(" That was the last step; you will hear when the access is active.")
			case a.Steps > 0:
				next = line(" It goes on to the next step; you will hear when the access is active.")
			}
			return para(IconApproved, person(a.DecidedBy), " approved your request ", id(r), " for ", it, stepOf(a), ".", next)
		case governance.ApprovalRejected:
			return para(IconDenied, person(a.DecidedBy), " rejected your request ", id(r), " for ", it, stepOf(a), ":\n",
				quote(a.Decision, maxDetail), "\nIf you still need it, talk to them, or ask again with more detail.")
		}
	}
	return para(IconWaiting, "Your request ", id(r), " for ", it, " is with ", backend(r), "'s approvers.")
}

// ForwardForm asks an approver whom to hand one of the backend's approvals to, and why.
func ForwardForm(r *governance.Request) Form {
	return Form{Title: "Forward " + r.ID, Submit: "Forward", Close: "Back",
		Intro: line(person(r.Requester), " asks for ", item(r), ", ", duration(r), ". ", backend(r),
			" will ask the person you name instead of you, and record that you forwarded it."),
		Inputs: []Input{ForwardTo(), {Name: InputReason, Label: "Comment", Placeholder: "Why them? They read it.",
			Multiline: true, MaxLength: governance.MaxReasonLength}}}
}

// ForwardTo is the input naming whom to forward an approval to.
func ForwardTo() Input {
	return Input{Name: InputForwardTo, Label: "Forward to", Placeholder: "Their e-mail address, e.g. dana@example.com",
		Missing: "Say whom to forward it to."}
}
