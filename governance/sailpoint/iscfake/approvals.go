package iscfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// ISC's own approvals, as the fake runs them: an item may have approval levels (its
// access profile's or role's approval schemes: the requester's manager, the item's owner,
// its source's owner, a governance group), and a GRANT_ACCESS for it opens level 1; each
// approval decided APPROVED opens the next, the last one completes the request (the fake
// provisions at once), and a rejection ends it REJECTED. With approvalsMustBeExternal
// true, as ISC documents, no approvals are created and the grant goes straight to
// provisioning. Approve, reject and forward are accepted from the approval's owner, a
// member of its owning governance group, or an ORG_ADMIN (who is then recorded as the
// reviewer); anyone else gets 403. A decision on an approval that is no longer pending
// is answered 400, an unknown approval id 404 (ISC's spec documents no 409 for these
// calls; see docs/backends/sailpoint.md).

// The approval schemes, as ISC's access profiles name them.
const (
	SchemeManager         = "MANAGER"
	SchemeOwner           = "OWNER"
	SchemeSourceOwner     = "SOURCE_OWNER"
	SchemeGovernanceGroup = "GOVERNANCE_GROUP"
)

// Scheme is one approval level of an item.
type Scheme struct {
	Approver string // SchemeManager, SchemeOwner, SchemeSourceOwner or SchemeGovernanceGroup
	GroupID  string // the governance group, for SchemeGovernanceGroup
}

type group struct {
	id, name string
	members  []string // identity ids
}

type approval struct {
	id, accessRequestID string
	row                 *RequestedItemStatus
	level, levels       int
	scheme              Scheme
	owner, original     Ref
	created, modified   string
	state               string // PENDING, APPROVED, REJECTED, CANCELLED
	reviewedBy          *Ref
	reviewerComment     string
	forwards            []ForwardHistory
	previous            []Comment
	requester           *Ref
	requesterComment    *Comment
}

// ForwardHistory is ISC's ApprovalForwardHistory.
type ForwardHistory struct {
	OldApproverName  string `json:"oldApproverName"`
	NewApproverName  string `json:"newApproverName"`
	Comment          string `json:"comment"`
	Modified         string `json:"modified"`
	ForwarderName    string `json:"forwarderName"`
	ReassignmentType string `json:"reassignmentType"`
}

// RequestableObjectReference is ISC's reference to the requested object.
type RequestableObjectReference struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Type        string `json:"type"`
}

// approvalItem is what ISC's PendingApproval and CompletedApproval (v3) have in common,
// the fields the fake fills.
type approvalItem struct {
	ID                          string                     `json:"id"`
	Name                        string                     `json:"name"`
	Created                     string                     `json:"created"`
	Modified                    string                     `json:"modified"`
	RequestCreated              string                     `json:"requestCreated"`
	RequestType                 string                     `json:"requestType"`
	Requester                   *Ref                       `json:"requester"`
	RequestedFor                *Ref                       `json:"requestedFor"`
	Owner                       Ref                        `json:"owner"`
	RequestedObject             RequestableObjectReference `json:"requestedObject"`
	RequesterComment            *Comment                   `json:"requesterComment"`
	PreviousReviewersComments   []Comment                  `json:"previousReviewersComments"`
	ForwardHistory              []ForwardHistory           `json:"forwardHistory"`
	CommentRequiredWhenRejected bool                       `json:"commentRequiredWhenRejected"`
	RemoveDate                  *string                    `json:"removeDate"`
	ClientMetadata              map[string]string          `json:"clientMetadata"`
}

// PendingApproval is ISC's PendingApproval (v3), the fields the fake fills.
type PendingApproval struct {
	approvalItem
	AccessRequestID string  `json:"accessRequestId"`
	ActionInProcess *string `json:"actionInProcess"`
}

// CompletedApproval is ISC's CompletedApproval (v3): no accessRequestId.
type CompletedApproval struct {
	approvalItem
	ReviewedBy      *Ref     `json:"reviewedBy"`
	ReviewerComment *Comment `json:"reviewerComment"`
	State           string   `json:"state"`
}

