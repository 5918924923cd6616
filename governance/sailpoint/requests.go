package sailpoint

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// Client metadata keys: ISC echoes them on the status list, which is how accessbot
// recognises its own earlier submission of a request. A status row names its item only
// by name and type (its id is the access request's, or missing), so the item's ref
// travels in the metadata too.
const (
	metaClient    = "requestedBy"
	metaRequestID = "accessbotRequestId"
	metaItem      = "accessbotItem"      // "ACCESS_PROFILE:<id>"
	metaExtension = "accessbotExtension" // on an extension: the id of the request asking for it
	clientName    = "accessbot"
)

// metadata is the client metadata of a request accessbot makes for g's item.
func metadata(g governance.Grant, typ, id string) map[string]string {
	return map[string]string{metaClient: clientName, metaRequestID: g.RequestID, metaItem: typ + ":" + id}
}

// Submit asks ISC to grant the item to the requester, unless ISC already has a request for
// it or the identity already holds it (ISC would drop the new request silently): then it
// fails with a governance.ErrDuplicate problem saying so. A submission accessbot made
// before (a retry after a lost answer) is found by its client metadata and returned,
// whether ISC still works on it, has completed it, or has only queued it (then ISC
// answers the retry with existingRequests naming it), so Submit is idempotent in the
// request id.
func (b *Backend) Submit(ctx context.Context, g governance.Grant) (governance.Submission, error) {
	typ, id, err := b.ref(g.Item)
	if err != nil {
		return governance.Submission{}, err
	}
	if sub, err := b.existing(ctx, g, typ, id); err != nil || sub.ExternalID != "" {
		return sub, err
	}
	meta := metadata(g, typ, id)
	if g.ApprovedBy.Email != "" {
		meta["approvedBy"] = g.ApprovedBy.Email
	}
	item := accessItem{Type: typ, ID: id, Comment: grantComment(g), ClientMetadata: meta}
	if !g.End.IsZero() {
		item.RemoveDate = g.End.UTC().Format(time.RFC3339)
	}
	body := accessRequest{RequestedFor: []string{g.Identity.ID}, RequestType: grantAccess,
		RequestedItems: []accessItem{item}, ClientMetadata: meta}
	var resp accessRequestResponse
	if err := b.api.callBefore(ctx, g.End, http.MethodPost, "/access-requests", nil, body, &resp); err != nil {
		if errors.Is(err, errEndPassed) {
			return governance.Submission{}, governance.Permanent(&governance.Problem{Err: err, Message: fmt.Sprintf(
				"your access to %s was to end at %s, which passed before SailPoint could be asked, so nothing was requested "+
					"(SailPoint takes only an end in the future); ask again if you still need it", g.Item.Name, stampOf(g.End))})
		}
		return governance.Submission{}, err
	}
	for _, n := range resp.NewRequests {
		if len(n.AccessRequestIDs) > 0 {
			sub := submitted(n.AccessRequestIDs[0], g)
			sub.ExternalIDs = append([]string(nil), n.AccessRequestIDs...)
			return sub, nil
		}
	}
	var known []string
	for _, e := range resp.ExistingRequests {
		known = append(known, e.AccessRequestIDs...)
	}
	// Accepted, but ISC made nothing new: it had a request or the access already. The
	// request it names may be this one's earlier submission, which ISC had queued but
	// not yet listed when existing looked.
	return b.existingByID(ctx, g, typ, id, known)
}

