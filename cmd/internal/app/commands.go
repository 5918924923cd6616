// Package app is accessbot's server assembled from its configuration: the settings, the
// wiring of every package into a running bot, and the commands that work on them (serve,
// config check, doctor, audit export). The two commands, cmd/accessbot and
// cmd/accessbot-dev, share it; nothing outside cmd imports it, and it links no test
// fake and no development tool.
package app

import (
	"context"
	"flag"
	"fmt"
	"github.com/accessbot/accessbot/governance"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/governance/sailpoint"
)

// configFlags parses a command's flags, -config first among them (ACCESSBOT_CONFIG is its
// default), and loads the configuration it names. more adds the command's own flags.
func configFlags(name string, args []string, getenv func(string) string, stdout io.Writer, more func(*flag.FlagSet)) (*Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	path := fs.String("config", getenv("ACCESSBOT_CONFIG"), "config file (YAML)")
	if more != nil {
		more(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	cfg, err := LoadConfig(*path, getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration is not valid:\n%w", err)
	}
	return cfg, nil
}

// Serve runs the bot (`accessbot serve [-config FILE]`) until ctx ends.
func Serve(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := configFlags("serve", args, getenv, stdout, nil)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, stdout)
}

// CheckConfig validates the configuration (`accessbot config check [-config FILE]`) and
// says what it found, or every problem at once.
func CheckConfig(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := configFlags("config check", args, getenv, stdout, nil)
	if err != nil {
		return err
	}
	src := cfg.configPath
	if src == "" {
		src = "no config file (defaults)"
	}
	fmt.Fprintf(stdout, "configuration is valid (%s)\n", src)
	fmt.Fprintf(stdout, "  listen:   %s\n", cfg.Listen)
	fmt.Fprintf(stdout, "  redis:    %s\n", cfg.Redis.Describe())
	fmt.Fprintf(stdout, "  slack:    %s\n", cfg.Slack.Describe())
	catalog := fmt.Sprintf("%d items", len(cfg.catalog.Items()))
	if cfg.sample {
		catalog += " (the sample catalog: no catalog or catalogFile configured)"
	}
	fmt.Fprintf(stdout, "  catalog:  %s\n", catalog)
	fmt.Fprintf(stdout, "  approval: %s\n", describeSchedule(cfg.schedule))
	if names := cfg.connecting(); len(names) > 0 {
		fmt.Fprintf(stdout, "  accounts: people connect their %s accounts at %s/connect/<backend>\n", strings.Join(names, ", "), strings.TrimRight(cfg.Accounts.PublicURL, "/"))
	}
	for _, w := range cfg.warnings {
		fmt.Fprintf(stdout, "  warning:  %s\n", w)
	}
	if slices.Contains(cfg.catalog.Backends(), sailpoint.Name) {
		return sailpointConfig(ctx, cfg, stdout)
	}
	return nil
}

// sailpointConfig shows the tenant's own access-request settings next to accessbot's
// schedule, so operators see where the two would remind and escalate differently.
func sailpointConfig(ctx context.Context, cfg *Config, stdout io.Writer) error {
	o := cfg.SailPoint.Options()
	sp, err := sailpoint.New(o)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	arc, err := sp.AccessRequestConfig(ctx)
	if err != nil {
		return fmt.Errorf("read SailPoint's access-request configuration at %s: %w", o.BaseURL, err)
	}
	fmt.Fprintf(stdout, "  sailpoint: %s\n", o.BaseURL)
	for _, line := range sailpoint.DescribeConfig(arc, cfg.schedule) {
		fmt.Fprintf(stdout, "    %s\n", line)
	}
	return nil
}

// describeSchedule says in a line when requests are reminded, escalated and timed out.
func describeSchedule(s governance.Schedule) string {
	if s.DaysUntilEscalation == 0 && s.RequestExpiryDays == 0 {
		return "no reminders, no escalation, no timeout"
	}
	out := fmt.Sprintf("daysUntilEscalation %d, daysBetweenReminders %d, maxReminders %d", s.DaysUntilEscalation, s.DaysBetweenReminders, s.MaxReminders)
	if s.FallbackApprover != "" {
		out += ", fallback " + s.FallbackApprover
	}
	if s.RequestExpiryDays > 0 {
		out += fmt.Sprintf(", requests time out after %d days", s.RequestExpiryDays)
	}
	return out
}
