package iscfake

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

type publicIdentity struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	Alias         string         `json:"alias"`
	Email         string         `json:"email"`
	Status        string         `json:"status"`
	IdentityState string         `json:"identityState"`
	Manager       *Ref           `json:"manager"`
	Attributes    map[string]any `json:"attributes"`
}

var identityFilters = map[string]filterField{
	"id":    {ops: []string{"eq", "in"}},
	"email": {ops: []string{"eq", "sw"}, fold: true},
	"alias": {ops: []string{"eq", "sw"}, fold: true},
}

func (s *Server) publicIdentities(r *http.Request, _ []byte) reply {
	q := r.URL.Query()
	if err := checkParams(q, "limit", "offset", "count", "filters", "sorters", "add-core-filters"); err != nil {
		return badRequest("%s", err)
	}
	l, err := parseList(q, identityFilters, "name")
	if err != nil {
		return badRequest("%s", err)
	}
	core := false
	if v := q.Get("add-core-filters"); q.Has("add-core-filters") {
		if core, err = strconv.ParseBool(v); err != nil {
			return badRequest("add-core-filters %q must be true or false", v)
		}
	}
	var out []publicIdentity
	for _, id := range s.identityList {
		if core && s.identities[id].uncorrelated {
			continue // add-core-filters drops incomplete and uncorrelated identities
		}
		p := s.publicIdentity(s.identities[id])
		if matchAll(l.conds, func(field string) string { return identityField(p, field) }) {
			out = append(out, p)
		}
	}
	sortBy(out, l.keys, func(p publicIdentity, _ string) string { return strings.ToLower(p.Name) })
	return listReply(pageOf(out, l.paging), len(out), l.paging)
}

func identityField(p publicIdentity, field string) string {
	switch field {
	case "email":
		return p.Email
	case "alias":
		return p.Alias
	}
	return p.ID
}

func (s *Server) publicIdentity(i identity) publicIdentity {
	alias, _, _ := strings.Cut(i.email, "@")
	p := publicIdentity{ID: i.id, Name: i.name, Alias: alias, Email: i.email, Status: "ACTIVE",
		IdentityState: "ACTIVE", Attributes: map[string]any{}}
	if i.managerID != "" {
		p.Manager = &Ref{Type: "IDENTITY", ID: i.managerID, Name: s.identities[i.managerID].name}
	}
	return p
}

type searchBody struct {
	Indices []string `json:"indices"`
	Query   *struct {
		Query string `json:"query"`
	} `json:"query"`
}

type identityDocument struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	DisplayName string      `json:"displayName"`
	Email       string      `json:"email"`
	Type        string      `json:"_type"`
	Access      []accessDoc `json:"access"`
}

type accessDoc struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

const quoted = `"((?:[^"\\]|\\.)*)"`

var (
	searchIDAccess = regexp.MustCompile(`^id:` + quoted + ` AND access\.id:` + quoted + `$`)
	searchEmail    = regexp.MustCompile(`^email:` + quoted + `$`)
	searchID       = regexp.MustCompile(`^id:` + quoted + `$`)
	unescaper      = regexp.MustCompile(`\\(.)`)
)

// search is POST /v3/search over the identities index, for the query forms
// id:"…" AND access.id:"…", email:"…" and id:"…". The body is decoded loosely: search
// has many optional fields.
func (s *Server) search(r *http.Request, body []byte) reply {
	q := r.URL.Query()
	if err := checkParams(q, "limit", "offset", "count"); err != nil {
		return badRequest("%s", err)
	}
	pg, err := parsePaging(q, maxSearchLimit)
	if err != nil {
		return badRequest("%s", err)
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return problem(http.StatusUnsupportedMediaType, "Content-Type must be application/json.")
	}
	var req searchBody
	if err := json.Unmarshal(body, &req); err != nil {
		return badRequest("The request body is not valid: %v.", err)
	}
	if !slices.Equal(req.Indices, []string{"identities"}) {
		return badRequest("indices %q: this fake searches only [\"identities\"]", req.Indices)
	}
	if req.Query == nil || strings.TrimSpace(req.Query.Query) == "" {
		return badRequest("query.query is required")
	}
	match, err := searchMatcher(strings.TrimSpace(req.Query.Query))
	if err != nil {
		return badRequest("%s", err)
	}
	var out []identityDocument
	for _, id := range s.identityList {
		if i := s.identities[id]; match(s, i) {
			out = append(out, s.identityDocument(i))
		}
	}
	return listReply(pageOf(out, pg), len(out), pg)
}

// searchMatcher reads a supported query into a predicate on identities.
func searchMatcher(query string) (func(*Server, identity) bool, error) {
	if m := searchIDAccess.FindStringSubmatch(query); m != nil {
		id, itemID := unescape(m[1]), unescape(m[2])
		return func(s *Server, i identity) bool { return i.id == id && s.holds(id, itemID) }, nil
	}
	if m := searchEmail.FindStringSubmatch(query); m != nil {
		email := unescape(m[1])
		return func(_ *Server, i identity) bool { return strings.EqualFold(i.email, email) }, nil
	}
	if m := searchID.FindStringSubmatch(query); m != nil {
		id := unescape(m[1])
		return func(_ *Server, i identity) bool { return i.id == id }, nil
	}
	return nil, fmt.Errorf("query %q is not supported by this fake (supported: id:\"…\" AND access.id:\"…\", email:\"…\", id:\"…\")", query)
}

func unescape(s string) string { return unescaper.ReplaceAllString(s, "$1") }

func (s *Server) identityDocument(i identity) identityDocument {
	doc := identityDocument{ID: i.id, Name: i.name, DisplayName: i.name, Email: i.email, Type: "identity", Access: []accessDoc{}}
	for _, h := range s.access[i.id] {
		name := s.items[h.id].name
		doc.Access = append(doc.Access, accessDoc{ID: h.id, Type: h.typ, Name: name, DisplayName: name})
	}
	return doc
}
