package governance

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Command
	}{
		{"nothing opens the form", "  ", Command{Kind: CommandForm}},
		{"help", "help", Command{Kind: CommandHelp}},
		{"status", "status", Command{Kind: CommandStatus}},
		{"pending", "Pending", Command{Kind: CommandPending}},
		{"cancel normalises the id", "cancel ar7", Command{Kind: CommandCancel, ID: "AR-7"}},
		{"schedule", "schedule AR-12", Command{Kind: CommandSchedule, ID: "AR-12"}},
		{"connect names a backend", "connect SailPoint", Command{Kind: CommandConnect, Backend: "sailpoint"}},
		{"disconnect names a backend", "disconnect sailpoint", Command{Kind: CommandDisconnect, Backend: "sailpoint"}},
		{"connections", "connections", Command{Kind: CommandConnections}},
		{"request with everything", "request prod-db for 8h because incident 4711",
			Command{Kind: CommandRequest, Item: "prod-db", Duration: 8 * time.Hour, Reason: "incident 4711"}},
		{"request without duration", "request prod-db because need it for 2 days",
			Command{Kind: CommandRequest, Item: "prod-db", Reason: "need it for 2 days"}},
		{"request with a spaced item name", "request Production  database for 7d",
			Command{Kind: CommandRequest, Item: "Production database", Duration: 7 * Day}},
		{"request, keywords in any case", "REQUEST vpn FOR 30m BECAUSE on call",
			Command{Kind: CommandRequest, Item: "vpn", Duration: 30 * time.Minute, Reason: "on call"}},
		{"a reason mentioning for keeps it", "request vpn because for the release for 2h",
			Command{Kind: CommandRequest, Item: "vpn", Reason: "for the release for 2h"}},
		{"a spelled-out duration", "request prod-db-read for 2 hours",
			Command{Kind: CommandRequest, Item: "prod-db-read", Duration: 2 * time.Hour}},
		{"the last for that a duration follows", "request Room for 2 people for 1 day because offsite",
			Command{Kind: CommandRequest, Item: "Room for 2 people", Duration: Day, Reason: "offsite"}},
		{"an item with for in its name", "request Access for contractors",
			Command{Kind: CommandRequest, Item: "Access for contractors"}},
		{"for someone else, by e-mail, then for how long", "request vpn for bob@example.com for 8h because travelling",
			Command{Kind: CommandRequest, Item: "vpn", Duration: 8 * time.Hour, Reason: "travelling", For: "bob@example.com"}},
		{"for how long, then for someone else, by Slack mention", "request vpn for 8h for <@U123|bob> because travelling",
			Command{Kind: CommandRequest, Item: "vpn", Duration: 8 * time.Hour, Reason: "travelling", For: "<@U123|bob>"}},
		{"for someone else only", "request Access for contractors for Bob@Example.com",
			Command{Kind: CommandRequest, Item: "Access for contractors", For: "Bob@Example.com"}},
		{"extend as long again", "extend ar-11", Command{Kind: CommandExtend, ID: "AR-11"}},
		{"extend for a while", "Extend AR-11 for 4 hours", Command{Kind: CommandExtend, ID: "AR-11", Duration: 4 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCommand(tt.text)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseCommand_BadInputSaysWhatToDo(t *testing.T) {
	tests := []struct {
		name, text string
		err        error
		mentions   string
	}{
		{"unknown verb", "grant me root", ErrBadCommand, "help"},
		{"request without item", "request", ErrUnknownItem, "request <item>"},
		{"because without reason", "request vpn because", ErrJustificationRequired, "reason"},
		{"bad duration", "request vpn for 8x", ErrBadDuration, "30m, 8h, 7d"},
		{"extend without an id", "extend", ErrBadCommand, "extend AR-7"},
		{"extend with a bad duration", "extend AR-7 for 2 fortnights", ErrBadDuration, "2 fortnights"},
		{"a spelled-out duration that is not one says so", "request prod-db-read for 2 fortnights", ErrBadDuration, `"2 fortnights" is not a duration`},
		{"cancel without id", "cancel", ErrBadCommand, "AR-7"},
		{"connect without a backend", "connect", ErrBadCommand, "connect sailpoint"},
		{"disconnect with two words", "disconnect sail point", ErrBadCommand, "disconnect sailpoint"},
		{"cancel with junk id", "cancel everything", ErrBadCommand, "AR-7"},
		{"reason too long", "request vpn because " + strings.Repeat("ж", 1001), ErrReasonTooLong, "1001 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCommand(tt.text)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.err)
			var p *Problem
			require.True(t, errors.As(err, &p))
			assert.Contains(t, p.Message, tt.mentions)
		})
	}
}

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"30m": 30 * time.Minute, "8h": 8 * time.Hour, "7d": 7 * Day, "1d12h": 36 * time.Hour, "2w": 14 * Day, " 90M ": 90 * time.Minute,
		"2 hours": 2 * time.Hour, "8hours": 8 * time.Hour, "1 day 12 hours": 36 * time.Hour, "1 week, 2 days": 9 * Day,
		"90 minutes": 90 * time.Minute, "1 hour and 30 min": 90 * time.Minute, "3 Days": 3 * Day,
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "8", "h", "0m", "-1h", "1.5h", "8 hourz", "2 hours ago", "10s", "1 fortnight", "99999999d", "4000d"} {
		_, err := ParseDuration(in)
		assert.ErrorIs(t, err, ErrBadDuration, in)
	}
	got, err := ParseDuration("3650d")
	require.NoError(t, err, "exactly ten years")
	assert.Equal(t, 3650*Day, got)
	// Six digits of days or weeks overflow int64 nanoseconds; they must not wrap around to
	// a short duration that would then be granted.
	for _, in := range []string{"3651d", "213504d", "213505d", "30501w", "999999w", "1h213504d", "3650d1m"} {
		got, err := ParseDuration(in)
		require.ErrorIs(t, err, ErrBadDuration, "%s parsed as %s", in, got)
		assert.ErrorContains(t, err, "longer than ten years", in)
	}
	_, err = ParseCommand("request db for 213505d because x")
	assert.ErrorContains(t, err, "longer than ten years")
}

