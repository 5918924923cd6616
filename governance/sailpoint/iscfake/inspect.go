package iscfake

import (
	"slices"
)

// Calls returns every request received, in the order they arrived, token calls
// included.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		c.Body = slices.Clone(c.Body)
		out[i] = c
	}
	return out
}

// Submitted returns every access request body that was accepted (202), decoded.
func (s *Server) Submitted() []AccessRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.submitted)
}

// Requests returns every requested item ISC has, listed or still queued, in the order
// created.
func (s *Server) Requests() []RequestedItemStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RequestedItemStatus, 0, len(s.rows))
	for _, row := range s.rows {
		out = append(out, clone(row))
	}
	return out
}

// Cancelled returns every cancel body that was accepted (202).
func (s *Server) Cancelled() []CancelAccessRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cancelled)
}

// TokensIssued is how many tokens the token endpoint issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokensIssued
}

// RateLimited is how many 429s were answered because of Options.RateLimit (not Fail).
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateLimited
}

// Status returns the status of the access request's first item, as
// GET /v3/access-request-status lists it (or will, once it is processed).
func (s *Server) Status(accessRequestID string) (RequestedItemStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows := s.rowsOf(accessRequestID)
	if len(rows) == 0 {
		return RequestedItemStatus{}, false
	}
	return clone(rows[0]), true
}

// clone deep-copies a row so a caller's copy does not change under it.
func clone(row *RequestedItemStatus) RequestedItemStatus {
	c := *row
	c.ApprovalDetails = slices.Clone(row.ApprovalDetails)
	for i := range c.ApprovalDetails {
		c.ApprovalDetails[i].ErrorMessages = slices.Clone(c.ApprovalDetails[i].ErrorMessages)
	}
	c.ApprovalIDs = slices.Clone(row.ApprovalIDs)
	c.AccessRequestPhases = slices.Clone(row.AccessRequestPhases)
	c.ClientMetadata = cloneMap(row.ClientMetadata)
	if row.CancelledRequestDetails != nil {
		d := *row.CancelledRequestDetails
		c.CancelledRequestDetails = &d
	}
	if row.ErrorMessages != nil {
		c.ErrorMessages = make([][]ErrorMessage, len(row.ErrorMessages))
		for i, m := range row.ErrorMessages {
			c.ErrorMessages[i] = slices.Clone(m)
		}
	}
	return c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Access reports whether the identity holds the item, and the assignment's end as ISC
// formats it ("" for none).
func (s *Server) Access(identityID, itemID string) (removeDate string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holdsUntil(identityID, itemID)
}
