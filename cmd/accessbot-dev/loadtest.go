package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	slackapi "github.com/slack-go/slack"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/cmd/internal/app"
	"github.com/accessbot/accessbot/cmd/internal/slackclient"
	"github.com/accessbot/accessbot/governance"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/handlers"
)

const loadUsage = `usage: accessbot-dev loadtest [-rate 500] [-clicks 100] [-duration 60s] [-slice 5s] [-warmup 3s] [-concurrency 256] [-redis redis://…] [-against BIN]

Starts a real accessbot (a child process, with Redis, a fake Slack API and the built-in
backend's webhook pointing at a fake fulfilment service) and two floor servers (child
processes): the bare floor only verifies the Slack signature and writes one Redis key; the
fair floor also stores the request with its due entry in one Lua script and posts one card
to the same fake Slack, which every command must do. It drives signed slash commands at
-rate per second against each for -duration in all, in turns of -slice, the three taking
turns in an order that rotates every round, so that a machine whose speed drifts during the
run weighs on the three alike. Then it drives approve clicks at -clicks per second against
accessbot, and prints throughput, ack latency, errors, CPU per request, the ratios to both
floors, and the time from an approve click to the backend's submission. Each server is
driven for -warmup before its first turn, and its CPU and throughput are measured over its
turns only (a fresh process's heap, connection pools, caches and id blocks grow in its first
seconds); its latencies and errors count every command, the warm-up's included. With
-against, another build of accessbot-dev runs as a fourth server in the same turns, with
keys of its own, and the two accessbots are compared in one run.`

