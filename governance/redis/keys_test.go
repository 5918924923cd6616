package redis

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A person's index key holds the e-mail as strings.ToLower writes it, whatever the
// letters, as it did before keys were appended to a buffer.
func TestKeys_PersonKeysLowerTheEmailAsStringsToLower(t *testing.T) {
	k := keys{prefix: "p", shards: 16}
	for _, email := range []string{"carol@example.com", "Carol@Example.COM", "ÉMILE@example.com", "İpek@example.com",
		"ǅ@example.com", "\xff@example.com", ""} {
		assert.Equal(t, "p:{s3}:mine:"+strings.ToLower(email), k.mine(3, email), email)
		assert.Equal(t, "p:{s12}:pending:"+strings.ToLower(email), k.pending(12, email), email)
	}
}

func FuzzAppendLower(f *testing.F) {
	for _, s := range []string{"carol@example.com", "Carol@Example.COM", "ÉMILE", "İ", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := string(appendLower([]byte("x"), s)); got != "x"+strings.ToLower(s) {
			t.Fatalf("appendLower(%q) = %q, strings.ToLower: %q", s, got[1:], strings.ToLower(s))
		}
	})
}
