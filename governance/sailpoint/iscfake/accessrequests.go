package iscfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
)

func (s *Server) submit(r *http.Request, body []byte) reply {
	var req AccessRequest
	if rep, ok := decodeJSON(r, body, &req); !ok {
		return rep
	}
	typ := req.RequestType
	if typ == "" {
		typ = GrantAccess
	}
	if err := s.validate(req, typ); err != nil {
		return badRequest("%s", err)
	}
	if c := callerOf(r); c.level != OrgAdmin {
		for _, who := range req.RequestedFor {
			if who != c.id {
				return problem(http.StatusForbidden, "Only ORG_ADMIN users may request access for other identities here.")
			}
		}
	}
	resp := s.create(req, typ)
	s.submitted = append(s.submitted, req)
	return reply{status: http.StatusAccepted, body: resp}
}

// decodeJSON decodes a JSON body strictly: no unknown fields, nothing after the value.
func decodeJSON(r *http.Request, body []byte, v any) (reply, bool) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return problem(http.StatusUnsupportedMediaType, "Content-Type must be application/json."), false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("The request body is missing."), false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("The request body is not valid: %v.", err), false
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("The request body has data after its JSON value."), false
	}
	return reply{}, true
}

// validate checks a submission against ISC's documented rules.
func (s *Server) validate(req AccessRequest, typ string) error {
	if typ != GrantAccess && typ != RevokeAccess && typ != ModifyAccess {
		return fmt.Errorf("requestType %q is not one of GRANT_ACCESS, REVOKE_ACCESS, MODIFY_ACCESS", req.RequestType)
	}
	if len(req.RequestedFor) == 0 {
		return errors.New("requestedFor is required and must not be empty")
	}
	if len(req.RequestedItems) == 0 {
		return errors.New("requestedItems must have at least 1 item")
	}
	if typ == ModifyAccess {
		// The v3 API documents MODIFY_ACCESS only for machine identities
		// (requestedForWithRequestedItems); a person's end date changes with a GRANT_ACCESS
		// carrying the new removeDate.
		return errors.New("MODIFY_ACCESS is not supported for the identities in requestedFor; " +
			"to change the end date of a person's access, submit a GRANT_ACCESS with the new removeDate")
	}
	if err := checkLimits(req, typ); err != nil {
		return err
	}
	for _, id := range req.RequestedFor {
		if _, ok := s.identities[id]; !ok {
			return fmt.Errorf("requestedFor: identity %q not found", id)
		}
	}
	now := s.now()
	for i, it := range req.RequestedItems {
		if err := s.validateItem(it, typ, now); err != nil {
			return fmt.Errorf("requestedItems[%d]: %w", i, err)
		}
	}
	return nil
}

// checkLimits enforces the entitlement, recipient and revoke limits.
func checkLimits(req AccessRequest, typ string) error {
	entitlements := 0
	for _, it := range req.RequestedItems {
		if it.Type == TypeEntitlement {
			entitlements++
		}
	}
	switch typ {
	case GrantAccess:
		if entitlements > maxEntitlementsPerGrant {
			return fmt.Errorf("a request may have at most %d entitlements, this one has %d", maxEntitlementsPerGrant, entitlements)
		}
		if entitlements > 0 && len(req.RequestedFor) > maxRecipientsPerGrant {
			return fmt.Errorf("a request for entitlements may have at most %d recipients, this one has %d", maxRecipientsPerGrant, len(req.RequestedFor))
		}
	case RevokeAccess:
		if len(req.RequestedFor) != 1 {
			return fmt.Errorf("a REVOKE_ACCESS request must be for exactly one identity, this one is for %d", len(req.RequestedFor))
		}
		if entitlements > 1 {
			return fmt.Errorf("a REVOKE_ACCESS request may revoke at most 1 entitlement, this one has %d", entitlements)
		}
	}
	return nil
}

