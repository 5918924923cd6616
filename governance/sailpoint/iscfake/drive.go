package iscfake

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
)

// SetState sets the state of every item of the access request, as ISC's workflow
// would. REQUEST_COMPLETED applies the request: a grant adds the access, a revoke
// removes it. Unknown ids are ignored.
func (s *Server) SetState(accessRequestID string, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.queued, accessRequestID) // what ISC's workflow moved on, it has processed
	ts := stamp(s.now())
	for _, row := range s.rowsOf(accessRequestID) {
		row.State = state
		row.Modified = ts
		row.Cancelable = state == StateExecuting && !approved(row)
		if state == StateCompleted {
			s.apply(row)
		}
	}
}

// apply makes a completed request's change to the identity's access.
func (s *Server) apply(row *RequestedItemStatus) {
	switch row.RequestType {
	case GrantAccess:
		end := ""
		if row.RemoveDate != nil {
			end = *row.RemoveDate
		}
		s.grant(row.RequestedFor.ID, row.Type, row.itemID, end)
	case RevokeAccess:
		s.ungrant(row.RequestedFor.ID, row.itemID)
	}
}

// SetApproval sets the first approval of every item of the access request: its status
// (PENDING, APPROVED, REJECTED, EXPIRED, CANCELLED, ARCHIVED), owner and comment. The
// approval phase follows: PENDING executes it, the others finish it. An approved
// request can no longer be cancelled.
func (s *Server) SetApproval(accessRequestID string, status, ownerName, comment string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.queued, accessRequestID)
	ts := stamp(s.now())
	owner := s.ownerRef(ownerName)
	for _, row := range s.rowsOf(accessRequestID) {
		a := ApprovalStatus{ApprovalID: newID(), OriginalOwner: owner, CurrentOwner: owner, Modified: ts,
			Status: status, Scheme: scheme(row.Type), ErrorMessages: []ErrorMessage{}, Comment: comment,
			RemoveDate: row.RemoveDate}
		if len(row.ApprovalDetails) > 0 {
			a.ApprovalID = row.ApprovalDetails[0].ApprovalID
			a.OriginalOwner = row.ApprovalDetails[0].OriginalOwner
			a.Forwarded = a.OriginalOwner != nil && a.OriginalOwner.ID != owner.ID
			row.ApprovalDetails[0] = a
		} else {
			row.ApprovalDetails = []ApprovalStatus{a}
		}
		row.ApprovalIDs = []string{a.ApprovalID}
		setApprovalPhase(row, status, ts)
		row.Modified = ts
		row.Cancelable = row.State == StateExecuting && status != "APPROVED"
	}
}

// setApprovalPhase moves the row's APPROVAL_PHASE along with its approval's status.
func setApprovalPhase(row *RequestedItemStatus, status, ts string) {
	i := slices.IndexFunc(row.AccessRequestPhases, func(p Phase) bool { return p.Name == "APPROVAL_PHASE" })
	if i < 0 {
		row.AccessRequestPhases = append(row.AccessRequestPhases,
			Phase{Started: ts, Name: "APPROVAL_PHASE", PhaseReference: "approvalDetails"})
		i = len(row.AccessRequestPhases) - 1
	}
	p := &row.AccessRequestPhases[i]
	p.State, p.Finished, p.Result = "COMPLETED", &ts, nil
	switch status {
	case "PENDING":
		p.State, p.Finished = "EXECUTING", nil
	case "APPROVED":
		p.Result = strp("SUCCESSFUL")
	case "CANCELLED":
		p.State = "CANCELLED"
	case "REJECTED", "EXPIRED":
		p.Result = strp("FAILED")
	}
}

// DelayListing makes ISC slow to process new access requests, or fast again. While it
// is on, a new request is only "queued for processing", as ISC's documentation puts it:
// ISC has it (a second submission of the same item is answered with existingRequests
// naming it, and SetState, SetApproval and Process act on it), but the status list does
// not show it and requestable-objects does not call its item PENDING until it is
// processed.
func (s *Server) DelayListing(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delayListing = on
}

// Process lists a request DelayListing held back, as ISC does once it has processed it.
func (s *Server) Process(accessRequestID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.queued, accessRequestID)
}

// SetErrors sets the error messages of every item of the access request.
func (s *Server) SetErrors(accessRequestID string, msgs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]ErrorMessage, 0, len(msgs))
	for _, m := range msgs {
		list = append(list, message(m))
	}
	for _, row := range s.rowsOf(accessRequestID) {
		row.ErrorMessages = [][]ErrorMessage{slices.Clone(list)}
		row.Modified = stamp(s.now())
	}
}

func (s *Server) rowsOf(accessRequestID string) []*RequestedItemStatus {
	var out []*RequestedItemStatus
	for _, row := range s.rows {
		if row.AccessRequestID == accessRequestID {
			out = append(out, row)
		}
	}
	return out
}

// ownerRef is a reference to the identity named name: a seeded one if there is one,
// else a made-up but stable id.
func (s *Server) ownerRef(name string) *Ref {
	for _, id := range s.identityList {
		if s.identities[id].name == name {
			return &Ref{Type: "IDENTITY", ID: id, Name: name}
		}
	}
	sum := sha256.Sum256([]byte(name))
	return &Ref{Type: "IDENTITY", ID: hex.EncodeToString(sum[:16]), Name: name}
}

func approved(row *RequestedItemStatus) bool {
	return slices.ContainsFunc(row.ApprovalDetails, func(a ApprovalStatus) bool { return a.Status == "APPROVED" })
}

func scheme(itemType string) string {
	switch itemType {
	case TypeRole:
		return "ROLE_OWNER"
	case TypeEntitlement:
		return "ENTITLEMENT_OWNER"
	}
	return "ACCESS_PROFILE_OWNER"
}
