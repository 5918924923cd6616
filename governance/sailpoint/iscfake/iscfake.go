// Package iscfake is an in-process fake of SailPoint Identity Security Cloud (ISC) for
// tests of a v3 API client. It speaks ISC's wire format: the OAuth2 token endpoint
// (client credentials for the service's personal access token; authorization code with
// PKCE and rotating refresh tokens for people signing in through a login form), bearer
// tokens that expire and carry their identity's user level, the documented error bodies
// (ErrorResponseDto, the 401 and 429 bodies), and the endpoints an access-request client
// uses:
//
//   - GET /oauth/info, GET and POST /oauth/authorize (the login form), POST /oauth/token
//   - GET /v3/access-request-approvals/pending and /completed, POST
//     /v3/access-request-approvals/{id}/approve, /reject and /forward (approvals.go)
//   - GET /v3/oauth-clients/{id}, GET /beta/workgroups/{id}/members
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
// Process for requests ISC has queued but not yet listed), or lets ISC's own approvals
// drive it (SetApprovalSchemes, AddGroup, SetOwner; RequestInUI and DecideInUI for what
// people do in ISC's UI), injects faults (Fail, Hang, Lose) and inspects what the client
// sent (Calls, Submitted, Cancelled, Requests, PendingApprovals, CompletedApprovals).
package iscfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
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
	// RowsWithoutID makes the status list's rows carry no id, as ISC's rows of requests
	// made before it added the field do (the per-service spec: new in 2025).
	RowsWithoutID bool
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

type identity struct {
	id, email, name, managerID string
	uncorrelated               bool
}

type item struct {
	typ, id, name, description string
}

// held is access an identity holds, and its end (removeDate as ISC formats it; "" for none).
type held struct {
	typ, id    string
	removeDate string
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
	queued       map[string]bool    // access request ids ISC has but does not list yet
	tokens       map[string]session // bearer token → whose, until when
	logins       map[string]login   // by username
	levels       map[string]string  // identity id → user level (default USER)
	clients      map[string]*OAuthClient
	codes        map[string]*authCode
	refresh      map[string]grantRef // refresh token → the grant it continues
	groups       map[string]*group
	groupList    []string
	owners       map[string]string   // item id → owner identity id
	sourceOwners map[string]string   // item id → source owner identity id
	schemes      map[string][]Scheme // item id → approval levels
	approvals    []*approval         // in the order created
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
		opts:         opts,
		done:         make(chan struct{}),
		identities:   map[string]identity{},
		items:        map[string]item{},
		access:       map[string][]held{},
		config:       json.RawMessage(defaultConfig),
		tokens:       map[string]session{},
		logins:       map[string]login{},
		levels:       map[string]string{},
		clients:      map[string]*OAuthClient{},
		codes:        map[string]*authCode{},
		refresh:      map[string]grantRef{},
		groups:       map[string]*group{},
		owners:       map[string]string{},
		sourceOwners: map[string]string{},
		schemes:      map[string][]Scheme{},
		queued:       map[string]bool{},
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

// newID is a random 32-hex id, as ISC's ids are.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// stamp formats t as ISC does: UTC with milliseconds.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func strp(s string) *string { return &s }
