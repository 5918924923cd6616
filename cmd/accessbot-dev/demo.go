package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/cmd/internal/app"
	"github.com/accessbot/accessbot/cmd/internal/slackclient"
	"github.com/accessbot/accessbot/governance"
	redisstore "github.com/accessbot/accessbot/governance/redis"
)

// demo plays a whole scenario in-process — the real HTTP handlers, service, store and
// outbox, with Slack replaced by a transcript — and prints the conversation as the people
// in it would see it.
func demo(ctx context.Context, stdout io.Writer) error {
	mr := miniredis.NewMiniRedis()
	if err := mr.StartAddr("127.0.0.1:0"); err != nil {
		return err
	}
	defer mr.Close()
	client := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
	defer client.Close()

	c, err := app.LoadConfig("", func(string) string { return "" })
	if err != nil {
		return err
	}
	clock := governance.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	out := &lockedWriter{w: stdout}
	log := slog.New(slog.DiscardHandler)
	bot, err := app.Assemble(c, redisstore.New(client, redisstore.Options{Prefix: "demo"}), out, clock, log, "demo",
		func(f func()) { f() })
	if err != nil {
		return err
	}

	sc := &slackclient.Client{Base: "http://accessbot", Secret: c.Slack.SigningSecret, Now: clock.Now,
		Do: func(r *http.Request) (*http.Response, error) {
			rec := httptest.NewRecorder()
			bot.Handler.ServeHTTP(rec, r)
			return rec.Result(), nil
		}}
	// do carries out one act as the person would, prints what they see, and delivers what
	// the outbox then holds.
	do := func(a act) error {
		switch a.does {
		case "types":
			out.printf("   %s types: /access %s\n", a.who, a.what)
			body, err := sc.Command(ctx, a.who, a.what)
			if err != nil {
				return err
			}
			if s := strings.TrimSpace(string(body)); s != "" {
				out.printf("   (only %s sees) %s\n", a.who, indent(slackbot.ResponseText(body)))
			}
		default: // approve, deny
			out.printf("   %s clicks %s on %s\n", a.who, strings.ToUpper(a.does[:1])+a.does[1:], a.what)
			if _, err := sc.Click(ctx, a.who, a.does, a.what, "https://hooks.slack.invalid/actions/"+a.who); err != nil {
				return err
			}
			if a.does != "deny" {
				break
			}
			if err := bot.Dispatcher.Drain(ctx); err != nil {
				return err
			}
			out.printf("   %s writes the reason %q and submits\n", a.who, a.reason)
			body, err := sc.SubmitDenyReason(ctx, a.who, a.what, a.reason)
			if err != nil {
				return err
			}
			if msg := slackbot.ViewErrors(body); msg != "" {
				out.printf("   (the form shows) %s\n", msg)
			}
		}
		return bot.Dispatcher.Drain(ctx)
	}

	out.printf("accessbot demo — the people: CAROL (engineer), ALICE and BOB (approvers), DAVE and ERIN (engineers, database owners).\n")
	out.printf("Catalog: prod-db-read (approvers Alice, Bob; reason required), aws-admin (Alice), vpn (Bob),\n")
	out.printf("prod-db-write (two stages: team lead Alice, then two of the database owners Bob, Dave, Erin; a ticket in the reason).\n")
	steps := []struct {
		title string
		after time.Duration // how much time passes before it
		acts  []act
	}{
		{"Carol asks for read access to the production database", 0,
			[]act{{"CAROL", "types", "request prod-db-read for 8h because investigating INC-4711", ""}}},
		{"Carol tries to approve her own request", 0, []act{{"CAROL", "approve", "AR-1", ""}}},
		{"Erin, who has no part in it, tries to approve it: she learns nothing about it", 0, []act{{"ERIN", "approve", "AR-1", ""}}},
		{"Alice approves; the grant is recorded by the built-in backend", 12 * time.Minute, []act{{"ALICE", "approve", "AR-1", ""}}},
		{"Bob clicks Approve a moment later", 0, []act{{"BOB", "approve", "AR-1", ""}}},
		{"Dave asks for the VPN with a typo, then correctly", 0,
			[]act{{"DAVE", "types", "request vnp", ""}, {"DAVE", "types", "request vpn for 7d because working from the lake house", ""}}},
		{"Bob denies it, with a reason", 0, []act{{"BOB", "deny", "AR-2", "use the bastion host instead"}}},
		{"Carol asks for AWS admin, then changes her mind and cancels", 0,
			[]act{{"CAROL", "types", "request aws-admin for 1h because rotating keys", ""}, {"CAROL", "types", "cancel AR-3", ""}}},
		{"Carol asks to write to the production database: first without a ticket, then with one; only Alice, the first stage, gets a card", 0,
			[]act{{"CAROL", "types", "request prod-db-write for 1h because fix the orders table", ""},
				{"CAROL", "types", "request prod-db-write for 1h because CHG-2042 fix the orders table", ""}}},
		{"Bob, of the second stage, tries before it begins", 0, []act{{"BOB", "approve", "AR-4", ""}}},
		{"Alice approves stage 1: the database owners get their cards", 5 * time.Minute, []act{{"ALICE", "approve", "AR-4", ""}}},
		{"Bob approves: one of the two approvals stage 2 needs; every card shows it", 5 * time.Minute,
			[]act{{"BOB", "approve", "AR-4", ""}, {"BOB", "approve", "AR-4", ""}}},
		{"Carol looks at the schedule of AR-4: stage 2's reminders count from its start", 0, []act{{"CAROL", "types", "schedule AR-4", ""}}},
		{"Dave approves: the last required approval, so the access is granted, once", 5 * time.Minute, []act{{"DAVE", "approve", "AR-4", ""}}},
		{"Carol checks her requests", 0, []act{{"CAROL", "types", "status", ""}}},
	}
	for _, s := range steps {
		clock.Advance(s.after)
		out.printf("\n▶ %s\n", s.title)
		for _, a := range s.acts {
			if err := do(a); err != nil {
				return err
			}
		}
	}
	out.printf("\nThat was the whole path: request → cards → decision (in stages) → grant → notices, through the real HTTP handlers.\n")
	return nil
}

// act is one thing a person does in the demo: types a command (what), or clicks approve
// or deny on the card of request what, giving reason for a denial.
type act struct{ who, does, what, reason string }

// indent puts what a person sees under the narration's indentation.
func indent(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n   ") }

// lockedWriter serialises the writes to w of several goroutines: the transcript's and
// the demo's narration, or a child process's output and stderr while the load tool reads it.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) printf(format string, args ...any) { fmt.Fprintf(l, format, args...) }

// String is what w says it holds (a buffer's contents), read between writes.
func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprint(l.w)
}
