package sailpoint

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/accessbot/accessbot/governance"
)

// Settings are the SailPoint backend's part of accessbot's configuration: the
// `sailpoint:` block, and from the environment SAILPOINT_BASE_URL (which wins over
// baseURL), SAILPOINT_CLIENT_ID and SAILPOINT_CLIENT_SECRET, and for connected accounts
// SAILPOINT_CONNECT_CLIENT_ID (which wins over connect.clientId) and
// SAILPOINT_CONNECT_CLIENT_SECRET.
type Settings struct {
	BaseURL      string  `yaml:"baseURL"`  // https://{tenant}.api.identitynow.com
	TokenURL     string  `yaml:"tokenURL"` // default baseURL + /oauth/token
	Rate         float64 `yaml:"rate"`     // calls per second, across replicas; default 9 (ISC: 100 per client_id per 10 s)
	Burst        int     `yaml:"burst"`    // default 10
	ClientID     string  `yaml:"-"`
	ClientSecret string  `yaml:"-"`
	// Approvals says who decides SailPoint items: accessbot (its catalog's approvers; ISC's
	// approvalsMustBeExternal must be true) or backend (ISC's approval schemes; the flag
	// must be false). Default accessbot.
	Approvals string `yaml:"approvals"`
	// ApproveAs is how a chat click is carried out in ISC with approvals: backend:
	// connected (the person's own account, the default) or service (accessbot's token).
	ApproveAs    string        `yaml:"approveAs"`
	Connect      ConnectClient `yaml:"connect"`
	ApprovalsURL string        `yaml:"approvalsURL"` // the ISC page cards link to; default the tenant's /ui/d/approvals/requested-items
	// CallbackURL is where ISC sends people back after they connect
	// (<public URL>/oauth/sailpoint/callback); the composition root sets it.
	CallbackURL string `yaml:"-"`
	// Limiter shares Rate and Burst across every replica (the Redis store's Limiter); the
	// composition root sets it before Open. Nil: each process paces itself alone.
	Limiter Limiter `yaml:"-"`
}

// FromEnv reads the settings the environment holds.
func (s *Settings) FromEnv(env governance.Env) {
	s.ClientID = env.Secret("SAILPOINT_CLIENT_ID")
	s.ClientSecret = env.Secret("SAILPOINT_CLIENT_SECRET")
	if v := env.Get("SAILPOINT_BASE_URL"); v != "" {
		s.BaseURL = v
	}
	if v := env.Get("SAILPOINT_CONNECT_CLIENT_ID"); v != "" {
		s.Connect.ClientID = v
	}
	s.Connect.ClientSecret = env.Secret("SAILPOINT_CONNECT_CLIENT_SECRET")
}

// mode is the approvals mode, accessbot when unset.
func (s *Settings) mode() string {
	if s.Approvals == "" {
		return governance.ApprovalsAccessbot
	}
	return s.Approvals
}

// Options are the backend's options from the settings.
func (s *Settings) Options() Options {
	return Options{BaseURL: s.BaseURL, TokenURL: s.TokenURL, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		Rate: s.Rate, Burst: s.Burst, Limiter: s.Limiter, ApproveAs: s.ApproveAs, Connect: s.Connect, ApprovalsURL: s.ApprovalsURL}
}

// Check returns every problem of the settings of a catalog that uses the backend.
func (s *Settings) Check() []error {
	if s.BaseURL == "" || s.ClientID == "" || s.ClientSecret == "" {
		return []error{errors.New("the catalog uses the sailpoint backend: set sailpoint.baseURL (or SAILPOINT_BASE_URL) " +
			"and SAILPOINT_CLIENT_ID and SAILPOINT_CLIENT_SECRET to a personal access token of accessbot's service identity")}
	}
	var errs []error
	if _, err := New(s.Options()); err != nil {
		errs = append(errs, err)
	}
	switch s.mode() {
	case governance.ApprovalsAccessbot:
		if s.ApproveAs != "" {
			errs = append(errs, errors.New("sailpoint.approveAs applies only to sailpoint.approvals: backend; "+
				"remove it, or set approvals: backend"))
		}
	case governance.ApprovalsBackend:
		if s.ApproveAs != ApproveAsService && s.Connect.ClientID == "" {
			errs = append(errs, errors.New("sailpoint.approvals: backend decides with each approver's own SailPoint account: "+
				"set sailpoint.connect.clientId (or SAILPOINT_CONNECT_CLIENT_ID) to the ISC OAuth client they connect through "+
				"(docs/backends/sailpoint.md), or set sailpoint.approveAs: service"))
		}
	default:
		errs = append(errs, fmt.Errorf("sailpoint.approvals %q should be accessbot or backend", s.Approvals))
	}
	return errs
}

