package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/accessbot/accessbot/bot"
	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/teams"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/accounts"
	"github.com/accessbot/accessbot/governance/msgraph"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/handlers"
	"github.com/accessbot/accessbot/handlers/metrics"
	"github.com/accessbot/accessbot/scheduler"
)

// startChecks runs the start-up checks of the backends the catalog uses that have one: a
// set-up that contradicts the backend's own (SailPoint's approvalsMustBeExternal against
// sailpoint.approvals) stops accessbot with what to change; a backend that does not
// answer is only logged, so that its outage does not keep chat down.
func (c *Config) startChecks(ctx context.Context, log *slog.Logger) error {
	for _, name := range c.catalog.Backends() {
		sc, ok := c.backend(name).(interface {
			StartCheck(ctx context.Context) (string, error)
		})
		if !ok {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, probeTimeout)
		warning, err := sc.StartCheck(cctx)
		cancel()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if warning != "" {
			log.WarnContext(ctx, warning, "backend", name)
		}
	}
	return nil
}

// newLogger logs JSON unless the output is a terminal (or the config says otherwise).
func newLogger(c *Config, out io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	format := c.Log.Format
	if format == "" {
		format = "json"
		if f, ok := out.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(out, opts))
	}
	return slog.New(slog.NewJSONHandler(out, opts))
}

// App is accessbot assembled: the service, its outbox dispatcher, its scheduler and the
// HTTP handler.
type App struct {
	Service    *governance.Service
	Dispatcher *governance.Dispatcher
	Scheduler  *scheduler.Scheduler
	Handler    http.Handler
	Background *handlers.Background // what handlers do after answering; nil when run inline
	SocketMode *handlers.SocketMode // Slack over Socket Mode; nil when Slack comes over HTTP only
	Ops        http.Handler         // the metrics listener's: /metrics, and profiles when enabled
	// Accounts are people's connected accounts; nil when no configured backend connects them.
	Accounts *accounts.Manager
}

// openAccounts is the connected accounts of the backends that connect them (nil when none
// does): their tokens sealed under ACCESSBOT_TOKEN_KEY, their sign-in reached at publicURL,
// the person told in chat through notifier.
func (c *Config) openAccounts(store *redisstore.Store, connectors map[string]governance.Connector, notifier governance.Notifier,
	clock governance.Clock, log *slog.Logger) (*accounts.Manager, error) {
	if len(connectors) == 0 {
		return nil, nil
	}
	keys, err := c.Accounts.Keyring()
	if err != nil {
		return nil, err
	}
	tell, _ := notifier.(governance.AccountNotifier)
	return accounts.New(accounts.Options{Store: store, Keys: keys, PublicURL: c.Accounts.PublicURL, Connectors: connectors,
		Notifier: tell, Clock: clock, Logger: log})
}

// slackSide is how accessbot reaches Slack: the real Web API, or in development mode a
// transcript that prints what people would see.
type slackSide struct {
	api     slackbot.API
	dir     *slackbot.Directory
	respond func(ctx context.Context, responseURL string, m slackbot.Message) error // nil: HTTP
}

// devPeople are the people of the sample catalog and the demo, plus slack.users from the config.
func devPeople(c *Config) map[string]string {
	users := map[string]string{
		"ALICE": "Alice Approver <alice@example.com>", "BOB": "Bob Backup <bob@example.com>",
		"CAROL": "Carol <carol@example.com>", "DAVE": "Dave <dave@example.com>", "ERIN": "Erin <erin@example.com>",
	}
	for id, who := range c.Slack.Users {
		users[strings.ToUpper(id)] = who
	}
	return users
}

