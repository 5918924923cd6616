package sailpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// ISC's own approvals (approvals: backend): accessbot lists what ISC waits for with its
// ORG_ADMIN token (which, without owner-id, sees the whole organisation) and carries out
// a person's decision with that person's connected account, so that ISC records them as
// the reviewer; with approveAs: service, accessbot's own token decides and the comment
// names the person.

// How accessbot decides in ISC.
const (
	// ApproveAsConnected decides with the approver's connected account (the default).
	ApproveAsConnected = "connected"
	// ApproveAsService decides with accessbot's ORG_ADMIN token; ISC records accessbot's
	// service identity as the reviewer, and the comment names the chat approver.
	ApproveAsService = "service"
)

// pageSize is ISC's largest page of a v3 list.
const pageSize = 250

// idsPerFilter bounds the ids of one "in" filter, so that a URL stays short.
const idsPerFilter = 50

// pendingApproval is PendingApproval (v3); requestedFor is one reference in v3 and a list
// in later versions, and either is read.
type pendingApproval struct {
	ID                          string            `json:"id"`
	AccessRequestID             string            `json:"accessRequestId"`
	Name                        string            `json:"name"`
	Created                     string            `json:"created"`
	Modified                    string            `json:"modified"`
	RequestType                 string            `json:"requestType"`
	Requester                   *ref              `json:"requester"`
	RequestedFor                refs              `json:"requestedFor"`
	Owner                       *ref              `json:"owner"`
	RequestedObject             *ref              `json:"requestedObject"`
	RequesterComment            *commentDto       `json:"requesterComment"`
	PreviousReviewersComments   []commentDto      `json:"previousReviewersComments"`
	ForwardHistory              []forwardHistory  `json:"forwardHistory"`
	CommentRequiredWhenRejected bool              `json:"commentRequiredWhenRejected"`
	ActionInProcess             string            `json:"actionInProcess"`
	RemoveDate                  string            `json:"removeDate"`
	ClientMetadata              map[string]string `json:"clientMetadata"`
}

// completedApproval is CompletedApproval (v3): it carries no accessRequestId.
type completedApproval struct {
	ID              string      `json:"id"`
	Modified        string      `json:"modified"`
	RequestedFor    refs        `json:"requestedFor"`
	RequestedObject *ref        `json:"requestedObject"`
	ReviewedBy      *ref        `json:"reviewedBy"`
	ReviewerComment *commentDto `json:"reviewerComment"`
	State           string      `json:"state"` // APPROVED or REJECTED
}

// commentDto is CommentDto.
type commentDto struct {
	Comment string `json:"comment"`
	Created string `json:"created,omitempty"`
	Author  *ref   `json:"author,omitempty"`
}

// forwardApproval is ForwardApprovalDto.
type forwardApproval struct {
	NewOwnerID string `json:"newOwnerId"`
	Comment    string `json:"comment"`
}

type forwardHistory struct {
	OldApproverName  string `json:"oldApproverName"`
	NewApproverName  string `json:"newApproverName"`
	Comment          string `json:"comment"`
	Modified         string `json:"modified"`
	ForwarderName    string `json:"forwarderName"`
	ReassignmentType string `json:"reassignmentType"`
}

// refs reads one reference or a list of them.
type refs []ref

func (r *refs) UnmarshalJSON(data []byte) error {
	if strings.HasPrefix(strings.TrimSpace(string(data)), "[") {
		return json.Unmarshal(data, (*[]ref)(r))
	}
	var one *ref
	if err := json.Unmarshal(data, &one); err != nil {
		return err
	}
	*r = nil
	if one != nil {
		*r = refs{*one}
	}
	return nil
}

func (r refs) first() ref {
	if len(r) == 0 {
		return ref{}
	}
	return r[0]
}