// loadtest is the load tool; "loadtest floor" is its floor server and "loadtest serve"
// accessbot itself (as `accessbot serve`), each run as a child of the tool.
func loadtest(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "floor" {
		return floorServer(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "serve" {
		return app.Serve(ctx, args[1:], getenv, stdout)
	}
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() { fmt.Fprintln(stdout, loadUsage) }
	rate := fs.Float64("rate", 500, "slash commands per second")
	clicks := fs.Float64("clicks", 100, "approve clicks per second")
	dur := fs.Duration("duration", 60*time.Second, "how long each server is driven, in all")
	slice := fs.Duration("slice", 5*time.Second, "how long each turn of a server lasts")
	warm := fs.Duration("warmup", 3*time.Second, "how long each server is driven before its CPU is measured")
	conc := fs.Int("concurrency", 256, "requests in flight at most")
	redisURL := fs.String("redis", getenv("REDIS_URL"), "Redis to use (default: start a redis-server on a free port)")
	against := fs.String("against", "", "another build of accessbot-dev, driven in the same turns, to compare this one with")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rate <= 0 || *clicks <= 0 || *dur <= 0 || *slice <= 0 || *conc <= 0 || *warm < 0 {
		return errors.New("loadtest: -rate, -clicks, -duration, -slice and -concurrency must be positive, -warmup not negative")
	}
	dir, err := os.MkdirTemp("", "accessbot-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if *redisURL == "" {
		stop, url, err := startRedis(ctx, dir)
		if err != nil {
			return err
		}
		defer stop()
		*redisURL = url
	}
	if *against != "" {
		if _, err := exec.LookPath(*against); err != nil {
			return fmt.Errorf("loadtest: -against %s: %w", *against, err)
		}
	}
	lt := &load{out: stdout, dir: dir, redis: *redisURL, conc: *conc, warm: *warm, settle: settle, against: *against,
		secret: slackclient.NewID("load-secret-")}
	return lt.run(ctx, *rate, *clicks, *dur, *slice)
}

type load struct {
	out    io.Writer
	dir    string
	redis  string
	conc   int
	warm   time.Duration // how long a server is driven before it is measured
	settle time.Duration // how long after a turn its server's CPU is read, so the turn's tail counts
	secret string
	// against is another build of accessbot-dev whose accessbot takes the same turns: two
	// builds compared in one run, where the machine's drift weighs on both alike.
	against string

	mu        sync.Mutex
	submitted map[string]time.Time // request id → when the backend's webhook received the grant
}

// result is what one phase measured.
type result struct {
	name      string
	sent      int // requests sent, the warm-up's included
	measured  int // requests sent after the warm-up: throughput and CPU are per these
	errors    int
	took      time.Duration // from the end of the warm-up
	latencies []time.Duration
	cpu       time.Duration // the server process's CPU time during the phase
	answers   []string
}

func (r result) rate() float64 { return float64(r.measured) / r.took.Seconds() }

// add adds what a turn measured to r.
func (r *result) add(t result) {
	r.sent += t.sent
	r.measured += t.measured
	r.errors += t.errors
	r.took += t.took
	r.cpu += t.cpu
	r.latencies = append(r.latencies, t.latencies...)
	r.answers = append(r.answers, t.answers...)
}

// settle is how long after a turn its server's CPU is read: the cards of its last commands
// are still being sent when the last answer comes.
const settle = 200 * time.Millisecond

func (r result) cpuPerRequest() time.Duration {
	if r.measured == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.measured)
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func (r result) String() string {
	return fmt.Sprintf("%-10s %7.1f/s  ack p50 %6.2f ms  p95 %6.2f ms  p99 %6.2f ms  errors %d  cpu %6.3f ms/request",
		r.name, r.rate(), ms(percentile(r.latencies, .50)), ms(percentile(r.latencies, .95)), ms(percentile(r.latencies, .99)),
		r.errors, ms(r.cpuPerRequest()))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (lt *load) run(ctx context.Context, rate, clicks float64, dur, slice time.Duration) error {
	const requesters = 200
	users := []slackfake.User{{ID: "UAPPROVER", Email: "approver@example.com", Name: "Approver"}}
	for i := range requesters {
		users = append(users, slackfake.User{ID: fmt.Sprintf("U%05d", i), Email: fmt.Sprintf("user%d@example.com", i), Name: fmt.Sprintf("User %d", i)})
	}
	slack := slackfake.New(users...)
	defer slack.Close()
	lt.submitted = map[string]time.Time{}
	fulfil := &http.Server{Handler: http.HandlerFunc(lt.fulfil)}
	fl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go fulfil.Serve(fl)
	defer fulfil.Close()

	rounds := max(1, int((dur+slice/2)/slice))
	turn := dur / time.Duration(rounds)
	fmt.Fprintf(lt.out, "accessbot loadtest: %.0f commands/s for %s each, in %d turns of %s, after a %s warm-up; then %.0f clicks/s; Redis %s\n",
		rate, dur, rounds, turn, lt.warm, clicks, lt.redis)
	floorAddr, floorChild, err := lt.floorChild(ctx)
	if err != nil {
		return err
	}
	defer floorChild.stop()
	fairAddr, fairChild, err := lt.floorChild(ctx, "-slack", slack.APIURL())
	if err != nil {
		return err
	}
	defer fairChild.stop()

	webhook := "http://" + fl.Addr().String()
	prefix := "load" + slackclient.NewID("")
	mem, err := newMemory(ctx, lt.redis, prefix)
	if err != nil {
		return err
	}
	defer mem.close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	botAddr, bot, err := lt.accessbot(ctx, self, "accessbot", slack.APIURL(), webhook, prefix)
	if err != nil {
		return err
	}
	defer bot.stop()

	servers := []*server{
		lt.commands("floor", floorAddr, floorChild.pid, requesters, false),
		lt.commands("fair floor", fairAddr, fairChild.pid, requesters, false),
		lt.commands("accessbot", botAddr, bot.pid, requesters, true),
	}
	if lt.against != "" { // its own keys: its requests do not stand in this one's way
		otherPrefix := "against" + slackclient.NewID("")
		addr, other, err := lt.accessbot(ctx, lt.against, "against", slack.APIURL(), webhook, otherPrefix)
		if err != nil {
			return err
		}
		mem.others = append(mem.others, otherPrefix+"*")
		defer other.stop()
		servers = append(servers, lt.commands("against", addr, other.pid, requesters, true))
	}
	lt.interleave(ctx, servers, rate, rounds, turn)
	floorChild.stop()
	fairChild.stop()
	floor, fair, ab := servers[0].res, servers[1].res, servers[2].res
	for _, s := range servers {
		fmt.Fprintln(lt.out, s.res)
	}
	perRequest, n, err := mem.perRequest(ctx, ab.answers)
	if err != nil {
		return fmt.Errorf("measure Redis memory per request: %w", err)
	}
	fmt.Fprintf(lt.out, "%-10s Redis memory per pending request, its card sent: %.2f KB (%d requests)\n", "", perRequest/1024, n)
	click, e2e := lt.clicks(ctx, botAddr, bot.pid, clicks, dur, ab.answers, slack)
	fmt.Fprintln(lt.out, click)
	fmt.Fprintf(lt.out, "%-10s approve click → backend submission: p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  (%d of %d submitted)\n",
		"", ms(percentile(e2e, .5)), ms(percentile(e2e, .95)), ms(percentile(e2e, .99)), len(e2e), click.sent)

	latRatio := ms(percentile(ab.latencies, .99)) / max(ms(percentile(floor.latencies, .99)), 0.001)
	cpuRatio := float64(ab.cpuPerRequest()) / max(float64(floor.cpuPerRequest()), 1)
	fairRatio := float64(ab.cpuPerRequest()) / max(float64(fair.cpuPerRequest()), 1)
	fmt.Fprintf(lt.out, "ratios (accessbot / floor): throughput %.2f, ack p99 %.2f, cpu per request %.2f\n",
		ab.rate()/floor.rate(), latRatio, cpuRatio)
	fmt.Fprintf(lt.out, "ratios (accessbot / fair floor): cpu per request %.2f\n", fairRatio)
	if len(servers) > 3 {
		other := servers[3].res
		fmt.Fprintf(lt.out, "ratios (against / fair floor): cpu per request %.2f; accessbot / against: cpu per request %.2f, ack p99 %.2f\n",
			float64(other.cpuPerRequest())/max(float64(fair.cpuPerRequest()), 1),
			float64(ab.cpuPerRequest())/max(float64(other.cpuPerRequest()), 1),
			ms(percentile(ab.latencies, .99))/max(ms(percentile(other.latencies, .99)), 0.001))
	}
	var missed []string
	check := func(ok bool, what string) {
		mark := "ok  "
		if !ok {
			mark, missed = "MISS", append(missed, what)
		}
		fmt.Fprintf(lt.out, "  %s %s\n", mark, what)
	}
	fmt.Fprintln(lt.out, "targets:")
	check(ab.rate() >= 0.98*rate, fmt.Sprintf("%.0f commands/s sustained", rate))
	check(percentile(ab.latencies, .99) < 10*time.Millisecond, "ack p99 under 10 ms")
	check(ab.errors == 0 && click.errors == 0, "no errors")
	check(fairRatio <= 1.2, "cpu per request at most 1.2× the fair floor's")
	check(len(e2e) == click.sent && percentile(e2e, .99) < 50*time.Millisecond, "approve → submission p99 under 50 ms, none lost")
	if n >= memoryJudgedFrom {
		check(perRequest <= 1.2*1024, "Redis memory per pending request at most 1.2 KB")
	} else {
		fmt.Fprintf(lt.out, "  --   Redis memory per pending request at most 1.2 KB: not judged on %d requests (from %d: -duration 20s or more)\n",
			n, memoryJudgedFrom)
	}
	if len(missed) > 0 {
		return fmt.Errorf("loadtest: %d target(s) missed: %s", len(missed), strings.Join(missed, "; "))
	}
	return nil
}

// loadtestConfig is the accessbot under load: fake Slack, the built-in backend's webhook to the
// load tool, quiet logs, one item.
const loadtestConfig = `listen: 127.0.0.1:0
slack:
  apiURL: %s
builtin:
  webhookURL: %s
redis:
  prefix: %s
log:
  level: warn
  format: json
workingHours:
  window: "off"
outbox:
  workers: 32
catalog:
`

// loadItems is how many items the load's catalog has: a person may have one request open
// per item, so each requester asks for the next item each time round.
const loadItems = 500

// loadConfig is loadtestConfig with its catalog of loadItems items, vpn-0 to vpn-499.
func loadConfig(slackAPI, webhook, prefix string) string {
	var b strings.Builder
	fmt.Fprintf(&b, loadtestConfig, slackAPI, webhook, prefix)
	for i := range loadItems {
		fmt.Fprintf(&b, "  - {id: vpn-%d, name: Office VPN %d, backend: builtin, approvers: [\"Approver <approver@example.com>\"], defaultDuration: 8h}\n", i, i)
	}
	return b.String()
}

// loadItem is the item the i-th command of a load from requesters people asks for.
func loadItem(i, requesters int) string { return fmt.Sprintf("vpn-%d", (i/requesters)%loadItems) }

var loadListening = regexp.MustCompile(`listening on http://([0-9.:]+)`)

type child struct {
	pid  int
	stop func()
}

// accessbot starts bin (a build of accessbot-dev) as accessbot over the fake Slack and the
// fulfilment service, its keys under prefix, and waits until it listens.
func (lt *load) accessbot(ctx context.Context, bin, name, slackAPI, webhook, prefix string) (string, child, error) {
	cfg := filepath.Join(lt.dir, prefix+".yaml")
	if err := os.WriteFile(cfg, []byte(loadConfig(slackAPI, webhook, prefix)), 0o600); err != nil {
		return "", child{}, err
	}
	return lt.childOf(ctx, bin, name, []string{"loadtest", "serve"}, []string{"ACCESSBOT_CONFIG=" + cfg, "REDIS_URL=" + lt.redis,
		"SLACK_BOT_TOKEN=xoxb-load", "SLACK_SIGNING_SECRET=" + lt.secret, "BUILTIN_WEBHOOK_SECRET=load-webhook"})
}

// child starts this binary with args (and extra environment) and waits until it listens.
func (lt *load) child(ctx context.Context, name string, args, env []string) (string, child, error) {
	self, err := os.Executable()
	if err != nil {
		return "", child{}, err
	}
	return lt.childOf(ctx, self, name, args, env)
}

// childOf starts bin with args (and extra environment) and waits until it listens.
func (lt *load) childOf(ctx context.Context, bin, name string, args, env []string) (string, child, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(append(os.Environ(), "ACCESSBOT_LISTEN=127.0.0.1:0"), env...)
	out := &lockedWriter{w: &capped{}}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return "", child{}, fmt.Errorf("start %s: %w", name, err)
	}
	stop := sync.OnceFunc(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }) // stopped early, then deferred
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := loadListening.FindStringSubmatch(out.String()); m != nil {
			return m[1], child{pid: cmd.Process.Pid, stop: stop}, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	return "", child{}, fmt.Errorf("%s did not start:\n%s", name, out.String())
}

// capped keeps the first MiB written to it, so a chatty child cannot fill the memory.
type capped struct{ bytes.Buffer }

func (c *capped) Write(p []byte) (int, error) {
	if c.Len() > 1<<20 {
		return len(p), nil
	}
	return c.Buffer.Write(p)
}

// drive calls do at rate per second for warm and then dur (open loop: the schedule does
// not wait for answers), at most lt.conc at once, and gathers the latencies of all and the
// server's CPU time after warm.
func (lt *load) drive(ctx context.Context, name string, pid int, rate float64, warm, dur time.Duration, n int, do func(i int) (string, error)) result {
	r := result{name: name}
	warmN := int(rate * warm.Seconds())
	total := warmN + int(rate*dur.Seconds())
	if n > 0 {
		total = min(total, n)
		warmN = min(warmN, total)
	}
	lat := make([]time.Duration, total)
	answers := make([]string, total)
	var errs atomic.Int64
	sem := make(chan struct{}, lt.conc)
	var wg sync.WaitGroup
	var cpu0 time.Duration
	start, measured := time.Now(), time.Now()
	for i := range total {
		if wait := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); wait > 0 {
			time.Sleep(wait)
		}
		if i == warmN {
			cpu0, measured = cpuTime(pid), time.Now()
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			t := time.Now()
			a, err := do(i)
			lat[i] = time.Since(t)
			answers[i] = a
			if err != nil {
				if errs.Add(1) <= 3 {
					fmt.Fprintf(lt.out, "  %s: %v\n", name, err)
				}
			}
		})
	}
	wg.Wait()
	if warmN >= total { // nothing after the warm-up: nothing measured
		cpu0, measured = cpuTime(pid), time.Now()
	}
	r.took = time.Since(measured)
	time.Sleep(lt.settle)
	r.cpu = cpuTime(pid) - cpu0
	r.measured = total - warmN
	r.sent, r.errors, r.latencies, r.answers = total, int(errs.Load()), lat, answers
	return r
}

