package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// command answers /access, always with HTTP 200 and an ephemeral message, errors
// included. Help and the form (whose trigger id must be used within Slack's 3 seconds
// anyway) are answered at once; everything else may wait on users.info and on the
// backend (a catalog search), so it is answered within Slack's deadline or through the
// command's response_url (see answerInTime).
func (s *slackHandler) command(w http.ResponseWriter, r *http.Request, form url.Values) {
	ctx := r.Context()
	if form.Get("ssl_check") == "1" {
		return
	}
	userID, trigger := form.Get("user_id"), form.Get("trigger_id")
	if userID == "" {
		s.refuse(w, r, http.StatusBadRequest, errors.New("slash command without user_id"))
		return
	}
	attrs := []any{"user", userID, "retry", r.Header.Get("X-Slack-Retry-Num")}
	// Only the configured workspaces are served: from anywhere else, nothing is looked up
	// and nothing is done, and the person is told why (Slack shows an HTTP error only as
	// "dispatch_failed").
	if err := s.cfg.Slack.Directory.Admit(ctx, form.Get("team_id"), form.Get("enterprise_id"), ""); err != nil {
		writeJSON(w, s.failure(ctx, err, append(attrs, "team", form.Get("team_id"), "enterprise", form.Get("enterprise_id"))...))
		return
	}
	cmd, err := governance.ParseCommand(commandText(form.Get("text")))
	if err != nil {
		writeJSON(w, s.failure(ctx, err, attrs...))
		return
	}
	attrs = append(attrs, "command", cmd.Kind)
	switch cmd.Kind {
	case governance.CommandHelp:
		m, err := dispatch(ctx, s.svc, governance.Actor{}, cmd, "")
		if err != nil {
			writeJSON(w, s.failure(ctx, err, attrs...))
			return
		}
		writeJSON(w, slackbot.Reply(m))
		return
	case governance.CommandForm:
		// The trigger id expires in 3 seconds: open the form first; who submits it is
		// found when they do.
		if _, err := s.cfg.Slack.API.OpenViewContext(ctx, trigger, slackbot.RequestForm(s.svc.Catalog().Items())); err != nil {
			writeJSON(w, s.failure(ctx, err, attrs...))
		}
		return
	}
	// The work may go on after the answer, beside it: every append to attrs must copy.
	attrs = slices.Clip(attrs)
	s.answerInTime(w, r, form.Get("response_url"), func(ctx context.Context) slackbot.Message {
		return s.run(ctx, cmd, userID, trigger, attrs)
	}, attrs...)
}

// answerInTime answers with work's message if it comes within AnswerWithin. Otherwise it
// answers "Working on it…", and the work posts its message, success or failure, to
// responseURL when it ends. The work runs once either way, detached from the HTTP request,
// bounded by commandTimeout, and in one of the Background's slots, so it is counted and
// waited for at shutdown; when no slot frees up within AnswerWithin, nothing is done and
// the person is asked to try again.
func (s *slackHandler) answerInTime(w http.ResponseWriter, r *http.Request, responseURL string, work func(context.Context) slackbot.Message, attrs ...any) {
	answerBy, stop := context.WithTimeout(r.Context(), s.cfg.Slack.AnswerWithin)
	defer stop()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), commandTimeout)
	var (
		mu   sync.Mutex
		late bool // the person was told "Working on it…": the work answers through responseURL
		done = make(chan slackbot.Message, 1)
	)
	started := s.start(answerBy, func() {
		defer cancel()
		m := work(ctx)
		mu.Lock()
		if !late {
			done <- m
			mu.Unlock()
			return
		}
		mu.Unlock()
		s.respond(ctx, responseURL, m, attrs...)
	})
	if !started {
		cancel()
		s.log.WarnContext(r.Context(), "slash command refused: too much work in flight", attrs...)
		writeJSON(w, slackbot.Reply(voice.Busy()))
		return
	}
	if responseURL == "" { // nothing to answer through later: the answer waits for the work
		writeJSON(w, <-done)
		return
	}
	select {
	case m := <-done:
		writeJSON(w, m)
		return
	case <-answerBy.Done():
	}
	mu.Lock()
	select {
	case m := <-done: // finished just now
		mu.Unlock()
		writeJSON(w, m)
		return
	default:
		late = true
	}
	mu.Unlock()
	s.log.InfoContext(r.Context(), "slash command answered later through response_url", attrs...)
	writeJSON(w, slackbot.Reply(voice.Working()))
}