// existingByID decides what ISC's existingRequests answer means: accessbot's own earlier
// submission (returned), someone else's request (a duplicate problem), or a request ISC
// has queued but not listed yet, which cannot be told apart until it is (a temporary
// error, so the submission is tried again later).
func (b *Backend) existingByID(ctx context.Context, g governance.Grant, typ, itemID string, accessRequestIDs []string) (governance.Submission, error) {
	var foreign []itemStatus
	for _, arID := range accessRequestIDs {
		rows, err := b.statusOf(ctx, arID)
		if err != nil {
			return governance.Submission{}, err
		}
		// ISC named this request as the one that has the item; its rows say which item
		// each is only by name and type, so the row of the same type stands for it.
		listed := false
		for _, s := range rows {
			if s.AccessRequestID != arID {
				continue
			}
			if isOurs(s, g, typ, itemID) {
				return submitted(s.AccessRequestID, g), nil
			}
			listed = true
			if s.Type == typ {
				foreign = append([]itemStatus{s}, foreign...)
			} else {
				foreign = append(foreign, s)
			}
		}
		if !listed {
			// Not permanent: the dispatcher asks again, by when ISC will have listed it.
			return governance.Submission{}, &governance.Problem{Err: errNotListed, Message: fmt.Sprintf(
				"SailPoint has a request for %s for you that it had not processed yet (access request %s), so accessbot could not tell "+
					"whether it was the one accessbot made; ask your access admins to look for that request in SailPoint",
				g.Item.Name, arID)}
		}
	}
	if len(foreign) > 0 {
		return governance.Submission{}, pendingDuplicate(g, foreign[0])
	}
	// No request named: the identity holds the item (ISC ignores such a request). It may
	// be this request's earlier submission, completed meanwhile.
	sub, err := b.ours(ctx, g, typ, itemID)
	if err != nil || sub.ExternalID != "" {
		return sub, err
	}
	return governance.Submission{}, duplicate(fmt.Sprintf("SailPoint already had %s or a request for it for you, so nothing new was asked for", g.Item.Name))
}

// existing looks in ISC for the item's request or grant for the identity before a new
// request is made: accessbot's own earlier submission of this request (returned, so a
// retry changes nothing, even when ISC has completed it meanwhile), someone else's
// request or the access itself (a duplicate problem). Roles and access profiles take one
// call (requestable-objects knows both); entitlements take two (the executing requests,
// then the identity's access in the search index). Only when ISC has something does it
// search the identity's requests for accessbot's own.
//
// A status row names its item only by name and type, so someone else's executing request
// for an entitlement cannot be told from one for another entitlement of the same name;
// it is left to ISC, which answers the submission with existingRequests naming it
// (existingByID).
func (b *Backend) existing(ctx context.Context, g governance.Grant, typ, id string) (governance.Submission, error) {
	var pending []itemStatus
	held := false
	if typ == "ENTITLEMENT" {
		executing, err := b.executing(ctx, g.Identity.ID)
		if err != nil {
			return governance.Submission{}, err
		}
		for _, s := range executing {
			if isOurs(s, g, typ, id) {
				return submitted(s.AccessRequestID, g), nil
			}
		}
		if held, err = b.holds(ctx, g.Identity.ID, id); err != nil || !held {
			return governance.Submission{}, err
		}
	} else {
		var objs []requestableObject
		q := url.Values{"identity-id": {g.Identity.ID}, "types": {typ}, "filters": {"id eq " + quote(id)}, "limit": {"1"}}
		if err := b.api.call(ctx, http.MethodGet, "/requestable-objects", q, nil, &objs); err != nil {
			return governance.Submission{}, err
		}
		if len(objs) == 0 || objs[0].RequestStatus == "AVAILABLE" || objs[0].RequestStatus == "" {
			return governance.Submission{}, nil
		}
		if held = objs[0].RequestStatus == "ASSIGNED"; !held {
			rows, err := b.statusOf(ctx, objs[0].IdentityRequestID)
			if err != nil {
				return governance.Submission{}, err
			}
			// The pending request's row for this item is the one of its type and (ISC's) name.
			for _, s := range rows {
				if s.Type == typ && strings.EqualFold(s.Name, objs[0].Name) {
					pending = append([]itemStatus{s}, pending...)
				} else {
					pending = append(pending, s)
				}
			}
			if len(pending) == 0 {
				pending = []itemStatus{{AccessRequestID: objs[0].IdentityRequestID}}
			}
		}
	}
	for _, s := range pending {
		if isOurs(s, g, typ, id) {
			return submitted(s.AccessRequestID, g), nil
		}
	}
	if sub, err := b.ours(ctx, g, typ, id); err != nil || sub.ExternalID != "" {
		return sub, err
	}
	if held {
		return governance.Submission{}, alreadyHeld(g)
	}
	return governance.Submission{}, pendingDuplicate(g, pending[0])
}

