package slack

import (
	"log/slog"
	"net/http"
	"strings"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// SocketClients are the Socket Mode clients of the settings, Connections of them, each
// holding one connection with the app-level token. Their own logging (only on trouble)
// goes to log. Client debug stays off: slack-go would then ask Slack to recycle every
// connection every 360 seconds (debug_reconnects).
func (s *Settings) SocketClients(log *slog.Logger) []*socketmode.Client {
	// apps.connections.open is bounded like every Web API call; RunContext would wait on
	// it for ever.
	api := slackapi.New(s.BotToken, slackapi.OptionAppLevelToken(s.AppToken), slackapi.OptionAPIURL(apiBase(s.APIURL)),
		slackapi.OptionHTTPClient(&http.Client{Timeout: DefaultTimeout}))
	out := make([]*socketmode.Client, s.Connections())
	for i := range out {
		out[i] = socketmode.New(api, socketmode.OptionLog(slog.NewLogLogger(log.Handler(), slog.LevelWarn)))
	}
	return out
}

// apiBase is the Web API's base URL: apiURL (a fake Slack) with a trailing slash, or
// Slack's own.
func apiBase(apiURL string) string {
	if apiURL == "" {
		return slackapi.APIURL
	}
	return strings.TrimRight(apiURL, "/") + "/"
}
