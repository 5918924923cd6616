package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

const usage = `accessbot-dev — accessbot's development tools

Usage:
  accessbot-dev demo                   play a whole scenario in-process and print the conversation
  accessbot-dev say [-as USER] TEXT…   send "/access TEXT" to a local bot as a Slack user
  accessbot-dev click [-as USER] approve|deny ID [REASON]
                                       click a button of an approval card on a local bot
  accessbot-dev loadtest [-rate N] [-clicks N] [-duration D]
                                       measure accessbot against a floor server
  accessbot-dev help                   this text (also -h and --help)

say and click talk to a bot started with ` + "`go run ./cmd/accessbot`" + `, where it listens
(ACCESSBOT_LISTEN, else the config file's listen, else PORT, else 127.0.0.1:8080), signing
with SLACK_SIGNING_SECRET or the development secret.
`

// run is the whole program; main only wires it to the process. Tests call it too.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd, rest := "help", args[1:]
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	var err error
	switch cmd {
	case "demo":
		err = demo(ctx, stdout)
	case "say":
		err = say(ctx, rest, getenv, stdout)
	case "click":
		err = click(ctx, rest, getenv, stdout)
	case "loadtest":
		err = loadtest(ctx, rest, getenv, stdout)
	case "help", "-h", "--help", "-help":
		_, err = io.WriteString(stdout, usage)
	default:
		err = fmt.Errorf("unknown command %q; run `accessbot-dev help`", cmd)
	}
	if errors.Is(err, flag.ErrHelp) { // the flag package has printed the command's flags
		return nil
	}
	return err
}