// AddGroup adds (or replaces) a governance group with its members.
func (s *Server) AddGroup(id, name string, memberIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.groups[id]; !ok {
		s.groupList = append(s.groupList, id)
	}
	s.groups[id] = &group{id: id, name: name, members: slices.Clone(memberIDs)}
}

// SetOwner sets the item's owner (the access profile's or role's), and the owner of its
// source.
func (s *Server) SetOwner(itemID, ownerID, sourceOwnerID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owners[itemID], s.sourceOwners[itemID] = ownerID, sourceOwnerID
}

// SetApprovalSchemes sets the item's approval levels, in order; none: no approval.
func (s *Server) SetApprovalSchemes(itemID string, levels ...Scheme) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schemes[itemID] = slices.Clone(levels)
}

// RequestInUI makes an access request as someone does in ISC's Request Center (not
// through the API): requesterID asks for itemID for requestedForID. It returns the
// access request id.
func (s *Server) RequestInUI(requesterID, requestedForID, itemID, comment string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := AccessRequestItem{Type: s.items[itemID].typ, ID: itemID, Comment: comment}
	reqID := newID()
	s.addRow(AccessRequest{}, it, requestedForID, GrantAccess, reqID, newID())
	row := s.rows[len(s.rows)-1]
	row.Requester = s.identityRef(requesterID)
	if row.RequesterComment != nil {
		row.RequesterComment.Author = row.Requester
	}
	for _, a := range s.approvals {
		if a.row == row {
			a.requester, a.requesterComment = row.Requester, row.RequesterComment
		}
	}
	return reqID
}

// DecideInUI decides an approval as identityID does in ISC's own UI (or mobile, or
// e-mail): action is "approve", "reject" or "forward" (then newOwnerID). It applies the
// same rules as the API and returns the refusal's status, or 0.
func (s *Server) DecideInUI(approvalID, identityID, action, comment, newOwnerID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	level := s.levels[identityID]
	rep := s.decide(caller{id: identityID, level: level}, approvalID, action, comment, newOwnerID)
	if rep.status == http.StatusAccepted {
		return 0
	}
	return rep.status
}

// PendingApprovals are the approvals ISC waits for, as GET …/pending would list them for
// an ORG_ADMIN.
func (s *Server) PendingApprovals() []PendingApproval {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []PendingApproval
	for _, a := range s.approvals {
		if a.state == "PENDING" {
			out = append(out, s.pendingOf(a))
		}
	}
	return out
}

// CompletedApprovals are the approvals decided so far.
func (s *Server) CompletedApprovals() []CompletedApproval {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CompletedApproval
	for _, a := range s.approvals {
		if a.state == "APPROVED" || a.state == "REJECTED" {
			out = append(out, s.completedOf(a))
		}
	}
	return out
}

// externalApprovals reads approvalsMustBeExternal from the access-request config.
func (s *Server) externalApprovals() bool {
	var c struct {
		External bool `json:"approvalsMustBeExternal"`
	}
	_ = json.Unmarshal(s.config, &c)
	return c.External
}

// startApprovals opens the first approval level of a new grant row, or provisions it at
// once when the tenant's approvals are external or the item has none.
func (s *Server) startApprovals(row *RequestedItemStatus) {
	levels := s.schemes[row.itemID]
	if s.externalApprovals() {
		s.complete(row)
		return
	}
	if len(levels) == 0 {
		return // the request executes until the test moves it (SetState, SetApproval)
	}
	s.openLevel(row, 1)
}

