package slack_test

import (
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
	assert.Equal(t, "bot token and signing secret set", s.Describe())
}
