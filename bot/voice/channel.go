package voice

import (
	"fmt"

	"github.com/accessbot/accessbot/governance"
)

// ChannelCard is the approval card in an approval channel: the approval card, under a
// line saying for whom it is, with Approve and Deny for any of the approvers while the
// request waits; once decided, who decided (the card's outcome).
func ChannelCard(r *governance.Request) Message {
	m := ApprovalCard(r)
	if r.State != governance.StatePendingApproval {
		return m
	}
	m.Lead = []Paragraph{para(IconInbox, "For the approvers of ", item(r), ": ", approvers(r),
		". Any one of them decides here; a click by anyone else is refused, and only they are told.")}
	m.Context = line("Request ", r.ID, " · the first decision counts · reminders and escalations follow in the thread.")
	return m
}

// ChannelNote is what the thread of a channel card records: a reminder, an escalation.
func ChannelNote(n governance.Notice) Message {
	r := n.Request
	switch n.Kind {
	case governance.NoticeReminder:
		return say(IconAlarm, fmt.Sprintf("Reminder %d: ", max(r.Reminders, 1)), id(r), " has waited since ", date(r.CreatedAt),
			" for a decision from ", approvers(r), ".")
	case governance.NoticeEscalated:
		to := line("another approver")
		if len(r.Approvers) > 0 {
			to = person(r.Approvers[len(r.Approvers)-1])
		}
		return say(IconUp, fmt.Sprintf("Escalation %d: nobody has decided ", r.Escalations), id(r), " yet, so ", to,
			" may decide it too.")
	}
	return Message{Body: []Paragraph{noticeText(n)}}
}
