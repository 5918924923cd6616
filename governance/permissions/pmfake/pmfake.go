// Package pmfake is a fake Microsoft Graph beta for tests: the Entra Permissions
// Management endpoints accessbot's permissions backend calls (create a
// scheduledPermissionsRequest, its cancelAll action, the permissionsRequestChanges log)
// and the user lookup, speaking Graph's wire format.
//
// It is as strict as the documented service: bodies are decoded with unknown fields
// refused, @odata.type values must be documented ones (with or without the leading "#",
// as the examples vary), authorizationSystemType must be the lower-case enum, required
// fields must be there, and durations must be ISO 8601 (Edm.Duration). Refusals are
// Graph's OData error bodies. Tests drive each request's status (SetStatus), which is
// logged as a change with the fake's time, inject faults (Fail, Hang), and read back what
// the fake was sent (Calls, Created).
//
// The fake accepts any bearer token, or only Options.Token when it is set, as a delegated
// token from a test's static token source; it has no token endpoint.
package pmfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/accessbot/accessbot/governance/msgraph/msgraphtest"
)

// Root is the Permissions Management API below Graph's version root.
const Root = "/identityGovernance/permissionsManagement"

// StatusDetails are the documented statusDetail values.
var StatusDetails = []string{"submitted", "approved", "completed", "canceled", "rejected", "unknownFutureValue"}

// Occurrences are the documented activeOccurrenceStatus values, and "" for none.
var Occurrences = []string{"", "grantingFailed", "granted", "granting", "revoked", "revoking", "revokingFailed", "unknownFutureValue"}

// Options configure the fake.
type Options struct {
	// Token, when set, is the only bearer token accepted; otherwise any is.
	Token string
	// PageSize is how many items a collection page holds at most (default 2), so that
	// tests exercise @odata.nextLink.
	PageSize int
	// Now is the fake's clock (default time.Now): it stamps requests and changes.
	Now func() time.Time
	// MisspeltOccurrence makes changes carry activeOccurenceStatus, as the
	// documentation's example answer does, instead of activeOccurrenceStatus.
	MisspeltOccurrence bool
}

// Call is one request the fake received; its Path is below Graph's version root ("/users").
type Call = msgraphtest.Call

// User is a directory user (ManagerID is not served: the fake has no manager endpoint).
type User = msgraphtest.User

// Request is a scheduledPermissionsRequest as the fake holds it.
type Request struct {
	ID                                       string
	TicketNumber, TicketSystem               string
	StatusDetail, ActiveOccurrenceStatus     string
	Cloud, SystemID, ExternalID, IdentitySrc string // from requestedPermissions
	Duration                                 time.Duration
	Created                                  time.Time
}

// Change is a permissionsRequestChange as the fake holds it.
type Change struct {
	ID, RequestID, TicketID              string
	StatusDetail, ActiveOccurrenceStatus string
	Modified                             time.Time
}

// Server is the fake Graph.
type Server struct {
	*msgraphtest.Server
	o Options

	mu       sync.Mutex
	requests *msgraphtest.Records[Request]
	changes  []Change
	seq      int
}

// New starts a fake Graph.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{o: o}
	s.requests = msgraphtest.NewRecords(&s.mu, func(r *Request) string { return r.ID })
	s.Server = msgraphtest.NewServer(msgraphtest.Config{Version: "/beta", PageSize: o.PageSize,
		QueryOptions: []string{"$filter", "$select", "$top", "$skiptoken", "$orderby"}, UserFilterJoins: []string{"or"},
		Authorized: func(tok string) bool { return o.Token == "" || tok == o.Token }, Routes: s.routes})
	return s
}

// AddRequest adds a request made outside accessbot (or before the test), logs its
// current status as a change at r.Created (default: now), and returns its id.
func (s *Server) AddRequest(r Request) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := r
	if c.ID == "" {
		c.ID = s.newID()
	}
	if c.StatusDetail == "" {
		c.StatusDetail = "submitted"
	}
	if c.Created.IsZero() {
		c.Created = s.o.Now().UTC()
	}
	s.requests.Add(&c)
	s.logChange(&c, c.Created)
	return c.ID
}

