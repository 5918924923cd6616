package graphfake

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/governance/msgraph/msgraphtest"
)

// Entitlement Management's own approvals, as the fake keeps them: a policy's
// requestApprovalSettings stages (primary approvers of the kinds singleUser, groupMembers
// and requestorManager, fallback approvers when the primary ones name nobody, escalation
// approvers once durationBeforeEscalation has passed), each request waiting for approval
// with its stages, GET …/accessPackageAssignmentApprovals/{requestId}/stages and PATCH
// …/stages/{stageId} — both only with a delegated token of one of the request's
// approvers, as Graph's permission tables say (application: not supported) — and a
// decision made in My Access.

// Stage is one accessPackageApprovalStage of a policy.
type Stage struct {
	Primary, Fallback, Escalation []Approver
	// JustificationRequired is isApproverJustificationRequired.
	JustificationRequired bool
	// EscalateAfter is durationBeforeEscalation, with isEscalationEnabled; zero: none.
	EscalateAfter time.Duration
}

// Approver is a subjectSet.
type Approver struct {
	Kind    string // ApproverUser, ApproverGroup or ApproverManager
	UserID  string // singleUser
	GroupID string // groupMembers
}

// The subjectSet kinds the fake knows.
const (
	ApproverUser    = "singleUser"
	ApproverGroup   = "groupMembers"
	ApproverManager = "requestorManager"
)

// StageState is one approvalStage of a request.
type StageState struct {
	ID            string
	Status        string // InProgress or Completed
	Result        string // NotReviewed, Approved or Denied
	ReviewedBy    string // user id
	Justification string
	Started, At   time.Time
}

// AddGroup adds a group with its members (user ids).
func (s *Server) AddGroup(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = slices.Clone(members)
}

// NameGroup gives group id a display name, by which GET /groups?$filter=displayName eq
// '…' finds it.
func (s *Server) NameGroup(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groupNames[id] = name
}

var displayNameEqRE = regexp.MustCompile(`^displayName eq '((?:[^']|'')*)'$`)

// listGroups is GET /groups with the one $filter accessbot sends, displayName eq '…'
// (anything else is Graph's 400 here), and $select.
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m := displayNameEqRE.FindStringSubmatch(q.Get("$filter"))
	if m == nil {
		msgraphtest.BadRequest(w, "Invalid filter clause: %s", q.Get("$filter"))
		return
	}
	name := strings.ReplaceAll(m[1], "''", "'")
	s.mu.Lock()
	var items []map[string]any
	for id, n := range s.groupNames {
		if strings.EqualFold(n, name) {
			items = append(items, map[string]any{"id": id, "displayName": n})
		}
	}
	s.mu.Unlock()
	s.Page(w, r, items)
}

// DecideInMyAccess has the user decide the request's current stage in My Access, as
// Entra records a decision made there; an error says why Entra would refuse it.
func (s *Server) DecideInMyAccess(requestID, userID string, approve bool, justification string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.request(requestID)
	if r == nil || r.State != "pendingApproval" || len(r.Stages) == 0 {
		return errors.New("graphfake: the request waits for no approval")
	}
	k := len(r.Stages) - 1
	if !slices.Contains(s.approversOf(r, k), userID) {
		return errors.New("graphfake: the user is not an approver of the current stage")
	}
	s.decide(r, k, userID, approve, justification)
	return nil
}

// policy is the request's policy.
func (s *Server) policy(r *Request) *Policy {
	p := s.pkg(r.PackageID)
	if p == nil {
		return nil
	}
	for i := range p.Policies {
		if p.Policies[i].ID == r.PolicyID {
			return &p.Policies[i]
		}
	}
	return nil
}

// startApproval starts the first stage of a request that waits for approval.
func (s *Server) startApproval(r *Request) {
	r.Stages = []StageState{{ID: s.newID(0xa9), Status: "InProgress", Result: "NotReviewed", Started: s.o.Now().UTC()}}
}

// approversOf are the user ids who may decide stage k of r now.
func (s *Server) approversOf(r *Request, k int) []string {
	pol := s.policy(r)
	if pol == nil || k >= len(pol.Stages) {
		return nil
	}
	st := pol.Stages[k]
	ids := s.resolve(r, st.Primary)
	if len(ids) == 0 {
		ids = s.resolve(r, st.Fallback)
	}
	if st.EscalateAfter > 0 && k < len(r.Stages) && !s.o.Now().Before(r.Stages[k].Started.Add(st.EscalateAfter)) {
		ids = append(ids, s.resolve(r, st.Escalation)...)
	}
	return ids
}

