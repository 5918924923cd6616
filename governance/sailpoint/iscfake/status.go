package iscfake

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

var statusFilters = map[string]filterField{
	"accessRequestId":       {ops: []string{"eq", "in"}},
	"accountActivityItemId": {ops: []string{"eq", "in"}},
}

func (s *Server) status(r *http.Request, _ []byte) reply {
	q := r.URL.Query()
	if err := checkParams(q, "requested-for", "requested-by", "regarding-identity", "assigned-to", "count",
		"limit", "offset", "filters", "sorters", "request-state"); err != nil {
		return badRequest("%s", err)
	}
	if q.Get("regarding-identity") != "" && (q.Get("requested-for") != "" || q.Get("requested-by") != "") {
		return badRequest("regarding-identity is mutually exclusive with requested-for and requested-by")
	}
	if st := q.Get("request-state"); q.Has("request-state") && st != StateExecuting {
		return badRequest("request-state %q is not valid; the only valid value is EXECUTING", st)
	}
	c := callerOf(r)
	if c.level != OrgAdmin {
		for _, p := range []string{"requested-for", "requested-by", "regarding-identity"} {
			if v := me(q.Get(p), c.id); v != "" && v != c.id {
				return problem(http.StatusForbidden, fmt.Sprintf("The user level %s may list only its own access requests; "+
					"listing another identity's requires ORG_ADMIN.", c.level))
			}
		}
	}
	l, err := parseList(q, statusFilters, "created", "modified", "accountActivityItemId", "name")
	if err != nil {
		return badRequest("%s", err)
	}
	if l.keys == nil {
		l.keys = []sortKey{{field: "created"}}
	}
	var rows []*RequestedItemStatus
	for _, row := range s.rows {
		if !s.queued[row.AccessRequestID] && statusMatches(row, q, c.id) && matchAll(l.conds, func(field string) string { return statusField(row, field) }) {
			rows = append(rows, row)
		}
	}
	sortBy(rows, l.keys, statusField)
	return listReply(pageOf(rows, l.paging), len(rows), l.paging)
}

// statusMatches applies the identity and state parameters.
func statusMatches(row *RequestedItemStatus, q url.Values, self string) bool {
	if v := me(q.Get("requested-for"), self); v != "" && row.RequestedFor.ID != v {
		return false
	}
	if v := me(q.Get("requested-by"), self); v != "" && row.Requester.ID != v {
		return false
	}
	if v := me(q.Get("regarding-identity"), self); v != "" && row.RequestedFor.ID != v && row.Requester.ID != v {
		return false
	}
	if v := me(q.Get("assigned-to"), self); v != "" && !slices.ContainsFunc(row.ApprovalDetails, func(a ApprovalStatus) bool {
		return a.Status == "PENDING" && a.CurrentOwner != nil && a.CurrentOwner.ID == v
	}) {
		return false
	}
	return !q.Has("request-state") || row.State == StateExecuting
}

func statusField(row *RequestedItemStatus, field string) string {
	switch field {
	case "accessRequestId":
		return row.AccessRequestID
	case "accountActivityItemId":
		return row.AccountActivityItemID
	case "modified":
		return row.Modified
	case "name":
		return row.Name
	}
	return row.Created
}

// me resolves "me" to the caller's identity.
func me(v, self string) string {
	if v == "me" {
		return self
	}
	return v
}
