package main

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/cmd/internal/slackclient"
	"go.yaml.in/yaml/v3"
)

// devFlags parses the flags say and click share: whom to act as, and the bot to talk to.
func devFlags(name string, args []string, getenv func(string) string, stdout io.Writer) (user string, c *slackclient.Client, rest []string, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	as := fs.String("as", "CAROL", "Slack user id to act as (in development mode ALICE is alice@example.com)")
	base := fs.String("url", "http://"+defaultDevAddr(getenv), "the bot's base URL")
	secret := fs.String("secret", cmp.Or(getenv("SLACK_SIGNING_SECRET"), slackbot.DevSigningSecret), "signing secret")
	team := fs.String("team", slackclient.DevTeam, "Slack workspace id the requests come from (a bot with slack.teams serves only those)")
	if err := fs.Parse(args); err != nil {
		return "", nil, nil, err
	}
	c = &slackclient.Client{Base: strings.TrimRight(*base, "/"), Secret: *secret, Do: http.DefaultClient.Do, Now: time.Now, Team: *team}
	return strings.ToUpper(*as), c, fs.Args(), nil
}

// defaultDevAddr is where a local bot listens, found as the bot finds it:
// ACCESSBOT_LISTEN, else the listen of the config file ACCESSBOT_CONFIG names, else PORT,
// else 127.0.0.1:8080; an address on every interface is reached on this machine.
func defaultDevAddr(getenv func(string) string) string {
	addr := getenv("ACCESSBOT_LISTEN")
	if addr == "" && getenv("ACCESSBOT_CONFIG") != "" {
		var file struct {
			Listen string `yaml:"listen"`
		}
		if b, err := os.ReadFile(getenv("ACCESSBOT_CONFIG")); err == nil && yaml.Unmarshal(b, &file) == nil {
			addr = file.Listen
		}
	}
	if addr == "" && getenv("PORT") != "" {
		addr = ":" + getenv("PORT")
	}
	if h, p, err := net.SplitHostPort(addr); err == nil {
		if h == "" || h == "0.0.0.0" || h == "::" {
			h = "127.0.0.1"
		}
		return net.JoinHostPort(h, p)
	}
	return "127.0.0.1:8080"
}

// say sends "/access TEXT" to a local bot and prints its answer.
func say(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	user, c, text, err := devFlags("say", args, getenv, stdout)
	if err != nil {
		return err
	}
	body, err := c.Command(ctx, user, strings.Join(text, " "))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		fmt.Fprintln(stdout, "(accessbot opened a form; in development mode it is printed in the bot's output)")
		return nil
	}
	fmt.Fprintln(stdout, slackbot.ResponseText(body))
	return nil
}

// click presses Approve or Deny of an approval card on a local bot; deny then submits the
// reason form.
func click(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	user, c, rest, err := devFlags("click", args, getenv, stdout)
	if err != nil {
		return err
	}
	if len(rest) < 2 || (rest[0] != "approve" && rest[0] != "deny") {
		return fmt.Errorf("usage: accessbot-dev click [-as USER] approve|deny AR-7 [reason]")
	}
	// In development mode the bot answers the click (response_url) in its own output.
	const responseURL = "https://hooks.slack.invalid/actions/dev"
	if _, err := c.Click(ctx, user, rest[0], rest[1], responseURL); err != nil {
		return err
	}
	if rest[0] == "deny" {
		body, err := c.SubmitDenyReason(ctx, user, rest[1], strings.Join(rest[2:], " "))
		if err != nil {
			return err
		}
		if msg := slackbot.ViewErrors(body); msg != "" {
			fmt.Fprintln(stdout, msg)
			return nil
		}
	}
	fmt.Fprintln(stdout, "sent; the bot's output shows the answer, the updated cards and the notices")
	return nil
}