func (s *Server) resolve(r *Request, sets []Approver) []string {
	var ids []string
	for _, a := range sets {
		switch a.Kind {
		case ApproverUser:
			ids = append(ids, a.UserID)
		case ApproverGroup:
			ids = append(ids, s.groups[a.GroupID]...)
		case ApproverManager:
			if u, ok := s.User(cmpOr(r.RequestorID, r.TargetID)); ok && u.ManagerID != "" {
				ids = append(ids, u.ManagerID)
			}
		}
	}
	return ids
}

// decide records a decision of stage k and moves the request on: to the next stage, to
// delivery after the last, or to denied.
func (s *Server) decide(r *Request, k int, userID string, approve bool, justification string) {
	st := &r.Stages[k]
	st.Status, st.ReviewedBy, st.Justification, st.At = "Completed", userID, justification, s.o.Now().UTC()
	if !approve {
		st.Result = "Denied"
		s.setState(r, "denied")
		return
	}
	st.Result = "Approved"
	if pol := s.policy(r); pol != nil && k+1 < len(pol.Stages) {
		r.Stages = append(r.Stages, StageState{ID: s.newID(0xa9), Status: "InProgress", Result: "NotReviewed", Started: s.o.Now().UTC()})
		return
	}
	s.setState(r, "delivered")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func subjectSetJSON(sets []Approver) []map[string]any {
	out := []map[string]any{}
	for _, a := range sets {
		m := map[string]any{"@odata.type": "#microsoft.graph." + a.Kind}
		switch a.Kind {
		case ApproverUser:
			m["userId"], m["description"] = a.UserID, nil
		case ApproverGroup:
			m["groupId"], m["description"] = a.GroupID, nil
		case ApproverManager:
			m["managerLevel"] = 1
		}
		out = append(out, m)
	}
	return out
}

func duration(d time.Duration) any {
	if d <= 0 {
		return "PT0S"
	}
	return fmt.Sprintf("PT%dH", int(d/time.Hour))
}

// approvalSettingsJSON is a policy's requestApprovalSettings.
func approvalSettingsJSON(p Policy) map[string]any {
	stages := []map[string]any{}
	for _, st := range p.Stages {
		stages = append(stages, map[string]any{
			"durationBeforeAutomaticDenial":   "P14D",
			"isApproverJustificationRequired": st.JustificationRequired,
			"isEscalationEnabled":             st.EscalateAfter > 0,
			"durationBeforeEscalation":        duration(st.EscalateAfter),
			"primaryApprovers":                subjectSetJSON(st.Primary),
			"fallbackPrimaryApprovers":        subjectSetJSON(st.Fallback),
			"escalationApprovers":             subjectSetJSON(st.Escalation),
			"fallbackEscalationApprovers":     []any{},
		})
	}
	return map[string]any{"isApprovalRequiredForAdd": len(p.Stages) > 0, "isApprovalRequiredForUpdate": false,
		"isRequestorJustificationRequired": p.JustificationRequired, "stages": stages}
}

func (s *Server) stageJSON(r *Request, k int, caller string) map[string]any {
	st := r.Stages[k]
	out := map[string]any{"id": st.ID, "displayName": fmt.Sprintf("Stage %d", k+1), "status": st.Status, "reviewResult": st.Result,
		"reviewedDateTime": ts(st.At), "justification": msgraphtest.Nullable(st.Justification), "reviewedBy": nil,
		"assignedToMe": slices.Contains(s.approversOf(r, k), caller)}
	if st.ReviewedBy != "" {
		u, _ := s.User(st.ReviewedBy)
		out["reviewedBy"] = map[string]any{"id": st.ReviewedBy, "displayName": u.DisplayName}
	}
	return out
}

// approvals serves …/accessPackageAssignmentApprovals/{requestId}[/stages[/{stageId}]].
func (s *Server) approvals(w http.ResponseWriter, r *http.Request, seg []string, body []byte) {
	c := s.caller(r)
	if c.user == "" {
		// The permission tables: application permissions are not supported.
		msgraphtest.WriteError(w, http.StatusForbidden, "", "Authorization_RequestDenied",
			"This API does not support application permissions; call it with a delegated token of an approver.")
		return
	}
	if len(seg) < 2 || seg[1] != "stages" || len(seg) > 3 || (len(seg) == 2) != (r.Method == http.MethodGet) ||
		(len(seg) == 3 && r.Method != http.MethodPatch) {
		msgraphtest.BadRequest(w, "Resource not found for the segment '%s'.", seg[len(seg)-1])
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	req := s.request(seg[0])
	if req == nil || len(req.Stages) == 0 {
		msgraphtest.WriteError(w, http.StatusNotFound, "", "ResourceNotFound", fmt.Sprintf("Approval with id '%s' was not found.", seg[0]))
		return
	}
	mine := -1
	for k := range req.Stages {
		if slices.Contains(s.approversOf(req, k), c.user) {
			mine = k
		}
	}
	if mine < 0 {
		msgraphtest.WriteError(w, http.StatusForbidden, "", "Authorization_RequestDenied", "The signed-in user is not an approver of this request.")
		return
	}
	if r.Method == http.MethodGet {
		var items []map[string]any
		for k := range req.Stages {
			items = append(items, s.stageJSON(req, k, c.user))
		}
		msgraphtest.WriteJSON(w, http.StatusOK, map[string]any{
			"@odata.context": s.BaseURL() + "/$metadata#identityGovernance/entitlementManagement/accessPackageAssignmentApprovals('" + req.ID + "')/stages",
			"value":          items})
		return
	}
	if !slices.Contains(c.scp, "EntitlementManagement.ReadWrite.All") {
		msgraphtest.WriteError(w, http.StatusForbidden, "", "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	k := slices.IndexFunc(req.Stages, func(st StageState) bool { return st.ID == seg[2] })
	if k < 0 {
		msgraphtest.WriteError(w, http.StatusNotFound, "", "ResourceNotFound", fmt.Sprintf("Approval stage with id '%s' was not found.", seg[2]))
		return
	}
	var b struct {
		ReviewResult  *string `json:"reviewResult"`
		Justification *string `json:"justification"`
	}
	if !msgraphtest.DecodeBody(w, r, body, &b) {
		return
	}
	switch {
	case !slices.Contains(s.approversOf(req, k), c.user):
		msgraphtest.WriteError(w, http.StatusForbidden, "", "Authorization_RequestDenied", "The signed-in user is not an approver of this stage.")
	case req.Stages[k].Status == "Completed" || req.State != "pendingApproval":
		msgraphtest.WriteError(w, http.StatusConflict, "", "Conflict", "The request has already been approved by another approver in the same approval stage.")
	case b.ReviewResult == nil || (*b.ReviewResult != "Approve" && *b.ReviewResult != "Deny"):
		msgraphtest.BadRequest(w, "reviewResult must be Approve or Deny.")
	case s.policy(req).Stages[k].JustificationRequired && strings.TrimSpace(msgraphtest.Str(b.Justification)) == "":
		msgraphtest.BadRequest(w, "The policy requires a justification from the approver.")
	default:
		s.decide(req, k, c.user, *b.ReviewResult == "Approve", msgraphtest.Str(b.Justification))
		s.KeepCreated(body)
		w.WriteHeader(http.StatusNoContent)
	}
}

// Decisions counts the stage decisions Entra recorded, in chat or My Access.
func (s *Server) Decisions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests.List {
		for _, st := range r.Stages {
			if st.Status == "Completed" {
				n++
			}
		}
	}
	return n
}

// members is GET /groups/{id}/members: the group's users.
func (s *Server) members(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	ids, ok := s.groups[id]
	s.mu.Unlock()
	if !ok {
		msgraphtest.WriteError(w, http.StatusNotFound, "", "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
		return
	}
	var items []map[string]any
	for _, uid := range ids {
		if u, ok := s.User(uid); ok {
			m := msgraphtest.UserJSON(u)
			m["@odata.type"] = "#microsoft.graph.user"
			items = append(items, m)
		}
	}
	s.Page(w, r, items)
}

// getUser is GET /users/{id}.
func (s *Server) getUser(w http.ResponseWriter, id string) {
	u, ok := s.User(id)
	if !ok {
		msgraphtest.WriteError(w, http.StatusNotFound, "", "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
		return
	}
	msgraphtest.WriteJSON(w, http.StatusOK, msgraphtest.UserJSON(u))
}
