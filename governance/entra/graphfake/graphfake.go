// Package graphfake is a fake Microsoft Graph for tests: the v1.0 Entitlement Management,
// users and token endpoints accessbot's entra backend calls, speaking Graph's wire format.
// It is strict about what it accepts (unknown fields, request types, missing assignment
// fields and bad dates are refused with OData errors, as Graph refuses them), pages its
// collections through @odata.nextLink, lets a test drive each request's state, inject
// faults, and read back what it was sent.
package graphfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/accessbot/accessbot/governance/msgraph/msgraphtest"
)

// Root is the path of the Entitlement Management API below Graph's version root.
const Root = "/identityGovernance/entitlementManagement"

// Options configure the fake.
type Options struct {
	TenantID     string // default "0a6f2f0e-7d6b-4b8e-9d9a-5c3f1c1e2d4b"
	ClientID     string // default "accessbot-app"
	ClientSecret string // default "s3cret"
	// PageSize is how many items a collection page holds at most (default 2), so that
	// tests exercise @odata.nextLink.
	PageSize int
	// TokenTTL is the access tokens' expires_in (default 3599 s, the documented example).
	TokenTTL time.Duration
	// Now is the time the fake checks schedules against and stamps requests with
	// (default time.Now); tests pass their clock's Now.
	Now func() time.Time
	// ConnectClientID and ConnectClientSecret are the app registration people sign in
	// through (defaults "accessbot-connect" and "connect-s3cret"), RedirectURIs its web
	// redirect URIs.
	ConnectClientID, ConnectClientSecret string
	RedirectURIs                         []string
}

// Call is one request the fake received; its Path is below Graph's version root
// ("/users"), or "/token".
type Call = msgraphtest.Call

// User is a directory user; ManagerID may be empty.
type User = msgraphtest.User

// Package is an access package with its assignment policies.
type Package struct {
	ID, DisplayName, Description string
	IsHidden                     bool
	Policies                     []Policy
}

// Policy is an access package assignment policy.
type Policy struct {
	ID, DisplayName    string
	AllowedTargetScope string // e.g. "notSpecified" for a direct-assignment policy
	// Stages are its requestApprovalSettings' approval stages; none: no approval.
	Stages []Stage
	// JustificationRequired is requestApprovalSettings.isRequestorJustificationRequired.
	JustificationRequired bool
}

// Request is an access package assignment request as the fake holds it.
type Request struct {
	ID, RequestType, State, Status, Justification string
	TargetID, PackageID, PolicyID                 string
	// RequestorID is who asked (the target, for userAdd and admin requests alike when
	// empty).
	RequestorID string
	// Stages are the request's approval stages as Entra tracks them, set when it waits
	// for approval.
	Stages         []StageState
	AssignmentID   string // the assignment it created or changes
	Start          time.Time
	ExpirationType string // "" when no schedule was given
	End            time.Time
	Created        time.Time
	// Answers are the requestor's answers to the policy's questions (a request made in My
	// Access), each a text question and its answer.
	Answers []Answer
}

// Answer is an answer to one of a policy's text questions.
type Answer struct{ Question, Value string }

// Assignment is an access package assignment as the fake holds it.
type Assignment struct {
	ID, TargetID, PackageID, PolicyID, State, Status string
	Start                                            time.Time
	ExpirationType                                   string
	End                                              time.Time
}

// Server is the fake Graph.
type Server struct {
	*msgraphtest.Server
	o Options

	mu          sync.Mutex
	packages    []*Package
	requests    *msgraphtest.Records[Request]
	assignments []*Assignment
	subjects    map[string]string // user id → accessPackageSubject id
	tokens      map[string]session
	logins      map[string]login
	codes       map[string]*authCode
	refresh     map[string]refreshGrant
	groups      map[string][]string // group id → member user ids
	groupNames  map[string]string   // group id → display name
	issued      int
	seq         int
}

