// Package permissions is the governance backend for Microsoft Entra Permissions
// Management (permissions on demand in AWS, Azure and GCP), through its Microsoft Graph
// beta API: an approved request becomes a scheduledPermissionsRequest for the
// requester, its progress is read from the permissionsRequestChanges change log, and
// cancelling or revoking it is the request's cancelAll action.
//
// Microsoft stopped selling Permissions Management on 2025-04-01 and retired it on
// 2025-10-01. This backend serves tenants that still run it, and is kept correct to the
// documented API (Graph beta, global cloud only); enable it only for such a tenant.
//
// The API is delegated-only: it accepts no application token. accessbot therefore acts as
// one signed-in account, through Options.TokenSource (a refresh-token source the operator
// sets up, see RefreshTokenSource), consented for the delegated Graph permissions
// ScheduledPermissions.ReadWrite.All and User.ReadBasic.All. Permissions Management
// records that account as the request's requestor; the person who asked in chat, and who
// approved there, travel in ticketInfo, the justification and the notes.
//
// Every request carries accessbot's request id as its ticket number (ticketInfo:
// ticketNumber "AR-7", ticketSystem "accessbot"), which the change log repeats as ticketId.
// That is how a retry after a lost answer finds the request it made instead of making a
// second one, and how Revoke finds the request to end. The documentation has no call that
// reads one request by its id, so every status is read from the change log.
//
// How Permissions Management's states map onto accessbot's (Status):
//
//	statusDetail submitted                  submitted, waiting for approval in Permissions Management
//	statusDetail approved, no occurrence    submitted, waiting for Permissions Management to grant it
//	activeOccurrenceStatus granting         submitted, waiting for the grant to finish
//	activeOccurrenceStatus granted          active, from the change's time for the asked duration
//	activeOccurrenceStatus grantingFailed   failed
//	statusDetail rejected                   denied
//	statusDetail canceled                   cancelled
//	revoking, revoked, statusDetail completed
//	                                        cancelled: the permissions ended (revoked there, or
//	                                        their time ran out) before accessbot saw them granted;
//	                                        active would promise access that is gone
//	activeOccurrenceStatus revokingFailed   active (the permissions are still held), logged as
//	                                        an error for the admins
//
// Catalog items name the permissions with a ref ParseRef reads, one of:
//
//	aws:<accountId>:policy:<policyArn>[,<policyArn>…]@<roleArn>
//	aws:<accountId>:actions:<action>[,<action>…]@<roleArn>
//	azure:<subscriptionId>:role:<roleDefinitionId>[,…]@<scope>
//	azure:<subscriptionId>:actions:<action>[,…]@<scope>
//	gcp:<projectId>:role:<role>[,…][@<projectId>]
//	gcp:<projectId>:actions:<permission>[,…][@<projectId>]
//
// for example
//
//	aws:956987887735:policy:arn:aws:iam::956987887735:policy/AddUserToGroup@arn:aws:iam::956987887735:role/saml-user
//	azure:87eefd90-95a3-480a-ba42-56ff299a05ee:role:cdda3590-29a3-44f6-95f2-9f980659eb04@/subscriptions/87eefd90-95a3-480a-ba42-56ff299a05ee
//	gcp:carbide-bonsai-205017:role:roles/dialogflow.aamAdmin
//
// AWS permissions are asked for the requester's SAML identity ("rsn:" and their user
// principal name, the role session name Entra's AWS app sends) and attached to <roleArn>;
// an actions ref becomes one Allow statement on every resource ("*"), so prefer a policy
// where resources must be narrowed. Azure and GCP permissions are asked for the
// requester's Entra identity (their user principal name). Permissions Management grants
// for a limited time only: items need a duration, which is sent as an ISO 8601
// expiration (FormatDuration) and runs from the moment the permissions are granted.
// Granted permissions cannot be extended; people ask again.
//
// This package knows Permissions Management's bodies and states; Graph's transport,
// paging and error conventions are governance/msgraph's. It must not know about chat,
// Redis, or the Entitlement Management backend (governance/entra).
package permissions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/msgraph"
)

// Name is the backend name catalog items use.
const Name = "permissions"

// DefaultBaseURL is Graph's beta root, where the Permissions Management API lives.
const DefaultBaseURL = "https://graph.microsoft.com/beta"

// pmRoot is the Permissions Management API below Graph's version root.
const pmRoot = "/identityGovernance/permissionsManagement"

// ticketSystem is what accessbot's requests name as their ticketing system.
const ticketSystem = "accessbot"

// Graph permissions, delegated, that the signed-in account must have consented.
const (
	permissionRequests = "ScheduledPermissions.ReadWrite.All"
	permissionUsers    = "User.ReadBasic.All"
)

// DefaultCredentials names the settings that hold the delegated sign-in, as the
// docs/backends/permissions-management.md documents them; refusals quote it so the admins know what to fix.
const DefaultCredentials = "AZURE_TENANT_ID, PERMISSIONS_CLIENT_ID, PERMISSIONS_CLIENT_SECRET and PERMISSIONS_REFRESH_TOKEN"

