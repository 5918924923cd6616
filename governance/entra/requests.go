package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/msgraph"
)

// Request types and states, as v1.0 names them.
var (
	addTypes      = []string{"userAdd", "adminAdd", "systemAdd", "onBehalfAdd"}
	removeTypes   = []string{"userRemove", "adminRemove", "systemRemove", "approverRemove"}
	pendingStates = []string{"submitted", "pendingApproval", "scheduled", "delivering"}
	// endedStates are the request states in which a request no longer does anything.
	endedStates = []string{"denied", "canceled", "deliveryFailed"}
	// heldStates are the assignment states in which the target has, or is getting, access.
	heldStates = []string{"delivering", "partiallyDelivered", "delivered"}
)

// marker ends the justification of every request accessbot makes for request id; it is
// how a retry recognises the request it made before.
func marker(requestID string) string { return "(accessbot request " + requestID + ")" }

// justification is what Entra's approvers and auditors read: why, who approved it in
// chat, and which accessbot request it is.
func justification(g governance.Grant) string {
	var sb strings.Builder
	sb.WriteString(strings.TrimSpace(g.Reason))
	if sb.Len() == 0 {
		sb.WriteString("No reason given")
	}
	if g.ApprovedBy.Email != "" {
		sb.WriteString(" — approved in chat by " + g.ApprovedBy.Email)
	}
	sb.WriteString(" " + marker(g.RequestID))
	return sb.String()
}

func when(t, fallback time.Time) string {
	if t.IsZero() {
		t = fallback
	}
	return t.UTC().Format(time.RFC3339)
}

// Submit asks Entra to assign the item's access package to the requester under the item's
// policy (adminAdd), unless Entra already has a request for it or the user already has
// it: then it fails with a governance.ErrDuplicate problem saying so. A request accessbot
// made before (a retry after a lost answer) is found by its justification and returned,
// so Submit is idempotent in the request id.
func (b *Backend) Submit(ctx context.Context, g governance.Grant) (governance.Submission, error) {
	pkg, policy, uid, err := b.target(ctx, g)
	if err != nil {
		return governance.Submission{}, err
	}
	if g.BackendDecides {
		if uid, err = b.requester(g); err != nil {
			return governance.Submission{}, err
		}
	}
	if sub, err := b.existing(ctx, g, pkg, uid); err != nil || sub.ExternalID != "" {
		return sub, err
	}
	if g.BackendDecides {
		return b.submitAsRequester(ctx, g, pkg, policy, uid)
	}
	var created assignmentRequest
	if err := b.api.Do(ctx, http.MethodPost, emRoot+"/assignmentRequests", nil, b.addRequest(adminAdd, g, pkg, policy, uid), &created); err != nil {
		return governance.Submission{}, err
	}
	return tracked(created, g), nil
}

// addRequest is the body of an adminAdd or userAdd request for g: the assignment of the
// package under policy to the user uid, g's justification, and a schedule from g's start
// that expires at g's end (never, without one).
func (b *Backend) addRequest(typ string, g governance.Grant, pkg, policy, uid string) newRequest {
	body := newRequest{RequestType: typ,
		Assignment:    assignmentRef{TargetID: uid, AssignmentPolicyID: policy, AccessPackageID: pkg},
		Justification: justification(g),
		Schedule:      &schedule{StartDateTime: when(g.Start, b.clock.Now()), Expiration: &expiration{Type: "noExpiration"}}}
	if !g.End.IsZero() {
		body.Schedule.Expiration = &expiration{Type: "afterDateTime", EndDateTime: when(g.End, time.Time{})}
	}
	return body
}

// SubmitsAsRequester: for items with approvals: backend, Entra is asked as the requester
// (userAdd with their connected account), so that the policy's approval stages apply.
func (b *Backend) SubmitsAsRequester() bool { return true }

// requester is the object id of the requester's connected account, which must be theirs.
func (b *Backend) requester(g governance.Grant) (string, error) {
	switch {
	case g.As == nil:
		return "", governance.Permanent(&governance.Problem{Err: governance.ErrNotConnected, Message: "Microsoft Entra's own approvals decide " +
			g.Item.Name + ", so accessbot asks Entra as you: connect your account with `connect entra`, then ask again"})
	case !strings.EqualFold(g.As.Identity().Email, g.Requester.Email) || g.As.Identity().ID == "":
		return "", governance.Permanent(&governance.Problem{Err: governance.ErrNotAllowed, Message: fmt.Sprintf(
			"accessbot may ask Microsoft Entra only as you, and the connected account given is %s's", g.As.Identity().Email)})
	}
	return strings.ToLower(g.As.Identity().ID), nil
}