// newSlackSide connects to Slack, or makes the development transcript writing to out;
// wrap (the metrics' counter) is put around the API before anything uses it.
func newSlackSide(c *Config, store *redisstore.Store, out io.Writer, log *slog.Logger, wrap func(slackbot.API) slackbot.API) slackSide {
	opts := append(c.Slack.DirectoryOptions(), slackbot.WithDirectoryLogger(log))
	if c.Slack.DevMode() {
		users := devPeople(c)
		t := slackbot.NewTranscript(out, users)
		return slackSide{api: wrap(t), dir: slackbot.NewDevDirectory(users, opts...), respond: t.Respond}
	}
	api := wrap(slackbot.NewClient(c.Slack.BotToken, c.Slack.APIURL, nil))
	return slackSide{api: api, dir: slackbot.NewDirectory(api, store, opts...)}
}

// Assemble builds the application from config over an open Redis; in development mode
// what Slack would show is written to out. run, if not nil, runs the work handlers do
// after answering (the demo runs it inline).
func Assemble(c *Config, store *redisstore.Store, out io.Writer, clock governance.Clock, log *slog.Logger, consumer string, run func(func())) (*App, error) {
	var refs []governance.ItemRef
	for _, it := range c.catalog.Items() {
		refs = append(refs, it.Snapshot())
	}
	backend, err := c.Builtin.New(store, clock, refs)
	if err != nil {
		return nil, err
	}
	backends := []governance.Backend{backend}
	connectors := map[string]governance.Connector{}
	// Every replica paces SailPoint's calls within one budget per client_id, through Redis.
	c.SailPoint.Limiter = store.Limiter()
	for _, name := range c.catalog.Backends() {
		if b := c.backend(name); b != nil {
			be, err := b.Open(clock, log)
			if err != nil {
				return nil, err
			}
			backends = append(backends, be)
			if conn, ok := connector(be); ok {
				connectors[name] = conn
			}
		}
	}
	meter := metrics.New(store.OutboxDepth)
	sl := newSlackSide(c, store, out, log, meter.SlackAPI) // every Slack call counted, request path and outbox alike
	var notifier governance.Notifier = slackbot.NewNotifier(sl.api, sl.dir, log, slackbot.WithAdminChannel(c.Slack.AdminChannel))
	var tc handlers.TeamsConfig
	if c.Teams.Enabled() {
		conn := c.Teams.Connector(log, meter.TeamsCall) // every Bot Connector call counted
		tc = handlers.TeamsConfig{AppID: c.Teams.AppID, Connector: conn,
			Directory: teams.NewDirectory(conn, store, c.Teams.Tenants, teams.WithClock(clock), teams.WithDirectoryLogger(log)),
			Validator: c.Teams.Validator()}
		tn := teams.NewNotifier(tc.Connector, tc.Directory, c.Teams.Admin(), log).WithChannelServiceURL(c.Teams.ChannelServiceURL)
		apps, err := teamsApps(c.Teams, log)
		if err != nil {
			return nil, err
		}
		if inst := c.Teams.Installer(apps); inst != nil {
			tn.WithInstaller(inst) // and so reaches everyone of the tenant
		}
		if c.Slack.DevMode() {
			// A Teams-only organisation: everyone hears in Teams (those who never wrote to
			// the bot once it has installed itself for them), nobody in Slack.
			notifier = bot.NewRouter(teams.Platform, tn)
		} else {
			// People who installed the bot in Teams hear there; everyone else in Slack.
			notifier = bot.NewRouter(slackbot.Platform, notifier, tn)
		}
	}
	acc, err := c.openAccounts(store, connectors, notifier, clock, log)
	if err != nil {
		return nil, err
	}
	var people governance.Accounts // nil unless some backend connects accounts (never a nil *Manager)
	if acc != nil {
		people = acc
		for _, be := range backends {
			// Entra shows the stages of its approvals only to an approver's own account.
			if u, ok := be.(interface{ UseAccounts(governance.Accounts) }); ok {
				u.UseAccounts(people)
			}
		}
	}
	var onCall governance.OnCall
	if c.PagerDuty.Enabled() {
		pd, err := c.PagerDuty.Open(clock)
		if err != nil {
			return nil, err
		}
		onCall = pd
	}
	svc, err := governance.NewService(governance.Config{Catalog: c.catalog, Store: store, Backends: backends, Accounts: people,
		Notifier: notifier, Clock: clock, Schedule: c.schedule, Admins: c.admins, Hours: c.hours, Observer: meter, Logger: log,
		Homes:  c.Slack.Homes(), // Slack's Home tabs, redrawn on every change they show
		Groups: c.groups, Managers: c.managers, OnCall: onCall,
		Sync:      governance.SyncPolicy{First: time.Duration(c.Sync.First), Max: time.Duration(c.Sync.Max)},
		Retention: governance.Retention{Finished: time.Duration(c.Retention.Finished), Audit: time.Duration(c.Retention.Audit)}})
	if err != nil {
		return nil, err
	}
	d := governance.NewDispatcher(svc, consumer, governance.WithPoll(time.Duration(c.Outbox.Poll)),
		governance.WithWorkers(c.Outbox.Workers), governance.WithMaxAttempts(c.Outbox.MaxAttempts))
	svc.SetWake(d)
	sched, err := scheduler.New(svc, c.Scheduler, log, meter)
	if err != nil {
		return nil, err
	}
	if sl.respond == nil {
		sl.respond = slackbot.NewResponder(nil, c.Slack.ResponseOrigins...).Respond
	}
	var bg *handlers.Background
	if run == nil {
		bg = handlers.NewBackground(64, log)
	}
	hc := handlers.Config{Service: svc, Clock: clock, Logger: log, Go: run, Background: bg, Metrics: meter, MetricsToken: c.Metrics.Token,
		Slack: handlers.SlackConfig{SigningSecret: c.Slack.SigningSecret, API: sl.api, Directory: sl.dir,
			Respond: sl.respond}, Teams: tc}
	if acc != nil {
		hc.Accounts = handlers.AccountsConfig{Connections: acc, SecureCookie: strings.HasPrefix(c.Accounts.PublicURL, "https://")}
	}
	a := &App{Service: svc, Accounts: acc, Dispatcher: d, Scheduler: sched, Handler: handlers.New(hc), Background: bg, Ops: handlers.Ops(meter, c.Metrics.PProf)}
	if c.Slack.SocketMode() {
		a.SocketMode = handlers.NewSocketMode(hc, c.Slack.SocketClients(log)...)
	}
	return a, nil
}

