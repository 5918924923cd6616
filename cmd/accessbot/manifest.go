package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/accessbot/accessbot/manifests"
)

// manifest prints the Slack app manifest for the bot's public base URL.
func manifest(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "slack" {
		return errors.New("usage: accessbot manifest slack --url https://bot.example.com")
	}
	fs := flag.NewFlagSet("manifest slack", flag.ContinueOnError)
	fs.SetOutput(stdout)
	base := fs.String("url", "", "the bot's public base URL (https)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	u, err := url.Parse(strings.TrimRight(*base, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("--url %q: give the bot's public base URL, such as https://bot.example.com (Slack only calls https)", *base)
	}
	_, err = io.WriteString(stdout, strings.ReplaceAll(string(manifests.SlackApp), manifests.ExampleURL, u.String()))
	return err
}
