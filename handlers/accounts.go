package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// Connections is the connected accounts as the edge uses them (governance/accounts'
// Manager): the chat commands, and the two pages of the sign-in.
type Connections interface {
	Backends() []string
	Link(ctx context.Context, u governance.ChatUser, backend string) (string, time.Time, error)
	Connections(ctx context.Context, email string) ([]governance.Connection, error)
	Disconnect(ctx context.Context, backend, email string) (bool, error)
	Begin(ctx context.Context, backend, ticket string) (governance.SignInStart, error)
	Finish(ctx context.Context, backend string, cb governance.SignInCallback) (governance.Connection, error)
}

// AccountsConfig is the connected accounts' side of the edge; without Connections, the
// connect commands say that no account can be connected, and the pages are not served.
type AccountsConfig struct {
	Connections Connections
	// SecureCookie marks the sign-in cookie Secure: true whenever the public URL is https.
	SecureCookie bool
	// CookieName is the sign-in cookie's name; default "accessbot_signin".
	CookieName string
}

// connectCommand carries out connect, disconnect and connections for who: the answers
// go only to them (the platform makes sure of that).
func connectCommand(ctx context.Context, acc Connections, who governance.Actor, cmd governance.Command) (voice.Message, error) {
	var can []string
	if acc != nil {
		can = acc.Backends()
	}
	if cmd.Kind != governance.CommandConnections && !slices.Contains(can, cmd.Backend) {
		return voice.Message{}, &governance.Problem{Err: governance.ErrUnknownBackend, Message: voice.NotConnectable(cmd.Backend, can)}
	}
	switch cmd.Kind {
	case governance.CommandConnect:
		link, expires, err := acc.Link(ctx, governance.ChatUser{Platform: who.Platform, ID: who.ChatID, Email: who.Person.Email,
			Name: who.Person.Name}, cmd.Backend)
		if err != nil {
			return voice.Message{}, err
		}
		return voice.ConnectLink(cmd.Backend, link, expires), nil
	case governance.CommandDisconnect:
		was, err := acc.Disconnect(ctx, cmd.Backend, who.Person.Email)
		return answer(func(was bool) voice.Message { return voice.Disconnected(cmd.Backend, was) }, was, err)
	default:
		if acc == nil {
			return voice.Connections(nil, nil), nil
		}
		cs, err := acc.Connections(ctx, who.Person.Email)
		return answer(func(cs []governance.Connection) voice.Message { return voice.Connections(cs, can) }, cs, err)
	}
}

// connectFirst is the answer to a click accessbot may carry out only as the clicker, who
// has not connected their account yet: why, and their own connect link. ok is false for
// any other error.
func connectFirst(ctx context.Context, acc Connections, who governance.Actor, err error) (voice.Message, bool) {
	var cf *governance.ConnectFirst
	if acc == nil || !errors.As(err, &cf) {
		return voice.Message{}, false
	}
	link, expires, lerr := acc.Link(ctx, governance.ChatUser{Platform: who.Platform, ID: who.ChatID, Email: who.Person.Email,
		Name: who.Person.Name}, cf.Backend)
	if lerr != nil {
		return voice.Message{}, false
	}
	return voice.ConnectFirst(cf.Message, cf.Backend, link, expires), true
}

// isConnectCommand reports whether cmd is about connected accounts.
func isConnectCommand(cmd governance.Command) bool {
	switch cmd.Kind {
	case governance.CommandConnect, governance.CommandDisconnect, governance.CommandConnections:
		return true
	}
	return false
}

// signIn serves the two pages of the sign-in.
type signIn struct {
	cfg AccountsConfig
	log *slog.Logger
	svc *governance.Service
	run func(func()) // runs work after the answer
}

// connect is GET /connect/{backend}?t=<link>: it opens the one-time link and sends the
// browser to the identity provider, with the sign-in cookie the callback must see again.
func (h *signIn) connect(w http.ResponseWriter, r *http.Request) {
	backend := r.PathValue("backend")
	if !slices.Contains(h.cfg.Connections.Backends(), backend) {
		h.page(w, http.StatusNotFound, voice.PageNotFound(backend))
		return
	}
	start, err := h.cfg.Connections.Begin(r.Context(), backend, r.URL.Query().Get("t"))
	if err != nil {
		h.refuse(w, r, backend, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: h.cookieName(), Value: start.Cookie, Path: "/oauth/" + backend + "/",
		MaxAge:   signInCookieAge,
		HttpOnly: true, Secure: h.cfg.SecureCookie, SameSite: http.SameSiteLaxMode})
	secure(w)
	http.Redirect(w, r, start.AuthorizeURL, http.StatusSeeOther)
}