// oursWithin is how many of an identity's latest requests ours looks through.
const oursWithin = 1000

// ours finds accessbot's earlier grant request for g in any state, among the identity's
// latest requests.
func (b *Backend) ours(ctx context.Context, g governance.Grant, typ, itemID string) (governance.Submission, error) {
	s, ok, err := b.latest(ctx, g, func(s itemStatus) bool { return isOurs(s, g, typ, itemID) })
	if err != nil || !ok {
		return governance.Submission{}, err
	}
	return submitted(s.AccessRequestID, g), nil
}

// latest finds the first of the identity's requests that match, newest first: a retry's
// first submission is among the latest, so the search stops after oursWithin of them
// rather than reading a long history at ISC's rate limit.
func (b *Backend) latest(ctx context.Context, g governance.Grant, match func(itemStatus) bool) (itemStatus, bool, error) {
	for offset := 0; offset < oursWithin; offset += 250 {
		var page []itemStatus
		q := url.Values{"requested-for": {g.Identity.ID}, "sorters": {"-created"},
			"limit": {"250"}, "offset": {strconv.Itoa(offset)}}
		if err := b.api.call(ctx, http.MethodGet, "/access-request-status", q, nil, &page); err != nil {
			return itemStatus{}, false, err
		}
		for _, s := range page {
			if match(s) {
				return s, true, nil
			}
		}
		if len(page) < 250 {
			break
		}
	}
	return itemStatus{}, false, nil
}

// isOurs reports whether the status row is the grant request accessbot made for g, by
// what ISC's spec guarantees on a row: the client metadata accessbot sent (its request
// id, and the item's ref where the submission carried it), the request type, the item's
// type and the identity it is for. The row's id is not read: the spec makes it the
// access request's id, which older requests lack, never the item's. Revoke and extension
// requests carry g's request id too, and are told apart by type and metadata.
func isOurs(s itemStatus, g governance.Grant, typ, itemID string) bool {
	m := s.ClientMetadata
	return m[metaRequestID] == g.RequestID && m[metaExtension] == "" &&
		(m[metaItem] == "" || m[metaItem] == typ+":"+itemID) &&
		(s.RequestType == grantAccess || s.RequestType == "") &&
		(s.Type == "" || s.Type == typ) &&
		(s.RequestedFor == nil || s.RequestedFor.ID == "" || g.Identity.ID == "" || s.RequestedFor.ID == g.Identity.ID)
}

func pendingDuplicate(g governance.Grant, s itemStatus) error {
	return duplicate(fmt.Sprintf(
		"SailPoint already has a request for %s for you (made %s, %s), so accessbot did not ask again; it goes on in SailPoint",
		g.Item.Name, day(s.Created), waiting(s)))
}

func alreadyHeld(g governance.Grant) error {
	return duplicate(fmt.Sprintf("you already have %s in SailPoint, so accessbot did not ask for it again", g.Item.Name))
}

// statusOf is the status list's rows for one access request.
func (b *Backend) statusOf(ctx context.Context, accessRequestID string) ([]itemStatus, error) {
	var rows []itemStatus
	q := url.Values{"filters": {"accessRequestId in (" + quote(accessRequestID) + ")"}, "limit": {"250"}}
	if err := b.api.call(ctx, http.MethodGet, "/access-request-status", q, nil, &rows); err != nil {
		return nil, err
	}
	return rows, nil
}

var errNotListed = errors.New("sailpoint: the existing request is not listed yet")

func submitted(accessRequestID string, g governance.Grant) governance.Submission {
	return governance.Submission{ExternalID: accessRequestID, ExternalIDs: []string{accessRequestID},
		State: governance.StateSubmitted, Start: g.Start, End: g.End}
}

func duplicate(msg string) error {
	return governance.Permanent(&governance.Problem{Err: governance.ErrDuplicate, Message: msg})
}

