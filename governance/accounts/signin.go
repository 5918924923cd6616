package accounts

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/accessbot/accessbot/governance"
)

// Link makes the one-time connect link for the chat user u at backend: it opens
// <public URL>/connect/<backend>?t=<ticket>, at most once, within LinkTTL.
func (m *Manager) Link(ctx context.Context, u governance.ChatUser, backend string) (string, time.Time, error) {
	if _, err := m.connector(backend); err != nil {
		return "", time.Time{}, err
	}
	if u.Email == "" || u.Platform == "" || u.ID == "" {
		return "", time.Time{}, errors.New("accounts: a connect link needs the chat user's platform, id and e-mail")
	}
	expires := m.clock.Now().Add(LinkTTL).Truncate(time.Second)
	t := m.sealTicket(link{Nonce: nonce(), Backend: backend, Platform: u.Platform, ChatID: u.ID, Email: strings.ToLower(u.Email),
		Name: u.Name, Expires: expires.Unix()}, linkAD(backend))
	m.log.InfoContext(ctx, "connect link made", "backend", backend, "email", u.Email, "platform", u.Platform, "expires", expires)
	return m.public + "/connect/" + url.PathEscape(backend) + "?t=" + url.QueryEscape(t), expires, nil
}

// RedirectURL is accessbot's callback for backend, which the provider's OAuth client must
// have registered exactly.
func (m *Manager) RedirectURL(backend string) string {
	return m.public + "/oauth/" + url.PathEscape(backend) + "/callback"
}

// Begin opens a connect link (once) and starts the sign-in: the authorization request
// with a sealed, single-use state, PKCE S256 where the backend's sign-in asks for it, and
// a cookie value the callback must see again. It refuses a link that is not accessbot's
// (governance.ErrLinkInvalid), expired (ErrLinkExpired) or used (ErrLinkUsed).
func (m *Manager) Begin(ctx context.Context, backend, ticket string) (governance.SignInStart, error) {
	c, err := m.connector(backend)
	if err != nil {
		return governance.SignInStart{}, err
	}
	var l link
	if err := m.openTicket(ticket, linkAD(backend), &l, func() int64 { return l.Expires }, governance.ErrLinkExpired); err != nil {
		return governance.SignInStart{}, err
	}
	// The backend is asked first, so that a backend that does not answer leaves the link unspent.
	in, err := c.SignIn(ctx)
	if err != nil {
		return governance.SignInStart{}, fmt.Errorf("sign-in of %s: %w", backend, err)
	}
	first, err := m.store.ClaimOnce(ctx, "connect-link:"+l.Nonce, LinkTTL+time.Hour)
	if err != nil {
		return governance.SignInStart{}, err
	}
	if !first {
		return governance.SignInStart{}, governance.ErrLinkUsed
	}
	cookie := randomText()
	expires := m.clock.Now().Add(StateTTL).Truncate(time.Second)
	s := state{link: l, Link: l.Nonce, Browser: browserHash(cookie)}
	s.Nonce, s.Expires = nonce(), expires.Unix()
	var opts []oauth2.AuthCodeOption
	if in.PKCE {
		s.Verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(s.Verifier))
	}
	authURL := m.config(backend, in).AuthCodeURL(m.sealTicket(s, stateAD(backend)), opts...)
	m.log.InfoContext(ctx, "sign-in begun", "backend", backend, "email", l.Email, "pkce", in.PKCE)
	return governance.SignInStart{AuthorizeURL: authURL, Cookie: cookie, Expires: expires}, nil
}