func (s *Server) validateItem(it AccessRequestItem, typ string, now time.Time) error {
	switch it.Type {
	case TypeRole, TypeAccessProfile, TypeEntitlement:
	default:
		return fmt.Errorf("type %q is not one of ROLE, ACCESS_PROFILE, ENTITLEMENT", it.Type)
	}
	if it.ID == "" {
		return errors.New("id is required")
	}
	if known, ok := s.items[it.ID]; !ok || known.typ != it.Type {
		return fmt.Errorf("item %s %q not found", it.Type, it.ID)
	}
	if typ == RevokeAccess && strings.TrimSpace(it.Comment) == "" {
		return errors.New("comment is required for REVOKE_ACCESS")
	}
	if typ == RevokeAccess && it.StartDate != "" {
		return errors.New("startDate is not allowed for REVOKE_ACCESS")
	}
	if err := futureDate("startDate", it.StartDate, now); err != nil {
		return err
	}
	return futureDate("removeDate", it.RemoveDate, now)
}

func futureDate(field, value string, now time.Time) error {
	if value == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, value)
	if err != nil {
		return fmt.Errorf("%s %q is not an RFC 3339 date-time", field, value)
	}
	if !t.After(now) {
		return fmt.Errorf("%s %s must be in the future", field, value)
	}
	return nil
}

// create makes the requests a valid submission asks for: per identity, one new access
// request for the items it has no executing request for and, for a grant, does not hold
// already with the same end. As ISC documents, a GRANT_ACCESS of access the identity
// holds, with a removeDate other than the assignment's, is a request of its own that
// changes the end date (extends it, shortens it, or removes it); with the same end date it
// is ignored.
func (s *Server) create(req AccessRequest, typ string) AccessRequestResponse {
	resp := AccessRequestResponse{NewRequests: []RequestSummary{}, ExistingRequests: []RequestSummary{}}
	for _, who := range req.RequestedFor {
		var fresh, old []AccessRequestItem
		reqID, rowID, oldIDs := "", "", []string{}
		for _, it := range req.RequestedItems {
			if end, ok := s.holdsUntil(who, it.ID); typ == GrantAccess && ok && end == deref(normalizeDate(it.RemoveDate)) {
				old = append(old, it)
				continue
			}
			if row := s.executing(who, it.ID, typ); row != nil {
				old = append(old, it)
				if !slices.Contains(oldIDs, row.AccessRequestID) {
					oldIDs = append(oldIDs, row.AccessRequestID)
				}
				continue
			}
			if reqID == "" {
				reqID, rowID = newID(), newID()
				if s.opts.RowsWithoutID {
					rowID = ""
				}
			}
			s.addRow(req, it, who, typ, reqID, rowID)
			fresh = append(fresh, it)
		}
		if len(fresh) > 0 {
			resp.NewRequests = append(resp.NewRequests, summary(who, fresh, []string{reqID}))
		}
		if len(old) > 0 {
			resp.ExistingRequests = append(resp.ExistingRequests, summary(who, old, oldIDs))
		}
	}
	return resp
}

// executing is the identity's executing request of the same type for the item, if any.
func (s *Server) executing(identityID, itemID, typ string) *RequestedItemStatus {
	for _, row := range s.rows {
		if row.State == StateExecuting && row.RequestedFor.ID == identityID && row.itemID == itemID && row.RequestType == typ {
			return row
		}
	}
	return nil
}

// addRow lists a new requested item: accessRequestID is the account activity id ISC
// answers with and lists as accessRequestId, rowID the access request's own id it lists
// as id ("" for none).
func (s *Server) addRow(req AccessRequest, it AccessRequestItem, who, typ, accessRequestID, rowID string) {
	ts := stamp(s.now())
	known := s.items[it.ID]
	row := &RequestedItemStatus{
		itemID: it.ID, ID: rowID, Name: known.name, Type: known.typ, Description: known.description,
		State: StateExecuting, ApprovalDetails: []ApprovalStatus{}, ApprovalIDs: []string{},
		AccountActivityItemID: accessRequestID, RequestType: typ, Created: ts, Modified: ts,
		Requester: serviceRef(), RequestedFor: s.identityRef(who), AccessRequestPhases: []Phase{},
		StartDate: normalizeDate(it.StartDate), RemoveDate: normalizeDate(it.RemoveDate),
		Cancelable: true, AccessRequestID: accessRequestID,
		ClientMetadata: merge(req.ClientMetadata, it.ClientMetadata),
	}
	if it.Comment != "" {
		row.RequesterComment = &Comment{Comment: it.Comment, Created: ts, Author: serviceRef()}
	}
	s.rows = append(s.rows, row)
	if typ == GrantAccess {
		s.startApprovals(row)
	}
	if s.delayListing {
		s.queued[accessRequestID] = true
	}
}