// New starts a fake Graph.
func New(o Options) *Server {
	if o.TenantID == "" {
		o.TenantID = "0a6f2f0e-7d6b-4b8e-9d9a-5c3f1c1e2d4b"
	}
	if o.ClientID == "" {
		o.ClientID = "accessbot-app"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = "s3cret"
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 3599 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ConnectClientID == "" {
		o.ConnectClientID = "accessbot-connect"
	}
	if o.ConnectClientSecret == "" {
		o.ConnectClientSecret = "connect-s3cret"
	}
	s := &Server{o: o, subjects: map[string]string{}, tokens: map[string]session{}, logins: map[string]login{},
		codes: map[string]*authCode{}, refresh: map[string]refreshGrant{}, groups: map[string][]string{}, groupNames: map[string]string{}}
	s.requests = msgraphtest.NewRecords(&s.mu, func(r *Request) string { return r.ID })
	s.Server = msgraphtest.NewServer(msgraphtest.Config{Version: "/v1.0", PageSize: o.PageSize,
		QueryOptions: []string{"$filter", "$expand", "$select", "$top", "$skiptoken"}, UserFilterJoins: []string{"and", "or"},
		Authorized: s.authorized, Token: s.token, Routes: s.routes, Pages: s.pages})
	return s
}

// LoginURL is the identity platform's host on the fake.
func (s *Server) LoginURL() string { return s.URL }

// TenantID is the tenant whose token endpoint the fake serves.
func (s *Server) TenantID() string { return s.o.TenantID }

// ClientID is the app registration the token endpoint knows.
func (s *Server) ClientID() string { return s.o.ClientID }

// ClientSecret is the secret the token endpoint accepts.
func (s *Server) ClientSecret() string { return s.o.ClientSecret }

// AddPackage adds an access package with its policies.
func (s *Server) AddPackage(p Package) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := p
	c.Policies = slices.Clone(p.Policies)
	for i := range c.Policies {
		c.Policies[i].Stages = slices.Clone(c.Policies[i].Stages)
	}
	s.packages = append(s.packages, &c)
}

// AddAssignment adds an assignment made outside accessbot and returns its id. A zero end
// means no expiration.
func (s *Server) AddAssignment(targetID, packageID, policyID, state string, end time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &Assignment{ID: s.newID(0xa5), TargetID: targetID, PackageID: packageID, PolicyID: policyID,
		State: state, Status: statusOf(state), Start: s.o.Now().UTC().Add(-24 * time.Hour), ExpirationType: "noExpiration"}
	if !end.IsZero() {
		a.ExpirationType, a.End = "afterDateTime", end.UTC()
	}
	s.assignments = append(s.assignments, a)
	return a.ID
}

// AddRequest adds a request made outside accessbot (by the user in My Access, say) and
// returns its id. ID, Status and Created are filled in when empty.
func (s *Server) AddRequest(r Request) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := r
	if c.ID == "" {
		c.ID = s.newID(0x7e)
	}
	if c.Status == "" {
		c.Status = statusOf(c.State)
	}
	if c.Created.IsZero() {
		c.Created = s.o.Now().UTC()
	}
	if c.State == "pendingApproval" && len(c.Stages) == 0 {
		s.startApproval(&c)
	}
	s.requests.Add(&c)
	return c.ID
}

// States are the v1.0 accessPackageRequestState values.
var States = []string{"submitted", "pendingApproval", "delivering", "delivered", "deliveryFailed", "denied",
	"scheduled", "canceled", "partiallyDelivered"}