// openLevel opens approval level k of the row's item (levels whose approver cannot be
// found are passed over, as ISC assigns them elsewhere; the fake simply goes on).
func (s *Server) openLevel(row *RequestedItemStatus, k int) {
	levels := s.schemes[row.itemID]
	for ; k <= len(levels); k++ {
		owner, ok := s.approverOf(row, levels[k-1])
		if !ok {
			continue
		}
		ts := stamp(s.now())
		a := &approval{id: newID(), accessRequestID: row.AccessRequestID, row: row, level: k, levels: len(levels),
			scheme: levels[k-1], owner: owner, original: owner, created: ts, modified: ts, state: "PENDING",
			requester: row.Requester, requesterComment: row.RequesterComment}
		if manager := s.identities[row.RequestedFor.ID].managerID; owner.ID == row.RequestedFor.ID && manager != "" {
			// Nobody approves their own access: ISC hands the step to their manager.
			to := s.identityRef(manager)
			a.forwards = append(a.forwards, ForwardHistory{OldApproverName: owner.Name, NewApproverName: to.Name, Modified: ts,
				ForwarderName: "SailPoint", ReassignmentType: "SELF_REVIEW_DELEGATION"})
			a.owner, owner = *to, *to
		}
		for _, prev := range s.approvals {
			if prev.row == row && prev.reviewerComment != "" {
				a.previous = append(a.previous, Comment{Comment: prev.reviewerComment, Created: prev.modified, Author: prev.reviewedBy})
			}
		}
		s.approvals = append(s.approvals, a)
		row.ApprovalIDs = append(row.ApprovalIDs, a.id)
		o := owner
		row.ApprovalDetails = append(row.ApprovalDetails, ApprovalStatus{ApprovalID: a.id, OriginalOwner: &o, CurrentOwner: &o,
			Modified: ts, Status: "PENDING", Scheme: schemeName(levels[k-1]), ErrorMessages: []ErrorMessage{}, RemoveDate: row.RemoveDate})
		setApprovalPhase(row, "PENDING", ts)
		row.Modified = ts
		return
	}
	s.complete(row)
}

func (s *Server) approverOf(row *RequestedItemStatus, sc Scheme) (Ref, bool) {
	id := ""
	switch sc.Approver {
	case SchemeManager:
		id = s.identities[row.RequestedFor.ID].managerID
	case SchemeOwner:
		id = s.owners[row.itemID]
	case SchemeSourceOwner:
		id = s.sourceOwners[row.itemID]
	case SchemeGovernanceGroup:
		g, ok := s.groups[sc.GroupID]
		if !ok {
			return Ref{}, false
		}
		return Ref{Type: "GOVERNANCE_GROUP", ID: g.id, Name: g.name}, true
	}
	if _, ok := s.identities[id]; !ok {
		return Ref{}, false
	}
	return *s.identityRef(id), true
}

func schemeName(sc Scheme) string {
	switch sc.Approver {
	case SchemeManager:
		return "MANAGER"
	case SchemeSourceOwner:
		return "SOURCE_OWNER"
	case SchemeGovernanceGroup:
		return "GOVERNANCE_GROUP"
	}
	return "ACCESS_PROFILE_OWNER"
}

// complete provisions the row: ISC's approvals are done.
func (s *Server) complete(row *RequestedItemStatus) {
	ts := stamp(s.now())
	row.State, row.Modified, row.Cancelable = StateCompleted, ts, false
	if len(row.ApprovalDetails) > 0 {
		setApprovalPhase(row, "APPROVED", ts)
	}
	s.apply(row)
}

// may reports whether c may decide a: its owner, a member of its group, or an ORG_ADMIN.
func (s *Server) may(c caller, a *approval) bool {
	if c.level == OrgAdmin {
		return true
	}
	return s.owns(c.id, a)
}

func (s *Server) owns(identityID string, a *approval) bool {
	if a.owner.Type == "GOVERNANCE_GROUP" {
		g, ok := s.groups[a.owner.ID]
		return ok && slices.Contains(g.members, identityID)
	}
	return a.owner.ID == identityID
}

func (s *Server) approval(id string) *approval {
	for _, a := range s.approvals {
		if a.id == id {
			return a
		}
	}
	return nil
}

