package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/accessbot/accessbot/cmd/internal/app"
)

const usage = `accessbot — access requests in chat

Usage:
  accessbot [serve] [-config FILE]     run the bot (ACCESSBOT_CONFIG names the config file)
  accessbot config check [-config FILE] validate the configuration and say what is wrong
  accessbot doctor [-config FILE]      check Redis, Slack, Teams and the backends, and say what to fix
  accessbot manifest slack --url URL   print the Slack app manifest for the bot's public URL
  accessbot manifest teams --app-id ID --url URL [-o FILE]
                                       write the Teams app package (zip) for the bot
  accessbot audit export [--since T] [--until T] [-config FILE]
                                       write the audit trail as JSON lines (needs REDIS_URL)
  accessbot help                       this text (also -h and --help)

Development tools (demo, say, click, loadtest) are a command of their own:
  go run ./cmd/accessbot-dev help

Secrets come from the environment (or NAME_FILE): SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN,
TEAMS_APP_PASSWORD, REDIS_URL, BUILTIN_WEBHOOK_SECRET, SAILPOINT_CLIENT_ID,
SAILPOINT_CLIENT_SECRET. TEAMS_APP_ID comes from the environment only. With none of these
set, accessbot runs on embedded defaults.
`

// run is the whole program; main only wires it to the process. Tests call it too.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd, rest := "serve", args[1:]
	if len(rest) > 0 && (!strings.HasPrefix(rest[0], "-") || isHelp(rest[0])) {
		cmd, rest = rest[0], rest[1:]
	}
	err := dispatch(ctx, cmd, rest, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) { // the flag package has printed the command's flags
		return nil
	}
	return err
}

func dispatch(ctx context.Context, cmd string, rest []string, getenv func(string) string, stdout io.Writer) error {
	switch {
	case cmd == "serve":
		return app.Serve(ctx, rest, getenv, stdout)
	case cmd == "config":
		if len(rest) == 0 || rest[0] != "check" {
			return errors.New("usage: accessbot config check [-config FILE]")
		}
		return app.CheckConfig(ctx, rest[1:], getenv, stdout)
	case cmd == "doctor":
		return app.Doctor(ctx, rest, getenv, stdout)
	case cmd == "manifest":
		return manifest(rest, stdout)
	case cmd == "audit":
		return app.ExportAudit(ctx, rest, getenv, stdout)
	case isHelp(cmd):
		_, err := io.WriteString(stdout, usage)
		return err
	case cmd == "demo" || cmd == "say" || cmd == "click" || cmd == "loadtest":
		return fmt.Errorf("%s is a development tool: run `go run ./cmd/accessbot-dev %s`", cmd, cmd)
	}
	return fmt.Errorf("unknown command %q; run `accessbot help`", cmd)
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "--help" || arg == "-help"
}
