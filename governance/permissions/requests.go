package permissions

import (
	"context"
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

// The statusDetail and activeOccurrenceStatus values accessbot acts on.
const (
	statusSubmitted = "submitted"
	statusApproved  = "approved"
	statusCompleted = "completed"
	statusCanceled  = "canceled"
	statusRejected  = "rejected"

	occurrenceGranting       = "granting"
	occurrenceGranted        = "granted"
	occurrenceGrantingFailed = "grantingFailed"
	occurrenceRevoking       = "revoking"
	occurrenceRevoked        = "revoked"
	occurrenceRevokingFailed = "revokingFailed"
)

// Change is one entry of Permissions Management's change log (permissionsRequestChange):
// what a request's status became, and when.
type Change struct {
	ID        string
	RequestID string // the scheduledPermissionsRequest's id
	// TicketID is the request's ticket number: accessbot's request id for accessbot's.
	TicketID               string
	StatusDetail           string // submitted, approved, completed, canceled, rejected
	ActiveOccurrenceStatus string // granting, granted, grantingFailed, revoking, revoked, revokingFailed, or ""
	// Modified is when the change happened; zero when the service wrote no readable time.
	Modified time.Time
}

// Changes reads the change log from since on, every page, oldest first; changes without
// a readable time keep their place among the first. The documented filter is
// modificationDateTime gt {t}, so it asks for the changes after the whole second before
// since: none at since (or within its second) is missed, and the few of that second
// before it that come too are harmless to callers, who look for the latest change of a
// request. A change listed twice (the log grew while it was paged) is kept once.
func (b *Backend) Changes(ctx context.Context, since time.Time) ([]Change, error) {
	after := since.UTC().Truncate(time.Second).Add(-time.Second)
	q := url.Values{"$filter": {"modificationDateTime gt " + after.Format(time.RFC3339)}}
	wire, err := msgraph.All[change](ctx, b.api, pmRoot+"/permissionsRequestChanges", q, 0)
	if err != nil {
		return nil, b.explain(err)
	}
	out := make([]Change, 0, len(wire))
	seen := make(map[string]bool, len(wire))
	for _, c := range wire {
		if c.ID != "" && seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		ch := Change{ID: c.ID, RequestID: c.PermissionsRequestID, TicketID: c.TicketID, StatusDetail: c.StatusDetail,
			ActiveOccurrenceStatus: firstOf(c.ActiveOccurrenceStatus, c.ActiveOccurenceStatus)}
		if t, err := time.Parse(time.RFC3339, c.ModificationDateTime); err == nil {
			ch.Modified = t.UTC()
		}
		out = append(out, ch)
	}
	slices.SortStableFunc(out, func(a, b Change) int { return a.Modified.Compare(b.Modified) })
	return out, nil
}

// latest is the newest change of request id among changes (oldest first).
func latest(changes []Change, id string) (Change, bool) {
	for i := len(changes) - 1; i >= 0; i-- {
		if strings.EqualFold(changes[i].RequestID, id) {
			return changes[i], true
		}
	}
	return Change{}, false
}

// ours is the id of the request accessbot made for requestID, by its ticket number.
func ours(changes []Change, requestID string) string {
	for i := len(changes) - 1; i >= 0; i-- {
		if changes[i].TicketID == requestID && changes[i].RequestID != "" {
			return changes[i].RequestID
		}
	}
	return ""
}

// grantedAt is when the request's permissions were last granted, else when it last changed.
func grantedAt(changes []Change, c Change) time.Time {
	for i := len(changes) - 1; i >= 0; i-- {
		if strings.EqualFold(changes[i].RequestID, c.RequestID) && strings.EqualFold(changes[i].ActiveOccurrenceStatus, occurrenceGranted) &&
			!changes[i].Modified.IsZero() {
			return changes[i].Modified
		}
	}
	return c.Modified
}

func (b *Backend) ref(item governance.ItemRef) (Ref, error) {
	r, err := ParseRef(item.Ref)
	if err != nil {
		return Ref{}, governance.Permanent(&governance.Problem{Err: governance.ErrUnknownItem, Message: fmt.Sprintf(
			"the catalog's entry for %s is wrong (%v); ask your access admins to fix it", item.Name, err)})
	}
	return r, nil
}

// marker ends the justification of every request accessbot makes, for the people who
// read it in Permissions Management.
func marker(requestID string) string { return "(accessbot request " + requestID + ")" }

// Submit asks Permissions Management for the item's permissions for the requester, for
// the grant's duration. A request accessbot made before for the same accessbot request (a
// retry after a lost answer) is found in the change log by its ticket number and returned
// instead, so Submit is idempotent in the request id.
func (b *Backend) Submit(ctx context.Context, g governance.Grant) (governance.Submission, error) {
	r, err := b.ref(g.Item)
	if err != nil {
		return governance.Submission{}, err
	}
	if g.End.IsZero() || !g.End.After(g.Start) {
		return governance.Submission{}, governance.Permanent(&governance.Problem{Err: governance.ErrBadDuration, Message: fmt.Sprintf(
			"Permissions Management grants permissions for a limited time only, and the catalog gives %s no duration; "+
				"ask your access admins to give it a defaultDuration", g.Item.Name)})
	}
	u, err := b.user(ctx, g.Requester.Email)
	if err != nil {
		return governance.Submission{}, err
	}
	changes, err := b.Changes(ctx, b.clock.Now().Add(-b.lookback))
	if err != nil {
		return governance.Submission{}, err
	}
	if id := ours(changes, g.RequestID); id != "" {
		c, _ := latest(changes, id)
		return b.track(changes, c, g.Start, g.End), nil
	}
	var created scheduledRequest
	if err := b.api.Do(ctx, http.MethodPost, pmRoot+"/scheduledPermissionsRequests", nil, body(r, g, u), &created); err != nil {
		return governance.Submission{}, b.explain(err)
	}
	if created.ID == "" {
		return governance.Submission{}, fmt.Errorf("Permissions Management created accessbot's request %s but did not say its id", g.RequestID)
	}
	sub := b.mapChange(Change{RequestID: created.ID, TicketID: g.RequestID, StatusDetail: firstOf(created.StatusDetail, statusSubmitted)})
	sub.ExternalID, sub.Start, sub.End = created.ID, g.Start, g.End
	return sub, nil
}

// track is the submission a change stands for. start and end are what was asked for:
// once the permissions are granted they run for as long from the grant.
func (b *Backend) track(changes []Change, c Change, start, end time.Time) governance.Submission {
	sub := b.mapChange(c)
	sub.ExternalID, sub.Start, sub.End = c.RequestID, start, end
	if sub.State == governance.StateActive {
		if at := grantedAt(changes, c); !at.IsZero() {
			sub.Start = at
			if !start.IsZero() && end.After(start) {
				sub.End = at.Add(end.Sub(start))
			}
		}
	}
	return sub
}

// body is the documented create body for r, asked for the user u by accessbot's grant g.
func body(r Ref, g governance.Grant, u msgraph.User) newRequest {
	upn := firstOf(u.UserPrincipalName, u.Mail, g.Requester.Email)
	def := permissionsDefinition{
		AuthorizationSystemInfo: authorizationSystem{ID: r.System, Type: string(r.Cloud)},
		IdentityInfo:            identityInfo{ExternalID: upn, Source: odataTyped{typeEDSource}, IdentityType: "user"},
		ResourceID:              r.Resource,
	}
	switch r.Cloud {
	case AWS:
		def.ODataType = typeAWS
		// A SAML user in AWS is known by its role session name, written with "rsn:".
		def.IdentityInfo = identityInfo{ExternalID: "rsn:" + upn, Source: odataTyped{typeSAMLSource}, IdentityType: "user"}
		def.ActionInfo = actionInfo{ODataType: typeAWSPolicy, AssignToRoleID: r.AssignToRole}
		if r.Kind == KindActions {
			def.ActionInfo.ODataType = typeAWSActions
			def.ActionInfo.Statements = []awsStatement{{StatementID: statementID(g.RequestID), Actions: r.IDs,
				NotActions: []string{}, Resources: []string{"*"}, NotResources: []string{}, Effect: "allow"}}
		} else {
			for _, arn := range r.IDs {
				def.ActionInfo.Policies = append(def.ActionInfo.Policies, idRef{arn})
			}
		}
	case Azure:
		def.ODataType = typeAzure
		def.ActionInfo = actionInfo{ODataType: typeAzureActions}
		if r.Kind == KindRole {
			def.ActionInfo.ODataType = typeAzureRole
		}
	case GCP:
		def.ODataType = typeGCP
		def.ActionInfo = actionInfo{ODataType: typeGCPActions}
		if r.Kind == KindRole {
			def.ActionInfo.ODataType = typeGCPRole
		}
	}
	if r.Cloud != AWS {
		if r.Kind == KindRole {
			for _, id := range r.IDs {
				def.ActionInfo.Roles = append(def.ActionInfo.Roles, idRef{id})
			}
		} else {
			def.ActionInfo.Actions = r.IDs
		}
	}
	reason := strings.TrimSpace(g.Reason)
	if reason == "" {
		reason = "No reason given"
	}
	notes := "Asked for in chat by " + g.Requester.Email
	if g.ApprovedBy.Email != "" {
		notes += " and approved there by " + g.ApprovedBy.Email
	}
	return newRequest{
		RequestedPermissions: def,
		Justification:        reason + " " + marker(g.RequestID),
		Notes:                fmt.Sprintf("%s (accessbot request %s, %s)", notes, g.RequestID, g.Item.Name),
		ScheduleInfo:         requestSchedule{Expiration: expiration{Duration: FormatDuration(g.End.Sub(g.Start))}},
		TicketInfo: ticketInfo{TicketNumber: g.RequestID, TicketSystem: ticketSystem,
			TicketSubmitterIdentityID: g.Requester.Email, TicketApproverIdentityID: g.ApprovedBy.Email},
	}
}

// statementID is an AWS statement id (letters and digits only) naming accessbot's request.
func statementID(requestID string) string {
	id := []byte("accessbot")
	for _, c := range []byte(requestID) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			id = append(id, c)
		}
	}
	return string(id)
}