func summary(who string, items []AccessRequestItem, ids []string) RequestSummary {
	details := make([]ItemDetails, 0, len(items))
	h := fnv.New32a()
	_, _ = io.WriteString(h, who)
	for _, it := range items {
		details = append(details, ItemDetails{Type: it.Type, ID: it.ID})
		_, _ = io.WriteString(h, "|"+it.Type+":"+it.ID)
	}
	return RequestSummary{RequestedFor: who, RequestedItemsDetails: details, AttributesHash: int32(h.Sum32()), AccessRequestIDs: ids}
}

// merge is the item's client metadata over the request's.
func merge(request, item map[string]string) map[string]string {
	if len(request) == 0 && len(item) == 0 {
		return nil
	}
	out := cloneMap(request)
	if out == nil {
		out = map[string]string{}
	}
	for k, v := range item {
		out[k] = v
	}
	return out
}

func normalizeDate(v string) *string {
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return &v
	}
	return strp(stamp(t))
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func serviceRef() *Ref {
	return &Ref{Type: "IDENTITY", ID: ServiceIdentityID, Name: ServiceIdentityName}
}

func (s *Server) identityRef(id string) *Ref {
	return &Ref{Type: "IDENTITY", ID: id, Name: s.identities[id].name}
}

func (s *Server) cancel(r *http.Request, body []byte) reply {
	var req CancelAccessRequest
	if rep, ok := decodeJSON(r, body, &req); !ok {
		return rep
	}
	if req.AccountActivityID == "" {
		return badRequest("accountActivityId is required")
	}
	if strings.TrimSpace(req.Comment) == "" {
		return badRequest("comment is required")
	}
	rows := s.rowsOf(req.AccountActivityID)
	if len(rows) == 0 {
		return problem(http.StatusNotFound, fmt.Sprintf("Access request %q was not found.", req.AccountActivityID))
	}
	if c := callerOf(r); c.level != OrgAdmin && rows[0].Requester.ID != c.id {
		return problem(http.StatusForbidden, "Only the requester and ORG_ADMIN users may cancel an access request.")
	}
	for _, row := range rows {
		if why := notCancelable(row); why != "" {
			return badRequest("Access request %q can no longer be cancelled: %s.", req.AccountActivityID, why)
		}
	}
	ts := stamp(s.now())
	for _, row := range rows {
		cancelRow(row, req.Comment, ts)
	}
	s.cancelled = append(s.cancelled, req)
	return reply{status: http.StatusAccepted, body: map[string]any{}}
}

// notCancelable says why the row can no longer be cancelled, or "" if it can.
func notCancelable(row *RequestedItemStatus) string {
	switch {
	case row.State != StateExecuting:
		return "it is " + row.State
	case approved(row):
		return "it has passed its approval step"
	}
	return ""
}

func cancelRow(row *RequestedItemStatus, comment, ts string) {
	row.State, row.Cancelable, row.Modified = StateCancelled, false, ts
	row.CancelledRequestDetails = &CancelledRequestDetails{Comment: comment, Owner: serviceRef(), Modified: ts}
	for i := range row.ApprovalDetails {
		if row.ApprovalDetails[i].Status == "PENDING" {
			row.ApprovalDetails[i].Status, row.ApprovalDetails[i].Modified = "CANCELLED", ts
		}
	}
	for i := range row.AccessRequestPhases {
		if p := &row.AccessRequestPhases[i]; p.State == "EXECUTING" || p.State == "PENDING" {
			p.State, p.Finished = "CANCELLED", &ts
		}
	}
}
