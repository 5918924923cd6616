package voice_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/teams"
	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

var updateRendered = flag.Bool("update-rendered", false, "record testdata/rendered.sha256 from the current renderers")

// renderedFile holds, for every message voice draws in the variants below, a SHA-256 of
// what is sent for it: Slack's chat.postMessage body and ephemeral answer, and Teams'
// Adaptive Card. It was recorded before the drawing was made cheaper, so that a change
// meant to save CPU cannot change a byte of what people get.
const renderedFile = "testdata/rendered.sha256"

// renderVariants are the requests every message is drawn about: as they come, with
// hostile and over-long text (escaping, mentions, every cut), and dated before 1970 in a
// zone of their own.
var renderVariants = map[string]func(r *governance.Request){
	"plain": func(*governance.Request) {},
	"hostile": func(r *governance.Request) {
		long := strings.Repeat("é🔒<&>", 700)
		mallory := governance.Person{Email: "mallory@here.example", Name: "@here Mallory <!channel> & *co* " + long}
		r.Reason, r.Failure, r.Item.Name, r.Item.ID = "@channel <@U1> *bold* _it_ `x`\n> q\n"+long, long, long, "id@everyone "+long
		r.Requester = mallory
		if r.Decision != nil {
			r.Decision.By, r.Decision.Reason = mallory, long
		}
		if r.Submission != nil {
			r.Submission.Waiting = long
		}
	},
	"old date": func(r *governance.Request) {
		r.CreatedAt = time.Date(1969, 7, 20, 20, 17, 40, 123, time.FixedZone("X", -5*3600-1800))
	},
}

// rendered is what is sent for m, one line per platform and form.
func rendered(t *testing.T, m voice.Message) []string {
	t.Helper()
	blocks, fallback := slack.Blocks(m)
	post, err := slack.ChatMessage{Channel: "D1", Text: fallback, Blocks: blocks}.AppendJSON(nil)
	require.NoError(t, err)
	reply, err := slack.Reply(m).AppendJSON(nil)
	require.NoError(t, err)
	card, err := json.Marshal(teams.Render(m))
	require.NoError(t, err)
	return []string{"slack post " + string(post), "slack reply " + string(reply), "teams " + string(card)}
}

func TestEveryMessage_IsRenderedByteForByteAsRecorded(t *testing.T) {
	var got []string
	for variant, edit := range renderVariants {
		for name, m := range everyMessage(edit) {
			sum := sha256.Sum256([]byte(strings.Join(rendered(t, m), "\n")))
			got = append(got, fmt.Sprintf("%s %s / %s", hex.EncodeToString(sum[:]), variant, name))
		}
	}
	slices.SortFunc(got, func(a, b string) int { return strings.Compare(a[65:], b[65:]) })
	if *updateRendered {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(renderedFile, []byte(strings.Join(got, "\n")+"\n"), 0o644))
	}
	f, err := os.Open(renderedFile)
	require.NoError(t, err)
	defer f.Close()
	var want []string
	for s := bufio.NewScanner(f); s.Scan(); {
		want = append(want, s.Text())
	}
	require.Greater(t, len(want), 300)
	assert.Equal(t, want, got)
}
