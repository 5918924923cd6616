package slack

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// BenchmarkCard measures what sending and updating an approval card costs accessbot:
// encoding the card, the HTTP round trip through NewClient's client, and reading Slack's
// answer. The Slack it talks to reads the body and answers with a fixed success, so the
// figures are the client's own (the fake Slack's decoding is not in them); sent-B/op is
// the size of the request body.
func BenchmarkCard(b *testing.B) {
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		sent.Add(n)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, `{"ok":true,"channel":"DUBOB","ts":"1700000000.000001","text":"x"}`)
	}))
	b.Cleanup(srv.Close)
	n := NewNotifier(NewClient("xoxb-bench", srv.URL+"/api/", nil), nil, quiet)
	r := pendingRequest()
	ctx := context.Background()
	run := func(b *testing.B, send func() error) {
		sent.Store(0)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := send(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(sent.Load())/float64(b.N), "sent-B/op")
	}
	b.Run("post", func(b *testing.B) {
		run(b, func() error {
			blocks, fallback := Blocks(voice.CardFor(r, bob))
			_, _, err := n.post(ctx, "DUBOB", blocks, fallback)
			return err
		})
	})
	b.Run("update", func(b *testing.B) {
		ref := governance.MessageRef{Platform: Platform, Recipient: bob.Email, Channel: "DUBOB", ID: "1700000000.000001"}
		run(b, func() error { return n.UpdateApprovalCard(ctx, ref, r) })
	})
}

// BenchmarkDrawCard measures drawing the approval card every command sends: the voice
// model, its Block Kit blocks and the chat.postMessage body, without the HTTP round trip.
func BenchmarkDrawCard(b *testing.B) {
	r := pendingRequest()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for range b.N {
		blocks, fallback := Blocks(voice.CardFor(r, bob))
		var err error
		if buf, err = (ChatMessage{Channel: "DUBOB", Text: fallback, Blocks: blocks}).AppendJSON(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDrawAnswer measures drawing the answer to a slash command that made a
// request: the voice model and the ephemeral message's JSON.
func BenchmarkDrawAnswer(b *testing.B) {
	r := pendingRequest()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for range b.N {
		var err error
		if buf, err = Reply(voice.RequestCreated(r)).AppendJSON(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDirectoryHit measures finding a person this process has just looked up (the
// in-process cache's hit), by user id as a command's actor and by e-mail as a card's
// recipient.
func BenchmarkDirectoryHit(b *testing.B) {
	fake := slackfake.Start(b, members...)
	dir := NewDirectory(NewClient("xoxb-bench", fake.APIURL(), nil), newMemCache(), WithDirectoryLogger(quiet))
	ctx := context.Background()
	if _, err := dir.Actor(ctx, "UBOB"); err != nil {
		b.Fatal(err)
	}
	b.Run("actor", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := dir.Actor(ctx, "UBOB"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("email", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := dir.UserID(ctx, "bob@example.com"); err != nil {
				b.Fatal(err)
			}
		}
	})
	if n := len(fake.Calls("users.info")); n != 1 {
		b.Fatalf("users.info asked %d times, want once", n)
	}
}
