package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/governance/entra"
	"github.com/accessbot/accessbot/governance/permissions"
	"github.com/accessbot/accessbot/governance/sailpoint"
)

// Doctor checks what accessbot depends on — its configuration, Redis, Slack, each backend —
// and prints what works and what to fix (`accessbot doctor [-config FILE]`). It fails when
// anything must be fixed.
func Doctor(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	ok := func(what, detail string) { fmt.Fprintf(stdout, "  ✓ %-10s %s\n", what, detail) }
	skip := func(what, detail string) { fmt.Fprintf(stdout, "  – %-10s %s\n", what, detail) }
	var problems int
	bad := func(what, detail string) { problems++; fmt.Fprintf(stdout, "  ✗ %-10s %s\n", what, detail) }

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

	if cfg.Redis.URL == "" && len(cfg.Redis.Addrs) == 0 {
		skip("redis", "embedded in-process store: fine to try accessbot, loses everything on restart; set REDIS_URL for real use")
	} else {
		client, _, closeRedis, err := openRedis(ctx, cfg)
		if err != nil {
			bad("redis", err.Error())
		} else {
			start := time.Now()
			err := client.Ping(ctx).Err()
			closeRedis()
			if err != nil {
				bad("redis", fmt.Sprintf("%s: %v", cfg.redisDescription(), err))
			} else {
				ok("redis", fmt.Sprintf("%s answers (%s)", cfg.redisDescription(), time.Since(start).Round(time.Microsecond)))
			}
		}
	}

	if cfg.devMode() {
		skip("slack", cfg.slackDescription())
	} else {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		who, err := slackbot.NewClient(cfg.SlackBotToken, cfg.Slack.APIURL, nil).AuthTestContext(actx)
		cancel()
		var se slackapi.SlackErrorResponse
		switch {
		case errors.As(err, &se) && (se.Err == "invalid_auth" || se.Err == "not_authed" || se.Err == "token_revoked" || se.Err == "account_inactive"):
			bad("slack", fmt.Sprintf("auth.test says %s: SLACK_BOT_TOKEN is not a working bot token; copy it again from the app's OAuth & Permissions page", se.Err))
		case err != nil:
			bad("slack", fmt.Sprintf("auth.test failed: %v (can this machine reach Slack?)", err))
		default:
			ok("slack", fmt.Sprintf("bot @%s in %s (%s)", who.User, who.Team, who.TeamID))
		}
		if cfg.Slack.AdminChannel == "" {
			skip("admins", "no slack.adminChannel: escalations are not posted to a channel")
		}
	}

	if !cfg.teamsEnabled() {
		skip("teams", "no TEAMS_APP_ID: Microsoft Teams is not served")
	} else if err := cfg.teamsSide(nil).Connector.CheckCredentials(); err != nil {
		bad("teams", fmt.Sprintf("no Bot Connector token for app %s: %v (check TEAMS_APP_ID and TEAMS_APP_PASSWORD)", cfg.Teams.AppID, err))
	} else {
		ok("teams", fmt.Sprintf("app %s gets Bot Connector tokens; serves the people of tenant %s only; messaging endpoint: <public URL>/teams/messages",
			cfg.Teams.AppID, strings.Join(cfg.Teams.Tenants, ", ")))
	}
	for _, b := range cfg.catalog.Backends() {
		switch {
		case b == "builtin" && cfg.Builtin.WebhookURL == "":
			ok(b, "accessbot is the system of record; no fulfilment webhook")
		case b == "builtin":
			ok(b, fmt.Sprintf("fulfilment webhook %s, signed with BUILTIN_WEBHOOK_SECRET (not called by doctor)", cfg.Builtin.WebhookURL))
		case b == sailpoint.Name:
			o, err := cfg.sailpointOptions()
			if err != nil {
				bad(b, err.Error())
				break
			}
			sp, err := sailpoint.New(o)
			if err != nil {
				bad(b, err.Error())
				break
			}
			sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			err = sp.CheckAdmin(sctx)
			cancel()
			if err != nil {
				bad(b, fmt.Sprintf("%s: %v", o.BaseURL, err))
				break
			}
			ok(b, fmt.Sprintf("%s answers; accessbot's token is an ORG_ADMIN's personal access token "+
				"(it may list other identities' access requests)", o.BaseURL))
		case b == entra.Name:
			en, err := entra.New(cfg.entraOptions())
			if err != nil {
				bad(b, err.Error())
				break
			}
			ectx, cancel := context.WithTimeout(ctx, 15*time.Second)
			_, err = en.SearchCatalog(ectx, "accessbot doctor")
			cancel()
			if err != nil {
				bad(b, fmt.Sprintf("tenant %s: %v", cfg.AzureTenantID, err))
				break
			}
			ok(b, fmt.Sprintf("tenant %s: accessbot's app signs in and may read access packages", cfg.AzureTenantID))
		case b == permissions.Name:
			o, err := cfg.permissionsOptions()
			if err != nil {
				bad(b, err.Error())
				break
			}
			pm, err := permissions.New(o)
			if err != nil {
				bad(b, err.Error())
				break
			}
			pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			_, err = pm.Changes(pctx, time.Now().Add(-time.Hour))
			cancel()
			if err != nil {
				bad(b, fmt.Sprintf("tenant %s: %v", cfg.AzureTenantID, err))
				break
			}
			ok(b, fmt.Sprintf("tenant %s: the delegated sign-in works and may read Permissions Management's requests", cfg.AzureTenantID))
		default:
			bad(b, "this build has no such backend")
		}
	}
	if problems > 0 {
		return fmt.Errorf("%d problem(s) to fix, listed above", problems)
	}
	fmt.Fprintln(stdout, "everything accessbot needs is in order")
	return nil
}
