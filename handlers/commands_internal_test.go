package handlers

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCommandText_ReadsWhatThePersonTyped(t *testing.T) {
	tests := []struct {
		name, sent, typed string
	}{
		{"entities", "request db because fix A&amp;B &lt;urgent&gt;", "request db because fix A&B <urgent>"},
		{"a typed entity stays one", "because &amp;lt; is not &lt;", "because &lt; is not <"},
		{"mail address", "revoke db from <mailto:bob@example.com|bob@example.com>", "revoke db from bob@example.com"},
		{"mail address without label", "revoke db from <mailto:bob@example.com>", "revoke db from bob@example.com"},
		{"link as typed", "because see <http://wiki.example|wiki.example>", "because see wiki.example"},
		{"whole URL", "because see <https://wiki.example/a?b=1&amp;c=2>", "because see https://wiki.example/a?b=1&c=2"},
		{"user mention kept for mentionedUser", "revoke db from <@U123|bob>", "revoke db from <@U123|bob>"},
		{"bare user mention kept", "revoke db from <@U123>", "revoke db from <@U123>"},
		{"channel and special mentions kept", "because <#C1|ops> <!here>", "because <#C1|ops> <!here>"},
		{"a stray < is left alone", "because a < b", "because a < b"},
		{"plain text", "status", "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.typed, commandText(tt.sent))
		})
	}
	user, ok := mentionedUser(commandText("<@U123|bob>"))
	assert.True(t, ok)
	assert.Equal(t, "U123", user, "a mention still names the user")
}

// FuzzCommandText_UndoesSlacksEscaping: whatever a person types, Slack's escaping of it
// (&, < and > as entities) is undone exactly.
func FuzzCommandText_UndoesSlacksEscaping(f *testing.F) {
	for _, s := range []string{"fix A&B <urgent>", "&lt; &amp; &gt;", "<@U123|bob>", "<mailto:a@b|a@b>", "a < b > c & d", ""} {
		f.Add(s)
	}
	escape := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	f.Fuzz(func(t *testing.T, typed string) {
		if got := commandText(escape.Replace(typed)); got != typed {
			t.Fatalf("typed %q, Slack sent %q, read back %q", typed, escape.Replace(typed), got)
		}
	})
}
