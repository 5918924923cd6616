package slack

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These hold the text helpers made cheaper for drawing cards to what they were: each is
// compared with the version it replaced, kept here as it was.

func dateWithFmt(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} at {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

func cutMrkdwnWithRunes(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	r := []rune(s)
	out := string(r[:n-1])
	if lt := strings.LastIndexByte(out, '<'); lt > strings.LastIndexByte(out, '>') {
		out = out[:lt]
	}
	if amp := strings.LastIndexByte(out, '&'); amp > strings.LastIndexByte(out, ';') {
		out = out[:amp]
	}
	return out + "…"
}

func cutPlainWithRunes(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func neutraliseMentionsByteByByte(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] != '@' || (i > 0 && isWordByte(s[i-1])) {
			continue
		}
		for _, w := range broadcasts {
			end := i + 1 + len(w)
			if end <= len(s) && strings.EqualFold(s[i+1:end], w) && (end == len(s) || !isWordByte(s[end])) {
				b.WriteString("\u200b")
				break
			}
		}
	}
	return b.String()
}

func TestDate_IsWhatFmtWrote(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("A", 5*3600+1800), time.FixedZone("B", -11*3600)}
	times := []time.Time{{}, time.Unix(0, 0), time.Unix(-1, 0), time.Unix(-1, 999_999_999), time.Unix(1<<33, 0),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-44, 3, 15, 12, 0, 0, 0, time.UTC)}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		times = append(times, time.Unix(rng.Int64N(1<<36)-1<<35, rng.Int64N(1e9)))
	}
	for _, at := range times {
		for _, z := range zones {
			require.Equal(t, dateWithFmt(at.In(z)), Date(at.In(z)))
		}
	}
}

func FuzzDate(f *testing.F) {
	f.Add(int64(1764754200), int64(0))
	f.Add(int64(-1), int64(1))
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		at := time.Unix(sec, nsec)
		assert.Equal(t, dateWithFmt(at), Date(at))
	})
}

// textSeeds are texts of every kind the cuts meet: ASCII, accents, emoji, our own tokens
// and entities, and invalid UTF-8, which []rune turned into U+FFFD byte by byte.
var textSeeds = []string{"", "a", "incident 4711", "café 🔒 naïve", "<!date^1^{date}|x> &amp; *b*", "\xff\xfe ok \xc3", "a\xe2\x82b@here",
	"@here @channel x@everyone @Everyone! (@here) _@channel", "@", "@@here", "\u200b@here", strings.Repeat("é🔒<&>", 50)}

func TestCuts_AreWhatTheRuneCutsWere(t *testing.T) {
	for _, s := range textSeeds {
		for n := 1; n <= len([]rune(s))+2; n++ {
			require.Equal(t, cutMrkdwnWithRunes(s, n), cutMrkdwn(s, n), "%q %d", s, n)
			require.Equal(t, cutPlainWithRunes(s, n), cutPlain(s, n), "%q %d", s, n)
		}
	}
}

func FuzzCuts(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = 1 + int(uint(n)%uint(len(s)+2))
		assert.Equal(t, cutMrkdwnWithRunes(s, n), cutMrkdwn(s, n))
		assert.Equal(t, cutPlainWithRunes(s, n), cutPlain(s, n))
	})
}

func TestNeutraliseMentions_IsWhatTheByteByByteVersionWrote(t *testing.T) {
	for _, s := range textSeeds {
		require.Equal(t, neutraliseMentionsByteByByte(s), neutraliseMentions(s), "%q", s)
	}
	assert.Equal(t, "mail bob@example.com", neutraliseMentions("mail bob@example.com"))
	assert.Equal(t, "@\u200bhere and @\u200bchannel", neutraliseMentions("@here and @channel"))
}

func FuzzNeutraliseMentions(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		assert.Equal(t, neutraliseMentionsByteByByte(s), neutraliseMentions(s))
	})
}