func TestFormatDuration_RoundTrips(t *testing.T) {
	for _, d := range []time.Duration{30 * time.Minute, 8 * time.Hour, 7 * Day, 36 * time.Hour, 90 * time.Minute} {
		got, err := ParseDuration(FormatDuration(d))
		require.NoError(t, err)
		assert.Equal(t, d, got)
	}
	assert.Equal(t, "no end", FormatDuration(0))
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"", "help", "request prod-db for 8h because x", "cancel AR-7", "request a for 1d2h3m because because for 2h",
		"revoke prod-db", "revoke AR-7 from bob@example.com", "revoke from from from", "request vpn for bob@example.com for 8h because x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCommand(s)
		if err != nil {
			var p *Problem
			if !errors.As(err, &p) || p.Message == "" {
				t.Fatalf("error without a message for people: %v", err)
			}
			return
		}
		if c.Kind == CommandRequest && (c.Item == "" || c.Duration < 0) {
			t.Fatalf("bad request parse of %q: %+v", s, c)
		}
		if c.Kind == CommandRequest && strings.ContainsAny(c.For, " \t\n") {
			t.Fatalf("bad request parse of %q: whom it is for is one word: %+v", s, c)
		}
		if c.Kind == CommandRevoke && (c.Item == "" || strings.ContainsAny(c.Holder, " \t\n")) {
			t.Fatalf("bad revoke parse of %q: %+v", s, c)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30m", "8h", "7d", "1d12h", "2w", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil && d <= 0 {
			t.Fatalf("%q parsed to non-positive %v", s, d)
		}
	})
}

