package voice

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The cut and the quotation, made cheaper, are compared with the versions they replaced.

func cutWithRunes(s string, n int) string {
	if r := []rune(s); n > 0 && len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func quoteWithReplace(quote, text string) string {
	return quote + strings.ReplaceAll(text, "\n", "\n"+quote)
}

var seeds = []string{"", "a", "\n", "a\n", "\nb", "one\ntwo\n\nthree", "café 🔒\xff\xfe\xc3 x", strings.Repeat("é🔒\n", 30)}

func TestCutAndQuote_AreWhatTheyWere(t *testing.T) {
	for _, s := range seeds {
		for n := -1; n <= len(s)+2; n++ {
			require.Equal(t, cutWithRunes(s, n), cut(s, n), "%q %d", s, n)
		}
		for _, q := range []string{"> ", ""} {
			var b strings.Builder
			Markup{Quote: q}.writeQuote(&b, s)
			require.Equal(t, quoteWithReplace(q, s), b.String(), "%q %q", q, s)
		}
	}
}

func FuzzCutAndQuote(f *testing.F) {
	for _, s := range seeds {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		require.Equal(t, cutWithRunes(s, n), cut(s, n))
		var b strings.Builder
		Markup{Quote: "> "}.writeQuote(&b, s)
		require.Equal(t, quoteWithReplace("> ", s), b.String())
	})
}