// Status reads the change log since accessbot last looked (less Skew) and maps the
// newest change of the request onto accessbot's lifecycle (see the package doc). When
// the request has not changed since, s is returned as it is.
func (b *Backend) Status(ctx context.Context, s governance.Submission) (governance.Submission, error) {
	if s.ExternalID == "" {
		return governance.Submission{}, governance.Permanent(errors.New("the submission has no Permissions Management request id"))
	}
	since := firstTime(s.At, s.Start)
	if since.IsZero() {
		since = b.clock.Now().Add(-b.lookback)
	}
	changes, err := b.Changes(ctx, since.Add(-b.skew))
	if err != nil {
		return governance.Submission{}, err
	}
	c, ok := latest(changes, s.ExternalID)
	if !ok {
		return s, nil
	}
	return b.track(changes, c, s.Start, s.End), nil
}

func is(v, want string) bool { return strings.EqualFold(v, want) }

// mapChange is the lifecycle state a change stands for, in words for people.
func (b *Backend) mapChange(c Change) governance.Submission {
	occ := c.ActiveOccurrenceStatus
	switch {
	case is(occ, occurrenceRevokingFailed):
		b.log.Error("Permissions Management failed to revoke permissions; they are still granted", "external_id", c.RequestID,
			"request", c.TicketID, "status_detail", c.StatusDetail, "occurrence", occ)
		return governance.Submission{State: governance.StateActive,
			Detail: "Permissions Management failed to revoke it, so the permissions are still granted"}
	case is(c.StatusDetail, statusRejected):
		return governance.Submission{State: governance.StateDenied, Detail: "rejected in Permissions Management"}
	case is(c.StatusDetail, statusCanceled):
		return governance.Submission{State: governance.StateCancelled, Detail: "cancelled in Permissions Management"}
	case is(occ, occurrenceGranted):
		return governance.Submission{State: governance.StateActive}
	case is(occ, occurrenceGranting):
		return governance.Submission{State: governance.StateSubmitted, Waiting: "Permissions Management to finish granting it"}
	case is(occ, occurrenceGrantingFailed):
		return governance.Submission{State: governance.StateFailed, Detail: "Permissions Management could not grant the permissions; " +
			"ask your access admins to check the authorization system in Permissions Management"}
	case is(occ, occurrenceRevoking), is(occ, occurrenceRevoked), is(c.StatusDetail, statusCompleted):
		return governance.Submission{State: governance.StateCancelled, Detail: "Permissions Management has already ended the permissions " +
			"(revoked there, or their time ran out) before accessbot saw them granted; ask again if you still need them"}
	case is(c.StatusDetail, statusApproved):
		return governance.Submission{State: governance.StateSubmitted, Waiting: "Permissions Management to grant it"}
	case is(c.StatusDetail, statusSubmitted):
		return governance.Submission{State: governance.StateSubmitted, Waiting: "approval in Permissions Management"}
	}
	// unknownFutureValue, or a value added since.
	return governance.Submission{State: governance.StateSubmitted, Waiting: "Permissions Management to finish it"}
}