func FuzzParseApprover(f *testing.F) {
	for _, s := range []string{"manager", "owner", "group:db-owners", "Alice <alice@example.com>", "group:", "requester", "teamlead", "MANAGER"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseApprover(s)
		if err != nil {
			return
		}
		again, err := ParseApprover(a.String())
		if err != nil || again.Kind != a.Kind || again.Group != a.Group || !again.Person.Is(a.Person) {
			t.Fatalf("%q reads as %+v, but its own writing %q as %+v (%v)", s, a, a.String(), again, err)
		}
	})
}

func TestOneSpaced_IsTheExpressionsReplacement(t *testing.T) {
	for _, s := range []string{"", "vpn", "office vpn", "office  vpn", "a\tb", "a \n\r\f b", "a\vb", "a\u00a0b", " x "} {
		assert.Equal(t, spaces.ReplaceAllString(s, " "), oneSpaced(s), "%q", s)
	}
}

// The regular expressions the command's words were once read with: the hand-written scans
// must find what they found.
var (
	refBecause = regexp.MustCompile(`(?i)(?:^|\s)because(?:\s+|$)`)
	refFor     = regexp.MustCompile(`(?i)\s+for\s+(\d.*)$`)
	refFrom    = regexp.MustCompile(`(?i)\s+from\s+(\S+)$`)
	refForWho  = regexp.MustCompile(`(?i)\s+for\s+(<@[^>\s]+>|@\S+|[^\s@<>]+@[^\s@<>]+)$`)
)

// refLast is re's rightmost match in s (each tried from the previous one's start + 1).
func refLast(re *regexp.Regexp, s string) []int {
	var last []int
	for from := 0; from < len(s); {
		m := re.FindStringSubmatchIndex(s[from:])
		if m == nil {
			break
		}
		for i := range m {
			m[i] += from
		}
		last = m
		from = m[0] + 1
	}
	return last
}

// sameScan compares a scan's answer with a regular expression's match m: both found or
// both not, the same text before (white space trimmed) and the same rest.
func sameScan(t *testing.T, what, s string, m []int, at, rest int, ok bool, group bool) {
	t.Helper()
	if ok != (m != nil) {
		t.Fatalf("%s(%q): found %v, the expression %v", what, s, ok, m != nil)
	}
	if !ok {
		return
	}
	wantRest := s[m[1]:]
	if group {
		wantRest = s[m[2]:m[3]]
	}
	if strings.TrimSpace(s[:at]) != strings.TrimSpace(s[:m[0]]) || strings.TrimSpace(s[rest:]) != strings.TrimSpace(wantRest) {
		t.Fatalf("%s(%q): %q | %q, the expression %q | %q", what, s, s[:at], s[rest:], s[:m[0]], wantRest)
	}
}

func FuzzCommandWords(f *testing.F) {
	for _, s := range []string{"prod-db for 8h because x", "a for 1d2h3m because because for 2h", "x BECAUSE y", "x becauſe y",
		"because", " because", "because\tx", "AR-7 from bob@example.com", "from from from", "vpn for bob@example.com for 8h",
		"vpn for <@U1|bob>", "vpn for @bob", "vpn FOR\n8h", "vpn for 8h\nmore", "x for <@>", "x for a@b@c", "x\u00a0for 8h", "for 8h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, after, ok := because(s)
		sameScan(t, "because", s, refBecause.FindStringIndex(s), at, after, ok, false)
		at, who, ok := forWhom(s)
		sameScan(t, "forWhom", s, refForWho.FindStringSubmatchIndex(s), at, who, ok, true)
		at, long, ok := forHowLong(s)
		sameScan(t, "forHowLong", s, refLast(refFor, s), at, long, ok, true)
		at, who, ok = fromWhom(s)
		sameScan(t, "fromWhom", s, refFrom.FindStringSubmatchIndex(s), at, who, ok, true)
	})
}

func BenchmarkParseCommand(b *testing.B) {
	for b.Loop() {
		_, _ = ParseCommand("request vpn-7 for 2h because load test")
	}
}
