package iscfake

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

type requestableObject struct {
	ID                      string  `json:"id"`
	Name                    string  `json:"name"`
	Created                 string  `json:"created"`
	Modified                string  `json:"modified"`
	Description             string  `json:"description"`
	Type                    string  `json:"type"`
	RequestStatus           string  `json:"requestStatus"`
	IdentityRequestID       *string `json:"identityRequestId"`
	OwnerRef                *Ref    `json:"ownerRef"`
	RequestCommentsRequired bool    `json:"requestCommentsRequired"`
}

var requestableFilters = map[string]filterField{
	"id":   {ops: []string{"eq", "in"}},
	"name": {ops: []string{"eq", "in", "sw"}, fold: true},
}

func (s *Server) requestableObjects(r *http.Request, _ []byte) reply {
	q := r.URL.Query()
	if err := checkParams(q, "identity-id", "types", "term", "statuses", "limit", "offset", "count", "filters", "sorters"); err != nil {
		return badRequest("%s", err)
	}
	c := callerOf(r)
	who := me(q.Get("identity-id"), c.id)
	if c.level != OrgAdmin && who != "" && who != c.id {
		return problem(http.StatusForbidden, "Only admins may list what another identity can request; others pass identity-id=me.")
	}
	if _, ok := s.identities[who]; who != "" && who != ServiceIdentityID && !ok {
		return badRequest("identity-id: identity %q not found", who)
	}
	types, err := enumList(q.Get("types"), "types", TypeRole, TypeAccessProfile)
	if err != nil {
		return badRequest("%s", err)
	}
	statuses, err := enumList(q.Get("statuses"), "statuses", "AVAILABLE", "PENDING", "ASSIGNED")
	if err != nil {
		return badRequest("%s", err)
	}
	if q.Has("statuses") && who == "" {
		return badRequest("statuses requires identity-id")
	}
	l, err := parseList(q, requestableFilters, "name")
	if err != nil {
		return badRequest("%s", err)
	}
	term := strings.ToLower(q.Get("term"))
	if term != "" {
		l.conds = nil // term overrides filters
	}
	var out []requestableObject
	for _, id := range s.itemList {
		it := s.items[id]
		if !slices.Contains(types, it.typ) || !strings.Contains(strings.ToLower(it.name+"\x00"+it.description), term) {
			continue
		}
		if !matchAll(l.conds, func(field string) string { return itemField(it, field) }) {
			continue
		}
		obj := s.requestable(it, who)
		if q.Has("statuses") && !slices.Contains(statuses, obj.RequestStatus) {
			continue
		}
		out = append(out, obj)
	}
	sortBy(out, l.keys, func(o requestableObject, _ string) string { return strings.ToLower(o.Name) })
	return listReply(pageOf(out, l.paging), len(out), l.paging)
}

func itemField(it item, field string) string {
	if field == "name" {
		return it.name
	}
	return it.id
}

// requestable is the item as requestable-objects lists it, its status relative to the
// identity who (if any).
func (s *Server) requestable(it item, who string) requestableObject {
	obj := requestableObject{ID: it.id, Name: it.name, Created: seeded, Modified: seeded, Description: it.description,
		Type: it.typ, RequestStatus: "AVAILABLE", OwnerRef: serviceRef()}
	if owner, ok := s.owners[it.id]; ok && owner != "" {
		obj.OwnerRef = s.identityRef(owner)
	}
	switch {
	case who == "":
	case s.holds(who, it.id):
		obj.RequestStatus = "ASSIGNED"
	default:
		if row := s.executing(who, it.id, GrantAccess); row != nil && !s.queued[row.AccessRequestID] {
			obj.RequestStatus, obj.IdentityRequestID = "PENDING", strp(row.AccessRequestID)
		}
	}
	return obj
}

// enumList reads a comma-separated list of allowed values; empty means all of them.
func enumList(v, param string, allowed ...string) ([]string, error) {
	if v == "" {
		return allowed, nil
	}
	var out []string
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if !slices.Contains(allowed, part) {
			return nil, fmt.Errorf("%s: %q is not one of %s", param, part, strings.Join(allowed, ", "))
		}
		out = append(out, part)
	}
	return out, nil
}