// dynamicRoute finds the handlers of a path with an id in it.
func (s *Server) dynamicRoute(r *http.Request) (map[string]handler, bool) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 4 && parts[0] == "v3" && parts[1] == "access-request-approvals" &&
		slices.Contains([]string{"approve", "reject", "forward"}, parts[3]):
		id, action := parts[2], parts[3]
		return map[string]handler{http.MethodPost: func(s *Server, r *http.Request, body []byte) reply {
			return s.decideCall(r, body, id, action)
		}}, true
	case len(parts) == 3 && parts[0] == "v3" && parts[1] == "oauth-clients":
		id := parts[2]
		return map[string]handler{http.MethodGet: func(s *Server, r *http.Request, _ []byte) reply {
			return s.getOAuthClient(r, id)
		}}, true
	case len(parts) == 4 && parts[0] == "beta" && parts[1] == "workgroups" && parts[3] == "members":
		id := parts[2]
		return map[string]handler{http.MethodGet: func(s *Server, r *http.Request, _ []byte) reply {
			return s.groupMembers(r, id)
		}}, true
	}
	return nil, false
}

// decideBody is CommentDto or ForwardApprovalDto; which fields a call allows is checked
// by the call.
type decideBody struct {
	Comment    *string `json:"comment"`
	Created    *string `json:"created"`
	Author     *Ref    `json:"author"`
	NewOwnerID *string `json:"newOwnerId"`
}

func (s *Server) decideCall(r *http.Request, body []byte, id, action string) reply {
	var b decideBody
	if len(strings.TrimSpace(string(body))) > 0 || action != "approve" {
		if rep, ok := decodeJSON(r, body, &b); !ok {
			return rep
		}
	}
	if action != "forward" && b.NewOwnerID != nil {
		return badRequest("newOwnerId is not a field of CommentDto")
	}
	if action == "forward" && (b.Created != nil || b.Author != nil) {
		return badRequest("ForwardApprovalDto has only newOwnerId and comment")
	}
	comment, newOwner := "", ""
	if b.Comment != nil {
		comment = *b.Comment
	}
	if b.NewOwnerID != nil {
		newOwner = *b.NewOwnerID
	}
	return s.decide(callerOf(r), id, action, comment, newOwner)
}

// decide carries out one decision by c.
func (s *Server) decide(c caller, id, action, comment, newOwnerID string) reply {
	a := s.approval(id)
	switch {
	case a == nil:
		return problem(http.StatusNotFound, fmt.Sprintf("Approval %q was not found.", id))
	case !s.may(c, a):
		return problem(http.StatusForbidden, "Only the owner of the approval and ORG_ADMIN users may act on it.")
	case a.state != "PENDING":
		return badRequest("Approval %q is already completed (%s).", id, a.state)
	}
	ts := stamp(s.now())
	by := s.identityRef(c.id)
	switch action {
	case "reject":
		if strings.TrimSpace(comment) == "" {
			return badRequest("A comment is required to reject an approval.")
		}
	case "forward":
		switch {
		case newOwnerID == "" || len(newOwnerID) > 255:
			return badRequest("newOwnerId is required (at most 255 characters).")
		case strings.TrimSpace(comment) == "" || len([]rune(comment)) > 255:
			return badRequest("comment is required (at most 255 characters).")
		}
		if _, ok := s.identities[newOwnerID]; !ok {
			return badRequest("newOwnerId %q is not an identity.", newOwnerID)
		}
		if newOwnerID == a.owner.ID {
			return badRequest("The approval is already owned by %q.", newOwnerID)
		}
		to := s.identityRef(newOwnerID)
		a.forwards = append(a.forwards, ForwardHistory{OldApproverName: a.owner.Name, NewApproverName: to.Name, Comment: comment,
			Modified: ts, ForwarderName: by.Name, ReassignmentType: "MANUAL_REASSIGNMENT"})
		a.owner, a.modified = *to, ts
		for i := range a.row.ApprovalDetails {
			if d := &a.row.ApprovalDetails[i]; d.ApprovalID == a.id {
				d.CurrentOwner, d.Forwarded, d.Modified = to, true, ts
			}
		}
		a.row.Modified = ts
		return reply{status: http.StatusAccepted, body: map[string]any{}}
	case "approve":
	default:
		return notFoundPath(action)
	}
	a.state, a.reviewedBy, a.reviewerComment, a.modified = "APPROVED", by, comment, ts
	if action == "reject" {
		a.state = "REJECTED"
	}
	for i := range a.row.ApprovalDetails {
		if d := &a.row.ApprovalDetails[i]; d.ApprovalID == a.id {
			d.Status, d.Comment, d.Modified, d.CurrentOwner = a.state, comment, ts, by
		}
	}
	a.row.Modified = ts
	if a.state == "REJECTED" {
		a.row.State, a.row.Cancelable = "REJECTED", false
		setApprovalPhase(a.row, "REJECTED", ts)
	} else {
		a.row.Cancelable = false
		s.openLevel(a.row, a.level+1)
	}
	return reply{status: http.StatusAccepted, body: map[string]any{}}
}

