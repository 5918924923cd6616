// Package iscfake is an in-process fake of SailPoint Identity Security Cloud (ISC) for
// tests of a v3 API client. It speaks ISC's wire format: the OAuth2 client-credentials
// token endpoint, bearer tokens that expire, the documented error bodies
// (ErrorResponseDto, the 401 and 429 bodies), and the v3 endpoints an access-request
// client uses:
//
//   - POST /oauth/token
//   - POST /v3/access-requests, POST /v3/access-requests/cancel
//   - GET /v3/access-request-status
//   - GET and PUT /v3/access-request-config
//   - GET /v3/requestable-objects
//   - GET /v3/public-identities
//   - POST /v3/search (the identities index, a few query forms)
//
// Bodies are decoded strictly and validated against the rules ISC documents (limits on
// entitlements and recipients, revoke restrictions, future dates), so a client that
// sends what ISC would refuse fails its tests too.
//
// A test seeds identities, items and held access, then drives each request the way
// ISC's own workflow would (SetState, SetApproval, SetErrors, and DelayListing with
// Process for requests ISC has queued but not yet listed), injects faults (Fail, Hang,
// Lose) and inspects what the client sent (Calls, Submitted, Cancelled, Requests).
package iscfake

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// The service identity is the identity whose personal access token the fake issues
// tokens for: it is the requester of every access request and the owner of every
// cancellation. Query parameters that accept "me" resolve to it.
const (
	ServiceIdentityID   = "2c9180867624cbd7017642d8c8c81f00"
	ServiceIdentityName = "accessbot service"
)

// Item types, as ISC names them.
const (
	TypeRole          = "ROLE"
	TypeAccessProfile = "ACCESS_PROFILE"
	TypeEntitlement   = "ENTITLEMENT"
)

// Request types.
const (
	GrantAccess  = "GRANT_ACCESS"
	RevokeAccess = "REVOKE_ACCESS"
	ModifyAccess = "MODIFY_ACCESS"
)

// Request states the fake itself sets (tests set any other with SetState).
const (
	StateExecuting = "EXECUTING"
	StateCompleted = "REQUEST_COMPLETED"
	StateCancelled = "CANCELLED"
)

// Documented limits.
const (
	maxEntitlementsPerGrant = 25
	maxRecipientsPerGrant   = 10
	maxLimit                = 250
	maxSearchLimit          = 10000
	maxBody                 = 1 << 20
)

// seeded is the creation time given to seeded identities and items (seeding must not read
// the clock: tests may set it up only after seeding).
const seeded = "2023-01-03T21:16:22.432Z"

// Options configure the fake.
type Options struct {
	// ClientID and ClientSecret are the credentials the token endpoint accepts
	// (default "pat-id" and "pat-secret").
	ClientID, ClientSecret string
	// TokenTTL is the lifetime of issued tokens, sent as expires_in (default 749 s, the
	// documented example).
	TokenTTL time.Duration
	// RateLimit is how many /v3 calls per second are allowed, across all tokens; 0 means
	// unlimited. Burst is the limiter's bucket size (default 1).
	RateLimit float64
	Burst     int
	// RetryAfter is the Retry-After, in seconds, of a rate-limit 429 (default 1).
	RetryAfter int
	// Now is the server's clock: token expiry, timestamps and the check that dates are
	// in the future read it (default time.Now). It is not called while seeding.
	Now func() time.Time
	// UserLevel is the user level of the service identity whose personal access token
	// the tokens are (default ORG_ADMIN). Below ORG_ADMIN, listing the access-request
	// status of another identity is refused with 403, as ISC documents.
	UserLevel string
}

// OrgAdmin is the user level that may act on every identity's access requests.
const OrgAdmin = "ORG_ADMIN"

// Call is one request the fake received.
type Call struct {
	Method, Path, RawQuery string
	Body                   []byte
	Status                 int       // the status answered
	At                     time.Time // when it arrived, by the server's clock
	// Token is the bearer token the request carried; for a token call, the token
	// issued (empty if refused).
	Token string
}

// AccessRequest is ISC's AccessRequest, the body of POST /v3/access-requests.
type AccessRequest struct {
	RequestedFor   []string            `json:"requestedFor"`
	RequestType    string              `json:"requestType,omitempty"`
	RequestedItems []AccessRequestItem `json:"requestedItems"`
	ClientMetadata map[string]string   `json:"clientMetadata,omitempty"`
}

// AccessRequestItem is ISC's AccessRequestItem.
type AccessRequestItem struct {
	Type           string            `json:"type"`
	ID             string            `json:"id"`
	Comment        string            `json:"comment,omitempty"`
	ClientMetadata map[string]string `json:"clientMetadata,omitempty"`
	StartDate      string            `json:"startDate,omitempty"`
	RemoveDate     string            `json:"removeDate,omitempty"`
	AssignmentID   string            `json:"assignmentId,omitempty"`
	NativeIdentity string            `json:"nativeIdentity,omitempty"`
}