// serve runs the bot until ctx ends, then shuts down gracefully: no new requests, the
// ones in flight finished, claimed outbox tasks delivered or left to be claimed again.
func serve(ctx context.Context, c *Config, stdout io.Writer) error {
	log := newLogger(c, stdout)
	client, embedded, closeRedis, err := openRedis(ctx, c)
	if err != nil {
		return err
	}
	defer closeRedis()
	store := redisstore.New(client, redisstore.Options{Prefix: c.Redis.Prefix, ReclaimAfter: time.Duration(c.Outbox.ReclaimAfter), Logger: log})

	host, _ := os.Hostname()
	a, err := Assemble(c, store, stdout, governance.SystemClock{}, log, fmt.Sprintf("%s-%d", host, os.Getpid()), nil)
	if err != nil {
		return err
	}
	if err := c.startChecks(ctx, log); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another accessbot running? set ACCESSBOT_LISTEN)", c.Listen, err)
	}
	srv := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 15 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	ops, err := c.opsListener(log)
	if err != nil {
		_ = ln.Close()
		return err
	}
	if ops != nil {
		opsSrv := &http.Server{Handler: a.Ops, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: time.Minute}
		go func() { _ = opsSrv.Serve(ops) }()
		defer opsSrv.Close()
		log.Info("metrics served", "addr", ops.Addr().String(), "pprof", c.Metrics.PProf)
	}
	banner(stdout, c, embedded, ln.Addr().String())
	log.Info("accessbot started", "addr", ln.Addr().String(), "redis", c.Redis.Describe(), "dev_mode", c.Slack.DevMode(),
		"catalog_items", len(c.catalog.Items()))
	if embedded {
		log.Warn("no REDIS_URL: using the embedded in-process store; every request is lost when accessbot stops")
	}
	for _, w := range c.warnings {
		log.Warn("configuration: " + w)
	}

	grace := time.Duration(c.ShutdownGrace)
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	dispatchCtx, stopDispatch := context.WithCancel(workCtx)
	defer stopDispatch()
	var dispatching sync.WaitGroup
	dispatching.Go(func() { _ = a.Dispatcher.Run(dispatchCtx, grace) })
	a.Scheduler.Start(workCtx)
	defer a.Scheduler.Stop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	// Socket Mode stops taking envelopes when shutdown begins, and answers those it has.
	socketCtx, stopSocket := context.WithCancel(workCtx)
	defer stopSocket()
	socketErr := make(chan error, 1)
	var socket sync.WaitGroup
	if a.SocketMode != nil {
		socket.Go(func() { socketErr <- a.SocketMode.Run(socketCtx) })
	}

	select {
	case err := <-serveErr:
		stopSocket()
		stopWork()
		socket.Wait()
		dispatching.Wait()
		return fmt.Errorf("http server: %w", err)
	case err := <-socketErr:
		_ = srv.Close()
		stopWork()
		dispatching.Wait()
		return fmt.Errorf("slack socket mode: %w", err)
	case <-ctx.Done():
	}
	// Everything stops taking new work at once and finishes what it is doing, under one
	// deadline: the outbox its pass (tasks it has not begun stay queued for another
	// replica, or for the next start), the scheduler its batch, the server its requests,
	// and then the work handlers do after answering (a Teams command, a Slack reply).
	log.Info("shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	stopDispatch()
	sweeping := make(chan struct{})
	go func() { a.Scheduler.Stop(); close(sweeping) }()
	stopSocket()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Error("http shutdown", "err", err)
	}
	socket.Wait()
	if a.Background != nil {
		if n := a.Background.Running(); n > 0 {
			log.Info("finishing work after answers", "running", n)
		}
		if err := a.Background.Wait(sctx); err != nil {
			log.Warn("work after answers still running at the deadline; what it did is stored, a reply may be missing", "err", err)
		}
	}
	select {
	case <-sweeping:
	case <-sctx.Done():
		log.Warn("a sweep batch still running at the deadline; its leases lapse and another replica takes the items")
	}
	stopWork()
	dispatching.Wait()
	log.Info("stopped")
	return nil
}