// submitAsRequester makes a userAdd request with the requester's delegated token, under
// the item's policy: their reason as the justification, and the end of time-bound access
// as the schedule's.
func (b *Backend) submitAsRequester(ctx context.Context, g governance.Grant, pkg, policy, uid string) (governance.Submission, error) {
	var created assignmentRequest
	err := b.asPerson(ctx, g.As).Do(ctx, http.MethodPost, emRoot+"/assignmentRequests", nil, b.addRequest(userAdd, g, pkg, policy, uid), &created)
	var ge *msgraph.Error
	if errors.As(err, &ge) && ge.Status == http.StatusForbidden {
		return governance.Submission{}, governance.Permanent(&governance.Problem{Err: errors.Join(governance.ErrNotAllowed, ge), Message: fmt.Sprintf(
			"Microsoft Entra does not let you ask for %s under its policy (you may be outside the people it lets ask); ask your access admins", g.Item.Name)})
	}
	if err != nil {
		return governance.Submission{}, delegatedError(err)
	}
	return tracked(created, g), nil
}

// target is what grant g is about in Entra: the item's access package and assignment
// policy, and the object id of the user who gets it (looked up when the grant has none).
func (b *Backend) target(ctx context.Context, g governance.Grant) (pkg, policy, uid string, err error) {
	if pkg, policy, err = b.ref(g.Item); err != nil {
		return "", "", "", err
	}
	if g.Identity.ID != "" {
		return pkg, policy, g.Identity.ID, nil
	}
	id, err := b.LookupIdentity(ctx, g.Requester)
	return pkg, policy, id.ID, err
}

// tracked is the submission a request of accessbot's stands for.
func tracked(r assignmentRequest, g governance.Grant) governance.Submission {
	sub := mapState(r)
	sub.ExternalID, sub.Start, sub.End = r.ID, g.Start, g.End
	return sub
}

// existing looks in Entra, before a new request is made, for accessbot's own earlier
// request for this grant (returned, so a retry changes nothing), for someone else's
// request for the package for the user still under way, and for the assignment itself
// (both a duplicate problem).
func (b *Backend) existing(ctx context.Context, g governance.Grant, pkg, uid string) (governance.Submission, error) {
	var ours, other *assignmentRequest
	err := b.eachRequest(ctx, pkg, func(r assignmentRequest) bool {
		if !slices.Contains(addTypes, r.RequestType) {
			return false
		}
		if strings.Contains(r.Justification, marker(g.RequestID)) {
			ours = &r
			return true
		}
		if other == nil && slices.Contains(pendingStates, r.state()) && r.Requestor != nil && strings.EqualFold(r.Requestor.ObjectID, uid) {
			other = &r
		}
		return false
	})
	switch {
	case err != nil:
		return governance.Submission{}, err
	case ours != nil:
		return tracked(*ours, g), nil
	case other != nil:
		return governance.Submission{}, duplicate(fmt.Sprintf(
			"Entra already has a request for %s for you (made %s, waiting for %s), so accessbot did not ask again; it goes on in Entra",
			g.Item.Name, day(other.CreatedDateTime), mapState(*other).Waiting))
	}
	held, err := b.held(ctx, pkg, uid)
	if err != nil || len(held) == 0 {
		return governance.Submission{}, err
	}
	until := ""
	if end := held[0].Schedule.end(); !end.IsZero() {
		until = " (until " + end.Format("2006-01-02") + ")"
	}
	return governance.Submission{}, duplicate(fmt.Sprintf("you already have %s in Entra%s, so accessbot did not ask for it again", g.Item.Name, until))
}

func duplicate(msg string) error {
	return governance.Permanent(&governance.Problem{Err: governance.ErrDuplicate, Message: msg})
}

func day(ts string) string {
	if t, err := time.Parse(time.RFC3339, ts); err == nil {
		return t.UTC().Format("2006-01-02")
	}
	return "earlier"
}

// eachRequest gives fn the package's assignment requests, page by page, until fn says
// stop. Graph filters requests by package (and by state) but not by target, so the target
// is compared here.
func (b *Backend) eachRequest(ctx context.Context, pkg string, fn func(assignmentRequest) (stop bool)) error {
	q := url.Values{
		"$filter": {"accessPackage/id eq " + msgraph.Quote(pkg)},
		"$expand": {"accessPackage,assignment,requestor"},
	}
	return b.api.List(ctx, emRoot+"/assignmentRequests", q, func(values json.RawMessage) error {
		var page []assignmentRequest
		if err := json.Unmarshal(values, &page); err != nil {
			return fmt.Errorf("Entra GET %s/assignmentRequests: unreadable page: %w", emRoot, err)
		}
		for _, r := range page {
			if fn(r) {
				return msgraph.Stop
			}
		}
		return nil
	})
}

