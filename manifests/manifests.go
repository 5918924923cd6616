// Package manifests holds the deployment manifests accessbot ships: the Slack app
// manifest (embedded here so the binary can print it for any URL).
package manifests

import _ "embed"

// SlackApp is the Slack app manifest, with https://accessbot.example.com as the bot's URL.
//
//go:embed slack/manifest.yaml
var SlackApp []byte

// ExampleURL is the placeholder base URL in SlackApp.
const ExampleURL = "https://accessbot.example.com"