// SetState moves a request to state, as Entra would, with what that does to its
// assignment: an add that is delivering or done creates the assignment, a delivered
// update moves its schedule, a delivered removal ends it.
func (s *Server) SetState(requestID, state string) {
	if !slices.Contains(States, state) {
		panic(fmt.Sprintf("graphfake: %q is not an accessPackageRequestState", state))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.request(requestID)
	if r == nil {
		panic(fmt.Sprintf("graphfake: no request %q", requestID))
	}
	s.setState(r, state)
}

// setState is SetState under the lock.
func (s *Server) setState(r *Request, state string) {
	r.State, r.Status = state, statusOf(state)
	if pol := s.policy(r); state == "pendingApproval" && len(r.Stages) == 0 && pol != nil && len(pol.Stages) > 0 {
		s.startApproval(r)
	}
	switch r.RequestType {
	case "adminAdd", "userAdd", "systemAdd", "onBehalfAdd":
		switch state {
		case "delivering", "delivered", "partiallyDelivered", "deliveryFailed":
			a := s.assignment(r.AssignmentID)
			if a == nil {
				a = &Assignment{ID: s.newID(0xa5), TargetID: r.TargetID, PackageID: r.PackageID, PolicyID: r.PolicyID,
					Start: r.Start, ExpirationType: r.ExpirationType, End: r.End}
				if a.ExpirationType == "" {
					a.ExpirationType = "noExpiration"
				}
				s.assignments = append(s.assignments, a)
				r.AssignmentID = a.ID
			}
			a.State, a.Status = state, statusOf(state)
		}
	case "adminUpdate":
		if a := s.assignment(r.AssignmentID); a != nil && state == "delivered" {
			a.Start, a.ExpirationType, a.End = r.Start, r.ExpirationType, r.End
		}
	case "adminRemove", "userRemove", "systemRemove":
		if a := s.assignment(r.AssignmentID); a != nil && state == "delivered" {
			a.State, a.Status = "expired", "Expired"
		}
	}
}

// Request returns a copy of a request.
func (s *Server) Request(id string) (Request, bool) { return s.requests.Get(id) }

// Requests lists copies of every request, in the order they were made.
func (s *Server) Requests() []Request { return s.requests.All() }

// Assignment returns a copy of an assignment.
func (s *Server) Assignment(id string) (Assignment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return msgraphtest.CopyOf(s.assignment(id))
}

// TokensIssued counts the access tokens the token endpoint gave out.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

func (s *Server) newID(kind int) string {
	s.seq++
	return fmt.Sprintf("%08x-%04x-4000-8000-%012x", kind, s.seq, s.seq)
}

func (s *Server) request(id string) *Request { return s.requests.Find(id) }

func (s *Server) assignment(id string) *Assignment {
	for _, a := range s.assignments {
		if id != "" && a.ID == id {
			return a
		}
	}
	return nil
}

func (s *Server) pkg(id string) *Package {
	for _, p := range s.packages {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func statusOf(state string) string {
	switch state {
	case "submitted":
		return "Accepted"
	case "":
		return ""
	}
	return strings.ToUpper(state[:1]) + state[1:]
}

// token is the v2.0 token endpoint: the client-credentials grant of accessbot's app, and
// the authorization-code and refresh-token grants of the connect app.
func (s *Server) token(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	switch {
	case err == nil && r.Method == http.MethodPost && r.URL.Path == "/"+s.o.TenantID+"/oauth2/v2.0/token" &&
		(form.Get("grant_type") == "authorization_code" || form.Get("grant_type") == "refresh_token"):
		s.userGrant(w, form)
	case r.Method != http.MethodPost || err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded":
		msgraphtest.WriteJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "AADSTS900144: The request body must be form-encoded."})
	case r.URL.Path != "/"+s.o.TenantID+"/oauth2/v2.0/token":
		msgraphtest.WriteJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "AADSTS90002: Tenant not found."})
	case form.Get("grant_type") != "client_credentials":
		msgraphtest.WriteJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type", "error_description": "AADSTS70003: The app requested an unsupported grant type."})
	case form.Get("scope") != "https://graph.microsoft.com/.default":
		msgraphtest.WriteJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_scope", "error_description": "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier."})
	case form.Get("client_id") != s.o.ClientID:
		msgraphtest.WriteJSON(w, http.StatusBadRequest, map[string]any{"error": "unauthorized_client", "error_description": "AADSTS700016: Application not found in the directory."})
	case form.Get("client_secret") != s.o.ClientSecret:
		msgraphtest.WriteJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
	default:
		s.mu.Lock()
		s.issued++
		tok := fmt.Sprintf("fake-token-%d", s.issued)
		s.tokens[tok] = session{exp: time.Now().Add(s.o.TokenTTL)}
		s.mu.Unlock()
		secs := int(s.o.TokenTTL / time.Second)
		msgraphtest.WriteJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": tok})
	}
}

// authorized says whether tok is a token the token endpoint issued that has not expired.
func (s *Server) authorized(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, known := s.tokens[tok]
	return known && !time.Now().After(t.exp)
}

