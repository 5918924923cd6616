package accounts_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/accounts"
	"github.com/accessbot/accessbot/governance/accounts/oauthfake"
	"github.com/accessbot/accessbot/governance/governancetest"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// testKey is a fixed 32-byte key, base64 ("k1:" + this is a valid ACCESSBOT_TOKEN_KEY).
const (
	testKey  = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	otherKey = "k0:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
)

var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

var carol = governance.ChatUser{Platform: "slack", ID: "UCAROL", Email: "carol@example.com", Name: "Carol"}

// told records the chat messages AccountConnected would send.
type told struct {
	mu  sync.Mutex
	got []string
}

func (t *told) AccountConnected(_ context.Context, to governance.Person, backend string, as governance.Identity) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.got = append(t.got, to.Email+" "+backend+" "+as.Email)
	return nil
}

type bed struct {
	t     *testing.T
	clock *governance.ManualClock
	idp   *oauthfake.Server
	store *redisstore.Store
	m     *accounts.Manager
	logs  *governancetest.Logs
	told  *told
	key   string
}

func newBed(t *testing.T) *bed {
	b := &bed{t: t, clock: governance.NewManualClock(t0), logs: &governancetest.Logs{}, told: &told{}, key: testKey}
	b.idp = oauthfake.Start(t, b.clock.Now)
	b.idp.AddUser(oauthfake.User{Login: "carol", Password: "pw-carol", ID: "id-carol", Email: "Carol@example.com", Name: "Carol"})
	b.idp.AddUser(oauthfake.User{Login: "mallory", Password: "pw-mallory", ID: "id-mallory", Email: "mallory@example.com", Name: "Mallory"})
	b.idp.AddClient(oauthfake.Client{ID: "accessbot", Secret: "client-secret", RequirePKCE: true,
		RedirectURIs: []string{"https://bot.example.com/oauth/fakeidp/callback"}})
	b.store = redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	b.start()
	return b
}

