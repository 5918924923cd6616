package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	slackapi "github.com/slack-go/slack"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/governance"
)

type slackHandler struct {
	cfg Config
	svc *governance.Service
	log *slog.Logger
}

// verified checks size and signature, then hands the raw body and parsed form on.
// Refusals are logged with the reason and the peer, never with the body.
func (s *slackHandler) verified(next func(http.ResponseWriter, *http.Request, url.Values)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBody {
			s.refuse(w, r, http.StatusRequestEntityTooLarge, errTooLarge)
			return
		}
		body, err := verifySlack(r, s.cfg.Slack.SigningSecret, s.cfg.MaxBody, s.cfg.Clock.Now())
		switch {
		case errors.Is(err, errTooLarge):
			s.refuse(w, r, http.StatusRequestEntityTooLarge, err)
			return
		case err != nil:
			s.refuse(w, r, http.StatusUnauthorized, err)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			s.refuse(w, r, http.StatusBadRequest, err)
			return
		}
		next(w, r, form)
	})
}

func (s *slackHandler) refuse(w http.ResponseWriter, r *http.Request, status int, why error) {
	s.log.Warn("slack request refused", "path", r.URL.Path, "status", status, "reason", why.Error(),
		"remote", r.RemoteAddr, "retry", r.Header.Get("X-Slack-Retry-Num"))
	http.Error(w, http.StatusText(status), status)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// problemMessage turns an error into what the person sees: a governance.Problem's own
// sentence, or, for anything else, an apology with a reference that is logged with the
// detail.
func (s *slackHandler) problemMessage(ctx context.Context, err error, attrs ...any) slackbot.Message {
	var p *governance.Problem
	if errors.As(err, &p) {
		s.log.InfoContext(ctx, "refused", append(attrs, "reason", p.Err.Error())...)
		return slackbot.Problem(p.Message)
	}
	ref := newRef()
	s.log.ErrorContext(ctx, "slack command failed", append(attrs, "ref", ref, "err", err)...)
	return slackbot.Problem("Something went wrong on our side; try again in a minute. If it keeps happening, tell your admins the reference " + ref + ".")
}

func newRef() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func actor(p governance.Person, userID string) governance.Actor {
	return governance.Actor{Person: p, Platform: slackbot.Platform, ChatID: userID}
}

// command answers /access. Everything here is quick — one Redis step — except opening
// the form, which must use the trigger id within Slack's 3 seconds anyway.
func (s *slackHandler) command(w http.ResponseWriter, r *http.Request, form url.Values) {
	ctx := r.Context()
	if form.Get("ssl_check") == "1" {
		return
	}
	userID := form.Get("user_id")
	cmd, err := governance.ParseCommand(form.Get("text"))
	if err != nil {
		writeJSON(w, s.problemMessage(ctx, err, "user", userID))
		return
	}
	if cmd.Kind == governance.CommandHelp {
		writeJSON(w, slackbot.Help(s.svc.Catalog().Items()))
		return
	}
	who, err := s.cfg.Slack.Directory.Person(ctx, userID)
	if err != nil {
		writeJSON(w, s.problemMessage(ctx, err, "user", userID))
		return
	}
	log := []any{"user", userID, "command", cmd.Kind}
	switch cmd.Kind {
	case governance.CommandForm:
		if _, err := s.cfg.Slack.API.OpenViewContext(ctx, form.Get("trigger_id"), slackbot.RequestForm(s.svc.Catalog().Items())); err != nil {
			writeJSON(w, s.problemMessage(ctx, err, log...))
		}
	case governance.CommandRequest:
		req, err := s.svc.Request(ctx, governance.RequestInput{Requester: actor(who, userID), Item: cmd.Item,
			Duration: cmd.Duration, Reason: cmd.Reason, IdempotencyKey: "slack:" + form.Get("trigger_id")})
		if err != nil {
			writeJSON(w, s.problemMessage(ctx, err, log...))
			return
		}
		writeJSON(w, slackbot.RequestCreated(req))
	case governance.CommandStatus:
		rs, err := s.svc.Mine(ctx, who)
		if err != nil {
			writeJSON(w, s.problemMessage(ctx, err, log...))
			return
		}
		writeJSON(w, slackbot.Status(rs))
	case governance.CommandPending:
		rs, err := s.svc.PendingFor(ctx, who)
		if err != nil {
			writeJSON(w, s.problemMessage(ctx, err, log...))
			return
		}
		writeJSON(w, slackbot.Pending(rs))
	case governance.CommandCancel:
		req, err := s.svc.Cancel(ctx, cmd.ID, actor(who, userID))
		if err != nil {
			writeJSON(w, s.problemMessage(ctx, err, append(log, "request", cmd.ID)...))
			return
		}
		writeJSON(w, slackbot.Cancelled(req))
	}
}

// interaction answers button clicks and modal submissions.
func (s *slackHandler) interaction(w http.ResponseWriter, r *http.Request, form url.Values) {
	var ic slackapi.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &ic); err != nil {
		s.refuse(w, r, http.StatusBadRequest, errors.New("payload is not an interaction: "+err.Error()))
		return
	}
	switch ic.Type {
	case slackapi.InteractionTypeBlockActions:
		s.blockAction(w, r, &ic)
	case slackapi.InteractionTypeViewSubmission:
		s.viewSubmission(w, r, &ic)
	}
	// Anything else (view_closed, shortcuts we do not offer): acknowledged and ignored.
}

