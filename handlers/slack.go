package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// replyTimeout bounds one reply to a response_url.
const replyTimeout = 5 * time.Second

// commandTimeout bounds a slash command's work, also when it goes on after the answer:
// a users.info (10 s) and a backend's catalog search (20 s), with room to spare.
const commandTimeout = time.Minute

type slackHandler struct {
	cfg Config
	svc *governance.Service
	log *slog.Logger
	// start runs work (a Teams command's) in the Background, waiting at most until ctx
	// ends for a slot, and reports whether it runs; enter takes a slot for work the caller
	// does itself (a slash command's), waiting at most until ctx ends, tryEnter one free
	// now, and leave gives it back.
	start    func(ctx context.Context, f func()) bool
	enter    func(ctx context.Context) bool
	tryEnter func() bool
	leave    func()
}

// verified checks size and signature, then hands the parsed form on. Refusals are logged
// with the reason and the peer, never with the body or the secret.
func (s *slackHandler) verified(next func(http.ResponseWriter, *http.Request, form)) http.Handler {
	return s.verifiedBody(s.cfg.MaxBody, func(w http.ResponseWriter, r *http.Request, body []byte) {
		// The form comes from the bytes that were verified; r.Body is spent.
		form, err := parseForm(body)
		if err != nil {
			s.refuse(w, r, http.StatusBadRequest, err)
			return
		}
		next(w, r, form)
	})
}

// verifiedBody checks that the body is at most max bytes and signed, then hands the
// verified body on (the Events API's is JSON, not a form).
func (s *slackHandler) verifiedBody(max int64, next func(http.ResponseWriter, *http.Request, []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := verifySlack(w, r, s.cfg.Slack.SigningSecret, max, s.cfg.Clock.Now())
		switch {
		case errors.Is(err, errTooLarge):
			s.refuse(w, r, http.StatusRequestEntityTooLarge, err)
			return
		case err != nil:
			s.refuse(w, r, http.StatusUnauthorized, err)
			return
		}
		next(w, r, body)
	})
}

func (s *slackHandler) refuse(w http.ResponseWriter, r *http.Request, status int, why error) {
	s.log.WarnContext(r.Context(), "slack request refused", "path", r.URL.Path, "status", status, "reason", why.Error(),
		"remote", r.RemoteAddr, "retry", r.Header.Get("X-Slack-Retry-Num"))
	http.Error(w, http.StatusText(status), status)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if a, ok := v.(jsonAppender); ok { // a message, written without reflection
		buf := answers.Get().(*[]byte)
		b, err := a.AppendJSON((*buf)[:0])
		if err == nil {
			b = append(b, '\n')
			_, _ = w.Write(b)
		}
		if cap(b) <= maxPooledAnswer { // grown, if it had to, for the next answer
			*buf = b[:0]
		}
		answers.Put(buf)
		if err == nil {
			return
		}
	}
	_ = json.NewEncoder(w).Encode(v)
}

// answers are the buffers answers are written in: Write copies, so each serves again,
// unless an unusually long answer made it larger than maxPooledAnswer.
var answers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

const maxPooledAnswer = 64 << 10

// jsonAppender writes itself as JSON, as encoding/json would (slackbot.Message).
type jsonAppender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// failure logs err once and returns what the person sees: a governance.Problem's own
// sentence (logged as a refusal), or an apology with a reference under which the detail
// is logged as an error.
func (s *slackHandler) failure(ctx context.Context, err error, attrs ...any) slackbot.Message {
	var p *governance.Problem
	if errors.As(err, &p) {
		reason := p.Message
		if p.Err != nil {
			reason = p.Err.Error()
		}
		s.log.InfoContext(ctx, "slack action refused", append(attrs, "reason", reason)...)
		return slackbot.Reply(voice.Error(err, ""))
	}
	ref := newRef()
	s.log.ErrorContext(ctx, "slack action failed", append(attrs, "ref", ref, "err", err)...)
	return slackbot.Reply(voice.Error(err, ref))
}

func newRef() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// reply answers the person who acted through the interaction's response_url, after the
// HTTP acknowledgement: the ack never waits on Slack.
func (s *slackHandler) reply(ctx context.Context, responseURL string, m slackbot.Message, attrs ...any) {
	if responseURL == "" {
		s.log.WarnContext(ctx, "no response_url to reply to", attrs...)
		return
	}
	s.cfg.Go(func() { s.respond(ctx, responseURL, m, attrs...) })
}

// respond posts m to responseURL now, whether or not ctx has ended.
func (s *slackHandler) respond(ctx context.Context, responseURL string, m slackbot.Message, attrs ...any) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), replyTimeout)
	defer cancel()
	if err := s.cfg.Slack.Respond(ctx, responseURL, m); err != nil {
		s.log.WarnContext(ctx, "reply to slack failed", append(attrs, "err", err)...)
	}
}