// ended reports whether a request's latest change says it no longer grants anything.
func ended(c Change) bool {
	return is(c.StatusDetail, statusCanceled) || is(c.StatusDetail, statusRejected) || is(c.StatusDetail, statusCompleted) ||
		is(c.ActiveOccurrenceStatus, occurrenceRevoking) || is(c.ActiveOccurrenceStatus, occurrenceRevoked)
}

// cancelAll is the request's cancelAll action, at the /identityGovernance path the
// current reference gives (an older page omits /identityGovernance).
func (b *Backend) cancelAll(ctx context.Context, id string) error {
	err := b.api.Do(ctx, http.MethodPost, pmRoot+"/scheduledPermissionsRequests/"+url.PathEscape(id)+"/cancelAll", nil, nil, nil)
	return b.explain(err)
}

// refusedAsDone reports whether err is Permissions Management refusing an action as
// invalid (400 or 409), which it does for a request that has already ended.
func refusedAsDone(err error) bool {
	var ge *msgraph.Error
	return errors.As(err, &ge) && (ge.Status == http.StatusBadRequest || ge.Status == http.StatusConflict)
}

// Cancel withdraws the request with cancelAll, which Permissions Management allows its
// requestor (the account accessbot signs in as) while the request waits for approval,
// and once it is approved. A request Permissions Management has already ended needs
// nothing more. A 404 does not say that: it is checked against the change log, and
// unless the log says the request ended, Cancel fails and changes nothing, since the
// permissions may still be granted or about to be.
func (b *Backend) Cancel(ctx context.Context, s governance.Submission) error {
	err := b.cancelAll(ctx, s.ExternalID)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, governance.ErrNotFound), refusedAsDone(err):
		done, lerr := b.endedInLog(ctx, s.ExternalID, firstTime(s.Start, s.At, b.clock.Now()))
		if lerr != nil || done {
			return lerr
		}
		if errors.Is(err, governance.ErrNotFound) {
			b.log.ErrorContext(ctx, "Permissions Management has no request to cancel, but its change log does not say it ended",
				"external_id", s.ExternalID, "err", err)
			return &governance.Problem{Err: governance.ErrNotFound, Message: fmt.Sprintf(
				"Permissions Management answered that it has no request %s to cancel, yet its change log does not say that request ended, "+
					"so accessbot changed nothing; ask your access admins to check that request in Permissions Management", s.ExternalID)}
		}
	}
	return err
}