// SetStatus moves a request to statusDetail and activeOccurrenceStatus ("" for none), as
// Permissions Management would, and logs the change with the fake's time.
func (s *Server) SetStatus(id, statusDetail, activeOccurrenceStatus string) {
	if !slices.Contains(StatusDetails, statusDetail) || !slices.Contains(Occurrences, activeOccurrenceStatus) {
		panic(fmt.Sprintf("pmfake: %q/%q is not a documented statusDetail/activeOccurrenceStatus", statusDetail, activeOccurrenceStatus))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.request(id)
	if r == nil {
		panic(fmt.Sprintf("pmfake: no request %q", id))
	}
	r.StatusDetail, r.ActiveOccurrenceStatus = statusDetail, activeOccurrenceStatus
	s.logChange(r, s.o.Now().UTC())
}

func (s *Server) logChange(r *Request, at time.Time) {
	s.changes = append(s.changes, Change{ID: s.newID(), RequestID: r.ID, TicketID: r.TicketNumber,
		StatusDetail: r.StatusDetail, ActiveOccurrenceStatus: r.ActiveOccurrenceStatus, Modified: at.UTC()})
}

// Request returns a copy of a request.
func (s *Server) Request(id string) (Request, bool) { return s.requests.Get(id) }

// Requests lists copies of every request, in the order they were made.
func (s *Server) Requests() []Request { return s.requests.All() }

// Changes lists the change log, oldest first.
func (s *Server) Changes() []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.changes)
}

func (s *Server) newID() string {
	s.seq++
	return fmt.Sprintf("5c4e0000-0000-4000-8000-%012x", s.seq)
}

func (s *Server) request(id string) *Request { return s.requests.Find(id) }

// routes serves the Graph beta calls of Permissions Management.
func (s *Server) routes(w http.ResponseWriter, r *http.Request, path string, body []byte) {
	q := r.URL.Query()
	const requests = Root + "/scheduledPermissionsRequests"
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case r.Method == http.MethodPost && path == requests:
		s.create(w, r, body)
	case r.Method == http.MethodPost && strings.HasPrefix(path, requests+"/") && len(seg) == 5 && seg[4] == "cancelAll":
		s.cancelAll(w, seg[3], body)
	case r.Method == http.MethodGet && path == Root+"/permissionsRequestChanges":
		s.listChanges(w, r, q)
	default:
		msgraphtest.BadRequest(w, "Resource not found for the segment '%s'.", seg[0])
	}
}

// changeFilter is the one filter the documentation gives for the change log:
// modificationDateTime gt {time}.
var changeFilter = regexp.MustCompile(`^modificationDateTime gt (\S+)$`)

// listChanges serves the change log, filtered by modification time as documented.
func (s *Server) listChanges(w http.ResponseWriter, r *http.Request, q url.Values) {
	var since time.Time
	if f := q.Get("$filter"); f != "" {
		m := changeFilter.FindStringSubmatch(f)
		if m == nil {
			msgraphtest.BadRequest(w, "Invalid filter clause: %s", f)
			return
		}
		t, err := msgraphtest.ParseTime(m[1])
		if err != nil {
			msgraphtest.BadRequest(w, "%s", err)
			return
		}
		since = t
	}
	if o := q.Get("$orderby"); o != "" && o != "modificationDateTime" && o != "modificationDateTime asc" {
		msgraphtest.BadRequest(w, "Ordering by '%s' is not supported.", o)
		return
	}
	occurrenceKey := "activeOccurrenceStatus"
	if s.o.MisspeltOccurrence {
		occurrenceKey = "activeOccurenceStatus"
	}
	s.mu.Lock()
	var items []map[string]any
	for _, c := range s.changes {
		if !since.IsZero() && !c.Modified.After(since) {
			continue
		}
		item := map[string]any{"id": c.ID, "modificationDateTime": c.Modified.Format(time.RFC3339),
			"statusDetail": c.StatusDetail, "ticketId": c.TicketID, "permissionsRequestId": c.RequestID}
		if c.ActiveOccurrenceStatus != "" {
			item[occurrenceKey] = c.ActiveOccurrenceStatus
		}
		items = append(items, item)
	}
	s.mu.Unlock()
	s.Page(w, r, items)
}

