package handlers_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The connect flow in a real browser: headless Chromium (Debian's chromium, which
// .ci/test installs when it is missing) driven by chromedp, through accessbot's real HTTP
// handlers and the fake identity provider's login form.

// chromium is the browser's path: $CHROMIUM, else chromium (or chromium-browser, or
// google-chrome) on PATH, else /usr/bin/chromium. A missing browser fails the test, as a
// missing redis-server does: it is never skipped.
func chromium(t *testing.T) string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	t.Fatal("no Chromium for the browser tests: install it (apt-get install chromium; .ci/test does) or set CHROMIUM to its path")
	return ""
}

// browser is a fresh headless browser (its own profile, so its own cookies) for t.
func browser(t *testing.T) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTime(); cancel(); cancelAlloc() })
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	return ctx
}

// page is the title, the lead and the next step of an accessbot page the browser shows.
type shown struct{ title, lead, next string }

func readPage(t *testing.T, ctx context.Context) shown {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#title"))))
	text := func(sel string) string {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err)
		return s
	}
	return shown{title: text("#title"), lead: text("#lead"), next: text("#next")}
}

// openAndSignIn opens link in the browser, fills in the fake provider's login form as
// login and submits it (or cancels), and returns accessbot's page that follows.
func openAndSignIn(t *testing.T, ctx context.Context, link, login, password string, button string) shown {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), login), chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(button))))
	return readPage(t, ctx)
}

func TestBrowser_ConnectThroughTheLoginFormAndUseTheAccount(t *testing.T) {
	w := newConnectWorld(t, false)
	ctx := browser(t)

	link := w.connectLink("UCAROL")
	p := openAndSignIn(t, ctx, link, "carol", "carol-pw", "#signin")
	assert.Equal(t, "Connected", p.title)
	assert.Equal(t, "Connected as carol@example.com at fakeidp — you can close this tab.", p.lead)
	at, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(at, w.public+"/oauth/fakeidp/callback?"), at)

	// The account works: a token, refreshed when it expires, with the rotated refresh token kept.
	acc, err := w.accounts.Account(context.Background(), "fakeidp", "carol@example.com")
	require.NoError(t, err)
	assert.Equal(t, "idp-carol", acc.Identity().ID)
	tok, err := acc.Token(context.Background())
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(tok, "at-"))
	w.clock.Advance(2 * time.Hour)
	fresh, err := acc.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, tok, fresh)
	assert.Equal(t, 1, w.idp.Calls("token:refresh_token"))

	// Carol hears it in chat, and nothing of it reached a log.
	assert.Contains(t, w.lastDM("UCAROL"), "Your fakeidp account is connected as Carol (carol@example.com).")
	for _, secret := range w.idp.Tokens() {
		assert.NotContains(t, w.logs.String(), secret)
	}
	assert.NotContains(t, w.logs.String(), strings.SplitN(link, "?t=", 2)[1], "the link is never logged")
	assert.Equal(t, 1, w.idp.Calls("token:authorization_code"))
}

func TestBrowser_Refusals(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, w *world, ctx context.Context) shown
		lead string
	}{
		{"another person's account", func(t *testing.T, w *world, ctx context.Context) shown {
			return openAndSignIn(t, ctx, w.connectLink("UCAROL"), "mallory", "mallory-pw", "#signin")
		}, "You signed in to fakeidp as mallory@example.com, but you asked in chat as carol@example.com: accessbot connects only your own account."},
		{"a replayed callback", func(t *testing.T, w *world, ctx context.Context) shown {
			p := openAndSignIn(t, ctx, w.connectLink("UCAROL"), "carol", "carol-pw", "#signin")
			require.Equal(t, "Connected", p.title)
			callback, err := chromedp.Run(ctx, chromedp.Location())
			require.NoError(t, err)
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(callback)))
			return readPage(t, ctx)
		}, "This sign-in was completed already; it cannot be used a second time."},
		{"an expired link", func(t *testing.T, w *world, ctx context.Context) shown {
			link := w.connectLink("UCAROL")
			w.clock.Advance(11 * time.Minute)
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(link)))
			return readPage(t, ctx)
		}, "This link has expired: a connect link works for 10 minutes, and the sign-in must be finished within 10 minutes of opening it."},
		{"a sign-in finished too late", func(t *testing.T, w *world, ctx context.Context) shown {
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(w.connectLink("UCAROL")), chromedp.WaitVisible(chromedp.CSS("#username"))))
			w.clock.Advance(11 * time.Minute)
			require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#username"), "carol"),
				chromedp.SendKeys(chromedp.CSS("#password"), "carol-pw"), chromedp.Click(chromedp.CSS("#signin"))))
			return readPage(t, ctx)
		}, "This link has expired: a connect link works for 10 minutes, and the sign-in must be finished within 10 minutes of opening it."},
		{"a link used twice", func(t *testing.T, w *world, ctx context.Context) shown {
			link := w.connectLink("UCAROL")
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#username")),
				chromedp.Navigate(link)))
			return readPage(t, ctx)
		}, "This link was used already: each connect link works once, so that nobody else can use one you opened."},
		{"a callback in a browser without the cookie", func(t *testing.T, w *world, ctx context.Context) shown {
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(w.connectLink("UCAROL")), chromedp.WaitVisible(chromedp.CSS("#username"))))
			_, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{})
			require.NoError(t, err)
			return openAndSignInHere(t, ctx, "carol", "carol-pw")
		}, "This sign-in came back to another browser than the one that opened the link (or cookies are blocked for accessbot), so it was not accepted."},
		{"a cancelled sign-in", func(t *testing.T, w *world, ctx context.Context) shown {
			return openAndSignIn(t, ctx, w.connectLink("UCAROL"), "", "", "#deny")
		}, "fakeidp did not sign you in (the sign-in was cancelled or refused), so nothing was connected."},
	}
	w := newConnectWorld(t, false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, w.store.Ping(context.Background()))
			_, _ = w.accounts.Disconnect(context.Background(), "fakeidp", "carol@example.com")
			w.clock.Set(t0)
			ctx := browser(t)
			p := tt.run(t, w, ctx)
			assert.Equal(t, "Not connected", p.title)
			assert.Equal(t, tt.lead, p.lead)
			assert.Contains(t, p.next, "connect fakeidp", "the page says what to do")
			if tt.name != "a replayed callback" {
				_, err := w.accounts.Account(context.Background(), "fakeidp", "carol@example.com")
				assert.Error(t, err, "nothing was connected")
			}
		})
	}
}

// openAndSignInHere fills in the login form the browser shows now.
func openAndSignInHere(t *testing.T, ctx context.Context, login, password string) shown {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#username"), login),
		chromedp.SendKeys(chromedp.CSS("#password"), password), chromedp.Click(chromedp.CSS("#signin"))))
	return readPage(t, ctx)
}
