// Package entra is the governance backend for Microsoft Entra ID Governance's Entitlement
// Management, through Microsoft Graph v1.0: an approved request becomes an adminAdd
// assignment request for the requester's user and the item's access package and policy,
// its progress is read from the request's state, an extension is an adminUpdate of the
// assignment's expiration, and an early or timed end is an adminRemove.
//
// accessbot signs in as an application (client credentials of its app registration) with
// the application permissions EntitlementManagement.ReadWrite.All, User.Read.All and
// GroupMember.Read.All (the members of a group that approves). Entra lets an application
// create admin requests and read everything, but its cancel action and its approval APIs
// accept only delegated (user) tokens. So for items decided in chat
// the item's assignment policy should be one that needs no approval in Entra (a
// direct-assignment policy); and Cancel cannot withdraw a request Entra still holds: it
// says so, and points the requester at `revoke` once the access is delivered. A request
// Entra has already delivered is cancelled by removing the assignment it made.
//
// Items with approvals: backend are decided by Entra's own policy instead (desk.go): the
// request is a userAdd made with the requester's connected Microsoft account (connect.go),
// and each approver's click is carried out with theirs.
//
// Every request accessbot creates carries its request id in the justification ("…
// (accessbot request AR-7)"), which is how a retry after a lost answer finds the request
// it made instead of making a second one.
//
// Catalog items name an access package and one of its assignment policies:
// ref "<accessPackageId>/<assignmentPolicyId>".
package entra

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/msgraph"
)

// Name is the backend name catalog items use.
const Name = "entra"

// emRoot is the Entitlement Management API below Graph's version root.
const emRoot = "/identityGovernance/entitlementManagement"

// Options configure the backend.
type Options struct {
	// TenantID is the directory (tenant) id; ClientID and ClientSecret are accessbot's
	// app registration in it.
	TenantID, ClientID, ClientSecret string
	// TokenSource, when set, gives the tokens instead of ClientID and ClientSecret (a
	// managed identity, a certificate credential).
	TokenSource oauth2.TokenSource
	// BaseURL is Graph's v1.0 root (default https://graph.microsoft.com/v1.0) and
	// LoginURL the identity platform's host (default https://login.microsoftonline.com);
	// national clouds have their own.
	BaseURL, LoginURL string
	// Rate is how many Graph calls per second are made at most, and Burst how many at once
	// (defaults 10 and 20).
	Rate  float64
	Burst int
	// Timeout bounds each call (default 20 s).
	Timeout time.Duration
	// IdentityTTL is how long an e-mail's user and manager are remembered (default 10 minutes).
	IdentityTTL time.Duration
	HTTPClient  *http.Client
	Clock       governance.Clock
	Logger      *slog.Logger
	// Connect is the app registration people connect their accounts through (needed for
	// items with approvals: backend).
	Connect ConnectClient
	// Accounts are people's connected accounts, through which accessbot reads the stages
	// of Entra's approvals, which Graph shows no application; UseAccounts sets it later.
	Accounts governance.Accounts
}

// Backend is the Entra Entitlement Management backend.
type Backend struct {
	api   *msgraph.Client
	clock governance.Clock
	log   *slog.Logger

	connect            ConnectClient
	loginURL, tenantID string
	timeout            time.Duration
	http               *http.Client
	accounts           governance.Accounts

	users *msgraph.Memory[cachedUser]
}

type cachedUser struct {
	id      governance.Identity
	manager *governance.Person // nil: not looked up yet
}

var (
	_ governance.Backend       = (*Backend)(nil)
	_ governance.ManagerFinder = (*Backend)(nil)
)

// credentials names the settings that hold accessbot's app credentials, for the admins.
const credentials = "AZURE_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET"

