// Package sailpoint is the governance backend for SailPoint Identity Security Cloud (ISC)
// through its v3 API: an approved request becomes a GRANT_ACCESS access request for the
// requester's ISC identity, its progress is read from the access-request status list,
// and an early or timed end becomes a REVOKE_ACCESS request.
//
// ISC's access-request, status and cancel calls accept only user tokens, so accessbot
// authenticates with a personal access token of a service identity (an ORG_ADMIN, to
// request for others and to cancel), through the OAuth2 client-credentials grant. Calls
// are paced under ISC's limit of 100 per client_id per 10 seconds, across replicas when
// Options.Limiter shares the budget through Redis.
//
// Catalog items name ISC objects by type and id: ref "ACCESS_PROFILE:2c91…", "ROLE:2c91…"
// or "ENTITLEMENT:2c91…".
package sailpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// Name is the backend name catalog items use.
const Name = "sailpoint"

// Options configure the backend.
type Options struct {
	// BaseURL is the tenant's API host, https://{tenant}.api.identitynow.com; the form
	// SailPoint's documentation gives, with /v3 at the end, is accepted too.
	BaseURL string
	// TokenURL defaults to BaseURL + "/oauth/token"; tenants with a vanity domain find
	// theirs at BaseURL + "/oauth/info".
	TokenURL string
	// ClientID and ClientSecret are a personal access token of accessbot's service identity.
	ClientID, ClientSecret string
	// Rate is how many calls per second are made at most, and Burst how many at once.
	// ISC allows 100 per client_id and API version per 10 s; the defaults, 9/s with bursts
	// of 10, never exceed that in any 10 s window. With a Limiter the rate is shared by
	// every replica using the same client id; without one (or while the Limiter fails),
	// each process paces itself to the full rate alone.
	Rate  float64
	Burst int
	// Limiter shares Rate and Burst across replicas (governance/redis's Limiter); nil:
	// each process paces itself.
	Limiter Limiter
	// Timeout bounds each call (default 20 s).
	Timeout time.Duration
	// IdentityTTL is how long an e-mail's identity is remembered (default 10 minutes).
	IdentityTTL time.Duration
	// Connect is the OAuth client people connect their ISC accounts through (approvals:
	// backend); it is not the personal access token above.
	Connect ConnectClient
	// ApproveAs is how accessbot decides ISC approvals: ApproveAsConnected (default) with
	// the person's connected account, or ApproveAsService with accessbot's own token.
	ApproveAs string
	// ApprovalsURL is the page of ISC's UI a card links to (default: the tenant's UI host
	// https://{tenant}.identitynow.com + /ui/d/approvals/requested-items).
	ApprovalsURL string
	HTTPClient   *http.Client // default: one with Timeout
	Clock        governance.Clock
	Logger       *slog.Logger
}

// Limiter hands out turns of a rate limit shared by every process that asks for the same
// key; governance/redis's Limiter is one.
type Limiter interface {
	// Reserve takes the next turn of the limit key allows (rate per second, burst at once)
	// and says how long to wait before using it; an error means no turn was taken.
	Reserve(ctx context.Context, key string, rate float64, burst int) (time.Duration, error)
}

// Backend is the SailPoint ISC backend.
type Backend struct {
	api          *client
	approveAs    string
	approvalsURL string
	connect      ConnectClient
	clock        governance.Clock
	ttl          time.Duration

	mu         sync.Mutex
	identities map[string]cachedIdentity // by lower-case e-mail
	emailsByID map[string]cachedEmail    // the e-mails of the identities in approvals, by identity id
}

// cachedEmail is an identity's e-mail as ISC gave it, and when.
type cachedEmail struct {
	email string
	at    time.Time
}

type cachedIdentity struct {
	id      governance.Identity
	manager string // the manager's identity id
	at      time.Time
}

var (
	_ governance.Backend       = (*Backend)(nil)
	_ governance.ManagerFinder = (*Backend)(nil)
)

