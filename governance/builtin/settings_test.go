package builtin_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/builtin"
)

func TestSettings_CheckListsEveryProblemAtOnce(t *testing.T) {
	s := builtin.Settings{WebhookURL: "ftp://fulfil.example.com", Timeout: governance.Duration(2 * time.Minute)}
	errs := s.Check()
	for i, want := range []string{"builtin timeout 2m0s", `builtin webhookURL "ftp://fulfil.example.com" is not an http(s) URL`,
		"BUILTIN_WEBHOOK_SECRET is not"} {
		if assert.Greater(t, len(errs), i, want) {
			assert.ErrorContains(t, errs[i], want)
		}
	}
	assert.Len(t, errs, 3)
	assert.Empty(t, (&builtin.Settings{}).Check(), "no webhook needs nothing")
}

func TestSettings_DescribeSaysWhetherAWebhookFulfils(t *testing.T) {
	assert.Contains(t, (&builtin.Settings{}).Describe(), "system of record")
	assert.Contains(t, (&builtin.Settings{WebhookURL: "https://fulfil.example.com"}).Describe(), "fulfilment webhook https://fulfil.example.com")
}