// endedInLog reports whether the change log, read from since (less the lookback), says
// the request id no longer grants anything.
func (b *Backend) endedInLog(ctx context.Context, id string, since time.Time) (bool, error) {
	changes, err := b.Changes(ctx, since.Add(-b.lookback))
	if err != nil {
		return false, err
	}
	c, ok := latest(changes, id)
	return ok && ended(c), nil
}

// Revoke ends granted permissions early, or at the end accessbot holds for them, with the
// request's cancelAll: the reference documents no other way to end a granted request,
// and describes cancelAll as how a requestor cancels an approved one. The request is
// found in the change log by its ticket number; one that Permissions Management has
// already ended (revoked, completed, cancelled) needs nothing more. A 404 from cancelAll
// is checked against the change log again: unless the request ended meanwhile, the
// permissions may still be granted, and Revoke fails for the admins to end them there.
func (b *Backend) Revoke(ctx context.Context, g governance.Grant) error {
	since := firstTime(g.Start, b.clock.Now())
	changes, err := b.Changes(ctx, since.Add(-b.lookback))
	if err != nil {
		return err
	}
	id := ours(changes, g.RequestID)
	if id == "" {
		return governance.Permanent(&governance.Problem{Err: governance.ErrNotFound, Message: fmt.Sprintf(
			"Permissions Management has no request with ticket number %s, so accessbot could not end %s there; "+
				"ask your access admins to end the permissions in Permissions Management", g.RequestID, g.Item.Name)})
	}
	if c, ok := latest(changes, id); ok && ended(c) {
		return nil
	}
	err = b.cancelAll(ctx, id)
	if !errors.Is(err, governance.ErrNotFound) {
		return err
	}
	done, lerr := b.endedInLog(ctx, id, since)
	if lerr != nil || done {
		return lerr
	}
	b.log.ErrorContext(ctx, "Permissions Management has no request to revoke, but its change log does not say it ended; the permissions may still be granted",
		"request", g.RequestID, "external_id", id, "err", err)
	return governance.Permanent(&governance.Problem{Err: governance.ErrNotFound, Message: fmt.Sprintf(
		"Permissions Management answered that it has no request %s (ticket number %s) to end, yet its change log does not say it ended, "+
			"so %s may still be granted; ask your access admins to end the permissions in Permissions Management", id, g.RequestID, g.Item.Name)})
}

// Extend is refused: a scheduledPermissionsRequest's schedule cannot be changed once it is
// made, and no documented call extends granted permissions.
func (b *Backend) Extend(_ context.Context, g governance.Grant, _ time.Time) (governance.Submission, error) {
	return governance.Submission{}, governance.Permanent(&governance.Problem{Err: governance.ErrNotAllowed, Message: fmt.Sprintf(
		"Permissions Management cannot extend permissions it has granted, so nothing was changed; ask for %s again when your access ends", g.Item.Name)})
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
