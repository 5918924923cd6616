package voice_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

var (
	t0    = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	alice = governance.Person{Email: "alice@example.com", Name: "Alice"}
	bob   = governance.Person{Email: "bob@example.com", Name: "Bob"}
	carol = governance.Person{Email: "carol@example.com", Name: "Carol"}
)

// request is AR-7 in state st, with what a request in that state carries.
func request(st governance.State) *governance.Request {
	r := &governance.Request{ID: "AR-7", Version: 2, State: st, Requester: carol,
		Item:     governance.ItemRef{ID: "prod-db", Name: "Production database (read_only)", Backend: "builtin"},
		Duration: 8 * time.Hour, Reason: "INC-4711: the orders_2026 table is <slow> & [stuck]", Approvers: []governance.Person{alice, bob},
		CreatedAt: t0}
	switch st {
	case governance.StateApproved, governance.StateSubmitted, governance.StateActive, governance.StateExpired, governance.StateRevoked:
		r.Decision = &governance.Decision{By: alice, Approved: true, At: t0.Add(time.Hour)}
		r.Submission = &governance.Submission{State: st, Start: t0.Add(time.Hour), End: t0.Add(9 * time.Hour)}
	case governance.StateDenied:
		r.Decision = &governance.Decision{By: bob, Reason: "use the replica", At: t0.Add(time.Hour)}
	case governance.StateCancelled:
		r.CancelledAt = t0.Add(time.Minute)
	case governance.StateFailed:
		r.Decision = &governance.Decision{By: alice, Approved: true, At: t0.Add(time.Hour)}
		r.Failure = "the source is down"
	}
	if st == governance.StateRevoked {
		r.RevokedBy = &bob
	}
	return r
}

// staged makes r a request of two stages, the manager's and the owners' (two of three),
// in the second: Alice approved the first, Bob one of the two the second needs.
func staged(r *governance.Request) {
	dave := governance.Person{Email: "dave@example.com", Name: "Dave"}
	r.Stages = []governance.Stage{{Name: "manager", Approvers: []governance.Person{alice}, Required: 1},
		{Name: "owners", Approvers: []governance.Person{alice, bob, dave}, Required: 2}}
	r.Stage, r.StageStarted = 1, t0.Add(time.Hour)
	r.Approvers = []governance.Person{alice, bob, dave}
	r.Approvals = []governance.Decision{{By: alice, Approved: true, At: t0.Add(time.Hour)},
		{By: bob, Approved: true, At: t0.Add(2 * time.Hour), Stage: 1}}
}

// variant is a request made different by edit.
func variant(st governance.State, edit func(r *governance.Request)) *governance.Request {
	r := request(st)
	edit(r)
	return r
}

