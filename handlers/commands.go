package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// command is POST /slack/commands: a verified form, answered with HTTP 200 and the
// ephemeral message slashCommand returns, or, when its work outlasts Slack's deadline,
// with "Working on it…" written while the work goes on (answerEarly).
func (s *slackHandler) command(w http.ResponseWriter, r *http.Request, form form) {
	if form.Get("ssl_check") == "1" {
		return
	}
	cmd := slackapi.SlashCommand{TeamID: form.Get("team_id"), EnterpriseID: form.Get("enterprise_id"), UserID: form.Get("user_id"),
		ChannelID: form.Get("channel_id"), Command: form.Get("command"), Text: form.Get("text"),
		TriggerID: form.Get("trigger_id"), ResponseURL: form.Get("response_url")}
	answer, err := s.slashCommand(r.Context(), cmd, func(m slackbot.Message) { answerEarly(w, m) }, "retry", r.Header.Get("X-Slack-Retry-Num"))
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, err)
		return
	}
	if answer != nil {
		writeJSON(w, answer)
	}
}

// answerEarly writes m as the whole answer to a request whose handler goes on working:
// with its length, so that Slack has all of it now, and on a connection that closes after
// it, so that no other request waits behind the work.
func answerEarly(w http.ResponseWriter, m slackbot.Message) {
	b, err := m.AppendJSON(nil)
	if err != nil {
		b = []byte("{}")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Connection", "close")
	_, _ = w.Write(b)
	_ = http.NewResponseController(w).Flush()
}

// slashCommand answers /access, which arrived verified over HTTP or Socket Mode, with
// the ephemeral message Slack shows the person, errors included; nil for no message (the
// form opened, or the answer given through early). An error is a malformed command,
// refused without an answer. Help and the form (whose trigger id must be used within
// Slack's 3 seconds anyway) are answered at once; everything else may wait on users.info
// and on the backend (a catalog search), so it is answered within Slack's deadline,
// through early, or through the command's response_url (see answerInTime). attrs name the
// delivery (a retry, an envelope) in the log.
func (s *slackHandler) slashCommand(ctx context.Context, sc slackapi.SlashCommand, early func(slackbot.Message), attrs ...any) (*slackbot.Message, error) {
	userID, trigger := sc.UserID, sc.TriggerID
	if userID == "" {
		return nil, errors.New("slash command without user_id")
	}
	attrs = append([]any{"user", userID}, attrs...)
	// Only the configured workspaces are served: from anywhere else, nothing is looked up
	// and nothing is done, and the person is told why (Slack shows an HTTP error only as
	// "dispatch_failed").
	if err := s.cfg.Slack.Directory.Admit(ctx, sc.TeamID, sc.EnterpriseID, ""); err != nil {
		return answered(s.failure(ctx, err, append(attrs, "team", sc.TeamID, "enterprise", sc.EnterpriseID)...))
	}
	cmd, err := governance.ParseCommand(commandText(sc.Text))
	if err != nil {
		return answered(s.failure(ctx, err, attrs...))
	}
	attrs = append(attrs, "command", cmd.Kind)
	switch cmd.Kind {
	case governance.CommandHelp:
		m, err := dispatch(ctx, s.svc, nil, governance.Actor{}, cmd, "")
		if err != nil {
			return answered(s.failure(ctx, err, attrs...))
		}
		return answered(slackbot.Reply(m))
	case governance.CommandForm:
		// The trigger id expires in 3 seconds: open the form first; who submits it is
		// found when they do.
		if _, err := s.cfg.Slack.API.OpenViewContext(ctx, trigger, slackbot.RequestForm(s.svc.Catalog().Items())); err != nil {
			return answered(s.failure(ctx, err, attrs...))
		}
		return nil, nil
	}
	// The work may go on after the answer, beside it: every append to attrs must copy.
	attrs = slices.Clip(attrs)
	return s.answerInTime(ctx, sc.ResponseURL, early, func(ctx context.Context) slackbot.Message {
		return s.run(ctx, cmd, userID, trigger, attrs)
	}, attrs...), nil
}

// answered is m as an answer to a command.
func answered(m slackbot.Message) (*slackbot.Message, error) { return &m, nil }

// answerInTime does work on the caller's goroutine, in one of the Background's slots (so
// it is counted, and waited for at shutdown), detached from the request and bounded by
// commandTimeout, and returns its message. When the work outlasts AnswerWithin, a timer
// gives early "Working on it…" instead, and the work posts its message, success or
// failure, to responseURL when it ends; answerInTime then returns nil. When no slot frees
// up within AnswerWithin, nothing is done and the person is asked to try again. Without
// early or a responseURL the answer waits for the work.
func (s *slackHandler) answerInTime(rctx context.Context, responseURL string, early func(slackbot.Message), work func(context.Context) slackbot.Message, attrs ...any) *slackbot.Message {
	if !s.tryEnter() { // none free now: wait for one, until Slack's deadline
		answerBy, stop := context.WithTimeout(rctx, s.cfg.Slack.AnswerWithin)
		entered := s.enter(answerBy)
		stop()
		if !entered {
			s.log.WarnContext(rctx, "slash command refused: too much work in flight", attrs...)
			m := slackbot.Reply(voice.Busy())
			return &m
		}
	}
	defer s.leave()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(rctx), commandTimeout)
	defer cancel()
	var (
		mu   sync.Mutex
		done bool // the work ended: the timer gives no answer
		late bool // the person was told "Working on it…": the work answers through responseURL
	)
	if early != nil && responseURL != "" {
		timer := time.AfterFunc(s.cfg.Slack.AnswerWithin, func() {
			mu.Lock()
			defer mu.Unlock()
			if !done {
				late = true
				s.log.InfoContext(rctx, "slash command answered later through response_url", attrs...)
				early(slackbot.Reply(voice.Working()))
			}
		})
		defer timer.Stop()
	}
	m := work(ctx)
	mu.Lock()
	done = true
	mu.Unlock()
	if late {
		s.respond(ctx, responseURL, m, attrs...)
		return nil
	}
	return &m
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
	case governance.CommandRequest:
		if id, ok := mentionedUser(cmd.For); ok { // "for @bob" arrives as <@U123|bob>
			p, err := s.cfg.Slack.Directory.Person(ctx, id)
			if err != nil {
				return s.failure(ctx, err, attrs...)
			}
			cmd.For = (&mail.Address{Name: p.Name, Address: p.Email}).String()
		}
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
	m, err := dispatch(ctx, s.svc, s.cfg.Accounts.Connections, who, cmd, idempotencyKey("slack:", trigger))
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
