package main

import (
	"archive/zip"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/accessbot/accessbot/manifests"
)

// manifest prints the Slack app manifest, or writes the Teams app package, for the bot's
// public base URL.
func manifest(args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "teams" {
		return teamsPackage(args[1:], stdout)
	}
	if len(args) == 0 || args[0] != "slack" {
		return errors.New("usage: accessbot manifest slack --url https://bot.example.com\n" +
			"       accessbot manifest slack --socket-mode\n" +
			"       accessbot manifest teams --app-id <Microsoft app id> --url https://bot.example.com [-o accessbot-teams.zip]")
	}
	fs := flag.NewFlagSet("manifest slack", flag.ContinueOnError)
	fs.SetOutput(stdout)
	base := fs.String("url", "", "the bot's public base URL (https)")
	socket := fs.Bool("socket-mode", false, "a Socket Mode app: no request URLs, accessbot connects to Slack (SLACK_APP_TOKEN)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *socket {
		if *base != "" {
			return errors.New("--socket-mode and --url: a Socket Mode app has no request URL; give one or the other")
		}
		_, err := io.WriteString(stdout, socketModeManifest(string(manifests.SlackApp)))
		return err
	}
	u, err := url.Parse(strings.TrimRight(*base, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("--url %q: give the bot's public base URL, such as https://bot.example.com (Slack only calls https)", *base)
	}
	m := strings.ReplaceAll(string(manifests.SlackApp), manifests.ExampleURL, u.String())
	// The file's own instruction to replace the example URL is done already.
	m = strings.Replace(m, ", after replacing "+u.String()+" with your bot's public URL.", " (written for "+u.String()+").", 1)
	_, err = io.WriteString(stdout, m)
	return err
}

// socketModeManifest is the Slack app manifest m without request URLs and with Socket
// Mode on. Slack's manifests cannot ask for the app-level token Socket Mode connects with
// (connections:write); the header says how to make one.
func socketModeManifest(m string) string {
	b := strings.Builder{}
	// The header's first sentences, up to the scopes, say to replace the URL: there is none.
	b.WriteString("# Slack app manifest for accessbot in Socket Mode. Create the app at api.slack.com/apps →\n" +
		"# \"From an app manifest\", then under Basic Information → App-Level Tokens generate a token with\n" +
		"# the connections:write scope: that is SLACK_APP_TOKEN (xapp-…). Slack needs no URL of accessbot.\n")
	intro := true
	for line := range strings.Lines(m) {
		t := strings.TrimSpace(line)
		if intro && strings.HasPrefix(t, "# The scopes") {
			intro = false
		}
		switch {
		case intro:
		case strings.HasPrefix(t, "url: "+manifests.ExampleURL), strings.HasPrefix(t, "request_url: "+manifests.ExampleURL):
		case t == "socket_mode_enabled: false":
			b.WriteString(strings.Replace(line, "false", "true", 1))
		default:
			b.WriteString(line)
		}
	}
	return b.String()
}

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// teamsPackage writes the Teams app package (a zip of manifest.json and the two icons)
// for the bot's Microsoft app id and public URL, ready to upload in the Teams admin center.
func teamsPackage(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("manifest teams", flag.ContinueOnError)
	fs.SetOutput(stdout)
	appID := fs.String("app-id", "", "the bot's Microsoft app id (the Azure Bot's Entra app registration), a GUID")
	base := fs.String("url", "", "the bot's public base URL (https); its messaging endpoint is <url>/teams/messages")
	out := fs.String("o", "accessbot-teams.zip", "where to write the package")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var errs []error
	if !guid.MatchString(*appID) {
		errs = append(errs, fmt.Errorf("--app-id %q: give the bot's Microsoft app id, a GUID like 7e1d4b1a-5c0e-4b8e-9d3c-1f2a3b4c5d6e (Azure portal → the Azure Bot → Configuration)", *appID))
	}
	u, err := url.Parse(strings.TrimRight(*base, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" {
		errs = append(errs, fmt.Errorf("--url %q: give the bot's public base URL, such as https://bot.example.com (Teams only calls https)", *base))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	raw, err := manifests.Teams.ReadFile("teams/manifest.json")
	if err != nil {
		return err
	}
	exampleHost := strings.TrimPrefix(manifests.ExampleURL, "https://")
	m := strings.NewReplacer(manifests.TeamsExampleAppID, strings.ToLower(*appID),
		manifests.ExampleURL, u.String(), `"`+exampleHost+`"`, `"`+u.Host+`"`, "api://"+exampleHost+"/", "api://"+u.Host+"/").Replace(string(raw))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := map[string][]byte{"manifest.json": []byte(m)}
	for _, icon := range []string{"color.png", "outline.png"} {
		if files[icon], err = manifests.Teams.ReadFile("teams/" + icon); err != nil {
			return err
		}
	}
	for _, name := range []string{"manifest.json", "color.png", "outline.png"} {
		w, err := zw.Create(name)
		if err != nil {
			return err
		}
		if _, err := w.Write(files[name]); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write the Teams app package: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: upload it in Teams (Apps → Manage your apps → Upload an app) or the Teams admin center.\n"+
		"Set the Azure Bot's messaging endpoint to %s/teams/messages, and TEAMS_APP_ID / TEAMS_APP_PASSWORD for accessbot.\n", *out, u.String())
	return nil
}
