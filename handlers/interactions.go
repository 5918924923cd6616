package handlers

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	slackapi "github.com/slack-go/slack"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// interaction is POST /slack/interactions: a verified form whose payload field is the
// interaction, answered with HTTP 200 and what interact returns (an empty body for none).
func (s *slackHandler) interaction(w http.ResponseWriter, r *http.Request, form form) {
	raw := form.Get("payload")
	if raw == "" {
		s.refuse(w, r, http.StatusBadRequest, errors.New("no payload field"))
		return
	}
	var ic slackapi.InteractionCallback
	if err := json.Unmarshal([]byte(raw), &ic); err != nil {
		s.refuse(w, r, http.StatusBadRequest, errors.New("payload is not an interaction: "+err.Error()))
		return
	}
	answer, err := s.interact(r.Context(), &ic)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, err)
		return
	}
	if answer != nil {
		writeJSON(w, answer)
	}
}

// interact answers a button click or a modal submission, which arrived verified over
// HTTP or Socket Mode. A click's answer is nil (what the clicker is told goes through
// response_url); a submission's is the view response (field errors keep the modal open),
// or nil, which closes it. An error is a malformed interaction, refused without an
// answer. The acting person is always the payload's user, found through the Directory —
// never a value from a button or from private_metadata, which only name the request.
func (s *slackHandler) interact(ctx context.Context, ic *slackapi.InteractionCallback) (*slackapi.ViewSubmissionResponse, error) {
	if ic.Type != slackapi.InteractionTypeBlockActions && ic.Type != slackapi.InteractionTypeViewSubmission {
		// Anything else (view_closed, shortcuts accessbot does not offer) is acknowledged
		// and ignored.
		return nil, nil
	}
	if ic.User.ID == "" {
		return nil, errors.New("interaction without user.id")
	}
	if refused, answer := s.admit(ctx, ic); refused {
		return answer, nil
	}
	if ic.Type == slackapi.InteractionTypeBlockActions {
		s.blockAction(ctx, ic)
		return nil, nil
	}
	return s.viewSubmission(ctx, ic), nil
}

// admit refuses a click or a form from a workspace, org or user accessbot does not serve,
// before anyone is looked up: the clicker is told through response_url, a form shows it
// on its field. It reports whether it refused the interaction, and a refused form's answer.
func (s *slackHandler) admit(ctx context.Context, ic *slackapi.InteractionCallback) (refused bool, answer *slackapi.ViewSubmissionResponse) {
	enterprise := cmp.Or(ic.Enterprise.ID, ic.Team.EnterpriseID)
	err := s.cfg.Slack.Directory.Admit(ctx, ic.Team.ID, enterprise, ic.User.TeamID)
	if err == nil {
		return false, nil
	}
	attrs := []any{"user", ic.User.ID, "team", ic.Team.ID, "enterprise", enterprise, "user_team", ic.User.TeamID}
	if ic.Type == slackapi.InteractionTypeViewSubmission {
		block := slackbot.BlockItem
		if ic.View.CallbackID == slackbot.CallbackDenyReason {
			block = slackbot.BlockReason
		}
		return true, s.fieldErrors(ctx, err, block, nil, attrs...)
	}
	s.reply(ctx, ic.ResponseURL, s.failure(ctx, err, attrs...), attrs...)
	return true, nil
}

// decider is the person behind userID as an approver: someone Slack lists as a guest
// never decides, even where the configuration names them an approver or an admin.
func (s *slackHandler) decider(ctx context.Context, userID string) (governance.Actor, error) {
	who, err := s.cfg.Slack.Directory.Actor(ctx, userID)
	if err == nil && who.Guest {
		err = slackbot.GuestCannotDecide(userID)
	}
	return who, err
}