// errApprovalsMode is an approvals mode the tenant's configuration contradicts.
var errApprovalsMode = errors.New("the approvals mode contradicts SailPoint's configuration")

// CheckApprovals reads the tenant's approvalsMustBeExternal and refuses the combinations
// that contradict the approvals mode, saying what to change: approvals: backend with the
// flag on (ISC creates no approvals, so nothing would decide), approvals: accessbot with
// it off (ISC would ask its own approvers a second time after accessbot's).
func (s *Settings) CheckApprovals(ctx context.Context) (string, error) {
	b, err := New(s.Options())
	if err != nil {
		return "", err
	}
	set, err := b.ApprovalSettings(ctx)
	if err != nil {
		return "", fmt.Errorf("read SailPoint's access-request configuration: %w", err)
	}
	switch mode := s.mode(); {
	case mode == governance.ApprovalsBackend && set.MustBeExternal:
		return "", fmt.Errorf("%w: sailpoint.approvals is backend, but SailPoint's approvalsMustBeExternal is true, so ISC creates no approvals "+
			"and grants what accessbot submits at once: set approvalsMustBeExternal to false in ISC (PUT /v3/access-request-config), "+
			"or set sailpoint.approvals: accessbot", errApprovalsMode)
	case mode == governance.ApprovalsAccessbot && !set.MustBeExternal:
		return "", fmt.Errorf("%w: sailpoint.approvals is accessbot, but SailPoint's approvalsMustBeExternal is false, so ISC would ask its own "+
			"approvers a second time after accessbot's: set approvalsMustBeExternal to true in ISC (PUT /v3/access-request-config), "+
			"or set sailpoint.approvals: backend to let ISC's approvers decide in chat", errApprovalsMode)
	case mode == governance.ApprovalsBackend:
		return "approvals: backend — ISC's approval schemes decide (approvalsMustBeExternal is false)", nil
	}
	return "approvals: accessbot — accessbot's approvers decide, ISC creates no approvals (approvalsMustBeExternal is true)", nil
}

// StartCheck is start-up's check: a contradictory approvals set-up stops accessbot; a
// tenant that does not answer does not (doctor reports it), so an outage of ISC does not
// keep chat down.
func (s *Settings) StartCheck(ctx context.Context) (warning string, err error) {
	if _, err := s.CheckApprovals(ctx); err != nil {
		if errors.Is(err, errApprovalsMode) {
			return "", err
		}
		return "could not check SailPoint's approvals set-up at start: " + err.Error(), nil
	}
	return "", nil
}

// CheckItem checks a catalog item of the backend: its ref names an access profile, a
// role or an entitlement, unless the item stands for a search.
func (s *Settings) CheckItem(it governance.Item) []error {
	if _, _, err := ParseRef(it.Ref); err != nil && !it.Search {
		return []error{err}
	}
	if mode := cmp.Or(it.Approvals, governance.ApprovalsAccessbot); mode != s.mode() {
		return []error{fmt.Errorf("approvals is %s, but sailpoint.approvals is %s: SailPoint's approvalsMustBeExternal holds for the whole tenant, "+
			"so every SailPoint item decides the same way; remove approvals from the item, or change sailpoint.approvals", mode, s.mode())}
	}
	return nil
}

// Open returns the backend the settings describe.
func (s *Settings) Open(clock governance.Clock, log *slog.Logger) (governance.Backend, error) {
	o := s.Options()
	o.Clock, o.Logger = clock, log
	return New(o)
}

// Probe is `accessbot doctor`'s check: the tenant answers, and accessbot's token is an
// ORG_ADMIN's. It says what works, or returns what to fix.
func (s *Settings) Probe(ctx context.Context) (string, error) {
	b, err := New(s.Options())
	if err != nil {
		return "", err
	}
	if err := b.CheckAdmin(ctx); err != nil {
		return "", fmt.Errorf("%s: %w", s.BaseURL, err)
	}
	approvals, err := s.CheckApprovals(ctx)
	if err != nil {
		return "", err
	}
	out := fmt.Sprintf("%s answers; accessbot's token is an ORG_ADMIN's personal access token "+
		"(it may list other identities' access requests); %s", s.BaseURL, approvals)
	if s.mode() == governance.ApprovalsBackend && s.Connect.ClientID != "" {
		if s.CallbackURL == "" {
			return "", errors.New("connected accounts need accessbot's public URL (publicURL or ACCESSBOT_PUBLIC_URL), " +
				"to which ISC sends people back after they sign in")
		}
		connect, err := b.CheckConnect(ctx, s.CallbackURL)
		if err != nil {
			return "", err
		}
		out += "; " + connect
	}
	return out, nil
}
