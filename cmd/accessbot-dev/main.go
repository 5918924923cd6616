// Command accessbot-dev holds accessbot's development tools, kept out of the server
// binary (cmd/accessbot), which links none of them.
//
//	accessbot-dev demo         play a whole scenario in-process and print the conversation
//	accessbot-dev say …        send "/access …" to a local bot as a Slack user
//	accessbot-dev click …      click Approve or Deny of an approval card on a local bot
//	accessbot-dev loadtest …   measure accessbot against a floor server
//	accessbot-dev help         the usage (also -h and --help)
package main

import "github.com/accessbot/accessbot/cmd/internal/app"

func main() { app.Main("accessbot-dev", run) }
