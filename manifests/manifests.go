// Package manifests holds the deployment manifests accessbot ships: the Slack app
// manifest and the Teams app package (embedded here so the binary can write them for any
// URL and app id), and the Grafana dashboard over the bot's metrics.
package manifests

import (
	"embed"
)

// SlackApp is the Slack app manifest, with https://accessbot.example.com as the bot's URL.
//
//go:embed slack/manifest.yaml
var SlackApp []byte

// ExampleURL is the placeholder base URL in SlackApp.
const ExampleURL = "https://accessbot.example.com"

// Teams is the Teams app package's files: manifest.json (with TeamsExampleAppID as the app
// id and the host of ExampleURL as its domain), color.png (192×192) and outline.png (32×32).
//
//go:embed teams/manifest.json teams/color.png teams/outline.png
var Teams embed.FS

// TeamsExampleAppID is the placeholder app id in the Teams manifest.
const TeamsExampleAppID = "00000000-0000-0000-0000-000000000000"

// Grafana is the Grafana dashboard (grafana/accessbot.json) over the metrics accessbot serves
// at /metrics; its Prometheus data source is a variable, so it imports into any Grafana.
//
//go:embed grafana/accessbot.json
var Grafana []byte
