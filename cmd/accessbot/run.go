package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/governance/sailpoint"
)

const usage = `accessbot — access requests in chat

Usage:
  accessbot [serve] [-config FILE]     run the bot (ACCESSBOT_CONFIG names the config file)
  accessbot config check [-config FILE] validate the configuration and say what is wrong
  accessbot doctor [-config FILE]      check Redis, Slack and the backends, and say what to fix
  accessbot demo                       play a whole scenario in-process and print the conversation
  accessbot manifest slack --url URL   print the Slack app manifest for the bot's public URL
  accessbot manifest teams --app-id ID --url URL [-o FILE]
                                       write the Teams app package (zip) for the bot
  accessbot audit export [--since T] [--until T]
                                       write the audit trail as JSON lines (needs REDIS_URL)
  accessbot say [-as USER] TEXT…       send "/access TEXT" to a local bot as a Slack user
  accessbot click [-as USER] approve|deny ID [REASON]
                                       click a button of an approval card on a local bot
  accessbot loadtest [-rate N] [-clicks N] [-duration D]
                                       measure accessbot against a floor server (see README)
  accessbot help                       this text

Secrets come from the environment (or NAME_FILE): SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN,
TEAMS_APP_ID, TEAMS_APP_PASSWORD, REDIS_URL, BUILTIN_WEBHOOK_SECRET, SAILPOINT_CLIENT_ID,
SAILPOINT_CLIENT_SECRET. With none of them accessbot runs on embedded defaults.
`

// run is the whole program; main only wires it to the process. Tests call it too.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd, rest := "serve", args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		path := fs.String("config", getenv("ACCESSBOT_CONFIG"), "config file (YAML)")
		fs.SetOutput(stdout)
		if err := fs.Parse(rest); err != nil {
			return err
		}
		cfg, err := loadConfig(*path, getenv)
		if err != nil {
			return fmt.Errorf("configuration is not valid:\n%w", err)
		}
		return serve(ctx, cfg, stdout)
	case "config":
		if len(rest) == 0 || rest[0] != "check" {
			return errors.New("usage: accessbot config check [-config FILE]")
		}
		return configCheck(rest[1:], getenv, stdout)
	case "demo":
		return demo(ctx, stdout)
	case "manifest":
		return manifest(rest, stdout)
	case "audit":
		return auditExport(ctx, rest, getenv, stdout)
	case "doctor":
		return doctor(ctx, rest, getenv, stdout)
	case "loadtest":
		return loadtest(ctx, rest, getenv, stdout)
	case "say":
		return say(ctx, rest, getenv, stdout)
	case "click":
		return click(ctx, rest, getenv, stdout)
	case "help", "-h", "--help":
		_, err := io.WriteString(stdout, usage)
		return err
	}
	return fmt.Errorf("unknown command %q; run `accessbot help`", cmd)
}

func configCheck(args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	path := fs.String("config", getenv("ACCESSBOT_CONFIG"), "config file (YAML)")
	fs.SetOutput(stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path, getenv)
	if err != nil {
		return fmt.Errorf("configuration is not valid:\n%w", err)
	}
	src := cfg.configPath
	if src == "" {
		src = "no config file (defaults)"
	}
	fmt.Fprintf(stdout, "configuration is valid (%s)\n", src)
	fmt.Fprintf(stdout, "  listen:   %s\n", cfg.Listen)
	fmt.Fprintf(stdout, "  redis:    %s\n", cfg.redisDescription())
	fmt.Fprintf(stdout, "  slack:    %s\n", cfg.slackDescription())
	catalog := fmt.Sprintf("%d items", len(cfg.catalog.Items()))
	if cfg.sample {
		catalog += " (the sample catalog: no catalog or catalogFile configured)"
	}
	fmt.Fprintf(stdout, "  catalog:  %s\n", catalog)
	if slices.Contains(cfg.catalog.Backends(), sailpoint.Name) {
		return sailpointConfig(cfg, stdout)
	}
	return nil
}

// sailpointConfig shows the tenant's own access-request settings next to accessbot's
// schedule, so operators see where the two would remind and escalate differently.
func sailpointConfig(cfg *config, stdout io.Writer) error {
	o, err := cfg.sailpointOptions()
	if err != nil {
		return err
	}
	sp, err := sailpoint.New(o)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	arc, err := sp.AccessRequestConfig(ctx)
	if err != nil {
		return fmt.Errorf("read SailPoint's access-request configuration at %s: %w", o.BaseURL, err)
	}
	fmt.Fprintf(stdout, "  sailpoint: %s\n", o.BaseURL)
	for _, line := range sailpoint.DescribeConfig(arc, cfg.schedule) {
		fmt.Fprintf(stdout, "    %s\n", line)
	}
	return nil
}