// blockAction handles Approve and Deny, on an approval card, the /access pending list or
// the Home tab, Extend on an expiry warning or the Home tab, and Cancel and Revoke on the
// Home tab. Its answers go to the clicker after the empty 200 (answer).
func (s *slackHandler) blockAction(ctx context.Context, ic *slackapi.InteractionCallback) {
	i := slices.IndexFunc(ic.ActionCallback.BlockActions, func(a *slackapi.BlockAction) bool {
		if a == nil {
			return false
		}
		switch a.ActionID {
		case slackbot.ActionApprove, slackbot.ActionDeny, slackbot.ActionExtend, slackbot.ActionCancel, slackbot.ActionRevoke,
			slackbot.ActionForward:
			return true
		}
		return false
	})
	if i < 0 {
		return
	}
	action := ic.ActionCallback.BlockActions[i]
	attrs := []any{"user", ic.User.ID, "action", action.ActionID}
	who, err := s.cfg.Slack.Directory.Actor(ctx, ic.User.ID)
	if err == nil && who.Guest && (action.ActionID == slackbot.ActionApprove || action.ActionID == slackbot.ActionDeny || action.ActionID == slackbot.ActionForward) {
		err = slackbot.GuestCannotDecide(ic.User.ID)
	}
	if err != nil {
		s.answer(ctx, ic, s.failure(ctx, err, attrs...), attrs...)
		return
	}
	id, err := governance.ParseRequestID(action.Value)
	if err != nil {
		s.answer(ctx, ic, s.failure(ctx, err, attrs...), attrs...)
		return
	}
	attrs = append(attrs, "request", id)
	// Each of these acts for who, whom the service checks: the requester alone cancels,
	// the holder (their manager, an admin) revokes, an approver decides.
	var act func() (*governance.Request, error)
	var say func(*governance.Request) voice.Message
	switch action.ActionID {
	case slackbot.ActionExtend:
		act, say = func() (*governance.Request, error) { return s.svc.Extend(ctx, id, who) }, voice.RequestCreated
	case slackbot.ActionApprove:
		act = func() (*governance.Request, error) {
			return s.svc.Decide(ctx, governance.DecideInput{RequestID: id, Approver: who, Approve: true})
		}
		say = voice.Approved
	case slackbot.ActionCancel:
		act, say = func() (*governance.Request, error) { return s.svc.Cancel(ctx, id, who) }, voice.Cancelled
	case slackbot.ActionRevoke:
		act = func() (*governance.Request, error) {
			return s.svc.Revoke(ctx, governance.RevokeInput{By: who, Target: id})
		}
		say = voice.Revoked
	}
	if act != nil {
		req, err := act()
		if m, ok := connectFirst(ctx, s.cfg.Accounts.Connections, who, err); ok {
			s.answer(ctx, ic, slackbot.Reply(m), attrs...)
			return
		}
		if err != nil {
			s.answer(ctx, ic, s.failure(ctx, err, attrs...), attrs...)
			return
		}
		s.answer(ctx, ic, slackbot.Reply(say(req)), attrs...)
		return
	}
	// Deny needs a reason, asked in a modal. Someone who may not decide is told at once
	// instead (a read-only check); the modal then opens before anything slow, since the
	// trigger id lives 3 seconds and works once.
	req, err := s.svc.CheckDecider(ctx, id, who.Person)
	if err != nil {
		s.answer(ctx, ic, s.failure(ctx, err, attrs...), attrs...)
		return
	}
	form := slackbot.DenyForm(req)
	if action.ActionID == slackbot.ActionForward {
		form = slackbot.ForwardForm(req)
	}
	if _, err := s.cfg.Slack.API.OpenViewContext(ctx, ic.TriggerID, form); err != nil {
		s.answer(ctx, ic, s.failure(ctx, viewFailed(err), attrs...), attrs...)
	}
}

// answer tells the person who clicked what came of it: through the click's response_url,
// or, for a click on the Home tab (whose payloads carry none), by direct message.
func (s *slackHandler) answer(ctx context.Context, ic *slackapi.InteractionCallback, m slackbot.Message, attrs ...any) {
	if ic.ResponseURL != "" || ic.Container.Type != "view" {
		s.reply(ctx, ic.ResponseURL, m, attrs...)
		return
	}
	s.cfg.Go(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), replyTimeout)
		defer cancel()
		if err := slackbot.PostReply(ctx, s.cfg.Slack.API, ic.User.ID, m); err != nil {
			s.log.WarnContext(ctx, "answer to a home tab click failed", append(attrs, "err", err)...)
		}
	})
}

// viewFailed explains a views.open that Slack refused because the click came too late.
func viewFailed(err error) error {
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) && (se.Err == "expired_trigger_id" || se.Err == "trigger_exchanged" || se.Err == "invalid_trigger_id") {
		return &governance.Problem{Err: err, Message: voice.SlackFormTooLate}
	}
	return err
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

// fieldErrors is the answer that shows err under an input block of the modal: the block
// the Problem names if the modal has it, else fallback.
func (s *slackHandler) fieldErrors(ctx context.Context, err error, fallback string, blocks []string, attrs ...any) *slackapi.ViewSubmissionResponse {
	ref := ""
	var p *governance.Problem
	if errors.As(err, &p) {
		s.log.InfoContext(ctx, "slack form refused", append(attrs, "field", p.Field, "reason", p.Err)...)
	} else {
		ref = newRef()
		s.log.ErrorContext(ctx, "slack form failed", append(attrs, "ref", ref, "err", err)...)
	}
	block := fallback
	if p != nil && slices.Contains(blocks, p.Field) {
		block = p.Field
	}
	return slackapi.NewErrorsViewSubmissionResponse(map[string]string{block: voice.FieldErrorText(err, ref)})
}