// CancelAccessRequest is ISC's CancelAccessRequest, the body of
// POST /v3/access-requests/cancel.
type CancelAccessRequest struct {
	AccountActivityID string `json:"accountActivityId"`
	Comment           string `json:"comment"`
}

// AccessRequestResponse is ISC's answer to a submission.
type AccessRequestResponse struct {
	NewRequests      []RequestSummary `json:"newRequests"`
	ExistingRequests []RequestSummary `json:"existingRequests"`
}

// RequestSummary is one identity's part of an AccessRequestResponse.
type RequestSummary struct {
	RequestedFor          string        `json:"requestedFor"`
	RequestedItemsDetails []ItemDetails `json:"requestedItemsDetails"`
	AttributesHash        int32         `json:"attributesHash"`
	AccessRequestIDs      []string      `json:"accessRequestIds"`
}

// ItemDetails names a requested item in a RequestSummary.
type ItemDetails struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Ref is a reference to an ISC object, e.g. {type: IDENTITY, id, name}.
type Ref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Comment is ISC's CommentDto.
type Comment struct {
	Comment string `json:"comment"`
	Created string `json:"created"`
	Author  *Ref   `json:"author"`
}

// ErrorMessage is ISC's ErrorMessageDto.
type ErrorMessage struct {
	Locale       string `json:"locale"`
	LocaleOrigin string `json:"localeOrigin"`
	Text         string `json:"text"`
}

// ApprovalStatus is ISC's ApprovalStatusDto, one approval of a requested item.
type ApprovalStatus struct {
	ApprovalID    string         `json:"approvalId"`
	Forwarded     bool           `json:"forwarded"`
	OriginalOwner *Ref           `json:"originalOwner"`
	CurrentOwner  *Ref           `json:"currentOwner"`
	Modified      string         `json:"modified"`
	Status        string         `json:"status"`
	Scheme        string         `json:"scheme"`
	ErrorMessages []ErrorMessage `json:"errorMessages"`
	Comment       string         `json:"comment"`
	RemoveDate    *string        `json:"removeDate"`
}

// Phase is ISC's AccessRequestPhases, one phase a request went through.
type Phase struct {
	Started        string  `json:"started"`
	Finished       *string `json:"finished"`
	Name           string  `json:"name"`
	State          string  `json:"state"`
	Result         *string `json:"result"`
	PhaseReference string  `json:"phaseReference"`
}

// CancelledRequestDetails says who cancelled a request, when and why.
type CancelledRequestDetails struct {
	Comment  string `json:"comment"`
	Owner    *Ref   `json:"owner"`
	Modified string `json:"modified"`
}

// RequestedItemStatus is ISC's RequestedItemStatus, one row of
// GET /v3/access-request-status: one requested item of one access request.
type RequestedItemStatus struct {
	ID                        string                   `json:"id"`
	Name                      string                   `json:"name"`
	Type                      string                   `json:"type"`
	Description               string                   `json:"description"`
	State                     string                   `json:"state"`
	ApprovalDetails           []ApprovalStatus         `json:"approvalDetails"`
	ApprovalIDs               []string                 `json:"approvalIds"`
	ManualWorkItemDetails     json.RawMessage          `json:"manualWorkItemDetails"`
	AccountActivityItemID     string                   `json:"accountActivityItemId"`
	RequestType               string                   `json:"requestType"`
	Modified                  string                   `json:"modified"`
	Created                   string                   `json:"created"`
	Requester                 *Ref                     `json:"requester"`
	RequestedFor              *Ref                     `json:"requestedFor"`
	RequesterComment          *Comment                 `json:"requesterComment"`
	SodViolationContext       json.RawMessage          `json:"sodViolationContext"`
	ProvisioningDetails       json.RawMessage          `json:"provisioningDetails"`
	PreApprovalTriggerDetails json.RawMessage          `json:"preApprovalTriggerDetails"`
	AccessRequestPhases       []Phase                  `json:"accessRequestPhases"`
	StartDate                 *string                  `json:"startDate"`
	RemoveDate                *string                  `json:"removeDate"`
	Cancelable                bool                     `json:"cancelable"`
	AccessRequestID           string                   `json:"accessRequestId"`
	ClientMetadata            map[string]string        `json:"clientMetadata"`
	CancelledRequestDetails   *CancelledRequestDetails `json:"cancelledRequestDetails"`
	ErrorMessages             [][]ErrorMessage         `json:"errorMessages"`
}

// ErrorResponse is ISC's ErrorResponseDto, the body of 400, 403, 404 and 500 answers.
type ErrorResponse struct {
	DetailCode string         `json:"detailCode"`
	TrackingID string         `json:"trackingId"`
	Messages   []ErrorMessage `json:"messages"`
	Causes     []ErrorMessage `json:"causes"`
}

type identity struct {
	id, email, name, managerID string
	uncorrelated               bool
}

type item struct {
	typ, id, name, description string
}

// held is access an identity holds.
type held struct {
	typ, id string
}

