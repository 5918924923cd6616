package slack

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// plainMessage is Message without its MarshalJSON: what encoding/json writes by reflection.
type plainMessage Message

// Every message voice draws, as a card, a notice or an answer, with ordinary and hostile
// text, is written byte for byte as encoding/json writes it.
func TestMessageJSON_IsWhatEncodingJSONWrites(t *testing.T) {
	at := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
	states := []governance.State{governance.StatePendingApproval, governance.StateApproved, governance.StateActive, governance.StateDenied,
		governance.StateCancelled, governance.StateTimedOut, governance.StateFailed, governance.StateRevoked}
	kinds := []governance.NoticeKind{governance.NoticeReceived, governance.NoticeApproved, governance.NoticeDenied,
		governance.NoticeSubmitted, governance.NoticeWaiting, governance.NoticeActive, governance.NoticeFailed, governance.NoticeCancelled,
		governance.NoticeReminder, governance.NoticeEscalated, governance.NoticeTimedOut, governance.NoticeExpiring,
		governance.NoticeEnded, governance.NoticeRevoked}
	alice := governance.Person{Email: "alice@example.com", Name: "Alice"}
	n := 0
	for _, reason := range []string{"incident 4711", "<script>alert(\"x\")</script> & \\ \t\n\r\b\f\x01 \u2028\u2029 caf\u00e9 \U0001F512 \xff\xfe"} {
		for _, st := range states {
			r := &governance.Request{ID: "AR-7", Version: 3, State: st,
				Requester: governance.Person{Email: "carol@example.com", Name: "Carol <admin> & co"},
				Item:      governance.ItemRef{ID: "prod-db", Name: "Production database", Backend: "builtin", Ref: "prod-db"},
				Duration:  8 * time.Hour, Reason: reason, Approvers: []governance.Person{alice}, CreatedAt: at, UpdatedAt: at,
				Decision: &governance.Decision{By: alice, Approved: st != governance.StateDenied, Reason: reason, At: at}}
			msgs := []voice.Message{voice.ApprovalCard(r), voice.CardFor(r, alice), voice.AdminAlert(r), voice.RequestCreated(r),
				voice.Cancelled(r), voice.Schedule(r, governance.Steps(r))}
			for _, k := range kinds {
				msgs = append(msgs, voice.Notice(governance.Notice{Kind: k, Request: r}))
			}
			for _, m := range msgs {
				blocks, fallback := Blocks(m)
				for _, chat := range []ChatMessage{{Channel: "D1", Text: fallback, Blocks: blocks},
					{Channel: "C<1>", TS: "1.2", ThreadTS: "0.1", Text: fallback}} {
					want, err := json.Marshal(chat)
					require.NoError(t, err)
					got, err := chat.AppendJSON(nil)
					require.NoError(t, err)
					require.Equal(t, string(want), string(got))
				}
				for _, msg := range []Message{Reply(m), {Text: fallback, Blocks: blocks, ReplaceOriginal: true}, Ephemeral(fallback)} {
					want, err := json.Marshal(plainMessage(msg))
					require.NoError(t, err)
					got, err := msg.AppendJSON(nil)
					require.NoError(t, err)
					require.Equal(t, string(want), string(got))
					n++
				}
			}
		}
	}
	assert.Greater(t, n, 500)
}

// A block of a kind accessbot does not draw itself, or with a part it never sets, is
// written by encoding/json.
func TestMessageJSON_OtherBlocksGoThroughEncodingJSON(t *testing.T) {
	yes := true
	blocks := []slackapi.Block{
		slackapi.NewDividerBlock(),
		slackapi.NewImageBlock("https://example.com/x.png", "x", "img", nil),
		slackapi.NewSectionBlock(slackapi.NewTextBlockObject(slackapi.PlainTextType, "a", true, false), nil,
			slackapi.NewAccessory(slackapi.NewButtonBlockElement("b", "v", slackapi.NewTextBlockObject(slackapi.PlainTextType, "b", false, false)))),
		slackapi.NewActionBlock("", slackapi.NewButtonBlockElement("b", "v", &slackapi.TextBlockObject{Type: "plain_text", Text: "b", Emoji: &yes}).
			WithConfirm(slackapi.NewConfirmationBlockObject(nil, nil, nil, nil))),
		slackapi.NewContextBlock("c", slackapi.NewImageBlockElement("https://example.com/x.png", "x")),
		&slackapi.HeaderBlock{Type: slackapi.MBTHeader, Level: 2},
	}
	want, err := json.Marshal(blocks)
	require.NoError(t, err)
	got, err := appendBlocks(nil, blocks)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "<&>", "\"\\", "\x00\x1f\x7f", "\u2028\u2029", "\xff", "caf\u00e9 \U0001F512", "a\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		require.NoError(t, json.NewEncoder(&want).Encode(s))
		if got := string(appendString(nil, s)) + "\n"; got != want.String() {
			t.Fatalf("appendString(%q) = %s, encoding/json wrote %s", s, got, want.String())
		}
	})
}

func BenchmarkMessageJSON(b *testing.B) {
	at := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
	alice := governance.Person{Email: "alice@example.com", Name: "Alice"}
	r := &governance.Request{ID: "AR-7", Version: 1, State: governance.StatePendingApproval,
		Requester: governance.Person{Email: "carol@example.com", Name: "Carol"},
		Item:      governance.ItemRef{ID: "vpn-7", Name: "Office VPN 7", Backend: "builtin"},
		Duration:  2 * time.Hour, Reason: "load test", Approvers: []governance.Person{alice}, CreatedAt: at, UpdatedAt: at}
	blocks, fallback := Blocks(voice.CardFor(r, alice))
	msg := Message{Text: fallback, Blocks: blocks}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(plainMessage(msg))
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = msg.AppendJSON(make([]byte, 0, 2048))
		}
	})
}