func (b *bed) start() {
	keys, err := accounts.ParseKeys(b.key)
	require.NoError(b.t, err)
	b.m, err = accounts.New(accounts.Options{Store: b.store, Keys: keys, PublicURL: "https://bot.example.com/",
		Connectors: map[string]governance.Connector{"fakeidp": &oauthfake.Connector{Server: b.idp,
			Client: oauthfake.Client{ID: "accessbot", Secret: "client-secret"}, PKCE: true}},
		Notifier: b.told, Clock: b.clock, Logger: slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(b.t, err)
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// signIn submits the fake's login form for the authorization request at authorizeURL and
// returns the callback's query.
func (b *bed) signIn(authorizeURL, login, password string) url.Values {
	b.t.Helper()
	u, err := url.Parse(authorizeURL)
	require.NoError(b.t, err)
	f := u.Query()
	f.Set("username", login)
	f.Set("password", password)
	f.Set("action", "signin")
	resp, err := noRedirect.PostForm(b.idp.AuthURL(), f)
	require.NoError(b.t, err)
	resp.Body.Close()
	require.Equal(b.t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(b.t, err)
	require.Equal(b.t, "/oauth/fakeidp/callback", loc.Path)
	return loc.Query()
}

// connect takes the chat user through the whole flow as login.
func (b *bed) connect(u governance.ChatUser, login, password string) (governance.Connection, error) {
	b.t.Helper()
	return b.m.Finish(context.Background(), "fakeidp", b.signedIn(u, login, password))
}

// begin starts the chat user's sign-in from a fresh connect link.
func (b *bed) begin(u governance.ChatUser) governance.SignInStart {
	b.t.Helper()
	ctx := context.Background()
	link, _, err := b.m.Link(ctx, u, "fakeidp")
	require.NoError(b.t, err)
	begun, err := b.m.Begin(ctx, "fakeidp", ticket(b.t, link))
	require.NoError(b.t, err)
	return begun
}

// signedIn is the chat user's sign-in as login up to the provider's redirect back: the
// callback Finish is given.
func (b *bed) signedIn(u governance.ChatUser, login, password string) governance.SignInCallback {
	b.t.Helper()
	begun := b.begin(u)
	q := b.signIn(begun.AuthorizeURL, login, password)
	return governance.SignInCallback{State: q.Get("state"), Code: q.Get("code"), Cookie: begun.Cookie}
}

// connectCarol takes Carol through the whole flow as herself, which must succeed.
func (b *bed) connectCarol() {
	b.t.Helper()
	_, err := b.connect(carol, "carol", "pw-carol")
	require.NoError(b.t, err)
}

// carol is Carol's connected account, which must be there.
func (b *bed) carol() governance.Account {
	b.t.Helper()
	acc, err := b.m.Account(context.Background(), "fakeidp", "carol@example.com")
	require.NoError(b.t, err)
	return acc
}

func ticket(t testing.TB, link string) string {
	u, err := url.Parse(link)
	require.NoError(t, err)
	return u.Query().Get("t")
}

func TestConnect_StoresTheAccountAndTellsThePerson(t *testing.T) {
	b := newBed(t)
	c, err := b.connect(carol, "carol", "pw-carol")
	require.NoError(t, err)
	assert.Equal(t, "id-carol", c.As.ID)
	assert.Equal(t, []string{"carol@example.com fakeidp Carol@example.com"}, b.told.got)

	acc, err := b.m.Account(context.Background(), "fakeidp", "CAROL@example.com")
	require.NoError(t, err)
	assert.Equal(t, "id-carol", acc.Identity().ID)
	tok, err := acc.Token(context.Background())
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(tok, "at-"))

	conns, err := b.m.Connections(context.Background(), "carol@example.com")
	require.NoError(t, err)
	require.Len(t, conns, 1)
	assert.Equal(t, governance.Connection{Backend: "fakeidp", As: c.As, Since: t0}, conns[0])
}

func TestLink_PointsAtThePublicURL(t *testing.T) {
	b := newBed(t)
	link, expires, err := b.m.Link(context.Background(), carol, "fakeidp")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(link, "https://bot.example.com/connect/fakeidp?t="), link)
	assert.Equal(t, t0.Add(10*time.Minute), expires)
	assert.Equal(t, "https://bot.example.com/oauth/fakeidp/callback", b.m.RedirectURL("fakeidp"))

	_, _, err = b.m.Link(context.Background(), carol, "nosuch")
	assert.ErrorIs(t, err, accounts.ErrNoConnector)
}

func TestBegin_SendsPKCEAndASealedState(t *testing.T) {
	b := newBed(t)
	link, _, err := b.m.Link(context.Background(), carol, "fakeidp")
	require.NoError(t, err)
	begun, err := b.m.Begin(context.Background(), "fakeidp", ticket(t, link))
	require.NoError(t, err)
	u, err := url.Parse(begun.AuthorizeURL)
	require.NoError(t, err)
	q := u.Query()
	assert.Equal(t, "S256", q.Get("code_challenge_method"))
	assert.Len(t, q.Get("code_challenge"), 43)
	assert.Equal(t, "code", q.Get("response_type"))
	assert.Equal(t, "https://bot.example.com/oauth/fakeidp/callback", q.Get("redirect_uri"))
	assert.Empty(t, q.Get("client_secret"), "the client secret never goes to the browser")
	assert.NotContains(t, q.Get("state"), "carol", "the state is sealed, not readable")
	assert.Equal(t, t0.Add(10*time.Minute), begun.Expires)
}

func TestConnect_Refusals(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(b *bed) error
		want error
	}{
		{"another person's account", func(b *bed) error {
			_, err := b.connect(carol, "mallory", "pw-mallory")
			return err
		}, governance.ErrWrongAccount},
		{"a link used twice", func(b *bed) error {
			link, _, _ := b.m.Link(ctx, carol, "fakeidp")
			_, err := b.m.Begin(ctx, "fakeidp", ticket(b.t, link))
			require.NoError(b.t, err)
			_, err = b.m.Begin(ctx, "fakeidp", ticket(b.t, link))
			return err
		}, governance.ErrLinkUsed},
		{"an expired link", func(b *bed) error {
			link, _, _ := b.m.Link(ctx, carol, "fakeidp")
			b.clock.Advance(10 * time.Minute)
			_, err := b.m.Begin(ctx, "fakeidp", ticket(b.t, link))
			return err
		}, governance.ErrLinkExpired},
		{"a link for another backend", func(b *bed) error {
			link, _, _ := b.m.Link(ctx, carol, "fakeidp")
			_, err := b.m.Begin(ctx, "fakeidp", ticket(b.t, link)+"x")
			return err
		}, governance.ErrLinkInvalid},
		{"a sign-in that took too long", func(b *bed) error {
			cb := b.signedIn(carol, "carol", "pw-carol")
			b.clock.Advance(11 * time.Minute)
			_, err := b.m.Finish(ctx, "fakeidp", cb)
			return err
		}, governance.ErrLinkExpired},
		{"a replayed callback", func(b *bed) error {
			cb := b.signedIn(carol, "carol", "pw-carol")
			_, err := b.m.Finish(ctx, "fakeidp", cb)
			require.NoError(b.t, err)
			_, err = b.m.Finish(ctx, "fakeidp", cb)
			return err
		}, governance.ErrSignInUsed},
		{"no cookie", func(b *bed) error {
			cb := b.signedIn(carol, "carol", "pw-carol")
			cb.Cookie = ""
			_, err := b.m.Finish(ctx, "fakeidp", cb)
			return err
		}, governance.ErrOtherBrowser},
		{"the provider refused", func(b *bed) error {
			begun := b.begin(carol)
			u, _ := url.Parse(begun.AuthorizeURL)
			_, err := b.m.Finish(ctx, "fakeidp", governance.SignInCallback{State: u.Query().Get("state"), Error: "access_denied", Cookie: begun.Cookie})
			return err
		}, governance.ErrSignInDenied},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBed(t)
			err := tc.run(b)
			require.ErrorIs(t, err, tc.want)
			if tc.want == governance.ErrSignInUsed {
				assert.Len(t, b.told.got, 1, "the first callback connected; the replay changed nothing")
				return
			}
			_, err = b.m.Account(ctx, "fakeidp", "carol@example.com")
			assert.ErrorIs(t, err, governance.ErrNotConnected, "nothing was connected")
			assert.Empty(t, b.told.got)
		})
	}
}