type fault struct {
	method, prefix string
	status         int
	retryAfter     string
	hang           time.Duration
	isHang         bool
	lose           bool // serve the request, then answer 504 instead
}

// Server is a running fake ISC tenant. Its methods are safe for concurrent use.
type Server struct {
	// URL is the tenant's base URL, e.g. http://127.0.0.1:1234: the token endpoint is
	// URL+"/oauth/token" and the API URL+"/v3/...".
	URL string

	srv     *httptest.Server
	opts    Options
	limiter *rate.Limiter
	done    chan struct{}
	once    sync.Once

	mu           sync.Mutex
	identities   map[string]identity
	identityList []string // ids, in the order added
	items        map[string]item
	itemList     []string
	access       map[string][]held // by identity id, in the order granted
	config       json.RawMessage
	rows         []*RequestedItemStatus // in the order created
	delayListing bool
	queued       map[string]bool      // access request ids ISC has but does not list yet
	tokens       map[string]time.Time // token → expiry
	faults       []fault
	calls        []Call
	submitted    []AccessRequest
	cancelled    []CancelAccessRequest
	tokensIssued int
	rateLimited  int
}

// New starts a fake tenant. Close it when done.
func New(opts Options) *Server {
	if opts.ClientID == "" {
		opts.ClientID = "pat-id"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "pat-secret"
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 749 * time.Second
	}
	if opts.Burst <= 0 {
		opts.Burst = 1
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 1
	}
	if opts.UserLevel == "" {
		opts.UserLevel = OrgAdmin
	}
	s := &Server{
		opts:       opts,
		done:       make(chan struct{}),
		identities: map[string]identity{},
		items:      map[string]item{},
		access:     map[string][]held{},
		config:     json.RawMessage(defaultConfig),
		tokens:     map[string]time.Time{},
		queued:     map[string]bool{},
	}
	if opts.RateLimit > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(opts.RateLimit), opts.Burst)
	}
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	return s
}

// Close releases held (Hang) requests and shuts the server down.
func (s *Server) Close() {
	s.once.Do(func() { close(s.done) })
	s.srv.Close()
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// defaultConfig is a realistic AccessRequestConfig.
const defaultConfig = `{
  "approvalsMustBeExternal": false,
  "autoApprovalEnabled": false,
  "reauthorizationEnabled": false,
  "requestOnBehalfOfConfig": {
    "allowRequestOnBehalfOfAnyoneByAnyone": false,
    "allowRequestOnBehalfOfEmployeeByManager": true
  },
  "approvalReminderAndEscalationConfig": {
    "daysUntilEscalation": 3,
    "daysBetweenReminders": 1,
    "maxReminders": 2,
    "fallbackApproverRef": {
      "type": "IDENTITY",
      "id": "5168015d32f890ca15812c9180835d2e",
      "name": "Alison Ferguso",
      "email": "alison.ferguso@example.com"
    }
  },
  "entitlementRequestConfig": {
    "allowEntitlementRequest": true,
    "requestCommentsRequired": false,
    "deniedCommentsRequired": false,
    "grantRequestApprovalSchemes": "sourceOwner"
  }
}`

// --- seeding ---

// AddIdentity adds (or replaces) an identity. managerID may be empty.
func (s *Server) AddIdentity(id, email, name, managerID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.identities[id]; !ok {
		s.identityList = append(s.identityList, id)
	}
	s.identities[id] = identity{id: id, email: email, name: name, managerID: managerID}
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
	if _, ok := s.items[id]; !ok {
		s.itemList = append(s.itemList, id)
	}
	s.items[id] = item{typ: typ, id: id, name: name, description: description}
}

// AddAccess records access the identity already holds.
func (s *Server) AddAccess(identityID, typ, itemID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grant(identityID, typ, itemID)
}

// SetConfig replaces the body GET /v3/access-request-config returns. It should be a
// JSON object; anything else makes the GET answer 500.
func (s *Server) SetConfig(raw json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.config = slices.Clone(raw)
}

func (s *Server) grant(identityID, typ, itemID string) {
	if !s.holds(identityID, itemID) {
		s.access[identityID] = append(s.access[identityID], held{typ: typ, id: itemID})
	}
}

func (s *Server) ungrant(identityID, itemID string) {
	s.access[identityID] = slices.DeleteFunc(s.access[identityID], func(h held) bool { return h.id == itemID })
}

func (s *Server) holds(identityID, itemID string) bool {
	return slices.ContainsFunc(s.access[identityID], func(h held) bool { return h.id == itemID })
}

// --- driving requests ---

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
		s.grant(row.RequestedFor.ID, row.Type, row.ID)
	case RevokeAccess:
		s.ungrant(row.RequestedFor.ID, row.ID)
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

// --- faults ---

// Fail makes the next request matching match answer status with ISC's error body for
// it: 429 {"message":" Rate Limit Exceeded "}, 401 {"error":"JWT validation failed: JWT
// is expired"}, any other an ErrorResponseDto. retryAfter, if not empty, is sent as
// Retry-After. match is "METHOD /path-prefix" (e.g. "POST /v3/access-requests", which
// also matches /v3/access-requests/cancel), a bare method or path prefix, or "" for any
// /v3 request. Each call queues one fault; faults are consumed in order.
func (s *Server) Fail(match string, status int, retryAfter string) {
	f := parseMatch(match)
	f.status, f.retryAfter = status, retryAfter
	s.queue(f)
}

// Lose makes the next request matching match (as for Fail) take effect as usual, but
// answers it 504 Gateway Timeout instead of with ISC's answer, as when a proxy or the
// network loses the answer of a call ISC carried out.
func (s *Server) Lose(match string) {
	f := parseMatch(match)
	f.lose, f.status = true, http.StatusGatewayTimeout
	s.queue(f)
}

// Hang holds the next request matching match (as for Fail) for d, or until the client
// gives up on it or the server closes, then answers 500.
func (s *Server) Hang(match string, d time.Duration) {
	f := parseMatch(match)
	f.isHang, f.hang, f.status = true, d, http.StatusInternalServerError
	s.queue(f)
}

func (s *Server) queue(f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

func parseMatch(match string) fault {
	fields := strings.Fields(match)
	switch {
	case len(fields) == 0:
		return fault{prefix: "/v3/"}
	case len(fields) == 1 && strings.HasPrefix(fields[0], "/"):
		return fault{prefix: fields[0]}
	case len(fields) == 1:
		return fault{method: strings.ToUpper(fields[0]), prefix: "/v3/"}
	}
	return fault{method: strings.ToUpper(fields[0]), prefix: fields[1]}
}

func (f fault) matches(r *http.Request) bool {
	return (f.method == "" || f.method == r.Method) && strings.HasPrefix(r.URL.Path, f.prefix)
}

// takeFault removes and returns the first queued fault r matches.
func (s *Server) takeFault(r *http.Request) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.matches(r) {
			s.faults = slices.Delete(s.faults, i, i+1)
			return f, true
		}
	}
	return fault{}, false
}

