package handlers

import (
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/slack-go/slack/slackevents"

	slackbot "github.com/accessbot/accessbot/bot/slack"
)

// eventsMaxBody is the largest Events API body taken: an app_home_opened event holds the
// person's Home tab view (100 blocks of up to 3,000 characters each, at worst).
const eventsMaxBody = 1 << 20

// events is POST /slack/events, Slack's Events API, a verified JSON body: url_verification
// is answered with its challenge; every event callback is acknowledged at once with an
// empty 200 (Slack retries anything slower than 3 seconds, and turns the subscription off
// when most deliveries fail), and what it asks for is done after.
func (s *slackHandler) events(w http.ResponseWriter, r *http.Request, body []byte) {
	var outer struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		s.refuse(w, r, http.StatusBadRequest, err)
		return
	}
	if outer.Type == slackevents.URLVerification {
		// slack-go's ChallengeResponse has no JSON tags: the challenge goes back as text.
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, outer.Challenge)
		return
	}
	ev, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
	if err != nil {
		// An event accessbot does not subscribe to (slack-go maps only the types it
		// knows): acknowledged, so that Slack does not send it again.
		s.log.InfoContext(r.Context(), "slack event ignored", "type", outer.Type, "reason", err.Error())
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusOK)
	s.event(r.Context(), ev, "retry", r.Header.Get("X-Slack-Retry-Num"))
}

// event handles one verified Events API event, over HTTP or Socket Mode, after it was
// acknowledged: app_home_opened on the Home tab draws the person's home anew. Every other
// event is ignored.
func (s *slackHandler) event(ctx context.Context, ev slackevents.EventsAPIEvent, attrs ...any) {
	if ev.Type != slackevents.CallbackEvent {
		return
	}
	opened, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent)
	if !ok || opened.Tab != "home" || opened.User == "" {
		return
	}
	attrs = append(attrs, "event", slackevents.AppHomeOpened, "user", opened.User, "team", ev.TeamID)
	if err := s.cfg.Slack.Directory.Admit(ctx, ev.TeamID, ev.EnterpriseID, ""); err != nil {
		s.log.InfoContext(ctx, "slack event refused", append(attrs, "reason", err.Error())...)
		return
	}
	s.cfg.Go(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commandTimeout)
		defer cancel()
		if err := s.drawHome(ctx, opened.User); err != nil {
			s.log.WarnContext(ctx, "slack home not drawn", append(attrs, "err", err)...)
		}
	})
}

// drawHome publishes the Home tab of the Slack user userID from the store as it is now.
// Someone accessbot cannot act for (a bot, someone of another org, a guest where guests
// are refused) sees why instead.
func (s *slackHandler) drawHome(ctx context.Context, userID string) error {
	if err := s.cfg.Slack.Directory.SawHome(ctx, userID); err != nil {
		// Not worth failing the drawing for: they see the tab, which is just not redrawn
		// on changes until they open it again. Actor says why, if it is them.
		s.log.InfoContext(ctx, "slack home opened, not recorded", "user", userID, "err", err)
	}
	who, err := s.cfg.Slack.Directory.Actor(ctx, userID)
	if err != nil {
		return slackbot.PublishRefusal(ctx, s.cfg.Slack.API, userID, s.failure(ctx, err, "user", userID))
	}
	home, err := s.svc.Home(ctx, who.Person)
	if err != nil {
		return err
	}
	return slackbot.PublishHome(ctx, s.cfg.Slack.API, userID, home)
}