// New checks the options and returns the backend. It makes no call yet.
func New(o Options) (*Backend, error) {
	var errs []error
	base := strings.TrimRight(o.BaseURL, "/")
	u, err := url.Parse(base)
	switch {
	case o.BaseURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		errs = append(errs, fmt.Errorf("sailpoint: base URL %q is not a URL; set SAILPOINT_BASE_URL to https://<tenant>.api.identitynow.com", o.BaseURL))
	case (u.Path != "" && u.Path != "/v3") || u.RawQuery != "" || u.Fragment != "":
		// The API's paths (/v3/…) and the token endpoint (/oauth/token) both hang off the host.
		errs = append(errs, fmt.Errorf("sailpoint: base URL %q should be the tenant's API host with no other path; "+
			"set SAILPOINT_BASE_URL to https://<tenant>.api.identitynow.com (a trailing /v3 is allowed)", o.BaseURL))
	}
	if o.ClientID == "" || o.ClientSecret == "" {
		errs = append(errs, errors.New("sailpoint: set SAILPOINT_CLIENT_ID and SAILPOINT_CLIENT_SECRET to a personal access token of accessbot's service identity"))
	}
	if o.ApproveAs != "" && o.ApproveAs != ApproveAsConnected && o.ApproveAs != ApproveAsService {
		errs = append(errs, fmt.Errorf("sailpoint: approveAs %q should be %s or %s", o.ApproveAs, ApproveAsConnected, ApproveAsService))
	}
	if o.Rate < 0 || o.Burst < 0 {
		errs = append(errs, errors.New("sailpoint: rate and burst must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	o.BaseURL = strings.TrimSuffix(base, "/v3")
	if o.TokenURL == "" {
		o.TokenURL = o.BaseURL + "/oauth/token"
	}
	if o.Rate == 0 {
		o.Rate = 9
	}
	if o.Burst == 0 {
		o.Burst = 10
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	if o.IdentityTTL <= 0 {
		o.IdentityTTL = 10 * time.Minute
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.Timeout}
	}
	if o.Clock == nil {
		o.Clock = governance.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ApproveAs == "" {
		o.ApproveAs = ApproveAsConnected
	}
	if o.ApprovalsURL == "" {
		o.ApprovalsURL = uiHost(o.BaseURL) + "/ui/d/approvals/requested-items"
	}
	return &Backend{api: newClient(o), approveAs: o.ApproveAs, approvalsURL: o.ApprovalsURL, connect: o.Connect, clock: o.Clock, ttl: o.IdentityTTL,
		identities: map[string]cachedIdentity{}, emailsByID: map[string]cachedEmail{}}, nil
}

// uiHost is the tenant's UI host for its API host: https://{tenant}.identitynow.com for
// https://{tenant}.api.identitynow.com; any other host (a fake, a proxy) is its own.
func uiHost(base string) string {
	return strings.Replace(base, ".api.identitynow.com", ".identitynow.com", 1)
}

// Name returns "sailpoint".
func (b *Backend) Name() string { return Name }

// Item types, as catalog refs and ISC name them.
var itemTypes = []string{"ACCESS_PROFILE", "ROLE", "ENTITLEMENT"}

// ParseRef reads a catalog ref, "ACCESS_PROFILE:<id>", "ROLE:<id>" or "ENTITLEMENT:<id>".
func ParseRef(ref string) (typ, id string, err error) {
	typ, id, ok := strings.Cut(strings.TrimSpace(ref), ":")
	typ = strings.ToUpper(strings.ReplaceAll(typ, "-", "_"))
	if !ok || id == "" || strings.ContainsAny(id, " \"") || !contains(itemTypes, typ) {
		return "", "", fmt.Errorf("sailpoint ref %q should be ACCESS_PROFILE:<id>, ROLE:<id> or ENTITLEMENT:<id>, with the object's id from SailPoint", ref)
	}
	return typ, id, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (b *Backend) ref(item governance.ItemRef) (typ, id string, err error) {
	typ, id, err = ParseRef(item.Ref)
	if err != nil {
		return "", "", governance.Permanent(&governance.Problem{Err: governance.ErrUnknownItem, Message: fmt.Sprintf(
			"the catalog's entry for %s is wrong (%v); ask your access admins to fix it", item.Name, err)})
	}
	return typ, id, nil
}

// LookupIdentity finds the ISC identity whose e-mail is p's.
func (b *Backend) LookupIdentity(ctx context.Context, p governance.Person) (governance.Identity, error) {
	c, err := b.identity(ctx, p.Email)
	return c.id, err
}

// Manager is the manager ISC records for the identity with that e-mail.
func (b *Backend) Manager(ctx context.Context, email string) (governance.Person, bool, error) {
	c, err := b.identity(ctx, email)
	if err != nil || c.manager == "" {
		return governance.Person{}, false, err
	}
	var found []publicIdentity
	q := url.Values{"filters": {fmt.Sprintf("id eq %s", quote(c.manager))}, "limit": {"2"}}
	if err := b.api.call(ctx, http.MethodGet, "/public-identities", q, nil, &found); err != nil {
		return governance.Person{}, false, err
	}
	if len(found) == 0 || found[0].Email == "" {
		return governance.Person{}, false, nil
	}
	return governance.Person{Email: strings.ToLower(found[0].Email), Name: found[0].Name}, true, nil
}

func (b *Backend) identity(ctx context.Context, email string) (cachedIdentity, error) {
	key := strings.ToLower(strings.TrimSpace(email))
	now := b.clock.Now()
	b.mu.Lock()
	c, ok := b.identities[key]
	b.mu.Unlock()
	if ok && now.Sub(c.at) < b.ttl {
		return c, nil
	}
	var found []publicIdentity
	// add-core-filters drops incomplete and uncorrelated identities, which may share a
	// person's e-mail with their real one.
	q := url.Values{"filters": {"email eq " + quote(key)}, "add-core-filters": {"true"}, "limit": {"2"}}
	if err := b.api.call(ctx, http.MethodGet, "/public-identities", q, nil, &found); err != nil {
		return cachedIdentity{}, err
	}
	switch len(found) {
	case 0:
		return cachedIdentity{}, governance.Permanent(&governance.Problem{Err: governance.ErrNotFound, Message: fmt.Sprintf(
			"SailPoint has no identity with the e-mail %s; ask your access admins to check that your chat e-mail matches your SailPoint identity", key)})
	case 1:
	default:
		return cachedIdentity{}, governance.Permanent(&governance.Problem{Err: governance.ErrNotFound, Message: fmt.Sprintf(
			"SailPoint has more than one identity with the e-mail %s, so accessbot cannot tell which is you; ask your access admins to fix the duplicate", key)})
	}
	c = cachedIdentity{id: governance.Identity{ID: found[0].ID, Email: key, Name: found[0].Name}, at: now}
	if m := found[0].Manager; m != nil {
		c.manager = m.ID
	}
	b.mu.Lock()
	b.identities[key] = c
	b.mu.Unlock()
	return c, nil
}

// quote writes a filter string value as ISC's filter syntax wants it.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

var isID = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

// SearchCatalog lists the roles and access profiles whose name or description contains
// query (or whose id is query). Entitlements are requestable only through the catalog.
func (b *Backend) SearchCatalog(ctx context.Context, query string) ([]governance.ItemRef, error) {
	q := url.Values{"types": {"ROLE,ACCESS_PROFILE"}, "limit": {"25"}}
	if query = strings.TrimSpace(query); isID.MatchString(query) {
		q.Set("filters", "id eq "+quote(query))
	} else {
		q.Set("term", query)
	}
	var found []requestableObject
	if err := b.api.call(ctx, http.MethodGet, "/requestable-objects", q, nil, &found); err != nil {
		return nil, err
	}
	out := make([]governance.ItemRef, 0, len(found))
	for _, o := range found {
		out = append(out, governance.ItemRef{ID: o.ID, Name: o.Name, Backend: Name, Ref: o.Type + ":" + o.ID})
	}
	return out, nil
}

// CheckAdmin checks that accessbot's token is a personal access token of an ORG_ADMIN
// identity, which ISC requires to request access for others and to cancel: it lists the
// access requests of an identity other than the token's own, which ISC allows only an
// ORG_ADMIN. (Reading the access-request configuration proves less: a USER-level token
// may read it.) It reports what the token lacks.
func (b *Backend) CheckAdmin(ctx context.Context) error {
	tok, _, err := b.api.token()
	if err != nil {
		return tokenError(err)
	}
	owner, _ := tok.Extra("identity_id").(string)
	if owner == "" {
		return errors.New("accessbot's token has no user context, so SAILPOINT_CLIENT_ID and SAILPOINT_CLIENT_SECRET are an API client; " +
			"ISC's access-request calls need a personal access token of an ORG_ADMIN identity")
	}
	var found []publicIdentity
	if err := b.api.call(ctx, http.MethodGet, "/public-identities", url.Values{"limit": {"2"}}, nil, &found); err != nil {
		return err
	}
	for _, p := range found {
		if p.ID == owner {
			continue
		}
		var rows []itemStatus
		q := url.Values{"requested-for": {p.ID}, "limit": {"1"}}
		err := b.api.call(ctx, http.MethodGet, "/access-request-status", q, nil, &rows)
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusForbidden {
			return fmt.Errorf("accessbot's token works, but SailPoint refused to list another identity's access requests with it "+
				"(HTTP 403, tracking id %s): the token's identity %s is not an ORG_ADMIN (or the token lacks the scope "+
				"idn:access-request-status:read), and accessbot needs ORG_ADMIN to request access for others and to cancel; "+
				"give that identity the ORG_ADMIN user level, or use a personal access token of one that has it", e.TrackingID, owner)
		}
		return err
	}
	return nil // nobody else in the tenant to ask about
}

// AccessRequestConfig reads the tenant's access-request configuration, whose reminder
// and escalation settings operators compare with accessbot's schedule.
func (b *Backend) AccessRequestConfig(ctx context.Context) (Config, error) {
	var c Config
	err := b.api.call(ctx, http.MethodGet, "/access-request-config", nil, nil, &c)
	return c, err
}

// DescribeConfig says, line by line, what the tenant's access-request configuration
// means for accessbot, next to accessbot's own schedule.
func DescribeConfig(c Config, ours governance.Schedule) []string {
	lines := []string{fmt.Sprintf("approvalsMustBeExternal: %t", c.ApprovalsMustBeExternal)}
	if c.ApprovalsMustBeExternal {
		lines = append(lines, "  (ISC creates no approvals: right for sailpoint.approvals: accessbot)")
	} else {
		lines = append(lines, "  (ISC's approval schemes decide: right for sailpoint.approvals: backend)")
	}
	lines = append(lines, fmt.Sprintf("autoApprovalEnabled: %t", c.AutoApprovalEnabled))
	n := func(p *int) string {
		if p == nil {
			return "not set"
		}
		return fmt.Sprint(*p)
	}
	if r := c.Reminders; r != nil {
		lines = append(lines, fmt.Sprintf("SailPoint reminders: daysUntilEscalation %s, daysBetweenReminders %s, maxReminders %s",
			n(r.DaysUntilEscalation), n(r.DaysBetweenReminders), n(r.MaxReminders)))
		if f := r.FallbackApproverRef; f != nil {
			lines = append(lines, fmt.Sprintf("SailPoint fallback approver: %s <%s>", f.Name, f.Email))
		}
	} else {
		lines = append(lines, "SailPoint reminders: not configured")
	}
	lines = append(lines, fmt.Sprintf("accessbot reminders:  daysUntilEscalation %d, daysBetweenReminders %d, maxReminders %d, fallback %q",
		ours.DaysUntilEscalation, ours.DaysBetweenReminders, ours.MaxReminders, ours.FallbackApprover))
	if e := c.EntitlementRequestConfig; e != nil {
		lines = append(lines, fmt.Sprintf("entitlement requests: allowed %t, comments required %t, approval schemes %q",
			e.AllowEntitlementRequest, e.RequestCommentsRequired, e.GrantRequestApprovalSchemes))
	}
	return lines
}