// answerFault holds a Hang, then answers the fault's status with its body.
func (s *Server) answerFault(ctx context.Context, f fault) reply {
	if f.isHang {
		t := time.NewTimer(f.hang)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		case <-s.done:
		}
		return problem(http.StatusInternalServerError, "The request timed out inside the service.")
	}
	rep := errorReply(f.status)
	if f.retryAfter != "" {
		rep.header = map[string]string{"Retry-After": f.retryAfter}
	}
	return rep
}

// errorReply is ISC's error answer for status.
func errorReply(status int) reply {
	switch status {
	case http.StatusTooManyRequests:
		return reply{status: status, body: map[string]string{"message": " Rate Limit Exceeded "}}
	case http.StatusUnauthorized:
		return unauthorized()
	}
	return problem(status, "An error occurred: "+http.StatusText(status)+".")
}

// --- inspection ---

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

// --- HTTP ---

// reply is an answer before it is written.
type reply struct {
	status int
	body   any
	header map[string]string
	token  string // a token issued, for the call record
}

type handler func(s *Server, r *http.Request, body []byte) reply

// routes are the /v3 endpoints, by path and method.
var routes = map[string]map[string]handler{
	"/v3/access-requests":        {http.MethodPost: (*Server).submit},
	"/v3/access-requests/cancel": {http.MethodPost: (*Server).cancel},
	"/v3/access-request-status":  {http.MethodGet: (*Server).status},
	"/v3/access-request-config":  {http.MethodGet: (*Server).getConfig, http.MethodPut: (*Server).putConfig},
	"/v3/requestable-objects":    {http.MethodGet: (*Server).requestableObjects},
	"/v3/public-identities":      {http.MethodGet: (*Server).publicIdentities},
	"/v3/search":                 {http.MethodPost: (*Server).search},
}

// ServeHTTP records the call, then answers it: with a queued fault if one matches, else
// as ISC would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	idx := s.record(r, body)
	var rep reply
	if err != nil {
		rep = problem(http.StatusBadRequest, "The request body could not be read: "+err.Error())
	} else if f, ok := s.takeFault(r); ok && f.lose {
		s.serve(r, body)
		rep = errorReply(f.status)
	} else if ok {
		rep = s.answerFault(r.Context(), f)
	} else {
		rep = s.serve(r, body)
	}
	s.write(w, idx, rep)
}

func (s *Server) record(r *http.Request, body []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Body: body, At: s.now(), Token: bearer(r)})
	return len(s.calls) - 1
}

