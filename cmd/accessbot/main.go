// Command accessbot is the access-request chat bot: it serves Slack's slash command and
// interactivity endpoints, delivers approval cards and submits approved grants.
//
//	accessbot [serve]          run the bot (default)
//	accessbot config check     validate the configuration and say what is wrong
//	accessbot demo             play a whole scenario in-process and print the conversation
//	accessbot say …            talk to a local bot as a Slack user (development)
//	accessbot click …          click Approve or Deny on a local bot (development)
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "accessbot:", err)
		os.Exit(1)
	}
}