func notFoundPath(action string) reply {
	return problem(http.StatusNotFound, fmt.Sprintf("The action %q was not found.", action))
}

var pendingFilters = map[string]filterField{
	"id":              {ops: []string{"eq", "in"}},
	"requestedFor.id": {ops: []string{"eq", "in"}},
	"modified":        {ops: []string{"gt", "lt", "ge", "le", "eq", "in"}},
	"accessRequestId": {ops: []string{"eq", "in"}},
	"created":         {ops: []string{"gt", "lt", "ge", "le", "eq", "in"}},
}

var completedFilters = map[string]filterField{
	"id":              {ops: []string{"eq", "in"}},
	"requestedFor.id": {ops: []string{"eq", "in"}},
	"modified":        {ops: []string{"gt", "lt", "ge", "le", "eq", "in"}},
}

// listApprovals is GET …/pending and …/completed: an ORG_ADMIN without owner-id sees the
// whole organisation; anyone else only their own (owner-id "me" or their id).
func (s *Server) listApprovals(r *http.Request, completed bool) reply {
	q := r.URL.Query()
	if err := checkParams(q, "owner-id", "limit", "offset", "count", "filters", "sorters"); err != nil {
		return badRequest("%s", err)
	}
	c := callerOf(r)
	owner := q.Get("owner-id")
	if owner == "me" {
		owner = c.id
	}
	if c.level != OrgAdmin {
		if owner != "" && owner != c.id {
			return problem(http.StatusForbidden, "Only ORG_ADMIN users may list another identity's approvals.")
		}
		owner = c.id
	}
	filters := pendingFilters
	if completed {
		filters = completedFilters
	}
	l, err := parseList(q, filters, "created", "modified")
	if err != nil {
		return badRequest("%s", err)
	}
	var list []*approval
	for _, a := range s.approvals {
		if (a.state == "PENDING") == completed || a.state == "CANCELLED" {
			continue
		}
		if owner != "" && !s.owns(owner, a) && (!completed || a.reviewedBy == nil || a.reviewedBy.ID != owner) {
			continue
		}
		if matchAll(l.conds, func(field string) string { return approvalField(a, field) }) {
			list = append(list, a)
		}
	}
	sortBy(list, l.keys, approvalField)
	page := pageOf(list, l.paging)
	if completed {
		out := make([]CompletedApproval, 0, len(page))
		for _, a := range page {
			out = append(out, s.completedOf(a))
		}
		return listReply(out, len(list), l.paging)
	}
	out := make([]PendingApproval, 0, len(page))
	for _, a := range page {
		out = append(out, s.pendingOf(a))
	}
	return listReply(out, len(list), l.paging)
}