// held lists the user's assignments of the package that give, or are giving, access.
func (b *Backend) held(ctx context.Context, pkg, uid string) ([]assignment, error) {
	q := url.Values{
		"$filter": {"accessPackage/id eq " + msgraph.Quote(pkg) + " and target/objectId eq " + msgraph.Quote(uid)},
		"$expand": {"target,accessPackage"},
	}
	all, err := msgraph.All[assignment](ctx, b.api, emRoot+"/assignments", q, 0)
	if err != nil {
		return nil, err
	}
	var out []assignment
	for _, a := range all {
		if slices.Contains(heldStates, a.State) && (a.Target == nil || strings.EqualFold(a.Target.ObjectID, uid)) {
			out = append(out, a)
		}
	}
	return out, nil
}

// Status reads the request and maps Entra's state onto accessbot's lifecycle.
func (b *Backend) Status(ctx context.Context, s governance.Submission) (governance.Submission, error) {
	r, err := b.request(ctx, s.ExternalID)
	if err != nil {
		return governance.Submission{}, err
	}
	sub := mapState(r)
	sub.ExternalID = r.ID
	if sub.State == governance.StateActive && r.Assignment != nil {
		sub.End = r.Assignment.Schedule.end()
	}
	return sub, nil
}

// request reads one assignment request with its assignment, package and target.
func (b *Backend) request(ctx context.Context, id string) (assignmentRequest, error) {
	var r assignmentRequest
	err := b.api.Do(ctx, http.MethodGet, emRoot+"/assignmentRequests/"+url.PathEscape(id),
		url.Values{"$expand": {"accessPackage,assignment,requestor"}}, nil, &r)
	var ge *msgraph.Error
	if errors.As(err, &ge) && ge.Status == http.StatusNotFound {
		return r, governance.Permanent(&governance.Problem{Err: errors.Join(governance.ErrNotFound, ge), Message: fmt.Sprintf(
			"Entra no longer has accessbot's request %s (it may have been deleted there); ask your access admins what became of it", id)})
	}
	return r, err
}

// mapState is the lifecycle state a request's v1.0 state stands for (the reference's
// table "Entra Entitlement Management → common state"), in words for people.
func mapState(r assignmentRequest) governance.Submission {
	switch r.state() {
	case "submitted":
		return governance.Submission{State: governance.StateSubmitted, Waiting: "Entra to process it"}
	case "pendingApproval":
		return governance.Submission{State: governance.StateSubmitted, Waiting: "approval in Entra"}
	case "scheduled":
		return governance.Submission{State: governance.StateSubmitted, Waiting: "its start date in Entra"}
	case "delivering":
		return governance.Submission{State: governance.StateSubmitted, Waiting: "delivery in Entra"}
	case "delivered":
		return governance.Submission{State: governance.StateActive}
	case "partiallyDelivered":
		return governance.Submission{State: governance.StateFailed, Detail: "Entra only partly delivered it" + said(r) +
			"; ask your access admins to check the access package's resources in Entra"}
	case "deliveryFailed":
		return governance.Submission{State: governance.StateFailed, Detail: "Entra could not deliver it" + said(r) +
			"; ask your access admins to check the access package in Entra"}
	case "denied":
		return governance.Submission{State: governance.StateDenied, Detail: "denied in Entra's own approvals"}
	case "canceled":
		return governance.Submission{State: governance.StateCancelled, Detail: "cancelled in Entra"}
	}
	// unknownFutureValue, or a state added since.
	return governance.Submission{State: governance.StateSubmitted, Waiting: "Entra to finish it"}
}