// everyMessage is every message accessbot says, in the states and variants that change
// what it says, about requests changed by edit.
func everyMessage(edit func(r *governance.Request)) map[string]voice.Message {
	request := func(st governance.State) *governance.Request {
		r := request(st)
		edit(r)
		return r
	}
	variant := func(st governance.State, change func(r *governance.Request)) *governance.Request {
		r := request(st)
		change(r)
		return r
	}
	states := []governance.State{governance.StatePendingApproval, governance.StateApproved, governance.StateSubmitted,
		governance.StateActive, governance.StateDenied, governance.StateCancelled, governance.StateTimedOut,
		governance.StateFailed, governance.StateExpired, governance.StateRevoked}
	kinds := []governance.NoticeKind{governance.NoticeReceived, governance.NoticeApproved, governance.NoticeDenied,
		governance.NoticeSubmitted, governance.NoticeActive, governance.NoticeFailed, governance.NoticeCancelled,
		governance.NoticeReminder, governance.NoticeEscalated, governance.NoticeTimedOut, governance.NoticeExpiring,
		governance.NoticeEnded, governance.NoticeWaiting, governance.NoticeRevoked}
	ms := map[string]voice.Message{}
	for _, st := range states {
		r := request(st)
		for _, k := range kinds {
			ms["notice "+string(k)+" / "+string(st)] = voice.Notice(governance.Notice{Kind: k, Request: r})
		}
		ms["approval card / "+string(st)] = voice.ApprovalCard(r)
		ms["admin alert / "+string(st)] = voice.AdminAlert(r)
		ms["schedule / "+string(st)] = voice.Schedule(r, governance.Steps(r))
		ms["request created / "+string(st)] = voice.RequestCreated(r)
		ms["cancelled / "+string(st)] = voice.Cancelled(r)
		ms["revoked / "+string(st)] = voice.Revoked(r)
		ms["approved / "+string(st)] = voice.Approved(r)
	}
	// What the backend decided or said, and the other turns a request can take.
	inBackend := variant(governance.StateDenied, func(r *governance.Request) {
		r.Decision = &governance.Decision{By: alice, Approved: true, At: t0}
		r.Failure = "rejected by Olivia Owner: not without a ticket"
		r.Submission = &governance.Submission{Waiting: "approval in sailpoint by Olivia Owner"}
	})
	for _, k := range []governance.NoticeKind{governance.NoticeDenied, governance.NoticeCancelled, governance.NoticeTimedOut, governance.NoticeWaiting} {
		ms["notice "+string(k)+" / in the backend"] = voice.Notice(governance.Notice{Kind: k, Request: inBackend})
	}
	connect := variant(governance.StateApproved, func(r *governance.Request) { r.Item.Backend, r.Desk = "entra", &governance.Desk{AwaitsConnect: true} })
	ms["notice connect / entra"] = voice.Notice(governance.Notice{Kind: governance.NoticeConnect, Request: connect})
	dup := variant(governance.StateFailed, func(r *governance.Request) { r.Duplicate, r.Failure = true, "you already have it" })
	ms["notice failed / duplicate"] = voice.Notice(governance.Notice{Kind: governance.NoticeFailed, Request: dup})
	noEnd := variant(governance.StateActive, func(r *governance.Request) { r.Submission.End = time.Time{} })
	ms["notice active / no end"] = voice.Notice(governance.Notice{Kind: governance.NoticeActive, Request: noEnd})
	anon := variant(governance.StateRevoked, func(r *governance.Request) { r.RevokedBy, r.Decision = nil, nil })
	for _, k := range []governance.NoticeKind{governance.NoticeRevoked, governance.NoticeApproved, governance.NoticeDenied} {
		ms["notice "+string(k)+" / nobody named"] = voice.Notice(governance.Notice{Kind: k, Request: anon})
	}
	noReason := variant(governance.StatePendingApproval, func(r *governance.Request) { r.Reason = "" })
	ms["approval card / no reason"] = voice.ApprovalCard(noReason)
	ms["request created / no reason"] = voice.RequestCreated(noReason)
	ms["revoked / by someone else"] = voice.Revoked(variant(governance.StateRevoked, func(r *governance.Request) { r.RevokedBy = &alice }))
	for _, st := range []governance.State{governance.StatePendingApproval, governance.StateApproved, governance.StateDenied} {
		r := variant(st, staged)
		ms["approval card / stage 2 of 2 / "+string(st)] = voice.ApprovalCard(r)
		ms["approval card for one who approved / "+string(st)] = voice.ApprovalCardFor(r, alice.Email)
		ms["approved / stage 2 of 2 / "+string(st)] = voice.Approved(r)
		ms["schedule / stage 2 of 2 / "+string(st)] = voice.Schedule(r, governance.Steps(r))
		ms["notice stage / "+string(st)] = voice.Notice(governance.Notice{Kind: governance.NoticeNextStage, Request: r})
		ms["notice received / staged / "+string(st)] = voice.Notice(governance.Notice{Kind: governance.NoticeReceived, Request: r})
		forBob := variant(st, func(r *governance.Request) { r.RequestedBy = &bob })
		ms["approval card / asked for someone else / "+string(st)] = voice.ApprovalCard(forBob)
		ms["request created / asked for someone else / "+string(st)] = voice.RequestCreated(forBob)
		ms["notice asked for you / "+string(st)] = voice.Notice(governance.Notice{Kind: governance.NoticeAskedForYou, Request: forBob})
	}
	auto := variant(governance.StateApproved, func(r *governance.Request) { r.AutoApproved = "on call in PagerDuty (schedule PSCHED1)" })
	for _, k := range []governance.NoticeKind{governance.NoticeApproved, governance.NoticeAutoApproved, governance.NoticeAutoApprovedAdmin} {
		ms["notice "+string(k)+" / auto-approved"] = voice.Notice(governance.Notice{Kind: k, Request: auto})
	}
	ms["request created / auto-approved"] = voice.RequestCreated(auto)
	ms["approval card / cancelled by who asked"] = voice.ApprovalCard(variant(governance.StateCancelled, func(r *governance.Request) {
		r.RequestedBy, r.CancelledBy = &bob, &bob
	}))

	// Where the backend's own policy decides: each step as its approvers and the requester see it.
	for name, st := range map[string]governance.ApprovalStatus{"open": governance.ApprovalPending, "approved": governance.ApprovalApproved,
		"rejected": governance.ApprovalRejected, "moved": governance.ApprovalMoved, "withdrawn": governance.ApprovalGone} {
		for _, inChat := range []bool{false, true} {
			r := variant(governance.StateSubmitted, func(r *governance.Request) {
				r.Decision, r.Item.Backend = nil, "sailpoint"
				r.Desk = &governance.Desk{RequestID: "2c91", Approvals: []governance.BackendApproval{{ID: "a1", Owner: "Payroll owners",
					Approvers: []governance.Person{alice, bob}, Step: 2, Steps: 2, StepName: "owners", Status: st, DecidedBy: bob,
					Decision: "not <this> month", At: t0.Add(time.Hour), InChat: inChat, MovedTo: "Nina", Link: "https://acme.identitynow.com/ui/d/approvals",
					Answers: []governance.Answer{{Question: "Which cost centre?", Answer: "CC-4711 <@U123>"}}}}}
			})
			where := name + fmt.Sprintf(" / in chat %v", inChat)
			ms["desk card / alice / "+where] = voice.CardFor(r, alice)
			ms["desk card / carol / "+where] = voice.CardFor(r, carol)
			ms["notice step / "+where] = voice.Notice(governance.Notice{Kind: governance.NoticeStep, Request: r})
			ms["pending / desk "+where] = voice.Pending([]*governance.Request{r})
		}
	}
	atDesk := variant(governance.StateApproved, func(r *governance.Request) {
		r.Decision, r.Item.Backend, r.Approvers, r.Desk = nil, "sailpoint", nil, &governance.Desk{}
	})
	ms["request created / desk"] = voice.RequestCreated(atDesk)
	ms["notice received / desk"] = voice.Notice(governance.Notice{Kind: governance.NoticeReceived, Request: atDesk})
	ms["approved / desk"] = voice.Approved(atDesk)

	var all []*governance.Request
	for i, st := range states {
		r := request(st)
		r.ID = "AR-" + string(rune('1'+i))
		all = append(all, r)
	}
	waiting := []*governance.Request{request(governance.StatePendingApproval), variant(governance.StatePendingApproval, func(r *governance.Request) { r.ID = "AR-8" })}
	ms["status"] = voice.Status(all)
	ms["status / none"] = voice.Status(nil)
	ms["pending"] = voice.Pending(waiting)
	ms["pending / none"] = voice.Pending(nil)
	ms["pending / one just decided"] = voice.Pending([]*governance.Request{request(governance.StateDenied), waiting[1]})
	ms["pending / all decided"] = voice.Pending([]*governance.Request{request(governance.StateApproved)})
	ms["digest"] = voice.Digest(waiting)
	ms["pending / staged"] = voice.Pending([]*governance.Request{variant(governance.StatePendingApproval, staged)})
	ms["pending / a reason longer than a row shows"] = voice.Pending([]*governance.Request{
		variant(governance.StatePendingApproval, func(r *governance.Request) { r.Reason = strings.Repeat("the month-end close needs it; ", 40) })})
	items := []governance.Item{
		{ID: "prod-db", Name: "Production database", Description: "read-only", DefaultDuration: 8 * time.Hour, MaxDuration: 7 * governance.Day, JustificationRequired: true},
		{ID: "vpn", Name: "Office VPN", DefaultDuration: 30 * governance.Day, RequireTicket: regexp.MustCompile(`^(INC|CHG)-[0-9]+`),
			Stages: []governance.StagePolicy{{Name: "manager"}, {Name: "owners"}}},
		{ID: "sp", Name: "Anything in SailPoint", Backend: "sailpoint", Search: true},
	}
	for i := range items {
		r := &governance.Request{Item: governance.ItemRef{Name: items[i].Name, Backend: items[i].Backend}, Reason: items[i].Description}
		edit(r)
		items[i].Name, items[i].Backend, items[i].Description = r.Item.Name, r.Item.Backend, r.Reason
	}
	ms["help"] = voice.Help(items)
	ms["help / empty catalog"] = voice.Help(nil)
	ms["working"] = voice.Working()
	ms["busy"] = voice.Busy()
	ms["error / a problem"] = voice.Error(&governance.Problem{Err: governance.ErrNotApprover, Message: "You are not an approver of AR-7; `status` lists yours."}, "")
	ms["error / ours"] = voice.Error(errors.New("redis: connection refused"), "ab12cd34")
	ms["connect link"] = voice.ConnectLink("sailpoint", "https://bot.example.com/connect/sailpoint?t=k1.abc_-D", t0)
	carolAt := governance.Identity{ID: "2c9", Email: "carol@example.com", Name: "Carol"}
	ms["account connected"] = voice.AccountConnected("sailpoint", carolAt)
	ms["disconnected"] = voice.Disconnected("sailpoint", true)
	ms["disconnected / none"] = voice.Disconnected("sailpoint", false)
	ms["connections"] = voice.Connections([]governance.Connection{{Backend: "sailpoint", As: carolAt, Since: t0}}, []string{"sailpoint", "entra"})
	ms["connections / none"] = voice.Connections(nil, []string{"sailpoint"})
	ms["sent to personal chat"] = voice.SentToPersonalChat()
	return ms
}