// Options configure the backend.
type Options struct {
	// TokenSource gives the delegated tokens of the account accessbot acts as; required,
	// since Permissions Management accepts no application token. RefreshTokenSource
	// makes one from a refresh token. It should cache its tokens.
	TokenSource oauth2.TokenSource
	// BaseURL is Graph's beta root (default DefaultBaseURL); tests point it at a fake.
	BaseURL string
	// Rate is how many Graph calls per second are made at most, and Burst how many at once
	// (defaults 10 and 20); 429 answers with Retry-After are honoured on top.
	Rate  float64
	Burst int
	// Timeout bounds each call (default 20 s).
	Timeout time.Duration
	// IdentityTTL is how long an e-mail's user is remembered (default 10 minutes).
	IdentityTTL time.Duration
	// Lookback is how far back the change log is searched for a request accessbot made
	// before, by its ticket number: on a retried Submit, from now, and on Revoke, from
	// the grant's start (default 24 hours).
	Lookback time.Duration
	// Skew is how far before accessbot's last look a status check reads the change log
	// again, so that a change stamped by a clock slightly behind accessbot's is not missed
	// (default 15 minutes).
	Skew time.Duration
	// Credentials names, for the admins, the settings that hold the delegated sign-in
	// (default DefaultCredentials).
	Credentials string
	HTTPClient  *http.Client
	Clock       governance.Clock
	Logger      *slog.Logger
}

// Backend is the Permissions Management backend.
type Backend struct {
	api      *msgraph.Client
	clock    governance.Clock
	log      *slog.Logger
	lookback time.Duration
	skew     time.Duration
	creds    string
	users    *msgraph.Memory[msgraph.User]
}

var _ governance.Backend = (*Backend)(nil)

// New checks the options and returns the backend. It makes no call yet.
func New(o Options) (*Backend, error) {
	var errs []error
	if o.TokenSource == nil {
		errs = append(errs, errors.New("permissions: a delegated token source is required (Permissions Management accepts no application token); "+
			"set "+firstOf(o.Credentials, DefaultCredentials)+" to the account accessbot acts as"))
	}
	if o.Rate < 0 || o.Burst < 0 {
		errs = append(errs, errors.New("permissions: rate and burst must not be negative"))
	}
	if o.Lookback < 0 || o.Skew < 0 {
		errs = append(errs, errors.New("permissions: lookback and skew must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	if o.IdentityTTL <= 0 {
		o.IdentityTTL = 10 * time.Minute
	}
	if o.Lookback == 0 {
		o.Lookback = 24 * time.Hour
	}
	if o.Skew == 0 {
		o.Skew = 15 * time.Minute
	}
	if o.Credentials == "" {
		o.Credentials = DefaultCredentials
	}
	if o.Clock == nil {
		o.Clock = governance.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	api, err := msgraph.New(msgraph.Options{BaseURL: o.BaseURL, TokenSource: o.TokenSource, Rate: o.Rate, Burst: o.Burst,
		Timeout: o.Timeout, HTTPClient: o.HTTPClient, Logger: o.Logger, Name: "Permissions Management",
		Credentials: o.Credentials, Permission: permission})
	if err != nil {
		return nil, fmt.Errorf("permissions: %w", err)
	}
	return &Backend{api: api, clock: o.Clock, log: o.Logger, lookback: o.Lookback, skew: o.Skew,
		creds: o.Credentials, users: msgraph.NewMemory[msgraph.User](o.Clock, o.IdentityTTL)}, nil
}

// permission is the delegated Graph permission a call needs.
func permission(_, path string) string {
	if strings.HasPrefix(path, "/users") {
		return permissionUsers
	}
	return permissionRequests
}

// Name returns "permissions".
func (b *Backend) Name() string { return Name }

// explain rewrites Graph's refusals of the token, which governance/msgraph words for an
// application's permissions, for the delegated sign-in this backend uses.
func (b *Backend) explain(err error) error {
	var ge *msgraph.Error
	if err == nil || !errors.As(err, &ge) {
		return err
	}
	switch ge.Status {
	case http.StatusUnauthorized:
		return governance.Permanent(&governance.Problem{Err: errors.Join(governance.ErrBackendCredentials, ge), Message: fmt.Sprintf(
			"Permissions Management did not accept the delegated token accessbot signs in with (HTTP 401), so nothing was changed there. "+
				"This is not about your access: the account accessbot acts as has to sign in again; your access admins need to renew %s", b.creds)})
	case http.StatusForbidden:
		return governance.Permanent(&governance.Problem{Err: errors.Join(governance.ErrBackendCredentials, ge), Message: fmt.Sprintf(
			"Permissions Management refused accessbot (HTTP 403), so nothing was changed there. This is not about your access: "+
				"the account accessbot signs in as needs the delegated Microsoft Graph permission %s, consented for accessbot's app registration%s; "+
				"ask your access admins to grant it, then ask again", permission(ge.Method, ge.Path), roleNote(ge.Path))})
	}
	return err
}

func roleNote(path string) string {
	if strings.HasPrefix(path, pmRoot) {
		return ", and the right to request permissions in Permissions Management"
	}
	return ""
}

// LookupIdentity finds the Entra user whose mail (or user principal name) is p's e-mail:
// their object id, and the user principal name accessbot asks permissions for (which an
// object id alone would not give).
func (b *Backend) LookupIdentity(ctx context.Context, p governance.Person) (governance.Identity, error) {
	u, err := b.user(ctx, p.Email)
	if err != nil {
		return governance.Identity{}, err
	}
	return governance.Identity{ID: u.ID, Email: strings.ToLower(strings.TrimSpace(p.Email)), Name: u.DisplayName}, nil
}

func (b *Backend) user(ctx context.Context, email string) (msgraph.User, error) {
	if u, ok := b.users.Recall(email); ok {
		return u, nil
	}
	u, err := b.api.UserByEmail(ctx, email)
	if err != nil {
		return msgraph.User{}, b.explain(err)
	}
	b.users.Keep(email, u)
	return u, nil
}

// SearchCatalog returns nothing: Permissions Management has no catalog of requestable
// permissions to search (its authorization-system listings are not a catalog, and the
// permissions asked for are whatever the ref names), so every item is in accessbot's
// own catalog.
func (b *Backend) SearchCatalog(context.Context, string) ([]governance.ItemRef, error) {
	return nil, nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
