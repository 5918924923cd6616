package governance

import (
	"context"
	"errors"
	"time"
)

// Connected accounts: a person links their own account at a backend once
// (/access connect <backend>), and accessbot then acts in that backend as them — deciding
// an approval, making a request — so that the backend records the real person. Nothing
// here knows OAuth's wire format; governance/accounts carries out the sign-in and keeps the
// tokens, and each backend that supports it describes its sign-in with a Connector.

// The conditions of a person who cannot be acted for: both mean "send them the connect link".
var (
	ErrNotConnected = errors.New("no connected account")
	ErrConnectAgain = errors.New("the connected account no longer works")
)

// ConnectFirst refuses to act for a person in Backend before they have connected their
// account there (or since their grant died); the Problem says so and what happens to
// what they asked. Chat edges answer it with the person's connect link.
type ConnectFirst struct {
	Backend string
	*Problem
}

func (c *ConnectFirst) Unwrap() error { return c.Problem }

// Accounts are people's connected accounts at the backends.
type Accounts interface {
	// Account returns the person's connected account at backend. A person who never
	// connected gets an error wrapping ErrNotConnected; one whose grant the provider
	// revoked or let expire gets one wrapping ErrConnectAgain.
	Account(ctx context.Context, backend, email string) (Account, error)
}

// Account is one person's connected account at one backend.
type Account interface {
	// Identity is who the backend said the person is when they connected.
	Identity() Identity
	// Token returns a current access token, refreshing it when it has expired; an error
	// wrapping ErrConnectAgain when the provider no longer honours the grant.
	Token(ctx context.Context) (string, error)
}

// SignIn describes a backend's OAuth 2.0 authorization-code sign-in. The redirect URL is
// accessbot's own (<public URL>/oauth/<backend>/callback) and is not part of it.
type SignIn struct {
	AuthURL      string // the authorize endpoint the browser is sent to
	TokenURL     string // the token endpoint accessbot exchanges the code at
	ClientID     string
	ClientSecret string // empty for a public client
	Scopes       []string
	PKCE         bool // send an S256 code challenge (RFC 7636)
}

// Connector is implemented by a backend whose users can connect their accounts.
type Connector interface {
	// SignIn says how to sign in; it may ask the backend (e.g. for a tenant's own
	// authorize host).
	SignIn(ctx context.Context) (SignIn, error)
	// WhoIs says whose account a freshly issued access token belongs to. extra reads a
	// field of the token response beyond the standard ones (SailPoint's identity_id).
	WhoIs(ctx context.Context, accessToken string, extra func(key string) any) (Identity, error)
}

// Connectable is implemented by a Connector whose sign-in depends on its configuration
// (an OAuth client for connected accounts that an operator may or may not have set up):
// Connectable reports whether people can connect their accounts now. A Connector without
// it always can. Where none can, accessbot needs no public URL and no token key.
type Connectable interface {
	Connectable() bool
}

// The refusals of the connect flow (governance/accounts), each told to the person on the
// page the browser shows, with what to do next (bot/voice.ConnectPage).
var (
	ErrLinkExpired  = errors.New("the connect link has expired")
	ErrLinkUsed     = errors.New("the connect link was used already")
	ErrLinkInvalid  = errors.New("the connect link is not one accessbot made")
	ErrSignInUsed   = errors.New("this sign-in was completed already")
	ErrOtherBrowser = errors.New("the sign-in came back to another browser")
	ErrSignInDenied = errors.New("the identity provider did not sign the person in")
	ErrSignInFailed = errors.New("the identity provider's answer could not be used")
	ErrWrongAccount = errors.New("the account signed in to is not the chat user's")
)

// Connection is one connected account as its owner is shown it: never a token.
type Connection struct {
	Backend string
	As      Identity  // who the backend said the person is
	Since   time.Time // when they connected
	// Who connected, as the chat platform knows them; set by a sign-in that just finished.
	Who Actor
}

// AccountNotifier tells a person, in chat, that their account at backend is now connected
// as the identity as. bot.Router and each platform's Notifier implement it.
type AccountNotifier interface {
	AccountConnected(ctx context.Context, to Person, backend string, as Identity) error
}

// SignInStart is a sign-in under way: where to send the browser, and the value of the
// cookie it must bring back to the callback.
type SignInStart struct {
	AuthorizeURL string
	Cookie       string
	Expires      time.Time // when the sign-in no longer completes
}

// SignInCallback is what the identity provider sent back to accessbot's callback, with
// the browser's sign-in cookie.
type SignInCallback struct {
	State, Code      string
	Error, ErrorText string // error and error_description, when the provider refused
	Cookie           string // "" when the browser brought none
}

// SignInRefusal is why a sign-in did not connect the account: Err is one of the
// connect-flow errors above; Chat is the chat user's e-mail and As whom the person signed
// in as, where known. Detail is for the log only.
type SignInRefusal struct {
	Err    error
	Chat   string
	As     Identity
	Detail error
}

func (r *SignInRefusal) Error() string {
	if r.Detail != nil {
		return r.Err.Error() + ": " + r.Detail.Error()
	}
	return r.Err.Error()
}

// Unwrap is the connect-flow error.
func (r *SignInRefusal) Unwrap() error { return r.Err }