// signInCookieAge is how long the browser keeps the sign-in cookie: the sign-in's own
// limit (governance/accounts.StateTTL), checked again from the state itself.
const signInCookieAge = 10 * 60

// callback is GET /oauth/{backend}/callback: the identity provider's answer.
func (h *signIn) callback(w http.ResponseWriter, r *http.Request) {
	backend := r.PathValue("backend")
	if !slices.Contains(h.cfg.Connections.Backends(), backend) {
		h.page(w, http.StatusNotFound, voice.PageNotFound(backend))
		return
	}
	q := r.URL.Query()
	cb := governance.SignInCallback{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), ErrorText: q.Get("error_description")}
	if c, err := r.Cookie(h.cookieName()); err == nil {
		cb.Cookie = c.Value
	}
	conn, err := h.cfg.Connections.Finish(r.Context(), backend, cb)
	// The cookie has done its work either way.
	http.SetCookie(w, &http.Cookie{Name: h.cookieName(), Path: "/oauth/" + backend + "/", MaxAge: -1,
		HttpOnly: true, Secure: h.cfg.SecureCookie, SameSite: http.SameSiteLaxMode})
	if err != nil {
		h.refuse(w, r, backend, err)
		return
	}
	h.page(w, http.StatusOK, voice.PageConnected(backend, conn.As))
	// Decisions the person clicked before they had connected are carried out now, as them.
	h.run(func() {
		ctx := context.WithoutCancel(r.Context())
		if err := h.svc.Connected(ctx, backend, conn.Who); err != nil {
			h.log.WarnContext(ctx, "decisions kept until connecting not all carried out", "backend", backend, "email", conn.Who.Email, "err", err)
		}
	})
}

func (h *signIn) cookieName() string {
	if h.cfg.CookieName != "" {
		return h.cfg.CookieName
	}
	return "accessbot_signin"
}

// refuse shows the page that says why the sign-in did not connect, with its status; a
// failure of accessbot's own is logged with the reference the page shows.
func (h *signIn) refuse(w http.ResponseWriter, r *http.Request, backend string, err error) {
	ctx := r.Context()
	chat, as := "", ""
	var rf *governance.SignInRefusal
	if errors.As(err, &rf) {
		chat, as = rf.Chat, rf.As.Email
	}
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, governance.ErrLinkExpired), errors.Is(err, governance.ErrLinkUsed), errors.Is(err, governance.ErrSignInUsed):
		status = http.StatusGone
	case errors.Is(err, governance.ErrWrongAccount), errors.Is(err, governance.ErrSignInDenied):
		status = http.StatusForbidden
	case errors.Is(err, governance.ErrOtherBrowser), errors.Is(err, governance.ErrLinkInvalid), errors.Is(err, governance.ErrSignInFailed):
	default:
		id := newRef()
		h.log.ErrorContext(ctx, "connect failed", "backend", backend, "path", r.URL.Path, "ref", id, "err", err)
		h.page(w, http.StatusInternalServerError, voice.PageRefused(err, backend, "", "", id))
		return
	}
	h.log.InfoContext(ctx, "connect refused", "backend", backend, "path", r.URL.Path, "reason", err.Error(), "email", chat)
	h.page(w, status, voice.PageRefused(err, backend, chat, as, ""))
}

// pageCSS is the pages' only style; the Content-Security-Policy allows it by its hash
// and nothing else: no script, no image, no frame, no form.
const pageCSS = `body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1d1d1f}` +
	`h1{font-size:1.5rem}h1.ok{color:#176c2f}h1.no{color:#a1261b}p{line-height:1.5}p.next{color:#555}`

var pageCSP = "default-src 'none'; style-src 'sha256-" + cssHash() + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func cssHash() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return base64.StdEncoding.EncodeToString(sum[:])
}

var pageHTML = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>accessbot — {{.Title}}</title><style>{{.CSS}}</style></head>
<body><h1 id="title" class="{{if .OK}}ok{{else}}no{{end}}">{{.Title}}</h1>
<p id="lead">{{.Lead}}</p>
{{if .Next}}<p id="next" class="next">{{.Next}}</p>{{end}}
</body></html>
`))

// secure sets the headers every page and redirect of the sign-in carries: nothing of
// the URL (which holds a link, a code or a state) leaks through Referer, nothing is cached,
// nothing frames the page.
func secure(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
}

func (h *signIn) page(w http.ResponseWriter, status int, p voice.Page) {
	secure(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pageHTML.Execute(w, struct {
		voice.Page
		CSS template.CSS
	}{p, template.CSS(pageCSS)})
}
