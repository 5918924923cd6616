package sailpoint

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// ISC's approvals as governance's ApprovalDesk: the approvals with the e-mail addresses of
// the people who may decide them, what became of one no longer pending, and a decision
// carried out as a connected account (or, with approveAs: service, as accessbot).

var (
	_ governance.ApprovalDesk   = (*Backend)(nil)
	_ governance.ServiceDecider = (*Backend)(nil)
	_ governance.Connectable    = (*Backend)(nil)
	_ governance.Reminding      = (*Backend)(nil)
	_ governance.OwnerFinder    = (*Backend)(nil)
	_ governance.GroupFinder    = (*Backend)(nil)
)

// DecidesAsService reports whether decisions are made with accessbot's own token
// (approveAs: service) rather than the approver's connected account.
func (b *Backend) DecidesAsService() bool { return b.approveAs == ApproveAsService }

// PendingApprovals lists every approval ISC waits for, each with the e-mail addresses of
// the people who may decide it: the owning identity, or every member of the owning
// governance group.
func (b *Backend) PendingApprovals(ctx context.Context) ([]governance.BackendApproval, error) {
	list, err := b.Pending(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, a := range list {
		ids = append(ids, a.Requester.ID, a.RequestedFor.ID)
		if !a.Owner.Group {
			ids = append(ids, a.Owner.Identity.ID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(slices.DeleteFunc(ids, func(id string) bool { return id == "" }))
	emails, err := b.emails(ctx, ids)
	if err != nil {
		return nil, err
	}
	person := func(i governance.Identity) governance.Person {
		email := i.Email
		if email == "" {
			email = emails[i.ID]
		}
		return governance.Person{Email: strings.ToLower(email), Name: i.Name}
	}
	out := make([]governance.BackendApproval, 0, len(list))
	for _, a := range list {
		g := governance.BackendApproval{
			ID: a.ID, RequestID: a.RequestID, Ours: a.Ours, Requester: person(a.Requester), For: person(a.RequestedFor),
			Item:    governance.ItemRef{Ref: a.Item.Type + ":" + a.Item.ID, Name: a.Item.Name},
			Comment: a.Comment, Ends: a.RemoveDate, Owner: a.Owner.Identity.Name, Step: a.Step, Steps: a.Steps, StepName: a.StepName,
			CommentRequired: a.CommentRequiredToReject, Link: a.Link, Status: governance.ApprovalPending, Created: a.Created,
		}
		members := a.Owner.Members
		if !a.Owner.Group {
			members = []governance.Identity{a.Owner.Identity}
		}
		for _, m := range members {
			if p := person(m); p.Email != "" {
				g.Approvers = append(g.Approvers, p)
			}
		}
		out = append(out, g)
	}
	return out, nil
}

// ApprovalOutcome reads what became of an approval no longer in the pending list: decided
// (ISC's completed list says by whom), still pending after all, or gone.
func (b *Backend) ApprovalOutcome(ctx context.Context, a governance.BackendApproval) (governance.BackendApproval, error) {
	done, ok, err := b.completedOne(ctx, a.ID)
	if err != nil {
		return a, err
	}
	if ok {
		return b.decided(ctx, a, done, governance.Person{})
	}
	_, pending, err := b.pendingOne(ctx, a.ID)
	if err != nil {
		return a, err
	}
	a.Status = governance.ApprovalGone
	if pending {
		a.Status = governance.ApprovalPending
	}
	return a, nil
}

// DecideApproval carries out d in ISC as the account's holder (nil: as accessbot, for
// approveAs: service) and returns the approval as ISC shows it afterwards.
func (b *Backend) DecideApproval(ctx context.Context, as governance.Account, d governance.ApprovalDecision) (governance.BackendApproval, error) {
	x := ApprovalDecision{ApprovalID: d.Approval.ID, Action: ActionReject, Comment: d.Comment, By: d.By, As: as}
	switch {
	case d.ForwardTo.Email != "":
		id, err := b.LookupIdentity(ctx, d.ForwardTo)
		if err != nil {
			return d.Approval, err
		}
		x.Action, x.NewOwner = ActionForward, id
	case d.Approve:
		x.Action = ActionApprove
	}
	done, err := b.Decide(ctx, x)
	if err != nil {
		return d.Approval, err
	}
	return b.decided(ctx, d.Approval, done, d.By)
}

// decided is a, as done says it ended; by is who decided through accessbot, if anyone.
func (b *Backend) decided(ctx context.Context, a governance.BackendApproval, done CompletedApproval, by governance.Person) (governance.BackendApproval, error) {
	switch done.State {
	case ApprovalApproved:
		a.Status = governance.ApprovalApproved
	case ApprovalRejected:
		a.Status = governance.ApprovalRejected
	case ApprovalForwarded:
		a.Status, a.MovedTo = governance.ApprovalMoved, done.ForwardedTo.Name
		return a, nil
	default:
		return a, errors.New("SailPoint answered an approval state accessbot does not know: " + string(done.State))
	}
	a.Decision, a.At = done.Comment, done.Decided
	a.DecidedBy = by
	if by.Email == "" { // decided in ISC: ISC's reviewer
		a.DecidedBy = governance.Person{Email: done.ReviewedBy.Email, Name: done.ReviewedBy.Name}
		if a.DecidedBy.Email == "" && done.ReviewedBy.ID != "" {
			emails, err := b.emails(ctx, []string{done.ReviewedBy.ID})
			if err != nil {
				return a, err
			}
			a.DecidedBy.Email = strings.ToLower(emails[done.ReviewedBy.ID])
		}
	}
	return a, nil
}

// Connectable reports whether people can connect their ISC accounts: the connect OAuth
// client is configured. Without it accessbot needs no public URL or token key.
func (b *Backend) Connectable() bool { return b.connect.ClientID != "" }

// Reminders is ISC's approvalReminderAndEscalationConfig as accessbot's reminder plan:
// daysUntilEscalation to the first reminder, daysBetweenReminders apart, maxReminders in
// all. ISC escalates by itself after them; accessbot only reminds in chat.
func (b *Backend) Reminders(ctx context.Context) (governance.Schedule, error) {
	set, err := b.ApprovalSettings(ctx)
	if err != nil {
		return governance.Schedule{}, err
	}
	var p governance.Schedule
	for _, f := range []struct {
		to   *int
		from *int
	}{{&p.DaysUntilEscalation, set.DaysUntilEscalation}, {&p.DaysBetweenReminders, set.DaysBetweenReminders}, {&p.MaxReminders, set.MaxReminders}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	return p, nil
}

// Owner is the owner of a role or access profile in ISC (requestable-objects' ownerRef),
// for approval stages that name the item's owner; an entitlement's is not told there.
func (b *Backend) Owner(ctx context.Context, item governance.ItemRef) (governance.Person, bool, error) {
	typ, id, err := ParseRef(item.Ref)
	if err != nil || typ == "ENTITLEMENT" {
		return governance.Person{}, false, nil
	}
	var found []requestableObject
	q := url.Values{"types": {typ}, "filters": {"id eq " + quote(id)}, "limit": {"1"}}
	if err := b.api.call(ctx, http.MethodGet, "/requestable-objects", q, nil, &found); err != nil {
		return governance.Person{}, false, err
	}
	if len(found) == 0 || found[0].OwnerRef == nil || found[0].OwnerRef.ID == "" {
		return governance.Person{}, false, nil
	}
	owner := found[0].OwnerRef
	emails, err := b.emails(ctx, []string{owner.ID})
	if err != nil || emails[owner.ID] == "" {
		return governance.Person{}, false, err
	}
	return governance.Person{Email: strings.ToLower(emails[owner.ID]), Name: owner.Name}, true, nil
}

// MembersOf is the members of the ISC governance group called name, for approval stages
// that name group:<name> where accessbot's configuration defines no such group: the group
// by name from GET /beta/workgroups (v3 has no governance-group API), its members with
// their e-mails.
func (b *Backend) MembersOf(ctx context.Context, name string) ([]governance.Person, bool, error) {
	var found []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	q := url.Values{"filters": {"name eq " + quote(name)}, "limit": {"2"}}
	if err := b.api.call(ctx, http.MethodGet, "/beta/workgroups", q, nil, &found); err != nil {
		return nil, false, err
	}
	if len(found) == 0 {
		return nil, false, nil
	}
	members, err := b.GroupMembers(ctx, found[0].ID)
	if err != nil {
		return nil, false, err
	}
	out := make([]governance.Person, 0, len(members))
	for _, m := range members {
		if m.Email != "" {
			out = append(out, governance.Person{Email: strings.ToLower(m.Email), Name: m.Name})
		}
	}
	return out, true, nil
}