var requestID = regexp.MustCompile(`AR-\d+`)

// server is one of the servers the commands are driven against: how to send it its i-th
// command, and what its turns measured.
type server struct {
	name string
	pid  int
	send func(ctx context.Context, i int) (string, error)
	next int // the index of its next command
	res  result
}

// commands is the server at addr, sent "/access request vpn …" from many requesters; an
// accessbot (bot) must answer each with its request.
func (lt *load) commands(name, addr string, pid int, requesters int, bot bool) *server {
	c := &slackclient.Client{Base: "http://" + addr, Secret: lt.secret, Do: loadHTTP.Do, Now: time.Now, Team: slackfake.TeamID}
	return &server{name: name, pid: pid, res: result{name: name}, send: func(ctx context.Context, i int) (string, error) {
		ack, err := c.Command(ctx, fmt.Sprintf("U%05d", i%requesters), "request "+loadItem(i, requesters)+" for 2h because load test")
		if err == nil && bot && !requestID.Match(ack) {
			err = fmt.Errorf("unexpected answer: %.200s", ack)
		}
		return requestID.FindString(string(ack)), err
	}}
}

// interleave drives the servers at rate in turns of slice, rounds times over, in an order
// that rotates every round, so that a machine whose speed drifts weighs on all alike. Each
// is warmed up (lt.warm) before its first turn.
func (lt *load) interleave(ctx context.Context, servers []*server, rate float64, rounds int, slice time.Duration) {
	for round := range rounds {
		for k := range servers {
			s := servers[(round+k)%len(servers)]
			warm := time.Duration(0)
			if round == 0 {
				warm = lt.warm
			}
			first := s.next
			t := lt.drive(ctx, s.name, s.pid, rate, warm, slice, 0, func(i int) (string, error) { return s.send(ctx, first+i) })
			s.next += t.sent
			s.res.add(t)
		}
	}
}

