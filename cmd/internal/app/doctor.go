package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/builtin"
)

// probeTimeout bounds each of doctor's probes: a system that does not answer by then is
// reported, and doctor goes on to the next.
const probeTimeout = 15 * time.Second

// Doctor checks what accessbot depends on — its configuration, Redis, Slack, Teams, each
// backend — and prints what works and what to fix (`accessbot doctor [-config FILE]`). It
// fails when anything must be fixed. Each adapter's own probe does the checking.
func Doctor(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	ok := func(what, detail string) { fmt.Fprintf(stdout, "  ✓ %-10s %s\n", what, detail) }
	skip := func(what, detail string) { fmt.Fprintf(stdout, "  – %-10s %s\n", what, detail) }
	var problems int
	bad := func(what, detail string) { problems++; fmt.Fprintf(stdout, "  ✗ %-10s %s\n", what, detail) }
	probe := func(what string, p func(context.Context) (string, error)) {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		if detail, err := p(pctx); err != nil {
			bad(what, err.Error())
		} else {
			ok(what, detail)
		}
	}

	fmt.Fprintln(stdout, "accessbot doctor")
	cfg, err := configFlags("doctor", args, getenv, stdout, nil)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		bad("config", strings.TrimPrefix(err.Error(), "configuration is not valid:\n"))
		return errors.New("fix the configuration first (accessbot config check shows every problem)")
	}
	ok("config", fmt.Sprintf("valid, %d catalog items", len(cfg.catalog.Items())))

	if cfg.Redis.Configured() {
		probe("redis", cfg.Redis.Probe)
	} else {
		skip("redis", "embedded in-process store: fine to try accessbot, loses everything on restart; set REDIS_URL for real use")
	}
	if cfg.Slack.DevMode() {
		skip("slack", cfg.Slack.Describe())
	} else {
		probe("slack", cfg.Slack.Probe)
		if cfg.Slack.AdminChannel == "" {
			skip("admins", "no slack.adminChannel: escalations are not posted to a channel")
		}
	}
	if cfg.Teams.Enabled() {
		probe("teams", func(ctx context.Context) (string, error) {
			apps, err := teamsApps(cfg.Teams, nil)
			if err != nil {
				return "", err
			}
			return cfg.Teams.Probe(ctx, apps)
		})
	} else {
		skip("teams", "no TEAMS_APP_ID: Microsoft Teams is not served")
	}
	if cfg.PagerDuty.Enabled() {
		probe("pagerduty", cfg.PagerDuty.Probe)
	}
	for _, name := range cfg.catalog.Backends() {
		switch b := cfg.backend(name); {
		case name == builtin.Name:
			ok(name, cfg.Builtin.Describe())
		case b != nil:
			probe(name, b.Probe)
		default:
			bad(name, "this build has no such backend")
		}
	}
	if conns := cfg.connectors(governance.SystemClock{}, slog.New(slog.DiscardHandler)); len(conns) > 0 {
		probe("accounts", func(ctx context.Context) (string, error) { return cfg.Accounts.Probe(ctx, conns) })
	} else {
		skip("accounts", "no configured backend connects people's accounts")
	}
	if problems > 0 {
		return fmt.Errorf("%d problem(s) to fix, listed above", problems)
	}
	fmt.Fprintln(stdout, "everything accessbot needs is in order")
	return nil
}