func banner(w io.Writer, c *Config, embedded bool, addr string) {
	var b strings.Builder
	fmt.Fprintf(&b, "\naccessbot is listening on http://%s\n", addr)
	if embedded {
		b.WriteString("  WARNING: no REDIS_URL — using an in-process store; every request is lost when accessbot stops.\n")
	}
	if c.sample {
		var ids []string
		for _, it := range c.catalog.Items() {
			ids = append(ids, it.ID)
		}
		fmt.Fprintf(&b, "  catalog: the sample catalog (%s); configure your own with catalog: or catalogFile:\n", strings.Join(ids, ", "))
	}
	switch {
	case c.Slack.DevMode() && c.Slack.SigningSecret == "":
		fmt.Fprintf(&b, "  Slack is %s.\n", strings.TrimPrefix(c.Slack.Describe(), "off: "))
	case c.Slack.DevMode():
		fmt.Fprintf(&b, "  development mode: no SLACK_BOT_TOKEN, so messages are printed here instead of sent.\n")
		if c.Slack.SigningSecret == slackbot.DevSigningSecret {
			fmt.Fprintf(&b, "  Slack requests are signed with the development secret %q.\n\n", slackbot.DevSigningSecret)
		} else {
			b.WriteString("  Slack requests are checked with SLACK_SIGNING_SECRET; set it for say and click too.\n\n")
		}
		// The hints name the address this bot really listens on, so they work as printed.
		to := ""
		if addr != "127.0.0.1:8080" {
			to = " -url http://" + addr
		}
		b.WriteString("Talk to it from another terminal (ALICE is alice@example.com, and so on):\n")
		fmt.Fprintf(&b, "  go run ./cmd/accessbot-dev say%s -as CAROL request prod-db-read for 2h because debugging INC-42\n", to)
		fmt.Fprintf(&b, "  go run ./cmd/accessbot-dev click%s -as ALICE approve AR-1\n", to)
		fmt.Fprintf(&b, "  go run ./cmd/accessbot-dev say%s -as CAROL schedule AR-1\n", to)
		fmt.Fprintf(&b, "  go run ./cmd/accessbot-dev say%s -as CAROL help\n", to)
	case c.Slack.SocketMode():
		fmt.Fprintf(&b, "  Slack: Socket Mode, %d connections from here; the app needs no request URLs (accessbot manifest slack --socket-mode).\n",
			c.Slack.Connections())
	default:
		b.WriteString("  Slack: point the app's slash command at /slack/commands and interactivity at /slack/interactions.\n")
	}
	if c.Teams.Enabled() {
		fmt.Fprintf(&b, "  Teams: set the Azure Bot's messaging endpoint to <public URL>/teams/messages (app %s);\n", c.Teams.AppID)
		fmt.Fprintf(&b, "  it serves the people of tenant %s only;\n", strings.Join(c.Teams.Tenants, ", "))
		b.WriteString("  write the app package with: accessbot manifest teams --app-id <app id> --url <public URL>\n")
	}
	b.WriteString("\n")
	_, _ = io.WriteString(w, b.String())
}

