package slack_test

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/governance"
)

func TestSettings_CheckListsEveryProblemAtOnce(t *testing.T) {
	s := slackbot.Settings{BotToken: "xoxp-user-token", SigningSecret: slackbot.DevSigningSecret, APIURL: "not a url"}
	errs := s.Check()
	assert.Len(t, errs, 3)
	assert.ErrorContains(t, errs[0], "the development secret")
	assert.ErrorContains(t, errs[1], "bot token (xoxb-…)")
	assert.ErrorContains(t, errs[2], `slack apiURL "not a url"`)

	s = slackbot.Settings{BotToken: "xoxb-1"}
	assert.ErrorContains(t, s.Check()[0], "SLACK_SIGNING_SECRET is not set")
	assert.Empty(t, (&slackbot.Settings{}).Check(), "development mode needs nothing")
}

func TestSettings_SecretsComeFromTheEnvironment(t *testing.T) {
	vars := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
	var s slackbot.Settings
	s.FromEnv(governance.Env{Get: func(string) string { return "" }, Secret: func(n string) string { return vars[n] }})
	assert.Equal(t, "xoxb-1", s.BotToken)
	assert.Equal(t, "s", s.SigningSecret)
	assert.False(t, s.DevMode())
	assert.Equal(t, "bot token and signing secret set; serves the bot token's workspace (auth.test); guests may ask, never decide", s.Describe())
}

func TestSettings_WorkspacesComeFromTheFileOrTheEnvironment(t *testing.T) {
	s := slackbot.Settings{Teams: []string{"T0FILE"}, Guests: slackbot.GuestsRefuse}
	vars := map[string]string{"SLACK_TEAM_IDS": "T0AAA, T0BBB", "SLACK_ENTERPRISE_ID": "E0ORG"}
	s.FromEnv(governance.Env{Get: func(n string) string { return vars[n] }, Secret: func(string) string { return "" }})
	assert.Equal(t, slackbot.Workspaces{Teams: []string{"T0AAA", "T0BBB"}, Enterprise: "E0ORG"}, s.Workspaces(), "the environment wins")
	assert.Empty(t, s.Check())
	assert.Equal(t, "workspace T0AAA, T0BBB and every workspace of org E0ORG", s.Workspaces().String())

	s = slackbot.Settings{Teams: []string{"acme", "T0OK"}, Enterprise: "T0NOTANORG", Guests: "admins"}
	errs := s.Check()
	assert.Len(t, errs, 3)
	assert.ErrorContains(t, errs[0], `slack teams: "acme" is not a workspace id`)
	assert.ErrorContains(t, errs[1], `slack enterprise: "T0NOTANORG" is not an Enterprise org id`)
	assert.ErrorContains(t, errs[2], `slack guests: "admins" is neither "request"`)

	s = slackbot.Settings{BotToken: "xoxb-1", SigningSecret: "s"}
	assert.Equal(t, "bot token and signing secret set; serves the bot token's workspace (auth.test); guests may ask, never decide", s.Describe())
}

func TestWorkspaces_ServeTheirWorkspacesAndTheirOrg(t *testing.T) {
	ws := slackbot.Workspaces{Teams: []string{"T1"}, Enterprise: "E1"}
	for _, c := range []struct {
		team, enterprise string
		want             bool
	}{
		{"T1", "", true}, {"T2", "E1", true}, {"T1", "E9", true}, {"T2", "", false}, {"T2", "E9", false}, {"", "", false},
	} {
		assert.Equal(t, c.want, ws.Serves(c.team, c.enterprise), "%s/%s", c.team, c.enterprise)
	}
	assert.False(t, slackbot.Workspaces{}.Serves("", ""), "nothing named serves nobody")
}

func TestSettings_AnAppTokenTurnsOnSocketModeWhichNeedsNoSigningSecret(t *testing.T) {
	vars := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1-A1-1-abc"}
	var s slackbot.Settings
	s.FromEnv(governance.Env{Get: func(string) string { return "" }, Secret: func(n string) string { return vars[n] }})
	assert.True(t, s.SocketMode())
	assert.Empty(t, s.Check(), "no signing secret is needed: nothing comes to /slack/*")
	assert.Equal(t, slackbot.DefaultSocketConnections, s.Connections())
	assert.Equal(t, "bot token set; Socket Mode (2 connections), /slack/* off (no signing secret); serves the bot token's workspace (auth.test); guests may ask, never decide",
		s.Describe())
	assert.Len(t, s.SocketClients(slog.New(slog.DiscardHandler)), 2)

	s.SigningSecret = "s"
	assert.Contains(t, s.Describe(), "Socket Mode (2 connections), and /slack/* checked with the signing secret")

	for _, tt := range []struct {
		name string
		s    slackbot.Settings
		want string
	}{
		{"a bot token as the app token", slackbot.Settings{BotToken: "xoxb-1", AppToken: "xoxb-2"}, "app-level token (xapp-…) with the connections:write scope"},
		{"no bot token", slackbot.Settings{AppToken: "xapp-1"}, "without SLACK_BOT_TOKEN"},
		{"more connections than Slack allows", slackbot.Settings{BotToken: "xoxb-1", AppToken: "xapp-1", SocketConnections: 11}, "not between 1 and 10"},
		{"neither secret nor app token", slackbot.Settings{BotToken: "xoxb-1"}, "or set SLACK_APP_TOKEN to use Socket Mode"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.s.Check()
			assert.Len(t, errs, 1)
			if len(errs) == 1 {
				assert.ErrorContains(t, errs[0], tt.want)
			}
		})
	}
}

func TestSettings_HomesAreRedrawnWithABotTokenUnlessTurnedOff(t *testing.T) {
	off := false
	for _, tt := range []struct {
		name string
		s    slackbot.Settings
		want bool
	}{
		{"development mode: no token", slackbot.Settings{}, false},
		{"a bot token", slackbot.Settings{BotToken: "xoxb-1"}, true},
		{"homeTab: false", slackbot.Settings{BotToken: "xoxb-1", HomeTab: &off}, false},
	} {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, tt.s.Homes()) })
	}
}