// grantComment is the comment ISC's approvers and auditors read: why, and who approved it
// in chat; a grant nobody approved in chat (approvals: backend, where ISC's own approvers
// decide next) says only that it was asked for in chat.
func grantComment(g governance.Grant) string {
	var sb strings.Builder
	sb.WriteString(strings.TrimSpace(g.Reason))
	if sb.Len() == 0 {
		sb.WriteString("No reason given")
	}
	if g.ApprovedBy.Email == "" {
		fmt.Fprintf(&sb, " — requested in chat (accessbot request %s)", g.RequestID)
		return sb.String()
	}
	fmt.Fprintf(&sb, " — approved in chat by %s (accessbot request %s)", g.ApprovedBy.Email, g.RequestID)
	return sb.String()
}

// executing lists the identity's access requests ISC is still working on.
func (b *Backend) executing(ctx context.Context, identityID string) ([]itemStatus, error) {
	var all []itemStatus
	for offset := 0; ; offset += 250 {
		var page []itemStatus
		q := url.Values{"requested-for": {identityID}, "request-state": {"EXECUTING"},
			"limit": {"250"}, "offset": {strconv.Itoa(offset)}}
		if err := b.api.call(ctx, http.MethodGet, "/access-request-status", q, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < 250 {
			return all, nil
		}
	}
}

// holds reports whether the identity already has the item, by ISC's search index.
func (b *Backend) holds(ctx context.Context, identityID, itemID string) (bool, error) {
	body := searchBody{Indices: []string{"identities"},
		Query: searchQuery{Query: fmt.Sprintf("id:%s AND access.id:%s", quote(identityID), quote(itemID))}}
	var docs []identityDocument
	if err := b.api.call(ctx, http.MethodPost, "/search", url.Values{"limit": {"1"}}, body, &docs); err != nil {
		return false, err
	}
	for _, d := range docs {
		for _, a := range d.Access {
			if a.ID == itemID {
				return true, nil
			}
		}
	}
	return false, nil
}

// Status reads the submission's row of the access-request status list and maps ISC's
// state onto accessbot's lifecycle.
func (b *Backend) Status(ctx context.Context, s governance.Submission) (governance.Submission, error) {
	rows, err := b.statusOf(ctx, s.ExternalID)
	if err != nil {
		return governance.Submission{}, err
	}
	for _, r := range rows {
		if r.AccessRequestID == s.ExternalID && r.RequestType != revokeAccess {
			return mapStatus(r), nil
		}
	}
	// Not (yet) listed: ISC lists a request once it has processed it, and never lists one
	// it ignored because the access was already there.
	return governance.Submission{State: governance.StateSubmitted, Waiting: "SailPoint to process it"}, nil
}

// mapStatus is the lifecycle state a RequestedItemStatus stands for (the reference's
// table "SailPoint ISC → common state").
func mapStatus(r itemStatus) governance.Submission {
	switch r.State {
	case "REQUEST_COMPLETED":
		return governance.Submission{State: governance.StateActive}
	case "REJECTED":
		return governance.Submission{State: governance.StateDenied, Detail: rejection(r)}
	case "CANCELLED":
		return governance.Submission{State: governance.StateCancelled, Detail: cancellation(r)}
	case "TERMINATED":
		return governance.Submission{State: governance.StateCancelled, Detail: "SailPoint closed it before it completed"}
	case "PROVISIONING_FAILED", "ERROR":
		return governance.Submission{State: governance.StateFailed, Detail: "SailPoint could not provision it" + errorText(r)}
	case "NOT_ALL_ITEMS_PROVISIONED":
		return governance.Submission{State: governance.StateFailed, Detail: "SailPoint provisioned only part of it" + errorText(r)}
	case "PROVISIONING_VERIFICATION_PENDING":
		return governance.Submission{State: governance.StateSubmitted, Waiting: "SailPoint to confirm the provisioning"}
	}
	for _, a := range r.ApprovalDetails {
		if a.Status == "EXPIRED" {
			return governance.Submission{State: governance.StateTimedOut, Detail: "nobody decided it in SailPoint's own approvals in time"}
		}
	}
	return governance.Submission{State: governance.StateSubmitted, Waiting: waiting(r)}
}

// waiting says what an executing request waits for.
func waiting(r itemStatus) string {
	for _, a := range r.ApprovalDetails {
		if a.Status == "PENDING" {
			if a.CurrentOwner != nil && a.CurrentOwner.Name != "" {
				return "approval in SailPoint by " + a.CurrentOwner.Name
			}
			return "approval in SailPoint"
		}
	}
	for _, p := range r.AccessRequestPhases {
		if p.Name == "APPROVAL_PHASE" && (p.State == "PENDING" || p.State == "EXECUTING") {
			return "approval in SailPoint"
		}
	}
	return "provisioning in SailPoint"
}

func rejection(r itemStatus) string {
	for _, a := range r.ApprovalDetails {
		if a.Status == "REJECTED" {
			s := "rejected in SailPoint"
			if a.CurrentOwner != nil && a.CurrentOwner.Name != "" {
				s += " by " + a.CurrentOwner.Name
			}
			if a.Comment != "" {
				s += ": " + clip(a.Comment, 300)
			}
			return s
		}
	}
	return "rejected in SailPoint's own approvals"
}

func cancellation(r itemStatus) string {
	s := "cancelled in SailPoint"
	if d := r.CancelledRequestDetails; d != nil {
		if d.Owner != nil && d.Owner.Name != "" {
			s += " by " + d.Owner.Name
		}
		if d.Comment != "" {
			s += ": " + clip(d.Comment, 300)
		}
	}
	return s
}

func errorText(r itemStatus) string {
	for _, msgs := range r.ErrorMessages {
		for _, m := range msgs {
			if m.Text != "" {
				return ": " + clip(m.Text, 300)
			}
		}
	}
	return ""
}

func day(ts string) string {
	if t, err := time.Parse(time.RFC3339, ts); err == nil {
		return t.UTC().Format("2006-01-02")
	}
	return "earlier"
}

// Cancel withdraws a submitted request in ISC. ISC cancels only before its approvals are
// done; after that it says so with a problem the requester can act on.
func (b *Backend) Cancel(ctx context.Context, s governance.Submission) error {
	body := cancelRequest{AccountActivityID: s.ExternalID, Comment: "Cancelled by the requester in chat (accessbot)"}
	err := b.api.call(ctx, http.MethodPost, "/access-requests/cancel", nil, body, nil)
	var e *Error
	if errors.As(err, &e) {
		switch e.Status {
		case http.StatusNotFound:
			return nil // ISC no longer has it: nothing left to withdraw
		case http.StatusBadRequest:
			return &governance.Problem{Err: governance.ErrNotPending, Message: "SailPoint can no longer cancel it, probably because its " +
				"approvals are done; once the access is active, `revoke` ends it"}
		}
	}
	return err
}

// Revoke asks ISC to take the item away (REVOKE_ACCESS, one item, one identity, as ISC
// requires). Access the identity no longer holds, or a revoke already under way, needs
// nothing more.
func (b *Backend) Revoke(ctx context.Context, g governance.Grant) error {
	typ, id, err := b.ref(g.Item)
	if err != nil {
		return err
	}
	held, err := b.holds(ctx, g.Identity.ID, id)
	if err != nil || !held {
		return err
	}
	executing, err := b.executing(ctx, g.Identity.ID)
	if err != nil {
		return err
	}
	for _, s := range executing {
		// accessbot's own revoke under way (a retry); someone else's ISC names in its answer.
		m := s.ClientMetadata
		if s.RequestType == revokeAccess && m[metaRequestID] == g.RequestID && (m[metaItem] == "" || m[metaItem] == typ+":"+id) {
			return nil
		}
	}
	meta := metadata(g, typ, id)
	body := accessRequest{RequestedFor: []string{g.Identity.ID}, RequestType: revokeAccess,
		RequestedItems: []accessItem{{Type: typ, ID: id, Comment: g.Reason, ClientMetadata: meta}}, ClientMetadata: meta}
	return b.api.call(ctx, http.MethodPost, "/access-requests", nil, body, &accessRequestResponse{})
}

// Extend moves the end of access the identity holds: a GRANT_ACCESS of the item with the
// new removeDate, which is how ISC's create-access-request documentation changes the end
// date of an existing assignment for a person (MODIFY_ACCESS is for machine identities).
// ISC makes it an access request of its own, with its own approvals, and moves the end
// only once it completes; Extend answers it submitted, with its access request id, and
// Status follows it like a grant's. A retry finds accessbot's earlier extension by its
// client metadata (the extension's request id) instead of asking again. An end that has
// passed before the request's turn comes is never sent.
func (b *Backend) Extend(ctx context.Context, g governance.Grant, end time.Time) (governance.Submission, error) {
	typ, id, err := b.ref(g.Item)
	if err != nil {
		return governance.Submission{}, err
	}
	if g.Identity.ID == "" {
		if g.Identity, err = b.LookupIdentity(ctx, g.Requester); err != nil {
			return governance.Submission{}, err
		}
	}
	extension := firstOf(g.Extension, g.RequestID+"@"+stampOf(end))
	if sub, err := b.extension(ctx, g, extension, end); err != nil || sub.ExternalID != "" {
		return sub, err
	}
	meta := metadata(g, typ, id)
	meta[metaExtension] = extension
	if g.ApprovedBy.Email != "" {
		meta["approvedBy"] = g.ApprovedBy.Email
	}
	body := accessRequest{RequestedFor: []string{g.Identity.ID}, RequestType: grantAccess, ClientMetadata: meta,
		RequestedItems: []accessItem{{Type: typ, ID: id, ClientMetadata: meta, RemoveDate: end.UTC().Format(time.RFC3339),
			Comment: fmt.Sprintf("Extend until %s: %s", stampOf(end), grantComment(g))}}}
	var resp accessRequestResponse
	if err := b.api.callBefore(ctx, end, http.MethodPost, "/access-requests", nil, body, &resp); err != nil {
		if errors.Is(err, errEndPassed) {
			return governance.Submission{}, governance.Permanent(&governance.Problem{Err: err, Message: fmt.Sprintf(
				"the new end of your access to %s, %s, passed before SailPoint could be asked, so the extension was not requested "+
					"(SailPoint takes only an end in the future); your access ends as before", g.Item.Name, stampOf(end))})
		}
		return governance.Submission{}, err
	}
	for _, n := range resp.NewRequests {
		if len(n.AccessRequestIDs) > 0 {
			return extending(n.AccessRequestIDs[0], g, end), nil
		}
	}
	var known []string
	for _, e := range resp.ExistingRequests {
		known = append(known, e.AccessRequestIDs...)
	}
	for _, arID := range known {
		rows, err := b.statusOf(ctx, arID)
		if err != nil {
			return governance.Submission{}, err
		}
		if len(rows) == 0 {
			return governance.Submission{}, &governance.Problem{Err: errNotListed, Message: fmt.Sprintf(
				"SailPoint has a request for %s for you that it had not processed yet (access request %s); accessbot will look again", g.Item.Name, arID)}
		}
		for _, s := range rows {
			if s.ClientMetadata[metaExtension] == extension {
				return extending(s.AccessRequestID, g, end), nil
			}
		}
		return governance.Submission{}, duplicate(fmt.Sprintf(
			"SailPoint already has a request for %s for you (made %s, %s), so accessbot could not ask for the new end; try again once it is done",
			g.Item.Name, day(rows[0].Created), waiting(rows[0])))
	}
	// Accepted and ignored: ISC ignores a grant of access the identity holds with the same
	// end date, so the assignment already ends then.
	return governance.Submission{State: governance.StateActive, Start: g.Start, End: end}, nil
}

// extension finds accessbot's earlier extension request (by its metadata) among the
// identity's latest requests, as ours does for grants.
func (b *Backend) extension(ctx context.Context, g governance.Grant, extension string, end time.Time) (governance.Submission, error) {
	s, ok, err := b.latest(ctx, g, func(s itemStatus) bool {
		return s.ClientMetadata[metaExtension] == extension && (s.RequestType == grantAccess || s.RequestType == "")
	})
	if err != nil || !ok {
		return governance.Submission{}, err
	}
	return extending(s.AccessRequestID, g, end), nil
}

func extending(accessRequestID string, g governance.Grant, end time.Time) governance.Submission {
	return governance.Submission{ExternalID: accessRequestID, State: governance.StateSubmitted, Start: g.Start, End: end}
}

// stampOf is a time as accessbot writes it to ISC and in its messages: UTC, RFC 3339.
func stampOf(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