// Finish completes a sign-in at the callback: the state must be accessbot's, current and
// unused, the cookie the browser's that began it; the code is exchanged (with the PKCE
// verifier), the backend says whose account it is, and only the chat user's own account
// is connected. The person is then told in chat. Every refusal is a *governance.SignInRefusal.
func (m *Manager) Finish(ctx context.Context, backend string, cb governance.SignInCallback) (governance.Connection, error) {
	c, err := m.connector(backend)
	if err != nil {
		return governance.Connection{}, err
	}
	var s state
	if err := m.openTicket(cb.State, stateAD(backend), &s, func() int64 { return s.Expires }, governance.ErrLinkExpired); err != nil {
		if errInvalid(err) {
			return governance.Connection{}, &governance.SignInRefusal{Err: governance.ErrLinkInvalid, Detail: err}
		}
		return governance.Connection{}, &governance.SignInRefusal{Err: governance.ErrLinkExpired, Chat: s.Email}
	}
	first, err := m.store.ClaimOnce(ctx, "connect-state:"+s.Nonce, StateTTL+time.Hour)
	if err != nil {
		return governance.Connection{}, err
	}
	if !first {
		return governance.Connection{}, &governance.SignInRefusal{Err: governance.ErrSignInUsed, Chat: s.Email}
	}
	if cb.Cookie == "" || browserHash(cb.Cookie) != s.Browser {
		return governance.Connection{}, &governance.SignInRefusal{Err: governance.ErrOtherBrowser, Chat: s.Email}
	}
	if cb.Error != "" {
		return governance.Connection{}, &governance.SignInRefusal{Err: governance.ErrSignInDenied, Chat: s.Email,
			Detail: fmt.Errorf("the provider answered %s: %s", clip(cb.Error), clip(cb.ErrorText))}
	}
	if cb.Code == "" {
		return governance.Connection{}, &governance.SignInRefusal{Err: governance.ErrSignInFailed, Chat: s.Email, Detail: errors.New("no code")}
	}
	in, err := c.SignIn(ctx)
	if err != nil {
		return governance.Connection{}, fmt.Errorf("sign-in of %s: %w", backend, err)
	}
	var opts []oauth2.AuthCodeOption
	if s.Verifier != "" {
		opts = append(opts, oauth2.VerifierOption(s.Verifier))
	}
	tok, err := m.config(backend, in).Exchange(m.httpContext(ctx), cb.Code, opts...)
	if err != nil {
		return governance.Connection{}, &governance.SignInRefusal{Err: governance.ErrSignInFailed, Chat: s.Email, Detail: tokenError("exchange the code", err)}
	}
	who, err := c.WhoIs(ctx, tok.AccessToken, tok.Extra)
	if err != nil {
		return governance.Connection{}, &governance.SignInRefusal{Err: governance.ErrSignInFailed, Chat: s.Email, Detail: fmt.Errorf("ask %s whose account it is: %w", backend, err)}
	}
	if who.Email == "" || !strings.EqualFold(who.Email, s.Email) {
		m.log.WarnContext(ctx, "sign-in refused: another person's account", "backend", backend, "email", s.Email,
			"signed_in_as", who.Email, "identity", who.ID, "platform", s.Platform, "chat_id", s.ChatID)
		return governance.Connection{}, &governance.SignInRefusal{Err: governance.ErrWrongAccount, Chat: s.Email, As: who}
	}
	now := m.clock.Now()
	r := record{ID: who.ID, Email: who.Email, Name: who.Name, Access: tok.AccessToken, Refresh: tok.RefreshToken,
		Expiry: m.expiry(tok), Since: now, Platform: s.Platform, ChatID: s.ChatID}
	if _, err := m.store.SwapAccount(ctx, backend, s.Email, nil, m.seal(backend, s.Email, r)); err != nil {
		return governance.Connection{}, err
	}
	m.log.InfoContext(ctx, "account connected", "backend", backend, "email", s.Email, "identity", who.ID,
		"platform", s.Platform, "chat_id", s.ChatID, "refreshable", tok.RefreshToken != "")
	if m.notifier != nil {
		if err := m.notifier.AccountConnected(ctx, governance.Person{Email: s.Email, Name: s.Name}, backend, who); err != nil {
			m.log.WarnContext(ctx, "connected, but the chat message was not sent", "backend", backend, "email", s.Email, "err", err)
		}
	}
	return governance.Connection{Backend: backend, As: who, Since: now, Who: governance.Actor{
		Person: governance.Person{Email: s.Email, Name: s.Name}, Platform: s.Platform, ChatID: s.ChatID}}, nil
}

// config is the oauth2 configuration of backend's sign-in.
func (m *Manager) config(backend string, in governance.SignIn) *oauth2.Config {
	return &oauth2.Config{ClientID: in.ClientID, ClientSecret: in.ClientSecret, Scopes: in.Scopes,
		RedirectURL: m.RedirectURL(backend), Endpoint: oauth2.Endpoint{AuthURL: in.AuthURL, TokenURL: in.TokenURL}}
}

// httpContext carries the HTTP client the token endpoint is called with.
func (m *Manager) httpContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, m.client)
}

// expiry is when tok's access token expires by the Manager's clock (oauth2 reckons with
// the wall clock); zero when the provider gave no lifetime.
func (m *Manager) expiry(tok *oauth2.Token) time.Time {
	if tok.ExpiresIn > 0 {
		return m.clock.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return time.Time{}
}

// tokenError describes a failed call to a token endpoint without its body: the status
// and the OAuth error code, never what was sent or received besides.
func tokenError(what string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Errorf("%s: the token endpoint answered %d %s", what, status, clip(re.ErrorCode))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %s %s: %w", what, ue.Op, redactURL(ue.URL), ue.Err)
	}
	return fmt.Errorf("%s: %s", what, strings.ReplaceAll(err.Error(), "\n", " "))
}

// redactURL drops a URL's query, which no token endpoint needs in an error.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		u.RawQuery, u.User = "", nil
		return u.String()
	}
	return "the token endpoint"
}

// randomText is 256 random bits, URL-safe.
func randomText() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// CookieName is the sign-in cookie's name; its path is /oauth/<backend>/.
const CookieName = "accessbot_signin"

// statusOf is the HTTP status of a token endpoint's refusal, 0 when it is not one.
func statusOf(err error) (int, string) {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil {
			return re.Response.StatusCode, re.ErrorCode
		}
		return 0, re.ErrorCode
	}
	return 0, ""
}