// New checks the options and returns the backend. It makes no call yet.
func New(o Options) (*Backend, error) {
	var errs []error
	if o.TokenSource == nil && (o.TenantID == "" || o.ClientID == "" || o.ClientSecret == "") {
		errs = append(errs, errors.New("entra: set "+credentials+" to accessbot's app registration (its directory id, application id and a client secret)"))
	}
	if o.Rate < 0 || o.Burst < 0 {
		errs = append(errs, errors.New("entra: rate and burst must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	if o.IdentityTTL <= 0 {
		o.IdentityTTL = 10 * time.Minute
	}
	if o.Clock == nil {
		o.Clock = governance.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	api, err := msgraph.New(msgraph.Options{BaseURL: o.BaseURL, LoginURL: o.LoginURL, TenantID: o.TenantID,
		ClientID: o.ClientID, ClientSecret: o.ClientSecret, TokenSource: o.TokenSource,
		Rate: o.Rate, Burst: o.Burst, Timeout: o.Timeout, HTTPClient: o.HTTPClient, Logger: o.Logger,
		Name: "Entra", Credentials: credentials, Permission: permission})
	if err != nil {
		return nil, fmt.Errorf("entra: %w", err)
	}
	if o.LoginURL == "" {
		o.LoginURL = msgraph.DefaultLoginURL
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: o.Timeout}
	}
	return &Backend{api: api, clock: o.Clock, log: o.Logger, users: msgraph.NewMemory[cachedUser](o.Clock, o.IdentityTTL),
		connect: o.Connect, loginURL: o.LoginURL, tenantID: o.TenantID, timeout: o.Timeout, http: o.HTTPClient, accounts: o.Accounts}, nil
}

// permission is the application permission accessbot's app is told to have when Graph
// refuses a call: the one docs/backends/entra.md asks for, whatever the call.
func permission(_, path string) string {
	if strings.HasPrefix(path, emRoot) {
		return "EntitlementManagement.ReadWrite.All"
	}
	return msgraph.Permission(http.MethodGet, path)
}

// Name returns "entra".
func (b *Backend) Name() string { return Name }

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ParseRef reads a catalog ref, "<accessPackageId>/<assignmentPolicyId>": the access
// package's object id and the id of the assignment policy accessbot assigns it under.
func ParseRef(ref string) (accessPackageID, policyID string, err error) {
	pkg, pol, ok := strings.Cut(strings.TrimSpace(ref), "/")
	if !ok || !guid.MatchString(pkg) || !guid.MatchString(pol) {
		return "", "", fmt.Errorf("entra ref %q should be <accessPackageId>/<assignmentPolicyId>: the access package's object id and "+
			"the id of its direct-assignment policy, both GUIDs, from Entra (Identity Governance › Access packages)", ref)
	}
	return strings.ToLower(pkg), strings.ToLower(pol), nil
}

func (b *Backend) ref(item governance.ItemRef) (pkg, policy string, err error) {
	pkg, policy, err = ParseRef(item.Ref)
	if err != nil {
		return "", "", governance.BadRef(item, err)
	}
	return pkg, policy, nil
}

// LookupIdentity is the Entra user p is: the object id Teams told (Person.EntraID, from an
// authenticated activity) as it is, without a call; otherwise the user whose mail or user
// principal name is p's e-mail.
func (b *Backend) LookupIdentity(ctx context.Context, p governance.Person) (governance.Identity, error) {
	if objectID.MatchString(p.EntraID) {
		return governance.Identity{ID: strings.ToLower(p.EntraID), Email: strings.ToLower(p.Email), Name: p.Name}, nil
	}
	c, err := b.user(ctx, p.Email)
	return c.id, err
}

// objectID is the form of an Entra object id, a GUID.
var objectID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func (b *Backend) user(ctx context.Context, email string) (cachedUser, error) {
	if c, ok := b.users.Recall(email); ok {
		return c, nil
	}
	key := strings.ToLower(strings.TrimSpace(email))
	u, err := b.api.UserByEmail(ctx, key)
	if err != nil {
		return cachedUser{}, err
	}
	c := cachedUser{id: governance.Identity{ID: u.ID, Email: key, Name: u.DisplayName}}
	b.users.Keep(key, c)
	return c, nil
}

// Manager is the manager Entra records for the user with that e-mail.
func (b *Backend) Manager(ctx context.Context, email string) (governance.Person, bool, error) {
	c, err := b.user(ctx, email)
	if err != nil {
		return governance.Person{}, false, err
	}
	if c.manager != nil {
		return *c.manager, c.manager.Email != "", nil
	}
	var m msgraph.User
	err = b.api.Do(ctx, http.MethodGet, "/users/"+url.PathEscape(c.id.ID)+"/manager",
		url.Values{"$select": {msgraph.UserSelect}}, nil, &m)
	var ge *msgraph.Error
	switch {
	case errors.As(err, &ge) && ge.Status == http.StatusNotFound:
		m = msgraph.User{} // no manager recorded
	case err != nil:
		return governance.Person{}, false, err
	}
	p := governance.Person{Email: strings.ToLower(firstOf(m.Mail, m.UserPrincipalName)), Name: m.DisplayName}
	b.users.Amend(email, func(c *cachedUser) { c.manager = &p })
	return p, p.Email != "", nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// searchLimit bounds how many access packages a search returns.
const searchLimit = 25

// SearchCatalog lists the access packages whose name contains query (or whose id is
// query), each with the assignment policy accessbot would use: the package's
// direct-assignment policy (allowedTargetScope notSpecified), else its first policy.
// Hidden packages, and packages without a policy, are left out.
func (b *Backend) SearchCatalog(ctx context.Context, query string) ([]governance.ItemRef, error) {
	query = strings.TrimSpace(query)
	var found []accessPackage
	if guid.MatchString(query) {
		var p accessPackage
		err := b.api.Do(ctx, http.MethodGet, emRoot+"/accessPackages/"+url.PathEscape(query),
			url.Values{"$expand": {"assignmentPolicies"}}, nil, &p)
		var ge *msgraph.Error
		if errors.As(err, &ge) && ge.Status == http.StatusNotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		found = []accessPackage{p}
	} else {
		q := url.Values{
			"$filter": {"contains(tolower(displayName)," + msgraph.Quote(strings.ToLower(query)) + ")"},
			"$expand": {"assignmentPolicies"},
		}
		var err error
		if found, err = msgraph.All[accessPackage](ctx, b.api, emRoot+"/accessPackages", q, searchLimit); err != nil {
			return nil, err
		}
	}
	out := make([]governance.ItemRef, 0, len(found))
	for _, p := range found {
		pol := p.directPolicy()
		if p.IsHidden || pol == "" {
			continue
		}
		out = append(out, governance.ItemRef{ID: p.ID, Name: p.DisplayName, Backend: Name, Ref: p.ID + "/" + pol})
	}
	return out, nil
}
