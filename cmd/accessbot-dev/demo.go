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
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.Assemble(c, redisstore.New(client, redisstore.Options{Prefix: "demo"}), out, clock, log, "demo",
		func(f func()) { f() })
	if err != nil {
		return err
	}

	sc := &slackclient.Client{Base: "http://accessbot", Secret: c.Slack.SigningSecret, Now: clock.Now,
		Do: func(r *http.Request) (*http.Response, error) {
			rec := httptest.NewRecorder()
			a.Handler.ServeHTTP(rec, r)
			return rec.Result(), nil
		}}
	deliver := func() error { return a.Dispatcher.Drain(ctx) }
	step := func(format string, args ...any) { out.printf("\n▶ "+format+"\n", args...) }
	command := func(who, text string) error {
		out.printf("   %s types: /access %s\n", who, text)
		body, err := sc.Command(ctx, who, text)
		if err != nil {
			return err
		}
		if s := strings.TrimSpace(string(body)); s != "" {
			out.printf("   (only %s sees) %s\n", who, indent(slackbot.ResponseText(body)))
		}
		return deliver()
	}
	press := func(who, action, id string) error {
		out.printf("   %s clicks %s on %s\n", who, strings.ToUpper(action[:1])+action[1:], id)
		_, err := sc.Click(ctx, who, action, id, "https://hooks.slack.invalid/actions/"+who)
		if err != nil {
			return err
		}
		return deliver()
	}
	deny := func(who, id, reason string) error {
		if err := press(who, "deny", id); err != nil {
			return err
		}
		out.printf("   %s writes the reason %q and submits\n", who, reason)
		body, err := sc.SubmitDenyReason(ctx, who, id, reason)
		if err != nil {
			return err
		}
		if msg := slackbot.ViewErrors(body); msg != "" {
			out.printf("   (the form shows) %s\n", msg)
		}
		return deliver()
	}

	out.printf("accessbot demo — the people: CAROL (engineer), ALICE and BOB (approvers), DAVE (engineer), ERIN (not an approver).\n")
	out.printf("Catalog: prod-db-read (approvers Alice, Bob; reason required), aws-admin (Alice), vpn (Bob).\n")
	steps := []func() error{
		func() error {
			step("Carol asks for read access to the production database")
			return command("CAROL", "request prod-db-read for 8h because investigating INC-4711")
		},
		func() error {
			step("Carol tries to approve her own request")
			return press("CAROL", "approve", "AR-1")
		},
		func() error {
			step("Erin, who is not an approver, tries to approve it")
			return press("ERIN", "approve", "AR-1")
		},
		func() error {
			clock.Advance(12 * time.Minute)
			step("Alice approves; the grant is recorded by the built-in backend")
			return press("ALICE", "approve", "AR-1")
		},
		func() error {
			step("Bob clicks Approve a moment later")
			return press("BOB", "approve", "AR-1")
		},
		func() error {
			step("Dave asks for the VPN with a typo, then correctly")
			if err := command("DAVE", "request vnp"); err != nil {
				return err
			}
			return command("DAVE", "request vpn for 7d because working from the lake house")
		},
		func() error {
			step("Bob denies it, with a reason")
			return deny("BOB", "AR-2", "use the bastion host instead")
		},
		func() error {
			step("Carol asks for AWS admin, then changes her mind and cancels")
			if err := command("CAROL", "request aws-admin for 1h because rotating keys"); err != nil {
				return err
			}
			return command("CAROL", "cancel AR-3")
		},
		func() error {
			step("Carol checks her requests")
			return command("CAROL", "status")
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	out.printf("\nThat was the whole path: request → cards → decision → grant → notices, through the real HTTP handlers.\n")
	return nil
}

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