// routes serves the Graph v1.0 calls of Entitlement Management and the users' managers.
func (s *Server) routes(w http.ResponseWriter, r *http.Request, path string, body []byte) {
	q := r.URL.Query()
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && path == "/me":
		s.me(w, r)
	case r.Method == http.MethodGet && path == "/groups":
		s.listGroups(w, r)
	case r.Method == http.MethodGet && len(seg) == 3 && seg[0] == "groups" && seg[2] == "members":
		s.members(w, r, seg[1])
	case r.Method == http.MethodGet && len(seg) == 2 && seg[0] == "users":
		s.getUser(w, seg[1])
	case strings.HasPrefix(path, Root+"/accessPackageAssignmentApprovals/"):
		s.approvals(w, r, seg[3:], body)
	case r.Method == http.MethodGet && len(seg) == 3 && seg[0] == "users" && seg[2] == "manager":
		s.manager(w, seg[1])
	case r.Method == http.MethodGet && path == Root+"/accessPackages":
		s.listPackages(w, r, q)
	case r.Method == http.MethodGet && strings.HasPrefix(path, Root+"/accessPackages/") && len(seg) == 4:
		s.getPackage(w, q, seg[3])
	case r.Method == http.MethodGet && path == Root+"/assignmentRequests":
		s.listRequests(w, r, q)
	case r.Method == http.MethodGet && strings.HasPrefix(path, Root+"/assignmentRequests/") && len(seg) == 4:
		s.getRequest(w, q, seg[3])
	case r.Method == http.MethodPost && path == Root+"/assignmentRequests":
		s.createRequest(w, r, body)
	case r.Method == http.MethodPost && strings.HasPrefix(path, Root+"/assignmentRequests/") && strings.HasSuffix(path, "/cancel"):
		// Documented as delegated only: an application token is refused.
		msgraphtest.WriteError(w, http.StatusForbidden, "", "accessDenied", "The cancel action is not supported for application callers.")
	case r.Method == http.MethodGet && path == Root+"/assignments":
		s.listAssignments(w, r, q)
	default:
		msgraphtest.BadRequest(w, "Resource not found for the segment '%s'.", seg[len(seg)-1])
	}
}

// expands reads $expand, refusing navigation properties the entity does not have.
func expands(q url.Values, allowed ...string) (map[string]bool, error) {
	out := map[string]bool{}
	if q.Get("$expand") == "" {
		return out, nil
	}
	for _, e := range strings.Split(q.Get("$expand"), ",") {
		e = strings.TrimSpace(e)
		if !slices.Contains(allowed, e) {
			return nil, fmt.Errorf("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.entity', or it cannot be expanded here.", e)
		}
		out[e] = true
	}
	return out, nil
}

