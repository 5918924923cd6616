package slack

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

// What fallbackText replaces, each by its group: a date token by its label, a bold span by
// its text.
var (
	dateRe = regexp.MustCompile(`<!date\^-?\d+\^[^|>]*\|([^>]*)>`)
	boldRe = regexp.MustCompile(`\*([^*\n]+)\*`)
)

func byRegexp(s string) string {
	return boldRe.ReplaceAllString(dateRe.ReplaceAllString(s, "$1"), "$1")
}

var fallbackSeeds = []string{
	"",
	"plain text, nothing to do",
	"*Access request* from *Ann*",
	"<!date^1795424400^{date_short_pretty} {time}|2026-11-23 09:00 UTC> is the end",
	"ends *<!date^1795424400^{date}|Nov 23>* and <!date^-5^{time}|before 1970>",
	"**", "***", "* *", "*a\nb*", "*a*b*c*", "a * b", "*", "*x", "x*",
	"<!date^", "<!date^^x|y>", "<!date^-^x|y>", "<!date^12^x>", "<!date^12^x|y", "<!date^12x^a|b>",
	"<!date^12^a|b\nc> *d*", "<!date^1^a|*b*>", "<!date^1^<!date^2^a|b>|c>", "<<!date^1^a|b>>",
}

func TestFallbackText_ReplacesWhatTheExpressionsMatch(t *testing.T) {
	for _, s := range fallbackSeeds {
		assert.Equal(t, byRegexp(s), fallbackText(s), "%q", s)
	}
	assert.Equal(t, "Access request from Ann: ends 2026-11-23 09:00 UTC",
		fallbackText("*Access request* from *Ann*: ends <!date^1795424400^{date_short_pretty} {time}|2026-11-23 09:00 UTC>"))
}

func FuzzFallbackText(f *testing.F) {
	for _, s := range fallbackSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := fallbackText(s), byRegexp(s); got != want {
			t.Fatalf("fallbackText(%q) = %q, the expressions give %q", s, got, want)
		}
	})
}