func TestConnect_WrongPersonSaysWhoSignedIn(t *testing.T) {
	b := newBed(t)
	_, err := b.connect(carol, "mallory", "pw-mallory")
	var r *governance.SignInRefusal
	require.ErrorAs(t, err, &r)
	assert.Equal(t, "carol@example.com", r.Chat)
	assert.Equal(t, "mallory@example.com", r.As.Email)
}

func TestAccount_NeverConnected(t *testing.T) {
	b := newBed(t)
	_, err := b.m.Account(context.Background(), "fakeidp", "carol@example.com")
	assert.ErrorIs(t, err, governance.ErrNotConnected)
}

func TestToken_RefreshesAndKeepsTheRotatedRefreshToken(t *testing.T) {
	b := newBed(t)
	ctx := context.Background()
	b.connectCarol()
	acc := b.carol()
	first, err := acc.Token(ctx)
	require.NoError(t, err)
	again, err := acc.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, first, again, "a current token is reused")
	assert.Equal(t, 0, b.idp.Calls("token:refresh_token"))

	for i := range 3 { // each refresh uses the refresh token the one before rotated
		b.clock.Advance(time.Hour)
		tok, err := acc.Token(ctx)
		require.NoError(t, err, "refresh %d", i+1)
		assert.NotEqual(t, first, tok)
		first = tok
	}
	assert.Equal(t, 3, b.idp.Calls("token:refresh_token"))

	// A restarted process (another replica) reads the rotated refresh token from the store.
	b.start()
	b.clock.Advance(time.Hour)
	acc = b.carol()
	_, err = acc.Token(ctx)
	require.NoError(t, err)
}

func TestToken_RevokedGrantMeansConnectAgain(t *testing.T) {
	b := newBed(t)
	ctx := context.Background()
	b.connectCarol()
	acc := b.carol()
	b.idp.Revoke("carol")
	b.clock.Advance(time.Hour)
	_, err := acc.Token(ctx)
	require.ErrorIs(t, err, governance.ErrConnectAgain)
	_, err = b.m.Account(ctx, "fakeidp", "carol@example.com")
	assert.ErrorIs(t, err, governance.ErrNotConnected, "the dead grant is forgotten")
	assert.Contains(t, b.logs.String(), "connect again")
}