func approvalField(a *approval, field string) string {
	switch field {
	case "id":
		return a.id
	case "requestedFor.id":
		return a.row.RequestedFor.ID
	case "modified":
		return a.modified
	case "accessRequestId":
		return a.accessRequestID
	}
	return a.created
}

func (s *Server) object(a *approval) RequestableObjectReference {
	it := s.items[a.row.itemID]
	return RequestableObjectReference{ID: it.id, Name: it.name, Description: it.description, Type: it.typ}
}

func (s *Server) pendingOf(a *approval) PendingApproval {
	return PendingApproval{approvalItem: s.itemOf(a), AccessRequestID: a.accessRequestID}
}

func (s *Server) completedOf(a *approval) CompletedApproval {
	c := CompletedApproval{approvalItem: s.itemOf(a), ReviewedBy: a.reviewedBy, State: a.state}
	if a.reviewerComment != "" {
		c.ReviewerComment = &Comment{Comment: a.reviewerComment, Created: a.modified, Author: a.reviewedBy}
	}
	return c
}

func (s *Server) itemOf(a *approval) approvalItem {
	return approvalItem{ID: a.id, Name: a.row.Name, Created: a.created, Modified: a.modified, RequestCreated: a.row.Created,
		RequestType: a.row.RequestType, Requester: a.requester, RequestedFor: a.row.RequestedFor, Owner: a.owner,
		RequestedObject: s.object(a), RequesterComment: a.requesterComment,
		PreviousReviewersComments: append([]Comment{}, a.previous...), ForwardHistory: append([]ForwardHistory{}, a.forwards...),
		CommentRequiredWhenRejected: true, RemoveDate: a.row.RemoveDate, ClientMetadata: a.row.ClientMetadata}
}

// groupMember is ListWorkgroupMembers200ResponseInner.
type groupMember struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// groupMembers is GET /beta/workgroups/{id}/members (limit at most 50).
func (s *Server) groupMembers(r *http.Request, id string) reply {
	q := r.URL.Query()
	if err := checkParams(q, "limit", "offset", "count", "sorters"); err != nil {
		return badRequest("%s", err)
	}
	p, err := parsePaging(q, 50)
	if err != nil {
		return badRequest("%s", err)
	}
	g, ok := s.groups[id]
	if !ok {
		return problem(http.StatusNotFound, fmt.Sprintf("Governance group %q was not found.", id))
	}
	out := make([]groupMember, 0, len(g.members))
	for _, m := range g.members {
		i := s.identities[m]
		out = append(out, groupMember{Type: "IDENTITY", ID: i.id, Name: i.name, Email: i.email})
	}
	return listReply(pageOf(out, p), len(out), p)
}

var workgroupFilters = map[string]filterField{
	"id":   {ops: []string{"eq", "in"}},
	"name": {ops: []string{"eq", "in", "sw"}, fold: true},
}

// workgroupRef is a governance group as GET /beta/workgroups lists it (the fields
// accessbot reads, and a few more).
type workgroupRef struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	MemberCount int    `json:"memberCount"`
	Owner       *Ref   `json:"owner"`
}

// workgroups is GET /beta/workgroups: the governance groups, filtered by id or name.
func (s *Server) workgroups(r *http.Request, _ []byte) reply {
	q := r.URL.Query()
	if err := checkParams(q, "limit", "offset", "count", "filters", "sorters"); err != nil {
		return badRequest("%s", err)
	}
	l, err := parseList(q, workgroupFilters, "name")
	if err != nil {
		return badRequest("%s", err)
	}
	var out []workgroupRef
	for _, g := range s.groups {
		if matchAll(l.conds, func(field string) string {
			if field == "id" {
				return g.id
			}
			return g.name
		}) {
			out = append(out, workgroupRef{ID: g.id, Name: g.name, MemberCount: len(g.members), Owner: serviceRef()})
		}
	}
	sortBy(out, l.keys, func(w workgroupRef, _ string) string { return strings.ToLower(w.Name) })
	return listReply(pageOf(out, l.paging), len(out), l.paging)
}
