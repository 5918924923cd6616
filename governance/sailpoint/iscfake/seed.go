package iscfake

import (
	"encoding/json"
	"slices"
	"time"
)

// AddIdentity adds (or replaces) an identity. managerID may be empty.
func (s *Server) AddIdentity(id, email, name, managerID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	upsert(s.identities, &s.identityList, id, identity{id: id, email: email, name: name, managerID: managerID})
}

// MarkUncorrelated makes the identity an incomplete or uncorrelated one (no authoritative
// account behind it, e.g. a leftover from an aggregation): GET /v3/public-identities lists
// it only without add-core-filters=true.
func (s *Server) MarkUncorrelated(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.identities[id]; ok {
		i.uncorrelated = true
		s.identities[id] = i
	}
}

// AddItem adds (or replaces) a requestable item; typ is ROLE, ACCESS_PROFILE or
// ENTITLEMENT.
func (s *Server) AddItem(typ, id, name, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	upsert(s.items, &s.itemList, id, item{typ: typ, id: id, name: name, description: description})
}

// AddAccess records access the identity already holds, with no end.
func (s *Server) AddAccess(identityID, typ, itemID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grant(identityID, typ, itemID, "")
}

// AddAccessUntil records access the identity already holds until removeDate.
func (s *Server) AddAccessUntil(identityID, typ, itemID string, removeDate time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grant(identityID, typ, itemID, stamp(removeDate))
}

// SetConfig replaces the body GET /v3/access-request-config returns. It should be a
// JSON object; anything else makes the GET answer 500.
func (s *Server) SetConfig(raw json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.config = slices.Clone(raw)
}

// grant gives the identity the item until removeDate, or moves the end of the assignment
// it holds there: a completed GRANT_ACCESS sets the end it carries, or none.
func (s *Server) grant(identityID, typ, itemID, removeDate string) {
	for i, h := range s.access[identityID] {
		if h.id == itemID {
			s.access[identityID][i].removeDate = removeDate
			return
		}
	}
	s.access[identityID] = append(s.access[identityID], held{typ: typ, id: itemID, removeDate: removeDate})
}

// holdsUntil reports whether the identity holds the item, and its end ("" for none).
func (s *Server) holdsUntil(identityID, itemID string) (string, bool) {
	for _, h := range s.access[identityID] {
		if h.id == itemID {
			return h.removeDate, true
		}
	}
	return "", false
}

func (s *Server) ungrant(identityID, itemID string) {
	s.access[identityID] = slices.DeleteFunc(s.access[identityID], func(h held) bool { return h.id == itemID })
}

func (s *Server) holds(identityID, itemID string) bool {
	return slices.ContainsFunc(s.access[identityID], func(h held) bool { return h.id == itemID })
}

// upsert sets m[id] to v, and lists id in order the first time it is set.
func upsert[T any](m map[string]T, order *[]string, id string, v T) {
	if _, ok := m[id]; !ok {
		*order = append(*order, id)
	}
	m[id] = v
}