// groupMember is a member of a governance group (ListWorkgroupMembers200ResponseInner).
type groupMember struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Pending lists every approval ISC waits for that changed at or after since (zero: all),
// oldest change first, with each governance group's members and, where ISC's status list
// tells, the step's scheme and number.
func (b *Backend) Pending(ctx context.Context, since time.Time) ([]BackendApproval, error) {
	var raw []pendingApproval
	q := url.Values{"sorters": {"modified"}}
	if !since.IsZero() {
		q.Set("filters", "modified ge "+iscStamp(since))
	}
	if err := b.pages(ctx, "/access-request-approvals/pending", q, func(data json.RawMessage) (int, error) {
		var page []pendingApproval
		err := json.Unmarshal(data, &page)
		raw = append(raw, page...)
		return len(page), err
	}); err != nil {
		return nil, err
	}
	steps, err := b.steps(ctx, raw)
	if err != nil {
		return nil, err
	}
	// Cards go to people by e-mail, which ISC's approvals do not carry.
	var ids []string
	seen := map[string]bool{}
	for _, p := range raw {
		for _, r := range []*ref{p.Owner, p.Requester, &[]ref{p.RequestedFor.first()}[0]} {
			if r != nil && r.ID != "" && !isGroup(r.Type) && !seen[r.ID] {
				seen[r.ID] = true
				ids = append(ids, r.ID)
			}
		}
	}
	emails, err := b.emails(ctx, ids)
	if err != nil {
		return nil, err
	}
	withEmail := func(i governance.Identity) governance.Identity {
		i.Email = strings.ToLower(emails[i.ID])
		return i
	}
	members := map[string][]governance.Identity{}
	out := make([]BackendApproval, 0, len(raw))
	for _, p := range raw {
		a := b.backendApproval(p)
		a.Requester, a.RequestedFor = withEmail(a.Requester), withEmail(a.RequestedFor)
		if !a.Owner.Group {
			a.Owner.Identity = withEmail(a.Owner.Identity)
		}
		if st, ok := steps[p.ID]; ok {
			a.Step, a.StepName = st.k, st.name
		}
		if a.Owner.Group {
			m, ok := members[a.Owner.Identity.ID]
			if !ok {
				if m, err = b.GroupMembers(ctx, a.Owner.Identity.ID); err != nil {
					return nil, err
				}
				members[a.Owner.Identity.ID] = m
			}
			a.Owner.Members = m
		}
		out = append(out, a)
	}
	return out, nil
}

// pages reads a v3 list page by page (limit 250), handing each page to take, which says
// how many entries it held.
func (b *Backend) pages(ctx context.Context, path string, q url.Values, take func(json.RawMessage) (int, error)) error {
	for offset := 0; ; offset += pageSize {
		page := url.Values{}
		for k, v := range q {
			page[k] = v
		}
		page.Set("limit", strconv.Itoa(pageSize))
		page.Set("offset", strconv.Itoa(offset))
		var data json.RawMessage
		if err := b.api.call(ctx, http.MethodGet, path, page, nil, &data); err != nil {
			return err
		}
		n, err := take(data)
		if err != nil {
			return fmt.Errorf("SailPoint GET %s: unreadable answer: %w", path, err)
		}
		if n < pageSize {
			return nil
		}
	}
}

type step struct {
	k    int
	name string
}

