// Command accessbot is the access-request chat bot: it serves Slack's slash command and
// interactivity endpoints and Teams' messaging endpoint, delivers approval cards and
// submits approved grants. It links no development tool; those are cmd/accessbot-dev.
//
//	accessbot [serve]                  run the bot (default)
//	accessbot config check             validate the configuration and say what is wrong
//	accessbot doctor                   check Redis, Slack, Teams and the backends
//	accessbot manifest slack|teams     print the Slack app manifest, write the Teams app package
//	accessbot audit export             write the audit trail as JSON lines
//	accessbot help                     the usage (also -h and --help)
package main

import "github.com/accessbot/accessbot/cmd/internal/app"

func main() { app.Main("accessbot", run) }