// serve answers a request that no fault took, under the lock.
func (s *Server) serve(r *http.Request, body []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/oauth/token" {
		if r.Method != http.MethodPost {
			return methodNotAllowed(http.MethodPost)
		}
		return s.issueToken(r, body)
	}
	if !strings.HasPrefix(r.URL.Path, "/v3/") {
		return notFound(r)
	}
	if exp, ok := s.tokens[bearer(r)]; !ok || !s.now().Before(exp) {
		return unauthorized()
	}
	if s.limiter != nil && !s.limiter.Allow() {
		s.rateLimited++
		rep := errorReply(http.StatusTooManyRequests)
		rep.header = map[string]string{"Retry-After": strconv.Itoa(s.opts.RetryAfter)}
		return rep
	}
	methods, ok := routes[r.URL.Path]
	if !ok {
		return notFound(r)
	}
	h, ok := methods[r.Method]
	if !ok {
		return methodNotAllowed(slices.Sorted(maps.Keys(methods))...)
	}
	return h(s, r, body)
}

// write records the status and token of call idx and sends the answer.
func (s *Server) write(w http.ResponseWriter, idx int, rep reply) {
	s.mu.Lock()
	data, err := json.Marshal(rep.body)
	if err != nil {
		rep = problem(http.StatusInternalServerError, "The answer could not be encoded: "+err.Error())
		data, _ = json.Marshal(rep.body)
	}
	s.calls[idx].Status = rep.status
	if rep.token != "" {
		s.calls[idx].Token = rep.token
	}
	s.mu.Unlock()
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = w.Write(data)
}

func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// problem is an ErrorResponseDto answer.
func problem(status int, text string) reply {
	return reply{status: status, body: ErrorResponse{
		DetailCode: detailCode(status),
		TrackingID: newID(),
		Messages:   []ErrorMessage{message(text)},
		Causes:     []ErrorMessage{},
	}}
}

func badRequest(format string, args ...any) reply {
	return problem(http.StatusBadRequest, fmt.Sprintf(format, args...))
}

func detailCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "400.1 Bad Request Content"
	case http.StatusForbidden:
		return "403 Forbidden"
	case http.StatusNotFound:
		return "404 Not found"
	case http.StatusInternalServerError:
		return "500.0 Internal Fault"
	}
	return strconv.Itoa(status) + " " + http.StatusText(status)
}

func message(text string) ErrorMessage {
	return ErrorMessage{Locale: "en-US", LocaleOrigin: "DEFAULT", Text: text}
}

func unauthorized() reply {
	return reply{status: http.StatusUnauthorized, body: map[string]string{"error": "JWT validation failed: JWT is expired"}}
}

func notFound(r *http.Request) reply {
	return problem(http.StatusNotFound, fmt.Sprintf("The path %s was not found.", r.URL.Path))
}

func methodNotAllowed(allowed ...string) reply {
	rep := problem(http.StatusMethodNotAllowed, "The method is not allowed here; allowed: "+strings.Join(allowed, ", ")+".")
	rep.header = map[string]string{"Allow": strings.Join(allowed, ", ")}
	return rep
}

// --- token endpoint ---

// issueToken is POST /oauth/token: the client-credentials grant, with the credentials
// in the form (body or query) or in HTTP Basic auth.
func (s *Server) issueToken(r *http.Request, body []byte) reply {
	r.Body = io.NopCloser(bytes.NewReader(body)) // read once already, for the call record
	if err := parseForm(r); err != nil {
		return oauthError(http.StatusBadRequest, "invalid_request", err.Error())
	}
	switch gt := r.Form.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		return oauthError(http.StatusBadRequest, "invalid_request", "Missing grant type")
	default:
		return oauthError(http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type: "+gt)
	}
	id, secret := clientCredentials(r)
	if id != s.opts.ClientID || secret != s.opts.ClientSecret {
		return oauthError(http.StatusUnauthorized, "invalid_client", "Bad credentials")
	}
	token := newID() + newID()
	s.tokens[token] = s.now().Add(s.opts.TokenTTL)
	s.tokensIssued++
	return reply{status: http.StatusOK, token: token, body: map[string]any{
		"access_token": token,
		"token_type":   "bearer",
		"expires_in":   int(s.opts.TokenTTL / time.Second),
		"scope":        "sp:scopes:all",
		"tenant_id":    "2c9180a46faadee4016fb4e018c20639",
		"pod":          "stg01-useast1",
		"strong_auth":  true,
		"org":          "fake-tenant",
		"identity_id":  ServiceIdentityID,
		"user_id":      "svc",
		"jti":          newID(),
	}}
}

func parseForm(r *http.Request) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		return r.ParseMultipartForm(maxBody)
	}
	return r.ParseForm()
}

// clientCredentials reads the client id and secret from the form, else from Basic auth
// (whose parts the OAuth2 spec has URL-encoded).
func clientCredentials(r *http.Request) (id, secret string) {
	id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
	if id != "" || secret != "" {
		return id, secret
	}
	u, p, ok := r.BasicAuth()
	if !ok {
		return "", ""
	}
	if v, err := url.QueryUnescape(u); err == nil {
		u = v
	}
	if v, err := url.QueryUnescape(p); err == nil {
		p = v
	}
	return u, p
}

func oauthError(status int, code, description string) reply {
	return reply{status: status, body: map[string]string{"error": code, "error_description": description}}
}