// formDecider is the request a decision form (deny reason, forward) carries and who
// submitted it, as someone who may decide; attrs gain the request, for the log.
func (s *slackHandler) formDecider(ctx context.Context, ic *slackapi.InteractionCallback, attrs *[]any) (string, governance.Actor, error) {
	id, err := governance.ParseRequestID(ic.View.PrivateMetadata)
	if err != nil {
		return "", governance.Actor{}, err
	}
	*attrs = append(*attrs, "request", id)
	who, err := s.decider(ctx, ic.User.ID)
	return id, who, err
}

// viewSubmission handles the deny-reason and request forms. Its answer is the view
// response: field errors keep the modal open; success closes it.
func (s *slackHandler) viewSubmission(ctx context.Context, ic *slackapi.InteractionCallback) *slackapi.ViewSubmissionResponse {
	attrs := []any{"user", ic.User.ID, "view", ic.View.CallbackID}
	switch ic.View.CallbackID {
	case slackbot.CallbackDenyReason:
		// Every refusal lands on the reason field, the only one the person can see.
		id, who, err := s.formDecider(ctx, ic, &attrs)
		if err == nil {
			_, err = s.svc.Decide(ctx, governance.DecideInput{RequestID: id, Approver: who,
				Reason: inputValue(ic, slackbot.BlockReason)})
		}
		if err != nil {
			return s.fieldErrors(ctx, err, slackbot.BlockReason, nil, attrs...)
		}
		// Success: no answer closes the modal; the cards and the requester are told
		// through the outbox.
		return nil
	case slackbot.CallbackForward:
		id, who, err := s.formDecider(ctx, ic, &attrs)
		if err != nil {
			return s.fieldErrors(ctx, err, slackbot.BlockForwardTo, nil, attrs...)
		}
		to, err := governance.ParsePerson(inputValue(ic, slackbot.BlockForwardTo))
		if err != nil {
			return s.fieldErrors(ctx, &governance.Problem{Err: governance.ErrBadCommand, Field: slackbot.BlockForwardTo, Message: err.Error()},
				slackbot.BlockForwardTo, []string{slackbot.BlockForwardTo, slackbot.BlockReason}, attrs...)
		}
		_, err = s.svc.Forward(ctx, governance.ForwardInput{RequestID: id, By: who, To: to, Comment: inputValue(ic, slackbot.BlockReason)})
		if err != nil {
			return s.fieldErrors(ctx, err, slackbot.BlockForwardTo, []string{slackbot.BlockForwardTo, slackbot.BlockReason}, attrs...)
		}
		return nil
	case slackbot.CallbackRequestForm:
		blocks := []string{slackbot.BlockItem, slackbot.BlockDuration, slackbot.BlockReason, slackbot.BlockFor}
		who, err := s.cfg.Slack.Directory.Actor(ctx, ic.User.ID)
		if err != nil {
			return s.fieldErrors(ctx, err, slackbot.BlockItem, nil, attrs...)
		}
		in := governance.RequestInput{Requester: who, Item: inputValue(ic, slackbot.BlockItem),
			Reason: inputValue(ic, slackbot.BlockReason), Confirm: true,
			// The same submission, sent twice, is one request.
			IdempotencyKey: idempotencyKey("slack:view:", viewKey(ic.View))}
		if d := strings.TrimSpace(inputValue(ic, slackbot.BlockDuration)); d != "" {
			if in.Duration, err = governance.ParseDuration(d); err != nil {
				return s.fieldErrors(ctx, err, slackbot.BlockDuration, blocks, attrs...)
			}
		}
		if in.For, err = governance.ParseFor(inputValue(ic, slackbot.BlockFor)); err != nil {
			return s.fieldErrors(ctx, err, slackbot.BlockFor, blocks, attrs...)
		}
		if _, err := s.svc.Request(ctx, in); err != nil {
			return s.fieldErrors(ctx, err, slackbot.BlockItem, blocks, attrs...)
		}
		return slackapi.NewClearViewSubmissionResponse()
	}
	return nil
}

// viewKey identifies one submission of one modal: its view id and version hash.
func viewKey(v slackapi.View) string {
	if v.ID == "" {
		return ""
	}
	return v.ID + ":" + v.Hash
}