func (s *Server) manager(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.found(w, id, fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
	if !ok {
		return
	}
	if m, ok := s.found(w, u.ManagerID, "Resource 'manager' does not exist or one of its queried reference-property objects are not present."); ok {
		writeUser(w, m, "@odata.type", "#microsoft.graph.user")
	}
}

// found is the directory user id; or, when there is none, Graph's 404 saying notFound.
func (s *Server) found(w http.ResponseWriter, id, notFound string) (msgraphtest.User, bool) {
	u, ok := s.User(id)
	if !ok {
		msgraphtest.WriteError(w, http.StatusNotFound, "", "Request_ResourceNotFound", notFound)
	}
	return u, ok
}

// writeUser answers with the user, and the OData annotation key that says what it is.
func writeUser(w http.ResponseWriter, u msgraphtest.User, key, value string) {
	out := msgraphtest.UserJSON(u)
	out[key] = value
	msgraphtest.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) packageJSON(p *Package, withPolicies bool) map[string]any {
	out := map[string]any{"id": p.ID, "displayName": p.DisplayName, "description": p.Description, "isHidden": p.IsHidden,
		"createdDateTime": "2026-01-05T09:00:00Z", "modifiedDateTime": "2026-01-05T09:00:00Z"}
	if withPolicies {
		pols := []map[string]any{}
		for _, pol := range p.Policies {
			pols = append(pols, map[string]any{"id": pol.ID, "displayName": pol.DisplayName, "description": pol.DisplayName,
				"allowedTargetScope": pol.AllowedTargetScope, "createdDateTime": "2026-01-05T09:00:00Z", "modifiedDateTime": "2026-01-05T09:00:00Z",
				"requestApprovalSettings": approvalSettingsJSON(pol)})
		}
		out["assignmentPolicies"] = pols
	}
	return out
}

var containsRE = regexp.MustCompile(`^contains\(tolower\(displayName\),'((?:[^']|'')*)'\)$`)

func (s *Server) listPackages(w http.ResponseWriter, r *http.Request, q url.Values) {
	ex, err := expands(q, "assignmentPolicies", "catalog")
	if err != nil {
		msgraphtest.BadRequest(w, "%s", err.Error())
		return
	}
	needle, filtered := "", q.Get("$filter") != ""
	if filtered {
		m := containsRE.FindStringSubmatch(q.Get("$filter"))
		if m == nil {
			msgraphtest.BadRequest(w, "Invalid filter clause: "+"%s", q.Get("$filter"))
			return
		}
		needle = strings.ReplaceAll(m[1], "''", "'")
	}
	s.mu.Lock()
	var items []map[string]any
	for _, p := range s.packages {
		if !filtered || strings.Contains(strings.ToLower(p.DisplayName), needle) {
			items = append(items, s.packageJSON(p, ex["assignmentPolicies"]))
		}
	}
	s.mu.Unlock()
	s.Page(w, r, items)
}

func (s *Server) getPackage(w http.ResponseWriter, q url.Values, id string) {
	s.getOne(w, q, "AccessPackage", id, []string{"assignmentPolicies", "catalog"}, func(ex map[string]bool) map[string]any {
		if p := s.pkg(id); p != nil {
			return s.packageJSON(p, ex["assignmentPolicies"])
		}
		return nil
	})
}

// getOne answers a GET of the entity of type kind with id: Graph's 400 for an $expand it
// does not allow (expandable), its 404 when find, called under the lock, returns nil,
// else what find returns.
func (s *Server) getOne(w http.ResponseWriter, q url.Values, kind, id string, expandable []string, find func(ex map[string]bool) map[string]any) {
	ex, err := expands(q, expandable...)
	if err != nil {
		msgraphtest.BadRequest(w, "%s", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := find(ex)
	if v == nil {
		msgraphtest.WriteError(w, http.StatusNotFound, "", "ResourceNotFound", fmt.Sprintf("%s with id '%s' was not found.", kind, id))
		return
	}
	msgraphtest.WriteJSON(w, http.StatusOK, v)
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func scheduleJSON(start time.Time, expType string, end time.Time) map[string]any {
	if expType == "" {
		expType = "notSpecified"
	}
	return map[string]any{"startDateTime": ts(start), "recurrence": nil,
		"expiration": map[string]any{"endDateTime": ts(end), "duration": nil, "type": expType}}
}

func (s *Server) subject(userID string) map[string]any {
	id, ok := s.subjects[userID]
	if !ok {
		id = s.newID(0x5b)
		s.subjects[userID] = id
	}
	out := map[string]any{"id": id, "objectId": userID, "subjectType": "user", "subjectLifecycle": "governed"}
	if u, ok := s.User(userID); ok {
		out["displayName"], out["email"], out["principalName"] = u.DisplayName, msgraphtest.Nullable(u.Mail), u.UserPrincipalName
	}
	return out
}

func (s *Server) assignmentJSON(a *Assignment, ex map[string]bool) map[string]any {
	out := map[string]any{"id": a.ID, "state": a.State, "status": a.Status, "expiredDateTime": nil,
		"schedule": scheduleJSON(a.Start, a.ExpirationType, a.End), "customExtensionCalloutInstances": []any{}}
	if a.State == "expired" {
		out["expiredDateTime"] = ts(s.o.Now())
	}
	if ex["target"] {
		out["target"] = s.subject(a.TargetID)
	}
	if ex["accessPackage"] {
		if p := s.pkg(a.PackageID); p != nil {
			out["accessPackage"] = s.packageJSON(p, false)
		}
	}
	if ex["assignmentPolicy"] {
		out["assignmentPolicy"] = map[string]any{"id": a.PolicyID}
	}
	return out
}

func (s *Server) requestJSON(r *Request, ex map[string]bool) map[string]any {
	out := map[string]any{"id": r.ID, "requestType": r.RequestType, "state": r.State, "status": r.Status,
		"createdDateTime": ts(r.Created), "completedDateTime": nil, "justification": msgraphtest.Nullable(r.Justification),
		"schedule": scheduleJSON(r.Start, r.ExpirationType, r.End), "answers": answersJSON(r.Answers), "customExtensionCalloutInstances": []any{}}
	switch r.State {
	case "delivered", "deliveryFailed", "denied", "canceled", "partiallyDelivered":
		out["completedDateTime"] = ts(s.o.Now())
	}
	if ex["accessPackage"] {
		if p := s.pkg(r.PackageID); p != nil {
			out["accessPackage"] = s.packageJSON(p, false)
		}
	}
	if ex["assignment"] {
		out["assignment"] = nil
		if a := s.assignment(r.AssignmentID); a != nil {
			out["assignment"] = s.assignmentJSON(a, nil)
		}
	}
	if ex["requestor"] {
		// For a direct assignment the requestor is the subject assigned.
		out["requestor"] = s.subject(cmpOr(r.RequestorID, r.TargetID))
	}
	return out
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request, q url.Values) {
	ex, cs, err := filtered(q, []string{"accessPackage", "assignment", "requestor"}, "accessPackage/id", "state", "requestType")
	if err == nil && !ex["accessPackage"] && slices.ContainsFunc(cs, func(c msgraphtest.Clause) bool { return c.Path == "accessPackage/id" }) {
		err = fmt.Errorf("Filtering on accessPackage/id requires $expand=accessPackage.")
	}
	if err != nil {
		msgraphtest.BadRequest(w, "%s", err.Error())
		return
	}
	s.mu.Lock()
	items := matching(s.requests.List, cs, func(req *Request) map[string]string {
		return map[string]string{"accessPackage/id": req.PackageID, "state": req.State, "requestType": req.RequestType}
	}, func(req *Request) map[string]any { return s.requestJSON(req, ex) })
	s.mu.Unlock()
	s.Page(w, r, items)
}

// filtered reads the $expand (of the expandable navigation properties) and the $filter (eq
// clauses of the filterable paths) of a collection GET.
func filtered(q url.Values, expandable []string, filterable ...string) (map[string]bool, []msgraphtest.Clause, error) {
	ex, err := expands(q, expandable...)
	if err != nil {
		return nil, nil, err
	}
	cs, _, err := msgraphtest.ParseFilter(q.Get("$filter"), filterable...)
	return ex, cs, err
}

// matches says whether values match every clause, as Graph compares strings: ignoring case.
func matches(cs []msgraphtest.Clause, values map[string]string) bool {
	for _, c := range cs {
		if !strings.EqualFold(values[c.Path], c.Value) {
			return false
		}
	}
	return true
}

// matching is the JSON of the records whose values match every clause, in order.
func matching[T any](records []*T, cs []msgraphtest.Clause, values func(*T) map[string]string, toJSON func(*T) map[string]any) []map[string]any {
	var items []map[string]any
	for _, rec := range records {
		if matches(cs, values(rec)) {
			items = append(items, toJSON(rec))
		}
	}
	return items
}

func (s *Server) getRequest(w http.ResponseWriter, q url.Values, id string) {
	s.getOne(w, q, "AccessPackageAssignmentRequest", id, []string{"accessPackage", "assignment", "requestor"}, func(ex map[string]bool) map[string]any {
		if req := s.request(id); req != nil {
			return s.requestJSON(req, ex)
		}
		return nil
	})
}

func (s *Server) listAssignments(w http.ResponseWriter, r *http.Request, q url.Values) {
	ex, cs, err := filtered(q, []string{"target", "accessPackage", "assignmentPolicy"}, "accessPackage/id", "target/objectId", "state")
	if err != nil {
		msgraphtest.BadRequest(w, "%s", err.Error())
		return
	}
	s.mu.Lock()
	items := matching(s.assignments, cs, func(a *Assignment) map[string]string {
		return map[string]string{"accessPackage/id": a.PackageID, "target/objectId": a.TargetID, "state": a.State}
	}, func(a *Assignment) map[string]any { return s.assignmentJSON(a, ex) })
	s.mu.Unlock()
	s.Page(w, r, items)
}

// createBody is every key the create documentation shows an application sending.
type createBody struct {
	ODataType     *string                   `json:"@odata.type"`
	RequestType   *string                   `json:"requestType"`
	Assignment    *assignmentBody           `json:"assignment"`
	Justification *string                   `json:"justification"`
	Schedule      *msgraphtest.ScheduleBody `json:"schedule"`
	Answers       []json.RawMessage         `json:"answers"`
}

type assignmentBody struct {
	ID                 *string `json:"id"`
	TargetID           *string `json:"targetId"`
	AssignmentPolicyID *string `json:"assignmentPolicyId"`
	AccessPackageID    *string `json:"accessPackageId"`
}

// requestTypes are the v1.0 accessPackageRequestType values; an application may create
// only the admin ones.
var requestTypes = []string{"notSpecified", "userAdd", "userUpdate", "userRemove", "adminAdd", "adminUpdate",
	"adminRemove", "systemAdd", "systemUpdate", "systemRemove", "onBehalfAdd", "unknownFutureValue", "approverRemove"}

func (s *Server) createRequest(w http.ResponseWriter, r *http.Request, body []byte) {
	bad := func(format string, args ...any) {
		msgraphtest.BadRequest(w, format, args...)
	}
	var b createBody
	if !msgraphtest.DecodeBody(w, r, body, &b) {
		return
	}
	caller := s.caller(r)
	switch {
	case b.ODataType != nil && *b.ODataType != "#microsoft.graph.accessPackageAssignmentRequest":
		bad("Invalid @odata.type %q.", *b.ODataType)
		return
	case b.RequestType == nil:
		bad("The requestType property is required.")
		return
	case !slices.Contains(requestTypes, *b.RequestType):
		bad("Cannot convert the literal '%s' to the expected type 'microsoft.graph.accessPackageRequestType'.", *b.RequestType)
		return
	case *b.RequestType == "userAdd" && caller.user == "":
		bad("RequestType %s is not supported for an application without a signed-in user.", *b.RequestType)
		return
	case *b.RequestType == "userAdd" && !slices.Contains(caller.scp, "EntitlementManagement.ReadWrite.All") &&
		!slices.Contains(caller.scp, "EntitlementMgmt-SubjectAccess.ReadWrite"):
		msgraphtest.WriteError(w, http.StatusForbidden, "", "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	case *b.RequestType != "userAdd" && caller.user != "":
		msgraphtest.WriteError(w, http.StatusForbidden, "", "Authorization_RequestDenied",
			"The signed-in user holds no Entitlement Management role that allows request type "+*b.RequestType+".")
		return
	case *b.RequestType != "adminAdd" && *b.RequestType != "adminUpdate" && *b.RequestType != "adminRemove" && *b.RequestType != "userAdd":
		bad("RequestType %s is not supported for an application without a signed-in user.", *b.RequestType)
		return
	case b.Assignment == nil:
		bad("The assignment property is required.")
		return
	case len(b.Answers) > 0:
		bad("The policy asks no questions, so no answers are accepted.")
		return
	}
	a := b.Assignment
	now := s.o.Now().UTC()
	req := &Request{RequestType: *b.RequestType, State: "submitted", Status: "Accepted", Justification: msgraphtest.Str(b.Justification), Created: now}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch req.RequestType {
	case "userAdd":
		if a.ID != nil || msgraphtest.Str(a.TargetID) == "" || msgraphtest.Str(a.AssignmentPolicyID) == "" || msgraphtest.Str(a.AccessPackageID) == "" {
			bad("A userAdd request needs assignment.targetId, assignment.assignmentPolicyId and assignment.accessPackageId, and no assignment.id.")
			return
		}
		if !strings.EqualFold(*a.TargetID, caller.user) {
			msgraphtest.WriteError(w, http.StatusForbidden, "", "Authorization_RequestDenied", "A userAdd request may only target the signed-in user.")
			return
		}
		req.TargetID, req.RequestorID, req.PolicyID, req.PackageID = caller.user, caller.user, *a.AssignmentPolicyID, *a.AccessPackageID
		p := s.pkg(req.PackageID)
		if p == nil {
			bad("Access package %s was not found.", req.PackageID)
			return
		}
		i := slices.IndexFunc(p.Policies, func(pol Policy) bool { return pol.ID == req.PolicyID })
		if i < 0 {
			bad("Policy %s is not a policy of access package %s.", req.PolicyID, req.PackageID)
			return
		}
		if p.Policies[i].JustificationRequired && strings.TrimSpace(req.Justification) == "" {
			bad("The policy requires a justification from the requestor.")
			return
		}
		if len(p.Policies[i].Stages) > 0 {
			req.State, req.Status = "pendingApproval", "PendingApproval"
		}
	case "adminAdd":
		if a.ID != nil || msgraphtest.Str(a.TargetID) == "" || msgraphtest.Str(a.AssignmentPolicyID) == "" || msgraphtest.Str(a.AccessPackageID) == "" {
			bad("An adminAdd request needs assignment.targetId, assignment.assignmentPolicyId and assignment.accessPackageId, and no assignment.id.")
			return
		}
		req.TargetID, req.PolicyID, req.PackageID = *a.TargetID, *a.AssignmentPolicyID, *a.AccessPackageID
		p := s.pkg(req.PackageID)
		_, known := s.User(req.TargetID)
		switch {
		case !known:
			bad("The target %s is not a user in this directory.", req.TargetID)
			return
		case p == nil:
			bad("Access package %s was not found.", req.PackageID)
			return
		case !slices.ContainsFunc(p.Policies, func(pol Policy) bool { return pol.ID == req.PolicyID }):
			bad("Policy %s is not a policy of access package %s.", req.PolicyID, req.PackageID)
			return
		}
	case "adminUpdate", "adminRemove":
		if msgraphtest.Str(a.ID) == "" || a.TargetID != nil || a.AssignmentPolicyID != nil || a.AccessPackageID != nil {
			bad("An %s request needs assignment.id and nothing else in assignment.", req.RequestType)
			return
		}
		as := s.assignment(*a.ID)
		if as == nil {
			bad("Assignment %s was not found.", *a.ID)
			return
		}
		if as.State != "delivered" && !(req.RequestType == "adminRemove" && (as.State == "delivering" || as.State == "partiallyDelivered")) {
			bad("Assignment %s is %s, so it cannot be changed.", as.ID, as.State)
			return
		}
		req.AssignmentID, req.TargetID, req.PackageID, req.PolicyID = as.ID, as.TargetID, as.PackageID, as.PolicyID
		if req.RequestType == "adminUpdate" && b.Schedule == nil {
			bad("An adminUpdate request needs a schedule.")
			return
		}
		if req.RequestType == "adminRemove" && b.Schedule != nil {
			bad("An adminRemove request takes no schedule.")
			return
		}
	}
	if sc := b.Schedule; sc != nil {
		if err := s.readSchedule(sc, req, now); err != nil {
			bad("%v", err)
			return
		}
	}
	req.ID = s.newID(0x7e)
	if req.State == "pendingApproval" {
		s.startApproval(req)
	}
	s.requests.Add(req)
	s.KeepCreated(body)
	out := s.requestJSON(req, nil)
	out["@odata.context"] = s.BaseURL() + "/$metadata#identityGovernance/entitlementManagement/assignmentRequests/$entity"
	msgraphtest.WriteJSON(w, http.StatusCreated, out)
}

// readSchedule checks an entitlementManagementSchedule: dates in ISO 8601, an expiration
// type from the enum with the fields it needs, an end after the start and not past.
func (s *Server) readSchedule(sc *msgraphtest.ScheduleBody, req *Request, now time.Time) error {
	if len(sc.Recurrence) > 0 && string(sc.Recurrence) != "null" {
		return fmt.Errorf("Recurrence is not supported for access package assignments.")
	}
	if sc.StartDateTime == nil {
		return fmt.Errorf("schedule.startDateTime is required.")
	}
	start, err := msgraphtest.ParseTime(*sc.StartDateTime)
	if err != nil {
		return err
	}
	req.Start = start.UTC()
	e := sc.Expiration
	if e == nil || e.Type == nil {
		return fmt.Errorf("schedule.expiration.type is required.")
	}
	req.ExpirationType = *e.Type
	switch *e.Type {
	case "noExpiration", "notSpecified":
		if e.EndDateTime != nil || e.Duration != nil {
			return fmt.Errorf("An expiration of type %s takes no endDateTime or duration.", *e.Type)
		}
	case "afterDateTime":
		if e.EndDateTime == nil || e.Duration != nil {
			return fmt.Errorf("An expiration of type afterDateTime needs endDateTime and no duration.")
		}
		end, err := msgraphtest.ParseTime(*e.EndDateTime)
		if err != nil {
			return err
		}
		if !end.After(start) || !end.After(now) {
			return fmt.Errorf("The expiration date %s must be after the start date and in the future.", *e.EndDateTime)
		}
		req.End = end.UTC()
	case "afterDuration":
		if e.Duration == nil || !strings.HasPrefix(*e.Duration, "P") || e.EndDateTime != nil {
			return fmt.Errorf("An expiration of type afterDuration needs an ISO 8601 duration and no endDateTime.")
		}
	default:
		return msgraphtest.CannotConvert(*e.Type, "microsoft.graph.expirationPatternType")
	}
	return nil
}

// answersJSON is a request's answers as Graph writes them: accessPackageAnswerString, each
// with the accessPackageTextInputQuestion it answers.
func answersJSON(as []Answer) []any {
	out := []any{}
	for i, a := range as {
		out = append(out, map[string]any{"@odata.type": "#microsoft.graph.accessPackageAnswerString", "value": a.Value,
			"displayValue": a.Value, "answeredQuestion": map[string]any{"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion",
				"id": fmt.Sprintf("q%d", i+1), "sequence": i, "isRequired": true, "isAnswerEditable": true, "isSingleLineQuestion": true,
				"text": a.Question, "localizations": []any{}, "regexPattern": nil}})
	}
	return out
}