// cancelAll cancels a request that has not ended; granted permissions start to be revoked.
// The documentation gives no answer for a request that has already ended; the fake
// refuses it with 400.
func (s *Server) cancelAll(w http.ResponseWriter, id string, body []byte) {
	if len(bytes.TrimSpace(body)) > 0 {
		msgraphtest.BadRequest(w, "The cancelAll action takes no request body.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.request(id)
	if r == nil {
		msgraphtest.WriteError(w, http.StatusNotFound, "", "itemNotFound", fmt.Sprintf("ScheduledPermissionsRequest with id '%s' was not found.", id))
		return
	}
	switch r.StatusDetail {
	case "canceled", "rejected", "completed":
		msgraphtest.BadRequest(w, "The request is %s and can no longer be cancelled.", r.StatusDetail)
		return
	}
	r.StatusDetail = "canceled"
	switch r.ActiveOccurrenceStatus {
	case "granting", "granted", "revokingFailed":
		r.ActiveOccurrenceStatus = "revoking"
	}
	s.logChange(r, s.o.Now().UTC())
	w.WriteHeader(http.StatusNoContent)
}

// createBody is every property the create documentation and the scheduledPermissionsRequest
// resource show; createdDateTime, statusDetail and action are read-only in practice but
// listed, so they are accepted and ignored.
type createBody struct {
	ODataType            *string                   `json:"@odata.type"`
	RequestedPermissions *definitionBody           `json:"requestedPermissions"`
	Justification        *string                   `json:"justification"`
	Notes                *string                   `json:"notes"`
	CreatedDateTime      *string                   `json:"createdDateTime"`
	StatusDetail         *string                   `json:"statusDetail"`
	Action               *string                   `json:"action"`
	ScheduleInfo         *msgraphtest.ScheduleBody `json:"scheduleInfo"`
	TicketInfo           *ticketBody               `json:"ticketInfo"`
}

type definitionBody struct {
	ODataType               *string       `json:"@odata.type"`
	AuthorizationSystemInfo *systemBody   `json:"authorizationSystemInfo"`
	ActionInfo              *actionBody   `json:"actionInfo"`
	IdentityInfo            *identityBody `json:"identityInfo"`
	ResourceID              *string       `json:"resourceId"`
}

type systemBody struct {
	ODataType *string `json:"@odata.type"`
	ID        *string `json:"authorizationSystemId"`
	Type      *string `json:"authorizationSystemType"`
}

type actionBody struct {
	ODataType      *string         `json:"@odata.type"`
	Policies       []idBody        `json:"policies"`
	AssignToRoleID *string         `json:"assignToRoleId"`
	Statements     []statementBody `json:"statements"`
	Roles          []idBody        `json:"roles"`
	Actions        []string        `json:"actions"`
}

type idBody struct {
	ID *string `json:"id"`
}

type statementBody struct {
	StatementID  *string         `json:"statementId"`
	Actions      []string        `json:"actions"`
	NotActions   []string        `json:"notActions"`
	Resources    []string        `json:"resources"`
	NotResources []string        `json:"notResources"`
	Effect       *string         `json:"effect"`
	Condition    json.RawMessage `json:"condition"`
}

type identityBody struct {
	ODataType  *string `json:"@odata.type"`
	ExternalID *string `json:"externalId"`
	Source     *struct {
		ODataType *string `json:"@odata.type"`
	} `json:"source"`
	IdentityType *string `json:"identityType"`
}

type ticketBody struct {
	TicketNumber              *string `json:"ticketNumber"`
	TicketSystem              *string `json:"ticketSystem"`
	TicketSubmitterIdentityID *string `json:"ticketSubmitterIdentityId"`
	TicketApproverIdentityID  *string `json:"ticketApproverIdentityId"`
}

// The documented types: each permissions definition's cloud, and each action type's.
var (
	definitionTypes = map[string]string{
		"microsoft.graph.awsPermissionsDefinition":                 "aws",
		"microsoft.graph.singleResourceAzurePermissionsDefinition": "azure",
		"microsoft.graph.singleResourceGcpPermissionsDefinition":   "gcp",
	}
	actionTypes = map[string]string{
		"microsoft.graph.awsPolicyPermissionsDefinitionAction":   "aws",
		"microsoft.graph.awsActionsPermissionsDefinitionAction":  "aws",
		"microsoft.graph.azureRolePermissionsDefinitionAction":   "azure",
		"microsoft.graph.azureActionPermissionsDefinitionAction": "azure",
		"microsoft.graph.gcpRolePermissionsDefinitionAction":     "gcp",
		"microsoft.graph.gcpActionPermissionsDefinitionAction":   "gcp",
	}
	identitySources = []string{"microsoft.graph.samlIdentitySource", "microsoft.graph.edIdentitySource",
		"microsoft.graph.awsIdentitySource", "microsoft.graph.localIdentitySource"}
	identityTypes   = []string{"user", "role", "application", "managedIdentity", "serviceAccount", "unknownFutureValue"}
	systemTypes     = []string{"aws", "azure", "gcp"}
	expirationTypes = []string{"notSpecified", "noExpiration", "afterDateTime", "afterDuration"}
	actionValues    = []string{"adminAssign", "adminUpdate", "adminRemove", "selfActivate", "selfDeactivate", "adminExtend",
		"adminRenew", "selfExtend", "selfRenew", "unknownFutureValue"}
)

// odataType is an @odata.type value without its optional leading "#".
func odataType(p *string) string {
	if p == nil {
		return ""
	}
	return strings.TrimPrefix(*p, "#")
}

// create serves POST …/scheduledPermissionsRequests.
func (s *Server) create(w http.ResponseWriter, r *http.Request, body []byte) {
	var b createBody
	if !msgraphtest.DecodeBody(w, r, body, &b) {
		return
	}
	req, err := check(&b)
	if err != nil {
		msgraphtest.BadRequest(w, "%v", err)
		return
	}
	now := s.o.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	req.ID, req.StatusDetail, req.Created = s.newID(), "submitted", now
	s.requests.Add(req)
	s.logChange(req, now)
	raw := s.KeepCreated(body)

	out := map[string]any{
		"@odata.context": s.BaseURL() + "/$metadata#identityGovernance/permissionsManagement/scheduledPermissionsRequests/$entity",
		"@odata.type":    "#microsoft.graph.scheduledPermissionsRequest",
		"id":             req.ID, "requestedPermissions": raw["requestedPermissions"],
		"justification": raw["justification"], "notes": raw["notes"], "createdDateTime": now.Format(time.RFC3339),
		"scheduleInfo": raw["scheduleInfo"], "ticketInfo": raw["ticketInfo"], "statusDetail": req.StatusDetail,
	}
	msgraphtest.WriteJSON(w, http.StatusCreated, out)
}

// check validates a create body as the service does and returns the request it asks for.
func check(b *createBody) (*Request, error) {
	if t := odataType(b.ODataType); b.ODataType != nil && t != "microsoft.graph.scheduledPermissionsRequest" {
		return nil, fmt.Errorf("Invalid @odata.type %q.", *b.ODataType)
	}
	if b.Action != nil && !slices.Contains(actionValues, *b.Action) {
		return nil, fmt.Errorf("Cannot convert the literal '%s' to the expected type 'microsoft.graph.unifiedRoleScheduleRequestActions'.", *b.Action)
	}
	if b.StatusDetail != nil && !slices.Contains(StatusDetails, *b.StatusDetail) {
		return nil, fmt.Errorf("Cannot convert the literal '%s' to the expected type 'microsoft.graph.statusDetail'.", *b.StatusDetail)
	}
	d := b.RequestedPermissions
	if d == nil {
		return nil, errors.New("The requestedPermissions property is required.")
	}
	if d.ODataType == nil {
		return nil, errors.New("requestedPermissions needs an @odata.type naming the permissions definition's type.")
	}
	cloud, ok := definitionTypes[odataType(d.ODataType)]
	if !ok {
		return nil, fmt.Errorf("Invalid @odata.type %q for requestedPermissions.", *d.ODataType)
	}
	req := &Request{Cloud: cloud}
	sys := d.AuthorizationSystemInfo
	switch {
	case sys == nil || msgraphtest.Str(sys.ID) == "" || sys.Type == nil:
		return nil, errors.New("requestedPermissions.authorizationSystemInfo needs authorizationSystemId and authorizationSystemType.")
	case !slices.Contains(systemTypes, *sys.Type):
		return nil, fmt.Errorf("Cannot convert the literal '%s' to the expected type 'microsoft.graph.authorizationSystemType'.", *sys.Type)
	case *sys.Type != cloud:
		return nil, fmt.Errorf("authorizationSystemType %s does not match @odata.type %s.", *sys.Type, *d.ODataType)
	case sys.ODataType != nil && odataType(sys.ODataType) != "microsoft.graph.permissionsDefinitionAuthorizationSystem":
		return nil, fmt.Errorf("Invalid @odata.type %q for authorizationSystemInfo.", *sys.ODataType)
	}
	req.SystemID = *sys.ID
	switch {
	case cloud == "aws" && d.ResourceID != nil:
		return nil, errors.New("The property 'resourceId' does not exist on type 'microsoft.graph.awsPermissionsDefinition'.")
	case cloud != "aws" && msgraphtest.Str(d.ResourceID) == "":
		return nil, fmt.Errorf("requestedPermissions.resourceId is required for %s.", odataType(d.ODataType))
	}
	if err := checkAction(d.ActionInfo, cloud); err != nil {
		return nil, err
	}
	id := d.IdentityInfo
	switch {
	case id == nil:
		return nil, errors.New("requestedPermissions.identityInfo is required.")
	case id.ODataType != nil && odataType(id.ODataType) != "microsoft.graph.permissionsDefinitionAuthorizationSystemIdentity":
		return nil, fmt.Errorf("Invalid @odata.type %q for identityInfo.", *id.ODataType)
	case msgraphtest.Str(id.ExternalID) == "":
		return nil, errors.New("identityInfo.externalId is required.")
	case id.Source == nil || !slices.Contains(identitySources, odataType(id.Source.ODataType)):
		return nil, errors.New("identityInfo.source needs the @odata.type of a permissionsDefinitionIdentitySource.")
	case id.IdentityType == nil || !slices.Contains(identityTypes, *id.IdentityType):
		return nil, fmt.Errorf("Cannot convert the literal '%s' to the expected type 'microsoft.graph.permissionsDefinitionIdentityType'.", msgraphtest.Str(id.IdentityType))
	}
	req.ExternalID, req.IdentitySrc = *id.ExternalID, odataType(id.Source.ODataType)
	if sc := b.ScheduleInfo; sc != nil {
		if err := checkSchedule(sc, req); err != nil {
			return nil, err
		}
	}
	if t := b.TicketInfo; t != nil {
		req.TicketNumber, req.TicketSystem = msgraphtest.Str(t.TicketNumber), msgraphtest.Str(t.TicketSystem)
	}
	return req, nil
}

// checkAction validates actionInfo: a documented action type of the definition's cloud,
// with its own properties and no other type's.
func checkAction(a *actionBody, cloud string) error {
	if a == nil || a.ODataType == nil {
		return errors.New("requestedPermissions.actionInfo needs an @odata.type naming the action's type.")
	}
	t := odataType(a.ODataType)
	c, ok := actionTypes[t]
	if !ok || c != cloud {
		return fmt.Errorf("Invalid @odata.type %q for the actionInfo of a %s permissions definition.", *a.ODataType, cloud)
	}
	has := map[string]bool{"policies": a.Policies != nil, "statements": a.Statements != nil, "roles": a.Roles != nil,
		"actions": a.Actions != nil, "assignToRoleId": a.AssignToRoleID != nil}
	var own []string
	switch t {
	case "microsoft.graph.awsPolicyPermissionsDefinitionAction":
		own = []string{"policies", "assignToRoleId"}
	case "microsoft.graph.awsActionsPermissionsDefinitionAction":
		own = []string{"statements", "assignToRoleId"}
	case "microsoft.graph.azureRolePermissionsDefinitionAction", "microsoft.graph.gcpRolePermissionsDefinitionAction":
		own = []string{"roles"}
	default:
		own = []string{"actions"}
	}
	for _, p := range []string{"policies", "statements", "roles", "actions", "assignToRoleId"} {
		if has[p] && !slices.Contains(own, p) {
			return fmt.Errorf("The property '%s' does not exist on type '%s'.", p, t)
		}
	}
	if a.AssignToRoleID != nil && *a.AssignToRoleID == "" {
		return errors.New("actionInfo.assignToRoleId must not be empty.")
	}
	ids := func(list []idBody, what string) error {
		if len(list) == 0 {
			return fmt.Errorf("actionInfo.%s needs at least one item.", what)
		}
		for _, it := range list {
			if msgraphtest.Str(it.ID) == "" {
				return fmt.Errorf("Every item of actionInfo.%s needs an id.", what)
			}
		}
		return nil
	}
	switch own[0] {
	case "policies":
		return ids(a.Policies, "policies")
	case "roles":
		return ids(a.Roles, "roles")
	case "actions":
		if len(a.Actions) == 0 || slices.Contains(a.Actions, "") {
			return errors.New("actionInfo.actions needs at least one action, none empty.")
		}
	case "statements":
		if len(a.Statements) == 0 {
			return errors.New("actionInfo.statements needs at least one statement.")
		}
		for _, st := range a.Statements {
			if len(st.Actions) == 0 && len(st.NotActions) == 0 {
				return errors.New("Every statement needs actions or notActions.")
			}
			if st.Effect == nil || (*st.Effect != "allow" && *st.Effect != "deny") {
				return fmt.Errorf("Cannot convert the literal '%s' to the expected type 'microsoft.graph.awsStatementEffect'.", msgraphtest.Str(st.Effect))
			}
		}
	}
	return nil
}

// checkSchedule validates a requestSchedule: ISO 8601 times and durations, and an
// expiration type from the enum.
func checkSchedule(sc *msgraphtest.ScheduleBody, req *Request) error {
	if sc.StartDateTime != nil {
		if _, err := msgraphtest.ParseTime(*sc.StartDateTime); err != nil {
			return err
		}
	}
	if r := bytes.TrimSpace(sc.Recurrence); len(r) > 0 && string(r) != "null" && r[0] != '{' {
		return errors.New("scheduleInfo.recurrence must be a patternedRecurrence object or null.")
	}
	e := sc.Expiration
	if e == nil {
		return nil
	}
	if e.Type != nil && !slices.Contains(expirationTypes, *e.Type) {
		return fmt.Errorf("Cannot convert the literal '%s' to the expected type 'microsoft.graph.expirationPatternType'.", *e.Type)
	}
	if e.EndDateTime != nil {
		if _, err := msgraphtest.ParseTime(*e.EndDateTime); err != nil {
			return err
		}
	}
	if e.Duration != nil {
		d, err := ParseDuration(*e.Duration)
		if err != nil {
			return fmt.Errorf("Cannot convert the literal '%s' to the expected type 'Edm.Duration'.", *e.Duration)
		}
		req.Duration = d
	}
	return nil
}

var isoDuration = regexp.MustCompile(`^P(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)(?:\.([0-9]+))?S)?)?$`)

// ParseDuration reads an Edm.Duration, the day-time form of an ISO 8601 duration:
// "PT1H", "P1DT2H", "PT1H30M", "PT0.5S". Years, months and weeks are not part of it, a
// "T" must be followed by a time, and at least one part must be given.
func ParseDuration(s string) (time.Duration, error) {
	m := isoDuration.FindStringSubmatch(s)
	if m == nil || s == "P" || strings.HasSuffix(s, "T") {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration such as PT1H or P1DT2H", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > 1<<31 {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		d += time.Duration(n) * unit
	}
	if m[5] != "" {
		frac, _ := strconv.ParseFloat("0."+m[5], 64)
		d += time.Duration(frac * float64(time.Second))
	}
	return d, nil
}
