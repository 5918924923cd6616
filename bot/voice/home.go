package voice

import (
	"fmt"

	"github.com/accessbot/accessbot/governance"
)

// homeRows is how many rows each list of a home view shows; `status` and `pending` show
// the rest.
const homeRows = 10

// Home is a person's home view (Slack's App Home), as sections drawn one after another,
// each a message with its rows: what waits for their decision (Approve, Deny), their
// requests under way (state, next step, Cancel), the access they hold (until when, Extend,
// Revoke), their connected accounts (homeConnections) and the commands.
func Home(h governance.Home) []Message {
	var sections []Message
	for _, section := range []func(governance.Home) *Message{homeDecide, homeOpen, homeActive, homeConnections, homeCommands} {
		if m := section(h); m != nil {
			sections = append(sections, *m)
		}
	}
	return sections
}

// HomeSummary is the home view's text where a platform shows one line of it.
func HomeSummary(h governance.Home) Text {
	return line(fmt.Sprintf("%d waiting for your decision, %d requests under way, %d active.", len(h.Decide), len(h.Open), len(h.Active)))
}

// homeMore says how many rows of a home list were left out, and which command lists them.
func homeMore(command string) func(n int) Text {
	return func(n int) Text { return line(fmt.Sprintf("…and %d more: ", n), cmd(command), ".") }
}

// homeList is one list of a home view: its title, the command that lists all of it (for
// the row saying how many were left out), the paragraph it shows when rs is empty, and a
// row per request otherwise.
func homeList(title, command string, rs []*governance.Request, empty Paragraph, row func(*governance.Request) Message) *Message {
	m := &Message{Title: title, More: homeMore(command)}
	if len(rs) == 0 {
		m.Body = []Paragraph{empty}
		return m
	}
	for _, r := range rs {
		m.Rows = append(m.Rows, row(r))
	}
	m.Rows = capRows(m.Rows, m)
	return m
}

func homeDecide(h governance.Home) *Message {
	return homeList("Waiting for your decision", "pending", h.Decide, para(IconTada, "Nothing is waiting for your decision."),
		func(r *governance.Request) Message {
			return Message{Body: []Paragraph{para(IconNone, id(r), " ", person(r.Requester), " asks for ", item(r), ", ",
				duration(r), ", since ", date(r.CreatedAt), "\n", quote(r.Reason, maxRowNote))}, Buttons: decide(r)}
		})
}

func homeOpen(h governance.Home) *Message {
	empty := para(IconNone, "Nothing under way. Ask with ", cmd("request <item> for 8h because <reason>"), ", or ", cmd(""), " for a form.")
	return homeList("Your requests", "status", h.Open, empty, func(r *governance.Request) Message {
		row := Message{Body: []Paragraph{para(IconNone, id(r), " ", item(r), ", ", duration(r), " — ", strong(r.State.Label()),
			"\n", emph("Next:"), " ", nextStep(r))}}
		if r.State == governance.StatePendingApproval || r.State == governance.StateSubmitted {
			row.Buttons = []Button{{Action: Cancel, Request: r}}
		}
		return row
	})
}

// nextStep says what a request under way waits for.
func nextStep(r *governance.Request) Text {
	switch r.State {
	case governance.StatePendingApproval:
		return line("a decision from ", approvers(r), ".")
	case governance.StateApproved:
		return line("handing it to ", backend(r), ".")
	case governance.StateSubmitted:
		if r.Submission != nil && r.Submission.Waiting != "" {
			return line(backend(r), " waits for ", user(r.Submission.Waiting, maxList), ".")
		}
		return line(backend(r), " is granting it; you will hear when it is active.")
	}
	return line("nothing; it is " + r.State.Label() + ".")
}

func homeActive(h governance.Home) *Message {
	empty := para(IconNone, "You hold no access through accessbot right now.")
	return homeList("Your access", "status", h.Active, empty, func(r *governance.Request) Message {
		t := line(id(r), " ", item(r), ", no end")
		buttons := []Button{{Action: Revoke, Request: r}}
		if end := r.EndsAt(); !end.IsZero() {
			t = line(id(r), " ", item(r), " until ", date(end))
			buttons = []Button{{Action: Extend, Request: r}, {Action: Revoke, Request: r}}
		}
		return Message{Body: []Paragraph{para(IconUnlock, t)}, Buttons: buttons}
	})
}

// homeConnections is the person's connected accounts, between their access and the
// commands, where some backend connects accounts.
func homeConnections(h governance.Home) *Message {
	if len(h.CanConnect) == 0 {
		return nil
	}
	m := Connections(h.Accounts, h.CanConnect)
	return &m
}

func homeCommands(governance.Home) *Message {
	return &Message{Title: "Commands", Body: []Paragraph{para(IconNone,
		cmd(""), " — a form to ask for access\n",
		cmd("request <item> [for <duration>] [because <reason>]"), " — ask for access\n",
		cmd("status"), " — all your requests · ", cmd("pending"), " — everything waiting for you\n",
		cmd("extend AR-7 [for <duration>]"), " · ", cmd("revoke <item>"), " · ", cmd("cancel AR-7"), " · ",
		cmd("schedule AR-7"), "\n", cmd("help"), " — every command and the catalog")}}
}

// capRows keeps the first homeRows rows, and a last one saying (with the message's More)
// how many were left out and where to see them.
func capRows(rows []Message, m *Message) []Message {
	if len(rows) <= homeRows {
		return rows
	}
	return append(rows[:homeRows:homeRows], Message{Body: []Paragraph{{Text: m.MoreText(len(rows) - homeRows)}}})
}