// --- POST /v3/access-requests ---

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
// request for the items it neither holds (grants) nor has an executing request for.
func (s *Server) create(req AccessRequest, typ string) AccessRequestResponse {
	resp := AccessRequestResponse{NewRequests: []RequestSummary{}, ExistingRequests: []RequestSummary{}}
	for _, who := range req.RequestedFor {
		var fresh, old []AccessRequestItem
		reqID, oldIDs := "", []string{}
		for _, it := range req.RequestedItems {
			if typ == GrantAccess && s.holds(who, it.ID) {
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
				reqID = newID()
			}
			s.addRow(req, it, who, typ, reqID)
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
		if row.State == StateExecuting && row.RequestedFor.ID == identityID && row.ID == itemID && row.RequestType == typ {
			return row
		}
	}
	return nil
}

func (s *Server) addRow(req AccessRequest, it AccessRequestItem, who, typ, accessRequestID string) {
	ts := stamp(s.now())
	known := s.items[it.ID]
	row := &RequestedItemStatus{
		ID: it.ID, Name: known.name, Type: known.typ, Description: known.description,
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

func serviceRef() *Ref {
	return &Ref{Type: "IDENTITY", ID: ServiceIdentityID, Name: ServiceIdentityName}
}

func (s *Server) identityRef(id string) *Ref {
	return &Ref{Type: "IDENTITY", ID: id, Name: s.identities[id].name}
}

// --- POST /v3/access-requests/cancel ---

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

// --- GET /v3/access-request-status ---

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
	if s.opts.UserLevel != OrgAdmin {
		for _, p := range []string{"requested-for", "requested-by", "regarding-identity"} {
			if v := me(q.Get(p)); v != "" && v != ServiceIdentityID {
				return problem(http.StatusForbidden, fmt.Sprintf("The user level %s may list only its own access requests; "+
					"listing another identity's requires ORG_ADMIN.", s.opts.UserLevel))
			}
		}
	}
	pg, err := parsePaging(q, maxLimit)
	if err != nil {
		return badRequest("%s", err)
	}
	conds, err := parseFilters(q.Get("filters"), statusFilters)
	if err != nil {
		return badRequest("%s", err)
	}
	keys, err := parseSorters(q.Get("sorters"), "created", "modified", "accountActivityItemId", "name")
	if err != nil {
		return badRequest("%s", err)
	}
	if keys == nil {
		keys = []sortKey{{field: "created"}}
	}
	var rows []*RequestedItemStatus
	for _, row := range s.rows {
		if !s.queued[row.AccessRequestID] && statusMatches(row, q) && matchAll(conds, func(field string) string { return statusField(row, field) }) {
			rows = append(rows, row)
		}
	}
	sortBy(rows, keys, statusField)
	return listReply(pageOf(rows, pg), len(rows), pg)
}

// statusMatches applies the identity and state parameters.
func statusMatches(row *RequestedItemStatus, q url.Values) bool {
	if v := me(q.Get("requested-for")); v != "" && row.RequestedFor.ID != v {
		return false
	}
	if v := me(q.Get("requested-by")); v != "" && row.Requester.ID != v {
		return false
	}
	if v := me(q.Get("regarding-identity")); v != "" && row.RequestedFor.ID != v && row.Requester.ID != v {
		return false
	}
	if v := me(q.Get("assigned-to")); v != "" && !slices.ContainsFunc(row.ApprovalDetails, func(a ApprovalStatus) bool {
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

func me(v string) string {
	if v == "me" {
		return ServiceIdentityID
	}
	return v
}

// --- access-request-config ---

func (s *Server) getConfig(*http.Request, []byte) reply {
	return reply{status: http.StatusOK, body: slices.Clone(s.config)}
}

func (s *Server) putConfig(r *http.Request, body []byte) reply {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return problem(http.StatusUnsupportedMediaType, "Content-Type must be application/json.")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return badRequest("The request body must be an AccessRequestConfig object.")
	}
	s.config = slices.Clone(body)
	return reply{status: http.StatusOK, body: slices.Clone(s.config)}
}

// --- GET /v3/requestable-objects ---

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
	who := me(q.Get("identity-id"))
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
	pg, err := parsePaging(q, maxLimit)
	if err != nil {
		return badRequest("%s", err)
	}
	conds, err := parseFilters(q.Get("filters"), requestableFilters)
	if err != nil {
		return badRequest("%s", err)
	}
	keys, err := parseSorters(q.Get("sorters"), "name")
	if err != nil {
		return badRequest("%s", err)
	}
	term := strings.ToLower(q.Get("term"))
	if term != "" {
		conds = nil // term overrides filters
	}
	var out []requestableObject
	for _, id := range s.itemList {
		it := s.items[id]
		if !slices.Contains(types, it.typ) || !strings.Contains(strings.ToLower(it.name+"\x00"+it.description), term) {
			continue
		}
		if !matchAll(conds, func(field string) string { return itemField(it, field) }) {
			continue
		}
		obj := s.requestable(it, who)
		if q.Has("statuses") && !slices.Contains(statuses, obj.RequestStatus) {
			continue
		}
		out = append(out, obj)
	}
	sortBy(out, keys, func(o requestableObject, _ string) string { return strings.ToLower(o.Name) })
	return listReply(pageOf(out, pg), len(out), pg)
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

// --- GET /v3/public-identities ---

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
	pg, err := parsePaging(q, maxLimit)
	if err != nil {
		return badRequest("%s", err)
	}
	conds, err := parseFilters(q.Get("filters"), identityFilters)
	if err != nil {
		return badRequest("%s", err)
	}
	keys, err := parseSorters(q.Get("sorters"), "name")
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
		if matchAll(conds, func(field string) string { return identityField(p, field) }) {
			out = append(out, p)
		}
	}
	sortBy(out, keys, func(p publicIdentity, _ string) string { return strings.ToLower(p.Name) })
	return listReply(pageOf(out, pg), len(out), pg)
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

// --- POST /v3/search ---

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

// --- collection parameters ---

func checkParams(q url.Values, allowed ...string) error {
	for k := range q {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("query parameter %q is not supported", k)
		}
	}
	return nil
}

type paging struct {
	limit, offset int
	count         bool
}

// parsePaging reads limit (1..max, default max), offset (≥ 0) and count.
func parsePaging(q url.Values, maxLimit int) (paging, error) {
	p := paging{limit: maxLimit}
	var err error
	if v := q.Get("limit"); q.Has("limit") {
		if p.limit, err = strconv.Atoi(v); err != nil || p.limit < 1 || p.limit > maxLimit {
			return p, fmt.Errorf("limit %q must be an integer from 1 to %d", v, maxLimit)
		}
	}
	if v := q.Get("offset"); q.Has("offset") {
		if p.offset, err = strconv.Atoi(v); err != nil || p.offset < 0 {
			return p, fmt.Errorf("offset %q must be an integer of 0 or more", v)
		}
	}
	if v := q.Get("count"); q.Has("count") {
		if p.count, err = strconv.ParseBool(v); err != nil {
			return p, fmt.Errorf("count %q must be true or false", v)
		}
	}
	return p, nil
}

func pageOf[T any](list []T, p paging) []T {
	if p.offset >= len(list) {
		return []T{}
	}
	return list[p.offset:min(p.offset+p.limit, len(list))]
}

// listReply is a 200 with a JSON array, and X-Total-Count if count was asked for.
func listReply[T any](page []T, total int, p paging) reply {
	rep := reply{status: http.StatusOK, body: page}
	if p.count {
		rep.header = map[string]string{"X-Total-Count": strconv.Itoa(total)}
	}
	return rep
}

type sortKey struct {
	field string
	desc  bool
}

// parseSorters reads "a,-b"; empty means none.
func parseSorters(v string, allowed ...string) ([]sortKey, error) {
	if v == "" {
		return nil, nil
	}
	var keys []sortKey
	for _, part := range strings.Split(v, ",") {
		k := sortKey{field: strings.TrimSpace(part)}
		if rest, ok := strings.CutPrefix(k.field, "-"); ok {
			k.field, k.desc = rest, true
		}
		if !slices.Contains(allowed, k.field) {
			return nil, fmt.Errorf("sorting by %q is not supported; supported: %s", k.field, strings.Join(allowed, ", "))
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// sortBy sorts list stably by the keys, reading fields with get.
func sortBy[T any](list []T, keys []sortKey, get func(T, string) string) {
	if len(keys) == 0 {
		return
	}
	slices.SortStableFunc(list, func(a, b T) int {
		for _, k := range keys {
			if c := strings.Compare(get(a, k.field), get(b, k.field)); c != 0 {
				if k.desc {
					return -c
				}
				return c
			}
		}
		return 0
	})
}

// --- filters ---

// filterField says which operators a filterable field allows, and whether its text
// compares case-insensitively.
type filterField struct {
	ops  []string
	fold bool
}

// cond is one "field op value" term of a filters expression.
type cond struct {
	field, op string
	values    []string
	fold      bool
}

// operators are the filter operators ISC knows (lower case only).
var operators = []string{"eq", "ne", "gt", "ge", "lt", "le", "in", "co", "sw", "ca", "pr", "isnull"}

// parseFilters reads a filters expression of terms joined by "and" and checks every
// term against the fields allowed. Empty means no conditions.
func parseFilters(expr string, allowed map[string]filterField) ([]cond, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	p := &filterParser{src: expr}
	var conds []cond
	for {
		c, err := p.cond()
		if err != nil {
			return nil, fmt.Errorf("filters %q: %w", expr, err)
		}
		spec, ok := allowed[c.field]
		if !ok || !slices.Contains(spec.ops, c.op) {
			return nil, fmt.Errorf("filters %q: filtering on %s with %s is not supported", expr, c.field, c.op)
		}
		c.fold = spec.fold
		conds = append(conds, c)
		tok, err := p.next()
		switch {
		case err != nil:
			return nil, fmt.Errorf("filters %q: %w", expr, err)
		case tok.kind == tokEOF:
			return conds, nil
		case tok.kind != tokWord || tok.text != "and":
			return nil, fmt.Errorf("filters %q: unsupported syntax at %q (this fake supports terms joined by and)", expr, tok.text)
		}
	}
}

// matchAll reports whether every condition holds for the values get reads.
func matchAll(conds []cond, get func(field string) string) bool {
	for _, c := range conds {
		if !c.matches(get(c.field)) {
			return false
		}
	}
	return true
}

func (c cond) matches(v string) bool {
	want := c.values
	if c.fold {
		v = strings.ToLower(v)
		want = make([]string, len(c.values))
		for i, w := range c.values {
			want[i] = strings.ToLower(w)
		}
	}
	switch c.op {
	case "eq", "in":
		return slices.Contains(want, v)
	case "ne":
		return !slices.Contains(want, v)
	case "sw":
		return len(want) > 0 && strings.HasPrefix(v, want[0])
	}
	return false
}

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokWord
	tokString
	tokPunct
)

type token struct {
	kind tokenKind
	text string
}

type filterParser struct {
	src string
	pos int
}

// cond reads "field op value" or "field in (v, …)".
func (p *filterParser) cond() (cond, error) {
	field, err := p.expect(tokWord, "a field name")
	if err != nil {
		return cond{}, err
	}
	op, err := p.expect(tokWord, "an operator")
	if err != nil {
		return cond{}, err
	}
	if !slices.Contains(operators, op) {
		return cond{}, fmt.Errorf("%q is not an operator (operators are lower case: %s)", op, strings.Join(operators, " "))
	}
	c := cond{field: field, op: op}
	switch op {
	case "pr", "isnull":
		return c, nil
	case "in":
		c.values, err = p.list()
	default:
		var v string
		v, err = p.value()
		c.values = []string{v}
	}
	return c, err
}

// list reads ("a", "b", …).
func (p *filterParser) list() ([]string, error) {
	if _, err := p.expectPunct("("); err != nil {
		return nil, err
	}
	var out []string
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		tok, err := p.next()
		if err != nil {
			return nil, err
		}
		if tok.kind == tokPunct && tok.text == ")" {
			return out, nil
		}
		if tok.kind != tokPunct || tok.text != "," {
			return nil, fmt.Errorf("expected , or ) but found %q", tok.text)
		}
	}
}

// value reads a quoted string or a bare word (a number or boolean).
func (p *filterParser) value() (string, error) {
	tok, err := p.next()
	if err != nil {
		return "", err
	}
	if tok.kind != tokString && tok.kind != tokWord {
		return "", fmt.Errorf("expected a value but found %q", tok.text)
	}
	return tok.text, nil
}

func (p *filterParser) expect(kind tokenKind, what string) (string, error) {
	tok, err := p.next()
	if err != nil {
		return "", err
	}
	if tok.kind != kind {
		return "", fmt.Errorf("expected %s but found %q", what, tok.text)
	}
	return tok.text, nil
}

func (p *filterParser) expectPunct(text string) (string, error) {
	tok, err := p.next()
	if err != nil {
		return "", err
	}
	if tok.kind != tokPunct || tok.text != text {
		return "", fmt.Errorf("expected %s but found %q", text, tok.text)
	}
	return text, nil
}

// next reads the next token.
func (p *filterParser) next() (token, error) {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
	if p.pos >= len(p.src) {
		return token{kind: tokEOF}, nil
	}
	switch c := p.src[p.pos]; {
	case c == '"':
		return p.str()
	case c == '(' || c == ')' || c == ',':
		p.pos++
		return token{kind: tokPunct, text: string(c)}, nil
	case isWordByte(c):
		start := p.pos
		for p.pos < len(p.src) && isWordByte(p.src[p.pos]) {
			p.pos++
		}
		return token{kind: tokWord, text: p.src[start:p.pos]}, nil
	default:
		return token{}, fmt.Errorf("unexpected %q", c)
	}
}

// str reads a double-quoted string with backslash escapes.
func (p *filterParser) str() (token, error) {
	var sb strings.Builder
	for p.pos++; p.pos < len(p.src); p.pos++ {
		switch c := p.src[p.pos]; c {
		case '\\':
			p.pos++
			if p.pos < len(p.src) {
				sb.WriteByte(p.src[p.pos])
			}
		case '"':
			p.pos++
			return token{kind: tokString, text: sb.String()}, nil
		default:
			sb.WriteByte(c)
		}
	}
	return token{}, errors.New("unterminated string")
}

func isWordByte(c byte) bool {
	return c == '_' || c == '.' || c == '-' || c == ':' || c == '+' ||
		('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// --- helpers ---

// newID is a random 32-hex id, as ISC's ids are.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// stamp formats t as ISC does: UTC with milliseconds.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func strp(s string) *string { return &s }