// said is Entra's free-text status, when it tells more than the state.
func said(r assignmentRequest) string {
	if r.Status == "" || strings.EqualFold(r.Status, r.state()) {
		return ""
	}
	return fmt.Sprintf(" (Entra says %q)", clip(r.Status, 200))
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// Cancel cannot withdraw a request Entra is still working on: Entra's cancel action takes
// only delegated tokens, and accessbot signs in as an application. It says so with a
// problem that points at revoke. A request Entra has delivered is undone by removing its
// assignment; one Entra has ended needs nothing.
func (b *Backend) Cancel(ctx context.Context, s governance.Submission) error {
	r, err := b.request(ctx, s.ExternalID)
	if errors.Is(err, governance.ErrNotFound) {
		return nil // nothing left to withdraw
	}
	if err != nil {
		return err
	}
	switch mapState(r).State {
	case governance.StateSubmitted:
		return &governance.Problem{Err: governance.ErrNotPending, Message: "Entra does not let accessbot withdraw a request " +
			"while Entra is still working on it; once the access is delivered, `revoke` ends it"}
	case governance.StateActive:
		if r.AccessPackage == nil {
			return fmt.Errorf("Entra request %s came without its access package", r.ID)
		}
		var held []assignment
		if r.Assignment != nil && r.Assignment.ID != "" {
			held = []assignment{*r.Assignment}
		} else if r.Requestor != nil {
			if held, err = b.held(ctx, r.AccessPackage.ID, r.Requestor.ObjectID); err != nil {
				return err
			}
		}
		return b.remove(ctx, r.AccessPackage.ID, held, "Cancelled by the requester in chat (accessbot)")
	}
	return nil
}

// Revoke asks Entra to remove the user's assignment of the item's package (adminRemove).
// An assignment the user no longer has, or one already being removed, needs nothing more.
func (b *Backend) Revoke(ctx context.Context, g governance.Grant) error {
	pkg, _, uid, err := b.target(ctx, g)
	if err != nil {
		return err
	}
	held, err := b.held(ctx, pkg, uid)
	if err != nil {
		return err
	}
	return b.remove(ctx, pkg, held, g.Reason)
}

// remove makes an adminRemove request for each assignment that has no removal under way.
func (b *Backend) remove(ctx context.Context, pkg string, held []assignment, reason string) error {
	if len(held) == 0 {
		return nil
	}
	removing := map[string]bool{}
	err := b.eachRequest(ctx, pkg, func(r assignmentRequest) bool {
		if slices.Contains(removeTypes, r.RequestType) && !slices.Contains(endedStates, r.state()) && r.Assignment != nil {
			removing[r.Assignment.ID] = true
		}
		return false
	})
	if err != nil {
		return err
	}
	for _, a := range held {
		if removing[a.ID] {
			continue
		}
		body := newRequest{RequestType: adminRemove, Assignment: assignmentRef{ID: a.ID}, Justification: strings.TrimSpace(reason)}
		if err := b.api.Do(ctx, http.MethodPost, emRoot+"/assignmentRequests", nil, body, &assignmentRequest{}); err != nil {
			return err
		}
	}
	return nil
}

// Extend moves the expiration of the user's assignment of the item's package to end
// (adminUpdate). An update accessbot already asked for, for the same end, is returned
// instead of asking again.
func (b *Backend) Extend(ctx context.Context, g governance.Grant, end time.Time) (governance.Submission, error) {
	pkg, _, uid, err := b.target(ctx, g)
	if err != nil {
		return governance.Submission{}, err
	}
	held, err := b.held(ctx, pkg, uid)
	if err != nil {
		return governance.Submission{}, err
	}
	i := slices.IndexFunc(held, func(a assignment) bool { return a.State == "delivered" })
	switch {
	case i < 0 && len(held) > 0:
		return governance.Submission{}, fmt.Errorf("Entra is still delivering %s to %s; extend later", g.Item.Name, uid)
	case i < 0:
		return governance.Submission{}, governance.Permanent(&governance.Problem{Err: governance.ErrNotActive, Message: fmt.Sprintf(
			"Entra has no active assignment of %s for you any more, so there is nothing to extend; ask for it again", g.Item.Name)})
	}
	a := held[i]
	done := governance.Submission{State: governance.StateActive, Start: g.Start, End: end}
	if a.Schedule.end().Equal(end.UTC()) {
		return done, nil
	}
	var earlier *assignmentRequest
	err = b.eachRequest(ctx, pkg, func(r assignmentRequest) bool {
		if r.RequestType == adminUpdate && r.Assignment != nil && r.Assignment.ID == a.ID &&
			!slices.Contains(endedStates, r.state()) && r.Schedule.end().Equal(end.UTC()) {
			earlier = &r
			return true
		}
		return false
	})
	if err != nil {
		return governance.Submission{}, err
	}
	if earlier != nil {
		done.ExternalID = earlier.ID
		return done, nil
	}
	start := g.Start
	if a.Schedule != nil {
		if t, err := time.Parse(time.RFC3339, a.Schedule.StartDateTime); err == nil {
			start = t
		}
	}
	body := newRequest{RequestType: adminUpdate, Assignment: assignmentRef{ID: a.ID},
		Justification: fmt.Sprintf("Extended until %s: %s", when(end, time.Time{}), justification(g)),
		Schedule: &schedule{StartDateTime: when(start, b.clock.Now()),
			Expiration: &expiration{Type: "afterDateTime", EndDateTime: when(end, time.Time{})}}}
	var created assignmentRequest
	if err := b.api.Do(ctx, http.MethodPost, emRoot+"/assignmentRequests", nil, body, &created); err != nil {
		return governance.Submission{}, err
	}
	done.ExternalID = created.ID
	return done, nil
}