// run does a command that needs the person's identity and returns what they are told.
// Slack's own part is here: the person behind the user id, a holder named by mention,
// and the trigger id that makes a retried command the same request.
func (s *slackHandler) run(ctx context.Context, cmd governance.Command, userID, trigger string, attrs []any) slackbot.Message {
	who, err := s.cfg.Slack.Directory.Actor(ctx, userID)
	if err != nil {
		return s.failure(ctx, err, attrs...)
	}
	switch cmd.Kind {
	case governance.CommandCancel, governance.CommandSchedule:
		attrs = append(attrs, "request", cmd.ID)
	case governance.CommandRevoke:
		attrs = append(attrs, "item", cmd.Item)
		if id, ok := mentionedUser(cmd.Holder); ok { // "from @bob" arrives as <@U123|bob>
			p, err := s.cfg.Slack.Directory.Person(ctx, id)
			if err != nil {
				return s.failure(ctx, err, attrs...)
			}
			cmd.Holder = p.Email
		}
	}
	// Slack retrying the command (X-Slack-Retry-Num) sends the same trigger id, so the
	// retry maps to the request the first attempt made, and gets the same answer.
	m, err := dispatch(ctx, s.svc, who, cmd, idempotencyKey("slack:", trigger))
	if err != nil {
		return s.failure(ctx, err, attrs...)
	}
	return slackbot.Reply(m)
}

// idempotencyKey is prefix+id, or "" (a fresh request every time) when Slack sent no id:
// an empty id must not make every such request the same one.
func idempotencyKey(prefix, id string) string {
	if id == "" {
		return ""
	}
	return prefix + id
}

// mentionedUser reads a Slack user mention, <@U123> or <@U123|name>, as a user id.
func mentionedUser(s string) (string, bool) {
	if !strings.HasPrefix(s, "<@") || !strings.HasSuffix(s, ">") {
		return "", false
	}
	id, _, _ := strings.Cut(s[2:len(s)-1], "|")
	return id, id != ""
}

// commandText is a slash command's text as the person typed it. Slack sends &, < and >
// as entities, an address as <mailto:addr|label> and a link as <url|label> (<url> when
// the person typed the whole URL). Links become what was typed, addresses the address;
// user mentions (<@U123|bob>, read by mentionedUser), channels and special mentions stay
// Slack's tokens, which the renderer escapes like any user text. Text typed into a modal
// arrives unescaped and must not come here.
func commandText(s string) string {
	var b strings.Builder
	for {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			break
		}
		gt := strings.IndexByte(s[lt:], '>')
		if gt < 0 {
			break
		}
		b.WriteString(slackEntities.Replace(s[:lt]))
		b.WriteString(slackToken(s[lt+1 : lt+gt]))
		s = s[lt+gt+1:]
	}
	b.WriteString(slackEntities.Replace(s))
	return b.String()
}

// slackEntities decodes the three entities Slack uses in one pass, so "&amp;lt;" (a typed
// "&lt;") is "&lt;", as if &amp; were decoded last.
var slackEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// slackToken reads the inside of one <…> token of command text.
func slackToken(tok string) string {
	target, label, _ := strings.Cut(tok, "|")
	switch {
	case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "#"), strings.HasPrefix(target, "!"):
		return "<" + tok + ">"
	case strings.HasPrefix(target, "mailto:"):
		return slackEntities.Replace(strings.TrimPrefix(target, "mailto:"))
	case label != "":
		return slackEntities.Replace(label)
	}
	return slackEntities.Replace(target)
}
