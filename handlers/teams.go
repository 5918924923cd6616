package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/infracloudio/msbotbuilder-go/connector/auth"
	"github.com/infracloudio/msbotbuilder-go/core"
	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/bot/teams"
	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// TeamsConfig is the Teams side of the edge; without a Connector, /teams/messages is not served.
type TeamsConfig struct {
	AppID     string
	Validator auth.TokenValidator // every activity's JWT; *teams.Validator
	Connector *teams.Connector    // replies, and the allow-list of serviceUrls
	Directory *teams.Directory    // the tenants served, who sent an activity, and how to reach them later
	// Wait is how long an activity waits for room when the work in flight is at its limit
	// (Config.Go's default of 64); then it is refused with 503 and Retry-After, not
	// acknowledged. Default 5 s, well inside the Bot Framework's 15-second timeout.
	Wait time.Duration
}

type teamsHandler struct {
	cfg     Config
	svc     *governance.Service
	log     *slog.Logger
	adapter *core.BotFrameworkAdapter
	start   func(context.Context, func()) bool // runs work after the answer, if there is room for it
}

func newTeamsHandler(cfg Config, start func(context.Context, func()) bool) *teamsHandler {
	t := cfg.Teams
	if cfg.Teams.Wait <= 0 {
		cfg.Teams.Wait = 5 * time.Second
	}
	return &teamsHandler{cfg: cfg, svc: cfg.Service, log: cfg.Logger, start: start, adapter: &core.BotFrameworkAdapter{
		AdapterSetting: core.AdapterSetting{AppID: t.AppID, CredentialProvider: auth.SimpleCredentialProvider{AppID: t.AppID}},
		TokenValidator: t.Validator,
		Client:         t.Connector,
	}}
}