// steps finds each approval's place among its request's approvals, from the status list
// (approvalIds in order, and each approval's scheme): ISC tells the steps so far, never
// how many are to come.
func (b *Backend) steps(ctx context.Context, approvals []pendingApproval) (map[string]step, error) {
	var ids []string
	seen := map[string]bool{}
	for _, a := range approvals {
		if a.AccessRequestID != "" && !seen[a.AccessRequestID] {
			seen[a.AccessRequestID] = true
			ids = append(ids, a.AccessRequestID)
		}
	}
	rows, err := b.statusRows(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := map[string]step{}
	for _, r := range rows {
		for i, id := range r.ApprovalIDs {
			st := step{k: i + 1}
			for _, d := range r.ApprovalDetails {
				if d.ApprovalID == id {
					st.name = schemeName(d.Scheme)
				}
			}
			out[id] = st
		}
	}
	return out, nil
}

// schemeName is an approval scheme as people say it.
func schemeName(s string) string {
	switch s {
	case "MANAGER":
		return "manager"
	case "GOVERNANCE_GROUP", "WORKGROUP":
		return "governance group"
	case "SOURCE_OWNER":
		return "source owner"
	case "APP_OWNER":
		return "application owner"
	case "ACCESS_PROFILE_OWNER", "ROLE_OWNER", "ENTITLEMENT_OWNER", "OWNER":
		return "owner"
	}
	return strings.ToLower(strings.ReplaceAll(s, "_", " "))
}

// statusRows reads the status list's rows of the given access requests, a few ids per call.
func (b *Backend) statusRows(ctx context.Context, accessRequestIDs []string) ([]itemStatus, error) {
	var all []itemStatus
	for start := 0; start < len(accessRequestIDs); start += idsPerFilter {
		batch := accessRequestIDs[start:min(start+idsPerFilter, len(accessRequestIDs))]
		quoted := make([]string, len(batch))
		for i, id := range batch {
			quoted[i] = quote(id)
		}
		// ISC wants an "in" filter even for one id.
		q := url.Values{"filters": {"accessRequestId in (" + strings.Join(quoted, ",") + ")"}}
		if err := b.pages(ctx, "/access-request-status", q, func(data json.RawMessage) (int, error) {
			var page []itemStatus
			err := json.Unmarshal(data, &page)
			all = append(all, page...)
			return len(page), err
		}); err != nil {
			return nil, err
		}
	}
	return all, nil
}

func (b *Backend) backendApproval(p pendingApproval) BackendApproval {
	a := BackendApproval{
		ID: p.ID, RequestID: p.AccessRequestID, Requester: identityOf(p.Requester), RequestedFor: p.RequestedFor.first().identity(),
		Created: parseStamp(p.Created), Modified: parseStamp(p.Modified), RemoveDate: parseStamp(p.RemoveDate),
		Link: b.approvalsURL, CommentRequiredToReject: p.CommentRequiredWhenRejected, Ours: p.ClientMetadata[metaRequestID],
	}
	if o := p.RequestedObject; o != nil {
		a.Item = BackendItem{ID: o.ID, Name: o.Name, Type: o.Type}
	}
	if p.RequesterComment != nil {
		a.Comment = p.RequesterComment.Comment
	}
	if o := p.Owner; o != nil {
		a.Owner = ApprovalOwner{Identity: governance.Identity{ID: o.ID, Name: o.Name}, Group: isGroup(o.Type)}
	}
	for _, c := range p.PreviousReviewersComments {
		a.PreviousComments = append(a.PreviousComments, ApprovalComment{Author: identityOf(c.Author), Comment: c.Comment, At: parseStamp(c.Created)})
	}
	for _, f := range p.ForwardHistory {
		a.Forwards = append(a.Forwards, ApprovalForward{From: f.OldApproverName, To: f.NewApproverName, By: f.ForwarderName,
			Comment: f.Comment, Kind: f.ReassignmentType, At: parseStamp(f.Modified)})
	}
	return a
}

// isGroup reports whether an owner reference is a governance group. The v3 spec lists
// only IDENTITY for a pending approval's owner; ISC's other APIs call a governance group
// GOVERNANCE_GROUP (and, in older ones, WORKGROUP), which accessbot accepts too.
func isGroup(typ string) bool { return typ == "GOVERNANCE_GROUP" || typ == "WORKGROUP" }

func identityOf(r *ref) governance.Identity {
	if r == nil {
		return governance.Identity{}
	}
	return r.identity()
}

func (r ref) identity() governance.Identity { return governance.Identity{ID: r.ID, Name: r.Name} }

// iscStamp writes a time as ISC does, with milliseconds, so a filter loses nothing of a
// modified time ISC gave.
func iscStamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func parseStamp(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// GroupMembers lists a governance group's members with their e-mails. v3 has no
// governance-group API, so this is beta's GET /beta/workgroups/{id}/members (at most 50
// a page), and the e-mails ISC does not list there come from /v3/public-identities.
func (b *Backend) GroupMembers(ctx context.Context, groupID string) ([]governance.Identity, error) {
	var members []groupMember
	for offset := 0; ; offset += 50 {
		var page []groupMember
		q := url.Values{"limit": {"50"}, "offset": {strconv.Itoa(offset)}}
		if err := b.api.call(ctx, http.MethodGet, "/beta/workgroups/"+url.PathEscape(groupID)+"/members", q, nil, &page); err != nil {
			return nil, err
		}
		members = append(members, page...)
		if len(page) < 50 {
			break
		}
	}
	var missing []string
	for _, m := range members {
		if m.Email == "" {
			missing = append(missing, m.ID)
		}
	}
	emails, err := b.emails(ctx, missing)
	if err != nil {
		return nil, err
	}
	out := make([]governance.Identity, 0, len(members))
	for _, m := range members {
		e := m.Email
		if e == "" {
			e = emails[m.ID]
		}
		out = append(out, governance.Identity{ID: m.ID, Name: m.Name, Email: strings.ToLower(e)})
	}
	return out, nil
}

// emails are the e-mails of the identities ids, by id: those read within IdentityTTL
// from memory, the others from ISC, 50 to a call. Each approvals poll names the same
// requesters and owners again, so a poll asks ISC only for people it has not seen lately.
func (b *Backend) emails(ctx context.Context, ids []string) (map[string]string, error) {
	now := b.clock.Now()
	out := map[string]string{}
	var missing []string
	b.mu.Lock()
	for _, id := range ids {
		if c, ok := b.emailsByID[id]; ok && now.Sub(c.at) < b.ttl {
			if c.email != "" {
				out[id] = c.email
			}
		} else {
			missing = append(missing, id)
		}
	}
	b.mu.Unlock()
	for start := 0; start < len(missing); start += idsPerFilter {
		batch := missing[start:min(start+idsPerFilter, len(missing))]
		quoted := make([]string, len(batch))
		for i, id := range batch {
			quoted[i] = quote(id)
		}
		var found []publicIdentity
		q := url.Values{"filters": {"id in (" + strings.Join(quoted, ",") + ")"}, "limit": {strconv.Itoa(pageSize)}}
		if err := b.api.call(ctx, http.MethodGet, "/public-identities", q, nil, &found); err != nil {
			return nil, err
		}
		b.mu.Lock()
		b.forgetStaleEmails(now)
		for _, id := range batch {
			b.emailsByID[id] = cachedEmail{at: now} // none: an identity ISC does not show (the API client's own)
		}
		for _, p := range found {
			out[p.ID] = p.Email
			b.emailsByID[p.ID] = cachedEmail{email: p.Email, at: now}
		}
		b.mu.Unlock()
	}
	return out, nil
}

// emailsKept bounds how many identities' e-mails are remembered before the stale ones
// are forgotten.
const emailsKept = 10000

// forgetStaleEmails forgets the e-mails read longer than IdentityTTL ago once emailsKept
// are remembered; b.mu is held.
func (b *Backend) forgetStaleEmails(now time.Time) {
	if len(b.emailsByID) < emailsKept {
		return
	}
	for id, c := range b.emailsByID {
		if now.Sub(c.at) >= b.ttl {
			delete(b.emailsByID, id)
		}
	}
}

// Completed lists the approvals decided at or after since (zero: all), oldest first.
func (b *Backend) Completed(ctx context.Context, since time.Time) ([]CompletedApproval, error) {
	q := url.Values{"sorters": {"modified"}}
	if !since.IsZero() {
		q.Set("filters", "modified ge "+iscStamp(since))
	}
	var out []CompletedApproval
	err := b.pages(ctx, "/access-request-approvals/completed", q, func(data json.RawMessage) (int, error) {
		var page []completedApproval
		err := json.Unmarshal(data, &page)
		for _, c := range page {
			out = append(out, completedOf(c))
		}
		return len(page), err
	})
	return out, err
}

func completedOf(c completedApproval) CompletedApproval {
	out := CompletedApproval{ID: c.ID, RequestedFor: c.RequestedFor.first().identity(),
		ReviewedBy: identityOf(c.ReviewedBy), Decided: parseStamp(c.Modified), State: ApprovalApproved}
	if c.State == "REJECTED" {
		out.State = ApprovalRejected
	}
	if o := c.RequestedObject; o != nil {
		out.Item = BackendItem{ID: o.ID, Name: o.Name, Type: o.Type}
	}
	if c.ReviewerComment != nil {
		out.Comment = c.ReviewerComment.Comment
	}
	return out
}

// pendingOne reads one pending approval by id.
func (b *Backend) pendingOne(ctx context.Context, id string) (pendingApproval, bool, error) {
	return approvalByID[pendingApproval](ctx, b.api, "pending", id)
}

// completedOne reads one completed approval by id.
func (b *Backend) completedOne(ctx context.Context, id string) (CompletedApproval, bool, error) {
	c, ok, err := approvalByID[completedApproval](ctx, b.api, "completed", id)
	if err != nil || !ok {
		return CompletedApproval{}, false, err
	}
	return completedOf(c), true, nil
}

// approvalByID reads the approval with that id from one of ISC's approval lists (pending
// or completed), if it is there.
func approvalByID[T any](ctx context.Context, api *client, list, id string) (T, bool, error) {
	var page []T
	q := url.Values{"filters": {"id eq " + quote(id)}, "limit": {"1"}}
	if err := api.call(ctx, http.MethodGet, "/access-request-approvals/"+list, q, nil, &page); err != nil || len(page) == 0 {
		var none T
		return none, false, err
	}
	return page[0], true, nil
}

// maxComment is ISC's limit on a forward's comment (ForwardApprovalDto), applied to every
// comment accessbot writes.
const maxComment = 255

// Decide carries out d in ISC: it reads the approval first (so that a decision made
// elsewhere, a move to another owner, or a person who is not its owner is answered
// without calling ISC to act), posts approve, reject or forward with the person's
// connected account (or, for approveAs: service, accessbot's token with a comment naming
// the person), and reads the approval again before saying it is done, since ISC answers
// 202 before it has recorded anything.
func (b *Backend) Decide(ctx context.Context, d ApprovalDecision) (CompletedApproval, error) {
	if err := checkDecision(d); err != nil {
		return CompletedApproval{}, err
	}
	user, actor, err := b.actor(ctx, d)
	if err != nil {
		return CompletedApproval{}, err
	}
	p, ok, err := b.pendingOne(ctx, d.ApprovalID)
	if err != nil {
		return CompletedApproval{}, err
	}
	if !ok {
		return CompletedApproval{}, b.gone(ctx, d)
	}
	if err := b.checkOwner(ctx, p, d, actor); err != nil {
		return CompletedApproval{}, err
	}
	comment := strings.TrimSpace(d.Comment)
	if d.As == nil {
		comment = serviceComment(comment, d.By)
	}
	path := "/access-request-approvals/" + url.PathEscape(d.ApprovalID) + "/" + string(d.Action)
	var body any
	switch d.Action {
	case ActionForward:
		body = forwardApproval{NewOwnerID: d.NewOwner.ID, Comment: clip(comment, maxComment-1)}
	default:
		if comment != "" {
			body = commentDto{Comment: comment}
		}
	}
	if err := b.api.callAs(ctx, user, time.Time{}, http.MethodPost, path, nil, body, nil); err != nil {
		var e *Error
		if errors.As(err, &e) {
			switch e.Status {
			case http.StatusBadRequest, http.StatusNotFound:
				// Decided or moved between the read and the call, or refused as it stands.
				still, ok, rerr := b.pendingOne(ctx, d.ApprovalID)
				switch {
				case rerr != nil:
					return CompletedApproval{}, rerr
				case !ok:
					return CompletedApproval{}, b.gone(ctx, d)
				case still.Owner != nil && p.Owner != nil && still.Owner.ID != p.Owner.ID:
					return CompletedApproval{}, moved(still)
				}
			case http.StatusForbidden:
				return CompletedApproval{}, notOwner(p)
			}
		}
		return CompletedApproval{}, err
	}
	return b.confirm(ctx, d, actor)
}

func checkDecision(d ApprovalDecision) error {
	comment := strings.TrimSpace(d.Comment)
	switch d.Action {
	case ActionApprove:
	case ActionReject:
		if comment == "" {
			return &governance.Problem{Err: governance.ErrDenyReasonRequired, Field: "reason",
				Message: "SailPoint needs a comment to reject an approval; say why, and deny again"}
		}
	case ActionForward:
		if d.NewOwner.ID == "" || comment == "" {
			return &governance.Problem{Err: governance.ErrBadCommand, Message: "to forward an approval in SailPoint, name the person it goes to and add a comment"}
		}
		if len([]rune(comment)) > maxComment {
			return &governance.Problem{Err: governance.ErrBadCommand, Field: "reason", Message: fmt.Sprintf(
				"SailPoint takes a forward's comment of at most %d characters; shorten it and forward again", maxComment)}
		}
	default:
		return &governance.Problem{Err: governance.ErrBadCommand, Message: fmt.Sprintf("%q is not something accessbot can do with a SailPoint approval", d.Action)}
	}
	return nil
}

// actor is the token a decision is made with ("" for accessbot's own) and the identity
// ISC will record, where accessbot knows it.
func (b *Backend) actor(ctx context.Context, d ApprovalDecision) (string, governance.Identity, error) {
	if d.As == nil {
		if b.approveAs != ApproveAsService {
			return "", governance.Identity{}, &governance.Problem{Err: governance.ErrNotConnected, Message: "SailPoint records who decides, " +
				"so accessbot decides with your own SailPoint account: connect it with `/access connect sailpoint`, then decide again"}
		}
		return "", governance.Identity{Email: strings.ToLower(d.By.Email), Name: d.By.Name}, nil
	}
	who := d.As.Identity()
	if d.By.Email == "" || !strings.EqualFold(who.Email, d.By.Email) {
		// Nobody decides with someone else's account.
		return "", governance.Identity{}, governance.Permanent(&governance.Problem{Err: governance.ErrNotAllowed, Message: fmt.Sprintf(
			"the SailPoint account accessbot holds for you is %s's, not yours, so nothing was decided; "+
				"connect your own with `/access connect sailpoint`", who.Email)})
	}
	tok, err := d.As.Token(ctx)
	if err != nil {
		return "", governance.Identity{}, err
	}
	return tok, who, nil
}

// checkOwner refuses a decision by someone who is not the approval's owner (or a member of
// its owning group). ISC itself lets an ORG_ADMIN decide any approval, and accessbot's
// service token is one, so accessbot checks for ISC.
func (b *Backend) checkOwner(ctx context.Context, p pendingApproval, d ApprovalDecision, actor governance.Identity) error {
	if p.Owner == nil {
		return notOwner(p)
	}
	owner := b.backendApproval(p).Owner
	candidates := []governance.Identity{owner.Identity}
	if owner.Group {
		members, err := b.GroupMembers(ctx, owner.Identity.ID)
		if err != nil {
			return err
		}
		candidates = members
	} else if actor.ID == "" {
		emails, err := b.emails(ctx, []string{owner.Identity.ID})
		if err != nil {
			return err
		}
		candidates[0].Email = strings.ToLower(emails[owner.Identity.ID])
	}
	for _, c := range candidates {
		if (actor.ID != "" && c.ID == actor.ID) || (actor.ID == "" && c.Email != "" && strings.EqualFold(c.Email, actor.Email)) {
			return nil
		}
	}
	return notOwner(p)
}

func moved(p pendingApproval) error {
	return governance.Permanent(&governance.Problem{Err: ErrApprovalMoved, Message: fmt.Sprintf(
		"SailPoint moved this approval to %s meanwhile, so your decision was not recorded", p.Owner.Name)})
}

func notOwner(p pendingApproval) error {
	who := "someone else"
	if p.Owner != nil && p.Owner.Name != "" {
		who = p.Owner.Name
	}
	return governance.Permanent(&governance.Problem{Err: governance.ErrNotApprover, Message: fmt.Sprintf(
		"you are not this approval's owner in SailPoint (it waits for %s), so nothing was decided", who)})
}

// serviceComment is the comment of a decision accessbot makes with its own token: ISC
// records accessbot's service identity, so the comment names the person.
func serviceComment(comment string, by governance.Person) string {
	who := by.Email
	if by.Name != "" {
		who = by.Name + " <" + by.Email + ">"
	}
	if comment == "" {
		return "Decided in chat by " + who + " (accessbot)"
	}
	return comment + " — decided in chat by " + who + " (accessbot)"
}

// gone explains an approval that is no longer pending: decided (by whom), or unknown.
func (b *Backend) gone(ctx context.Context, d ApprovalDecision) error {
	c, ok, err := b.completedOne(ctx, d.ApprovalID)
	if err != nil {
		return err
	}
	if !ok {
		return governance.Permanent(&governance.Problem{Err: governance.ErrNotFound, Message: "SailPoint no longer has this approval " +
			"(it was cancelled, or moved on), so nothing was decided"})
	}
	verb := "approved"
	if c.State == ApprovalRejected {
		verb = "rejected"
	}
	who := c.ReviewedBy.Name
	if who == "" {
		who = "someone else"
	}
	return governance.Permanent(&governance.Problem{Err: governance.ErrAlreadyDecided, Message: fmt.Sprintf(
		"this approval was already %s in SailPoint by %s, so your decision was not recorded", verb, who)})
}

// confirm reads the approval after ISC accepted the decision: done once ISC lists it
// completed (or, for a forward, owned by the new owner), or shows the action in process.
func (b *Backend) confirm(ctx context.Context, d ApprovalDecision, actor governance.Identity) (CompletedApproval, error) {
	if d.Action != ActionForward {
		c, ok, err := b.completedOne(ctx, d.ApprovalID)
		if err != nil || ok {
			return c, err
		}
	}
	p, ok, err := b.pendingOne(ctx, d.ApprovalID)
	if err != nil {
		return CompletedApproval{}, err
	}
	want := map[ApprovalAction]string{ActionApprove: "APPROVED", ActionReject: "REJECTED",
		ActionForward: "FORWARDED"}[d.Action]
	switch {
	case ok && d.Action == ActionForward && p.Owner != nil && p.Owner.ID == d.NewOwner.ID:
		return CompletedApproval{ID: d.ApprovalID, RequestID: p.AccessRequestID, State: ApprovalForwarded,
			ReviewedBy: actor, ForwardedTo: identityOf(p.Owner), Comment: d.Comment}, nil
	case ok && p.ActionInProcess == want:
		state := map[string]ApprovalState{"APPROVED": ApprovalApproved, "REJECTED": ApprovalRejected,
			"FORWARDED": ApprovalForwarded}[want]
		return CompletedApproval{ID: d.ApprovalID, RequestID: p.AccessRequestID, State: state, ReviewedBy: actor,
			Comment: d.Comment, ForwardedTo: d.NewOwner}, nil
	case !ok && d.Action == ActionForward:
		return CompletedApproval{}, b.gone(ctx, d)
	}
	// Accepted, but not (yet) recorded: a temporary error, so the decision is checked again.
	return CompletedApproval{}, fmt.Errorf("SailPoint accepted the %s of approval %s but does not show it yet", d.Action, d.ApprovalID)
}

// ApprovalSettings reads approvalsMustBeExternal and ISC's reminder and escalation
// settings from the tenant's access-request configuration.
func (b *Backend) ApprovalSettings(ctx context.Context) (BackendApprovalSettings, error) {
	c, err := b.AccessRequestConfig(ctx)
	if err != nil {
		return BackendApprovalSettings{}, err
	}
	s := BackendApprovalSettings{MustBeExternal: c.ApprovalsMustBeExternal}
	if r := c.Reminders; r != nil {
		s.DaysUntilEscalation, s.DaysBetweenReminders, s.MaxReminders = r.DaysUntilEscalation, r.DaysBetweenReminders, r.MaxReminders
		if f := r.FallbackApproverRef; f != nil {
			s.FallbackApprover = governance.Identity{ID: f.ID, Name: f.Name, Email: strings.ToLower(f.Email)}
		}
	}
	return s, nil
}

// RequestStatus reads the status rows of the given access requests: their approval ids
// (which join them to approvals, since a completed approval names no request) and state.
func (b *Backend) RequestStatus(ctx context.Context, accessRequestIDs []string) ([]BackendRequestStatus, error) {
	rows, err := b.statusRows(ctx, accessRequestIDs)
	if err != nil {
		return nil, err
	}
	out := make([]BackendRequestStatus, 0, len(rows))
	for _, r := range rows {
		if r.RequestType == revokeAccess {
			continue
		}
		sub := mapStatus(r)
		sub.Backend, sub.ExternalID, sub.ExternalIDs = Name, r.AccessRequestID, []string{r.AccessRequestID}
		out = append(out, BackendRequestStatus{RequestID: r.AccessRequestID, ApprovalIDs: r.ApprovalIDs, Submission: sub})
	}
	return out, nil
}