func TestDisconnect_ForgetsTheAccount(t *testing.T) {
	b := newBed(t)
	ctx := context.Background()
	b.connectCarol()
	gone, err := b.m.Disconnect(ctx, "fakeidp", "carol@example.com")
	require.NoError(t, err)
	assert.True(t, gone)
	gone, err = b.m.Disconnect(ctx, "fakeidp", "carol@example.com")
	require.NoError(t, err)
	assert.False(t, gone)
	_, err = b.m.Account(ctx, "fakeidp", "carol@example.com")
	assert.ErrorIs(t, err, governance.ErrNotConnected)
}

func TestVault_ASealedAccountCannotBeMovedToSomeoneElse(t *testing.T) {
	b := newBed(t)
	ctx := context.Background()
	b.connectCarol()
	sealed, ok, err := b.store.SealedAccount(ctx, "fakeidp", "carol@example.com")
	require.NoError(t, err)
	require.True(t, ok)
	_, err = b.store.SwapAccount(ctx, "fakeidp", "mallory@example.com", nil, sealed)
	require.NoError(t, err)
	_, err = b.m.Account(ctx, "fakeidp", "mallory@example.com")
	assert.ErrorIs(t, err, governance.ErrConnectAgain, "carol's sealed tokens do not open as mallory's")
}

func TestVault_KeyRotation(t *testing.T) {
	b := newBed(t)
	ctx := context.Background()
	b.connectCarol()

	b.key = strings.Replace(otherKey, "k0", "k2", 1) + "," + testKey // a new key first, the old one still opens
	b.start()
	acc := b.carol()
	b.clock.Advance(time.Hour)
	_, err := acc.Token(ctx) // the refresh re-seals under the new key
	require.NoError(t, err)
	sealed, _, err := b.store.SealedAccount(ctx, "fakeidp", "carol@example.com")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(sealed), "k2."), "re-sealed under the new key")

	b.key = strings.Replace(otherKey, "k0", "k2", 1) // the old key retired
	b.start()
	acc = b.carol()
	_, err = acc.Token(ctx)
	require.NoError(t, err)

	b.key = otherKey // a key that never sealed it: connect again
	b.start()
	_, err = b.m.Account(ctx, "fakeidp", "carol@example.com")
	assert.ErrorIs(t, err, governance.ErrConnectAgain)
}

// TestTokens_NeverLoggedNorInErrors runs the flow and its failures and looks for every
// token the provider issued in the log and in every error.
func TestTokens_NeverLoggedNorInErrors(t *testing.T) {
	b := newBed(t)
	ctx := context.Background()
	var errs []error
	b.connectCarol()
	_, err := b.connect(carol, "mallory", "pw-mallory")
	errs = append(errs, err)
	acc := b.carol()
	b.clock.Advance(time.Hour)
	_, err = acc.Token(ctx)
	require.NoError(t, err)
	b.idp.Revoke("carol")
	b.clock.Advance(time.Hour)
	_, err = acc.Token(ctx)
	errs = append(errs, err)

	tokens := b.idp.Tokens()
	require.NotEmpty(t, tokens)
	logs := b.logs.String()
	require.NotEmpty(t, logs)
	for _, tok := range tokens {
		assert.NotContains(t, logs, tok)
		for _, e := range errs {
			require.Error(t, e)
			assert.NotContains(t, e.Error(), tok)
		}
	}
	assert.NotContains(t, logs, "client-secret")
}

func TestParseKeys(t *testing.T) {
	for _, tc := range []struct{ name, in, err string }{
		{"one key", testKey, ""},
		{"two keys", testKey + "," + otherKey, ""},
		{"empty", "", "empty"},
		{"no id", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "kid:<base64>"},
		{"short key", "k1:c2hvcnQ=", "32 bytes"},
		{"same id twice", testKey + "," + testKey, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := accounts.ParseKeys(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.NotContains(t, err.Error(), "MDEyMzQ1", "the error never repeats a key")
				return
			}
			require.NoError(t, err)
			assert.NoError(t, k.Check())
			sealed := k.Seal([]byte("secret"), []byte("ad"))
			_, err = k.Open(sealed, []byte("other ad"))
			assert.True(t, errors.Is(err, accounts.ErrSealed))
		})
	}
}