// clicks approves the requests the command phase created and measures, per request, the
// time from the click to the grant reaching the backend's webhook.
func (lt *load) clicks(ctx context.Context, addr string, pid int, rate float64, dur time.Duration, ids []string, slack *slackfake.Server) (result, []time.Duration) {
	ids = slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == "" })
	c := &slackclient.Client{Base: "http://" + addr, Secret: lt.secret, Do: loadHTTP.Do, Now: time.Now, Team: slackfake.TeamID}
	sent := make([]time.Time, len(ids))
	r := lt.drive(ctx, "clicks", pid, rate, 0, dur, len(ids), func(i int) (string, error) {
		sent[i] = time.Now()
		_, err := c.Click(ctx, "UAPPROVER", "approve", ids[i], slack.ResponseURL("UAPPROVER"))
		return ids[i], err
	})
	deadline := time.Now().Add(15 * time.Second)
	var e2e []time.Duration
	for {
		e2e = e2e[:0]
		lt.mu.Lock()
		for i := range r.sent {
			if at, ok := lt.submitted[ids[i]]; ok {
				e2e = append(e2e, at.Sub(sent[i]))
			}
		}
		lt.mu.Unlock()
		if len(e2e) == r.sent || time.Now().After(deadline) {
			return r, e2e
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fulfil is the backend's fulfilment service: it notes when each grant arrives.
func (lt *load) fulfil(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	var body struct {
		Type    string `json:"type"`
		Request string `json:"request"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if body.Type == "grant" {
		lt.mu.Lock()
		if _, seen := lt.submitted[body.Request]; !seen {
			lt.submitted[body.Request] = at
		}
		lt.mu.Unlock()
	}
}

var loadHTTP = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 1024}}

// cpuTime is the user+system CPU time a process has used (Linux /proc; zero elsewhere).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // after "pid (comm) "
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// startRedis runs a redis-server for the load test on a free port.
func startRedis(ctx context.Context, dir string) (stop func(), url string, err error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, "", errors.New("loadtest needs Redis: install redis-server (apt-get install redis-server) or pass -redis redis://host:6379")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.CommandContext(ctx, bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	url = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	opts, _ := goredis.ParseURL(url)
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	for range 100 {
		if rdb.Ping(ctx).Err() == nil {
			return stop, url, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return nil, "", errors.New("redis-server did not start")
}

// floorChild starts a floor server: the bare one, or with "-slack URL" the fair one.
func (lt *load) floorChild(ctx context.Context, args ...string) (string, child, error) {
	return lt.child(ctx, "floor", append([]string{"loadtest", "floor", "-redis", lt.redis, "-secret", lt.secret}, args...), nil)
}

// fairStore is the fair floor's one round trip: a request id, the request and its due
// entry, as accessbot's create does (without its indexes, outbox tasks and audit).
var fairStore = goredis.NewScript(`
local id = redis.call("INCR", KEYS[1])
redis.call("HSET", KEYS[2] .. id, "data", ARGV[1])
redis.call("ZADD", KEYS[3], ARGV[2], id)
return id`)

// floorServer is a floor the load tool compares accessbot with: an HTTP server that
// verifies the Slack signature and writes one Redis key per request, nothing more; or,
// with -slack (the fair floor), stores the request and its due entry in one script and
// posts one card to Slack after answering, as every command must.
func floorServer(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loadtest floor", flag.ContinueOnError)
	redisURL := fs.String("redis", "", "Redis URL")
	secret := fs.String("secret", "", "Slack signing secret")
	slackAPI := fs.String("slack", "", "the fake Slack's API URL: be the fair floor")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts, err := goredis.ParseURL(*redisURL)
	if err != nil {
		return err
	}
	opts.Protocol = redisstore.Protocol // the Redis client as accessbot configures it
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	var n atomic.Int64
	bare := func(ctx context.Context, body []byte) error {
		return rdb.Set(ctx, "floor:"+strconv.FormatInt(n.Add(1), 10), body, time.Minute).Err()
	}
	store := bare
	var cards chan struct{} // the cards on their way, at most as many as accessbot's outbox workers
	var api *slackbot.Client
	var blocks []slackapi.Block
	var fallback string
	if *slackAPI != "" {
		// The same client accessbot makes (its connection pool), posting the card accessbot
		// posts for such a command, drawn once: the floor pays for sending it, not drawing it.
		api = slackbot.NewClient("xoxb-floor", *slackAPI, nil)
		blocks, fallback = slackbot.Blocks(voice.CardFor(floorCard(), governance.Person{Email: "approver@example.com"}))
		cards = make(chan struct{}, 32)
		store = func(ctx context.Context, body []byte) error {
			return fairStore.Run(ctx, rdb, []string{"floor:{f}:seq", "floor:{f}:req:", "floor:{f}:due"}, body, time.Now().Add(72*time.Hour).UnixMilli()).Err()
		}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := handlers.VerifySlack(w, r, *secret, 64<<10, time.Now())
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if err := store(r.Context(), body); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"response_type":"ephemeral","text":"ok"}`)
		if api != nil {
			cards <- struct{}{}
			go func() {
				defer func() { <-cards }()
				_, _, _ = api.PostJSONContext(context.Background(), slackbot.ChatMessage{Channel: "UAPPROVER", Text: fallback, Blocks: blocks})
			}()
		}
	})
	l, err := net.Listen("tcp", cmp.Or(os.Getenv("ACCESSBOT_LISTEN"), "127.0.0.1:0"))
	if err != nil {
		return err
	}
	fmt.Printf("floor listening on http://%s\n", l.Addr())
	srv := &http.Server{Handler: h}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// floorCard is a request as a load command makes it ("request vpn-7 for 2h because load
// test"), waiting for its approver: what the fair floor's card shows.
func floorCard() *governance.Request {
	now := time.Now()
	return &governance.Request{
		ID: "AR-100042", Version: 1, State: governance.StatePendingApproval,
		Requester: governance.Person{Name: "Load U00042", Email: "u00042@example.com"},
		Item:      governance.Item{ID: "vpn-7", Name: "Office VPN 7", Backend: "builtin", DefaultDuration: 8 * time.Hour}.Snapshot(),
		Duration:  2 * time.Hour, Reason: "load test",
		Approvers: []governance.Person{{Name: "Approver", Email: "approver@example.com"}},
		Platform:  "slack", CreatedAt: now, UpdatedAt: now,
	}
}

// memoryJudgedFrom is how many requests a run makes before its memory per request is held
// to the target. On fewer, Redis's steps weigh on each request more than the request
// itself: the key table doubling, an approver's index leaving its compact encoding past 128
// entries a shard, each requester's first index key on a shard. 3,500 requests read
// 1.07–1.28 KB each where 11,500 read 0.89–0.90 KB and 31,500 0.86 KB.
const memoryJudgedFrom = 10_000

// memory measures what accessbot's requests hold in Redis, through the running bot: the
// used memory after the commands and their cards, less the used memory before, per request
// created. The other servers' keys are removed before each reading, so they do not count.
type memory struct {
	rdb    *goredis.Client
	store  *redisstore.Store
	before int64
	others []string // the patterns of the other servers' keys, removed before each reading
}

func newMemory(ctx context.Context, redisURL, prefix string) (*memory, error) {
	opts, err := goredis.ParseURL(redisURL)
	if err != nil {
		return nil, err
	}
	m := &memory{rdb: goredis.NewClient(opts), others: []string{"floor:*"}}
	m.store = redisstore.New(m.rdb, redisstore.Options{Prefix: prefix})
	if err := m.dropOthers(ctx); err != nil {
		m.close()
		return nil, err
	}
	if m.before, err = m.used(ctx); err != nil {
		m.close()
		return nil, err
	}
	return m, nil
}

// dropOthers removes the other servers' keys: the floors' ("floor:…"), and those of a
// build compared with (-against).
func (m *memory) dropOthers(ctx context.Context) error {
	for _, pattern := range m.others {
		var cursor uint64
		for {
			keys, next, err := m.rdb.Scan(ctx, cursor, pattern, 1000).Result()
			if err != nil {
				return err
			}
			if len(keys) > 0 {
				if err := m.rdb.Del(ctx, keys...).Err(); err != nil {
					return err
				}
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	return nil
}

func (m *memory) close() { _ = m.rdb.Close() }

// used is Redis's used_memory.
func (m *memory) used(ctx context.Context) (int64, error) {
	info, err := m.rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("no used_memory in INFO memory")
}

// perRequest waits (up to a minute) until the outbox has delivered every card, then says
// how many bytes each request created (each answer with a request id) holds.
func (m *memory) perRequest(ctx context.Context, answers []string) (float64, int, error) {
	n := 0
	for _, id := range answers { // the request ids the commands were answered with
		if id != "" {
			n++
		}
	}
	if n == 0 {
		return 0, 0, errors.New("no request was created")
	}
	for deadline := time.Now().Add(time.Minute); ; {
		depth, _, err := m.store.OutboxDepth(ctx)
		if err != nil {
			return 0, 0, err
		}
		if depth == 0 {
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("%d cards still undelivered after a minute", depth)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := m.dropOthers(ctx); err != nil {
		return 0, 0, err
	}
	after, err := m.used(ctx)
	if err != nil {
		return 0, 0, err
	}
	return float64(after-m.before) / float64(n), n, nil
}