// messages receives every activity Teams sends the bot. Authentication comes first (the
// library parses the activity, accessbot's validator checks the JWT), then the serviceUrl
// allow-list; an activity failing either gets 401 and causes no outgoing call. Then the
// tenant: an activity from an organisation accessbot does not serve (a multi-tenant bot
// can be messaged from any) gets 403, is logged, and causes no outgoing call either. Card
// clicks (invokes) are answered in the response, as Teams requires; messages are acked
// at once and answered by a message of their own (or, when accessbot is too busy to take
// them on, refused with 503 so that nothing acknowledged is lost).
func (h *teamsHandler) messages(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Header.Get("Authorization") == "" {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "the activity is larger than accessbot takes", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "the body could not be read", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	act, err := h.adapter.ParseRequest(ctx, r)
	switch {
	case errors.Is(err, teams.ErrUnauthorized):
		h.log.WarnContext(ctx, "teams activity refused", "err", err, "service_url", act.ServiceURL)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	case err != nil:
		http.Error(w, "the body is not a Bot Framework activity", http.StatusBadRequest)
		return
	}
	if err := h.cfg.Teams.Connector.CheckServiceURL(act.ServiceURL); err != nil {
		h.log.WarnContext(ctx, "teams activity from a serviceUrl not on the allow-list", "service_url", act.ServiceURL)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if err := h.cfg.Teams.Directory.CheckTenant(act); err != nil {
		h.log.WarnContext(ctx, "teams activity from a tenant accessbot does not serve", "tenant", teams.Tenant(act),
			"activity", act.ID, "type", act.Type, "teams_user", act.From.ID, "service_url", act.ServiceURL)
		http.Error(w, "forbidden: accessbot does not serve this organisation", http.StatusForbidden)
		return
	}
	log := h.log.With("activity", act.ID, "type", act.Type, "teams_user", act.From.ID)
	// What an admin channel is configured with: the channel's conversation id and serviceUrl.
	log.DebugContext(ctx, "teams activity", "conversation", act.Conversation.ID,
		"conversation_type", act.Conversation.ConversationType, "service_url", act.ServiceURL)
	switch {
	case act.Type == schema.Invoke && act.Name == "adaptiveCard/action":
		h.invoke(ctx, w, act, log)
	case act.Type == schema.Message:
		h.later(ctx, w, act, log, func(ctx context.Context, who governance.Actor) teams.Card {
			if verb, _ := act.Value["verb"].(string); verb != "" { // Action.Submit, where Execute is not supported
				card, err := h.act(ctx, who, verb, act.Value, activityKey(act))
				if err != nil {
					return h.failure(ctx, log, err)
				}
				return card
			}
			return h.command(ctx, who, act, activityKey(act))
		})
	case (act.Type == schema.ConversationUpdate || act.Type == "installationUpdate") && act.From.ID != "" && act.From.ID != act.Recipient.ID:
		h.later(ctx, w, act, log, func(context.Context, governance.Actor) teams.Card {
			if !botAdded(act) {
				return nil
			}
			return teams.Render(voice.Help(h.svc.Catalog().Items()))
		})
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// botAdded reports whether the activity says the bot joined the conversation.
func botAdded(act schema.Activity) bool {
	if act.Action == "add" {
		return true
	}
	for _, m := range act.MembersAdded {
		if m.ID == act.Recipient.ID {
			return true
		}
	}
	return false
}

// later acknowledges an activity and acts on it after the answer: it learns who sent it
// (and how to reach them), runs do, and sends do's card, if any, to the same conversation.
// When accessbot has no room for the work within TeamsConfig.Wait, the activity is
// refused with 503 and Retry-After instead: the Bot Framework then knows it was not
// taken, where a 200 for work that is dropped would lose a command without a word.
func (h *teamsHandler) later(ctx context.Context, w http.ResponseWriter, act schema.Activity, log *slog.Logger, do func(context.Context, governance.Actor) teams.Card) {
	wait, cancel := context.WithTimeout(ctx, h.cfg.Teams.Wait)
	defer cancel()
	started := h.start(wait, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		var reply teams.Card
		who, err := h.actor(ctx, act)
		if err != nil {
			reply = h.failure(ctx, log, err)
		} else if reply = do(ctx, who); reply == nil {
			return
		}
		conv := teams.Conversation{ServiceURL: act.ServiceURL, ID: act.Conversation.ID, TenantID: act.Conversation.TenantID}
		if _, err := h.cfg.Teams.Connector.Send(ctx, conv, teams.Activity(reply, "accessbot")); err != nil {
			log.ErrorContext(ctx, "teams reply not sent", "err", err)
		}
	})
	if !started {
		log.WarnContext(ctx, "teams activity refused with 503: too much work in flight", "waited", h.cfg.Teams.Wait)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "accessbot is busy; try again in a few seconds", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (h *teamsHandler) actor(ctx context.Context, act schema.Activity) (governance.Actor, error) {
	p, err := h.cfg.Teams.Directory.Remember(ctx, act)
	return governance.Actor{Person: p, Platform: teams.Platform, ChatID: act.From.ID}, err
}

func (h *teamsHandler) failure(ctx context.Context, log *slog.Logger, err error) teams.Card {
	var p *governance.Problem
	if errors.As(err, &p) {
		log.InfoContext(ctx, "teams command refused", "reason", p.Message)
		return teams.Render(voice.Error(err, ""))
	}
	ref := fmt.Sprintf("E%d", time.Now().UnixNano()%1e9)
	log.ErrorContext(ctx, "teams command failed", "err", err, "ref", ref)
	return teams.Render(voice.Error(err, ref))
}

var mention = regexp.MustCompile(`(?s)<at>.*?</at>`)

// activityKey is what makes a request asked by an activity idempotent: the Bot Framework
// delivering an activity again (same id) asks once.
func activityKey(act schema.Activity) string { return idempotencyKey("teams:", act.ID) }

// command runs a text command, as `/access <text>` would in Slack. Teams' own part is
// here: mentions of the bot are dropped, and `request` alone (or nothing) is the form.
// key makes a request it asks for idempotent.
func (h *teamsHandler) command(ctx context.Context, who governance.Actor, act schema.Activity, key string) teams.Card {
	text := strings.TrimSpace(mention.ReplaceAllString(act.Text, ""))
	if strings.EqualFold(text, "request") || text == "" {
		return teams.FormCard(voice.RequestForm(h.svc.Catalog().Items()), teams.VerbRequest)
	}
	cmd, err := governance.ParseCommand(text)
	if err != nil {
		return h.failure(ctx, h.log, err)
	}
	if isConnectCommand(cmd) && !personal(act) {
		return h.personally(ctx, who, cmd)
	}
	m, err := dispatch(ctx, h.svc, h.cfg.Accounts.Connections, who, cmd, key)
	if err != nil {
		return h.failure(ctx, h.log, err)
	}
	return teams.Render(m)
}

// personal reports whether an activity came from the person's personal chat with the bot.
func personal(act schema.Activity) bool {
	return act.Conversation.ConversationType == "personal" || (act.Conversation.ConversationType == "" && !act.Conversation.IsGroup)
}

// personally carries out a connect command sent in a channel or group chat, whose
// answer (a sign-in link, someone's accounts) is only for the sender: it goes to their
// personal chat, and the channel is told so; without a personal chat, nothing is done.
func (h *teamsHandler) personally(ctx context.Context, who governance.Actor, cmd governance.Command) teams.Card {
	conv, _, ok, err := h.cfg.Teams.Directory.Reach(ctx, who.Person.Email)
	if err != nil {
		return h.failure(ctx, h.log, err)
	}
	if !ok {
		return h.failure(ctx, h.log, &governance.Problem{Err: governance.ErrBadCommand, Message: voice.ConnectInPersonalChat})
	}
	m, err := dispatch(ctx, h.svc, h.cfg.Accounts.Connections, who, cmd, "")
	card := teams.Render(m)
	if err != nil {
		card = h.failure(ctx, h.log, err)
	}
	if _, err := h.cfg.Teams.Connector.Send(ctx, conv, teams.Activity(card, "accessbot")); err != nil {
		return h.failure(ctx, h.log, err)
	}
	return teams.Render(voice.SentToPersonalChat())
}

// invoke answers a card click (Action.Execute) in the HTTP response: the clicker's card is
// replaced by the answer, and everybody else's card is updated through the outbox.
func (h *teamsHandler) invoke(ctx context.Context, w http.ResponseWriter, act schema.Activity, log *slog.Logger) {
	action, _ := act.Value["action"].(map[string]any)
	verb, _ := action["verb"].(string)
	data, _ := action["data"].(map[string]any)
	who, err := h.actor(ctx, act)
	var card teams.Card
	if err == nil {
		card, err = h.act(ctx, who, verb, data, activityKey(act))
	}
	if err != nil {
		// A refusal leaves the clicker's card as it is and says why in a message.
		h.failure(ctx, log, err)
		writeTeams(w, map[string]any{"statusCode": http.StatusOK, "type": "application/vnd.microsoft.activity.message",
			"value": voice.ErrorText(err, "")})
		return
	}
	writeTeams(w, map[string]any{"statusCode": http.StatusOK, "type": teams.ContentType, "value": card})
}

// writeTeams writes an invoke response as the Bot Connector client writes activities, so
// that the size budget measures what Teams gets.
func writeTeams(w http.ResponseWriter, v any) {
	b, err := teams.Marshal(v)
	if err != nil {
		http.Error(w, "the answer could not be written", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(b)
}

// listAfter is the answer to a decision clicked in a list of requests (pending, digest):
// the clicker's list as it is now, with the decided request in its place saying what
// became of it, so the answer, which replaces the card, does not take the others away.
// It shows the page the click came from (offset, where that page begins).
func (h *teamsHandler) listAfter(ctx context.Context, who governance.Actor, decided *governance.Request, offset int) teams.Card {
	rs, err := h.svc.PendingFor(ctx, who.Person)
	if err != nil { // the decision stands; show it at least
		h.log.WarnContext(ctx, "teams pending list not read after a decision", "request", decided.ID, "err", err)
		return teams.Render(voice.CardFor(decided, who.Person))
	}
	rs = slices.DeleteFunc(rs, func(r *governance.Request) bool { return r.ID == decided.ID })
	at := slices.IndexFunc(rs, func(r *governance.Request) bool { return r.CreatedAt.After(decided.CreatedAt) })
	if at < 0 {
		at = len(rs)
	}
	return teams.RenderPage(voice.Pending(slices.Insert(rs, at, decided)), offset)
}

// page is the page of a list (a voice.List) that begins at offset, read anew: the
// answer to a list's Show more button.
func (h *teamsHandler) page(ctx context.Context, who governance.Actor, list voice.List, offset int) (teams.Card, error) {
	var m voice.Message
	switch list {
	case voice.ListPending, voice.ListDigest:
		rs, err := h.svc.PendingFor(ctx, who.Person)
		if err != nil {
			return nil, err
		}
		m = voice.Pending(rs)
		if list == voice.ListDigest {
			m = voice.Digest(rs)
		}
	case voice.ListStatus:
		rs, err := h.svc.Mine(ctx, who.Person)
		if err != nil {
			return nil, err
		}
		m = voice.Status(rs)
	default:
		return nil, &governance.Problem{Err: governance.ErrBadCommand, Message: voice.UnknownButton}
	}
	return teams.RenderPage(m, offset), nil
}

// number reads a number of a button's data: JSON's numbers are float64, and a client may
// send one as a string.
func number(v any) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case string:
		i, _ := strconv.Atoi(n)
		return i
	}
	return 0
}

// sendConnectLink sends someone whose click accessbot may carry out only as them, and who
// has not connected their account, their connect link in the personal chat, where only
// they see it; the click's answer says why.
func (h *teamsHandler) sendConnectLink(ctx context.Context, who governance.Actor, err error) {
	m, ok := connectFirst(ctx, h.cfg.Accounts.Connections, who, err)
	if !ok {
		return
	}
	conv, _, reach, rerr := h.cfg.Teams.Directory.Reach(ctx, who.Person.Email)
	if rerr != nil || !reach {
		return
	}
	if _, serr := h.cfg.Teams.Connector.Send(ctx, conv, teams.Activity(teams.Render(m), "accessbot")); serr != nil {
		h.log.WarnContext(ctx, "connect link not sent", "email", who.Person.Email, "err", serr)
	}
}

// act carries out a card button: approve, deny (with the reason typed in the card),
// extend, or the request form's Request.
func (h *teamsHandler) act(ctx context.Context, who governance.Actor, verb string, data map[string]any, key string) (teams.Card, error) {
	str := func(k string) string { s, _ := data[k].(string); return strings.TrimSpace(s) }
	id := str("request")
	switch verb {
	case teams.VerbApprove, teams.VerbDeny:
		reason := str(teams.InputReason)
		if reason == "" {
			reason = str(teams.InputReason + "-" + id) // a digest has one reason box per request
		}
		req, err := h.svc.Decide(ctx, governance.DecideInput{RequestID: id, Approver: who, Approve: verb == teams.VerbApprove, Reason: reason})
		if err != nil {
			h.sendConnectLink(ctx, who, err)
		}
		if err != nil {
			return nil, err
		}
		if str(teams.DataFrom) == teams.FromList {
			return h.listAfter(ctx, who, req, number(data[teams.DataOffset])), nil
		}
		return teams.Render(voice.CardFor(req, who.Person)), nil
	case teams.VerbForward:
		to, err := governance.ParsePerson(str(voice.InputForwardTo))
		if err != nil {
			return nil, &governance.Problem{Err: governance.ErrBadCommand, Field: voice.InputForwardTo, Message: err.Error()}
		}
		req, err := h.svc.Forward(ctx, governance.ForwardInput{RequestID: id, By: who, To: to, Comment: str(teams.InputReason)})
		if err != nil {
			h.sendConnectLink(ctx, who, err)
		}
		if err != nil {
			return nil, err
		}
		return teams.Render(voice.CardFor(req, who.Person)), nil
	case teams.VerbMore:
		return h.page(ctx, who, voice.List(str(teams.DataList)), number(data[teams.DataOffset]))
	case teams.VerbExtend:
		req, err := h.svc.Extend(ctx, id, who)
		if err != nil {
			return nil, err
		}
		return teams.Render(voice.RequestCreated(req)), nil
	case teams.VerbRequest:
		var d time.Duration
		if s := str(teams.InputDuration); s != "" {
			var err error
			if d, err = governance.ParseDuration(s); err != nil {
				return nil, err
			}
		}
		req, err := h.svc.Request(ctx, governance.RequestInput{Requester: who, Item: str(teams.InputItem), Duration: d,
			Reason: str(teams.InputReason), IdempotencyKey: key})
		if err != nil {
			return nil, err
		}
		return teams.Render(voice.RequestCreated(req)), nil
	}
	return nil, &governance.Problem{Err: governance.ErrBadCommand, Message: voice.UnknownButton}
}