func TestSettings_Check(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    accounts.Settings
		need []string
		errs []string
	}{
		{"nothing needed", accounts.Settings{}, nil, nil},
		{"both needed", accounts.Settings{}, []string{"sailpoint"}, []string{"publicURL", "ACCESSBOT_TOKEN_KEY"}},
		{"http beyond loopback", accounts.Settings{PublicURL: "http://bot.example.com", TokenKey: testKey}, []string{"sailpoint"}, []string{"use https"}},
		{"http on loopback", accounts.Settings{PublicURL: "http://127.0.0.1:8080", TokenKey: testKey}, []string{"sailpoint"}, nil},
		{"https", accounts.Settings{PublicURL: "https://bot.example.com", TokenKey: testKey}, []string{"sailpoint"}, nil},
		{"bad key even when not needed", accounts.Settings{TokenKey: "k1:short"}, nil, []string{"32 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := tc.s.Check(tc.need)
			require.Len(t, errs, len(tc.errs), "%v", errs)
			for i, want := range tc.errs {
				assert.Contains(t, errs[i].Error(), want)
			}
		})
	}
}

func TestSettings_Probe(t *testing.T) {
	b := newBed(t)
	s := accounts.Settings{PublicURL: "https://bot.example.com", TokenKey: testKey}
	got, err := s.Probe(context.Background(), map[string]governance.Connector{"fakeidp": &oauthfake.Connector{Server: b.idp,
		Client: oauthfake.Client{ID: "accessbot"}}})
	require.NoError(t, err)
	assert.Contains(t, got, "seals and opens")
	_, err = s.Probe(context.Background(), map[string]governance.Connector{"fakeidp": &oauthfake.Connector{Server: b.idp}})
	assert.ErrorContains(t, err, "client id")
}

// FuzzKeyringOpen: whatever arrives as a link's ticket or a state (outside input) opens only
// if the ring sealed it, and never panics.
func FuzzKeyringOpen(f *testing.F) {
	keys, err := accounts.ParseKeys(testKey)
	require.NoError(f, err)
	f.Add(keys.Seal([]byte(`{"n":"1"}`), []byte("ad")))
	f.Add("k1.")
	f.Add("k1.AAAA")
	f.Add("nokey")
	f.Add(".....")
	f.Fuzz(func(t *testing.T, sealed string) {
		plain, err := keys.Open(sealed, []byte("other"))
		if err == nil {
			t.Fatalf("opened %q for other associated data: %q", sealed, plain)
		}
		if !errors.Is(err, accounts.ErrSealed) {
			t.Fatalf("error %v does not wrap ErrSealed", err)
		}
	})
}

// A refusal that blames accessbot's own OAuth client (a rotated client secret) is the
// operator's to fix: nobody's account is forgotten for it.
func TestToken_ABrokenClientForgetsNobody(t *testing.T) {
	b := newBed(t)
	ctx := context.Background()
	b.connectCarol()
	keys, err := accounts.ParseKeys(testKey)
	require.NoError(t, err)
	m, err := accounts.New(accounts.Options{Store: b.store, Keys: keys, PublicURL: "https://bot.example.com", Clock: b.clock,
		Logger: slog.New(slog.NewJSONHandler(b.logs, nil)),
		Connectors: map[string]governance.Connector{"fakeidp": &oauthfake.Connector{Server: b.idp,
			Client: oauthfake.Client{ID: "accessbot", Secret: "rotated-away"}, PKCE: true}}})
	require.NoError(t, err)
	acc, err := m.Account(ctx, "fakeidp", "carol@example.com")
	require.NoError(t, err)
	b.clock.Advance(time.Hour)
	_, err = acc.Token(ctx)
	require.Error(t, err)
	assert.NotErrorIs(t, err, governance.ErrConnectAgain)
	assert.Contains(t, err.Error(), "invalid_client")
	assert.NotContains(t, err.Error(), "rotated-away")
	_, err = b.m.Account(ctx, "fakeidp", "carol@example.com")
	assert.NoError(t, err, "the account is kept")
}