// reply answers the person who clicked, after the acknowledgement.
func (s *slackHandler) reply(ctx context.Context, responseURL string, m slackbot.Message) {
	if responseURL == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	s.cfg.Go(func() {
		if err := slackbot.Respond(ctx, s.cfg.Slack.HTTPClient, responseURL, m); err != nil {
			s.log.Warn("reply to click failed", "err", err)
		}
	})
}

func (s *slackHandler) blockAction(w http.ResponseWriter, r *http.Request, ic *slackapi.InteractionCallback) {
	ctx := r.Context()
	if len(ic.ActionCallback.BlockActions) == 0 {
		return
	}
	action := ic.ActionCallback.BlockActions[0]
	if action.ActionID != slackbot.ActionApprove && action.ActionID != slackbot.ActionDeny {
		return
	}
	// The acting person comes from the signed payload's user, never from the button.
	who, err := s.cfg.Slack.Directory.Person(ctx, ic.User.ID)
	if err != nil {
		s.reply(ctx, ic.ResponseURL, s.problemMessage(ctx, err, "user", ic.User.ID))
		return
	}
	id, err := governance.ParseRequestID(action.Value)
	if err != nil {
		s.reply(ctx, ic.ResponseURL, s.problemMessage(ctx, err, "user", ic.User.ID))
		return
	}
	log := []any{"user", ic.User.ID, "request", id, "action", action.ActionID}
	if action.ActionID == slackbot.ActionApprove {
		if _, err := s.svc.Decide(ctx, governance.DecideInput{RequestID: id, Approver: actor(who, ic.User.ID), Approve: true}); err != nil {
			s.reply(ctx, ic.ResponseURL, s.problemMessage(ctx, err, log...))
		}
		return
	}
	// Deny: refuse at once if this person may not decide, else ask for the reason. The
	// trigger id lives 3 seconds and works once, so the modal opens before anything slow.
	req, err := s.svc.CheckDecider(ctx, id, who)
	if err != nil {
		s.reply(ctx, ic.ResponseURL, s.problemMessage(ctx, err, log...))
		return
	}
	if _, err := s.cfg.Slack.API.OpenViewContext(ctx, ic.TriggerID, slackbot.DenyForm(req)); err != nil {
		s.reply(ctx, ic.ResponseURL, s.problemMessage(ctx, err, log...))
	}
}

// inputValue is what the person typed or chose in a modal's input block; "" when the
// payload does not carry it.
func inputValue(ic *slackapi.InteractionCallback, block string) string {
	if ic.View.State == nil {
		return ""
	}
	v := ic.View.State.Values[block][slackbot.InputActionID(block)]
	if v.SelectedOption.Value != "" {
		return v.SelectedOption.Value
	}
	return v.Value
}

// fieldErrors answers a modal submission with err shown on the field at fault (or on
// fallback, for errors that belong to no field).
func (s *slackHandler) fieldErrors(ctx context.Context, w http.ResponseWriter, err error, fallback string, fields []string, attrs ...any) {
	msg := s.problemMessage(ctx, err, attrs...).Text
	block := fallback
	var p *governance.Problem
	if errors.As(err, &p) {
		for _, f := range fields {
			if p.Field == f {
				block = f
			}
		}
	}
	writeJSON(w, slackapi.NewErrorsViewSubmissionResponse(map[string]string{block: msg}))
}

func (s *slackHandler) viewSubmission(w http.ResponseWriter, r *http.Request, ic *slackapi.InteractionCallback) {
	ctx := r.Context()
	who, err := s.cfg.Slack.Directory.Person(ctx, ic.User.ID)
	if err != nil {
		writeJSON(w, slackapi.NewErrorsViewSubmissionResponse(map[string]string{slackbot.BlockReason: s.problemMessage(ctx, err).Text}))
		return
	}
	switch ic.View.CallbackID {
	case slackbot.CallbackDenyReason:
		id := ic.View.PrivateMetadata
		_, err := s.svc.Decide(ctx, governance.DecideInput{RequestID: id, Approver: actor(who, ic.User.ID), Reason: inputValue(ic, slackbot.BlockReason)})
		if err != nil {
			s.fieldErrors(ctx, w, err, slackbot.BlockReason, nil, "user", ic.User.ID, "request", id)
		}
	case slackbot.CallbackRequestForm:
		fields := []string{slackbot.BlockItem, slackbot.BlockDuration, slackbot.BlockReason}
		in := governance.RequestInput{Requester: actor(who, ic.User.ID), Item: inputValue(ic, slackbot.BlockItem),
			Reason: inputValue(ic, slackbot.BlockReason), Confirm: true, IdempotencyKey: "slack:view:" + ic.View.ID + ":" + ic.View.Hash}
		if d := strings.TrimSpace(inputValue(ic, slackbot.BlockDuration)); d != "" {
			if in.Duration, err = governance.ParseDuration(d); err != nil {
				s.fieldErrors(ctx, w, err, slackbot.BlockDuration, fields)
				return
			}
		}
		if _, err := s.svc.Request(ctx, in); err != nil {
			s.fieldErrors(ctx, w, err, slackbot.BlockItem, fields, "user", ic.User.ID)
			return
		}
		writeJSON(w, slackapi.NewClearViewSubmissionResponse())
	}
}
