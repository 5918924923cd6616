package msgraph_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/msgraph"
)

func TestMemory_KeepsByEMailForItsTTLAndAmendsWithoutMakingYounger(t *testing.T) {
	clock := governance.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	m := msgraph.NewMemory[string](clock, 10*time.Minute)
	_, ok := m.Recall("carol@example.com")
	assert.False(t, ok, "nothing kept yet")

	m.Keep(" Carol@Example.com", "carol")
	got, ok := m.Recall("carol@example.com ")
	assert.True(t, ok, "the e-mail is compared lower-cased and trimmed")
	assert.Equal(t, "carol", got)

	clock.Advance(9 * time.Minute)
	m.Amend("carol@example.com", func(v *string) { *v += "+manager" })
	got, ok = m.Recall("carol@example.com")
	assert.True(t, ok)
	assert.Equal(t, "carol+manager", got)
	m.Amend("nobody@example.com", func(v *string) { *v = "made up" })
	_, ok = m.Recall("nobody@example.com")
	assert.False(t, ok, "amending keeps nothing new")

	clock.Advance(time.Minute)
	_, ok = m.Recall("carol@example.com")
	assert.False(t, ok, "gone ten minutes after it was kept, amended or not")
}