// opsListener listens where metrics are served (nil for "off"). A metrics.listen that was
// configured must be had; the default (127.0.0.1:9090), taken by another accessbot on the
// same machine, is given up with a warning rather than stopping this one.
func (c *Config) opsListener(log *slog.Logger) (net.Listener, error) {
	if c.Metrics.Listen == "off" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", c.Metrics.Listen)
	switch {
	case err == nil:
		return ln, nil
	case c.metricsListenSet:
		return nil, fmt.Errorf("listen for metrics on %s: %w (set metrics.listen or ACCESSBOT_METRICS_LISTEN to a free address, or off)", c.Metrics.Listen, err)
	}
	log.Warn("metrics not served: their default address is taken; set metrics.listen", "addr", c.Metrics.Listen, "err", err)
	return nil, nil
}

// teamsApps is how teams.install reaches people who never wrote to the bot: Microsoft
// Graph, as the bot's own app registration (TEAMS_APP_ID, TEAMS_APP_PASSWORD) in the first
// tenant served; nil when teams.install is off.
func teamsApps(s teams.Settings, log *slog.Logger) (teams.Apps, error) {
	if !s.Install.Enabled || len(s.Tenants) == 0 {
		return nil, nil
	}
	g, err := msgraph.New(msgraph.Options{BaseURL: s.Install.GraphURL, LoginURL: s.Install.LoginURL, TenantID: s.Tenants[0],
		ClientID: s.AppID, ClientSecret: s.AppPassword, Name: "Microsoft Teams", Logger: log,
		Credentials: "TEAMS_APP_ID and TEAMS_APP_PASSWORD", Permission: msgraph.TeamsPermission})
	if err != nil {
		return nil, fmt.Errorf("teams.install: %w", err)
	}
	return msgraph.NewTeamsApps(g, msgraph.TeamsAppsOptions{GraphURL: s.Install.GraphURL, ManifestID: s.AppID,
		CatalogID: s.Install.CatalogAppID}), nil
}
