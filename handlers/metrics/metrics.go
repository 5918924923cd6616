// Package metrics is accessbot's Prometheus instrumentation: the governance service's and
// the scheduler's observer, the timing of every HTTP endpoint, the count of chat API calls,
// and the /metrics endpoint that serves them. It knows the governance types it counts and
// the Slack API it wraps, nothing of how requests arrive.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	slackapi "github.com/slack-go/slack"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/governance"
)

// Registry is accessbot's Prometheus instrumentation, served at GET /metrics. It is the
// governance Observer (transitions, decisions, backend calls, deliveries) and the
// scheduler's (sweeps), and it times every HTTP endpoint.
type Registry struct {
	reg         *prometheus.Registry
	transitions *prometheus.CounterVec
	decisions   *prometheus.HistogramVec
	backend     *prometheus.CounterVec
	backendTime *prometheus.HistogramVec
	deliveries  *prometheus.CounterVec
	http        *prometheus.HistogramVec
	sweepTime   prometheus.Histogram
	sweepItems  prometheus.Counter
	chatAPI     *prometheus.CounterVec

	// The series counted on every command and delivery, each found once: a vector's
	// WithLabelValues hashes and checks its labels on every call.
	transitionsBy cached[[3]string, prometheus.Counter]
	deliveriesBy  cached[[2]string, prometheus.Counter]
	chatAPIBy     cached[[3]string, prometheus.Counter]
	httpBy        cached[httpSeries, prometheus.Observer]
}

// httpSeries is an accessbot_http_request_seconds series: endpoint and status code.
type httpSeries struct {
	endpoint string
	code     int
}

// cached holds the metrics of a vector's series by their labels, so each series is looked
// up in the vector once; there are few (label values come from fixed sets).
type cached[K comparable, M any] struct{ m sync.Map }

// get is the series of key k, made by of(k) the first time.
func (c *cached[K, M]) get(k K, of func(K) M) M {
	if v, ok := c.m.Load(k); ok {
		return v.(M)
	}
	v, _ := c.m.LoadOrStore(k, of(k))
	return v.(M)
}

var _ governance.Observer = (*Registry)(nil)

// OutboxDepth reports how many outbox tasks wait and when the oldest was enqueued.
type OutboxDepth func(ctx context.Context) (int64, time.Time, error)

// New returns the metrics; outbox, if not nil, is read on every scrape.
func New(outbox OutboxDepth) *Registry {
	m := &Registry{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.transitions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accessbot_transitions_total",
		Help: "Request lifecycle events, by event, resulting state and backend."}, []string{"event", "state", "backend"})
	m.decisions = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "accessbot_time_to_decision_seconds",
		Help: "Time from request to decision.", Buckets: []float64{60, 300, 900, 3600, 4 * 3600, 86400, 3 * 86400, 7 * 86400}},
		[]string{"decision"})
	m.backend = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accessbot_backend_calls_total",
		Help: "Calls to governance backends, by outcome (ok, rate_limited, permanent, error)."}, []string{"backend", "op", "outcome"})
	m.backendTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "accessbot_backend_call_seconds",
		Help: "Latency of governance backend calls.", Buckets: prometheus.DefBuckets}, []string{"backend", "op"})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accessbot_outbox_deliveries_total",
		Help: "Outbox delivery attempts (chat messages, submissions), by outcome; chat API errors count here."}, []string{"kind", "outcome"})
	m.http = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "accessbot_http_request_seconds",
		Help: "HTTP handler latency by endpoint and status.", Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 3}},
		[]string{"endpoint", "code"})
	m.sweepTime = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "accessbot_scheduler_sweep_seconds",
		Help: "Duration of scheduler sweeps.", Buckets: prometheus.DefBuckets})
	m.sweepItems = prometheus.NewCounter(prometheus.CounterOpts{Name: "accessbot_scheduler_items_total",
		Help: "Due items handled by scheduler sweeps."})
	m.chatAPI = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "accessbot_chat_api_calls_total",
		Help: "Chat platform API calls by platform, method and outcome (ok, rate_limited, error)."}, []string{"platform", "method", "outcome"})
	for _, c := range []prometheus.Collector{m.chatAPI, m.transitions, m.decisions, m.backend, m.backendTime, m.deliveries, m.http,
		m.sweepTime, m.sweepItems, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{})} {
		f(c)
	}
	if outbox != nil {
		read := func() (int64, time.Time) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, oldest, err := outbox(ctx)
			if err != nil {
				return -1, time.Time{}
			}
			return n, oldest
		}
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "accessbot_outbox_depth",
			Help: "Outbox tasks waiting (queued, claimed or held for retry); -1 when Redis cannot be read."},
			func() float64 { n, _ := read(); return float64(n) }))
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "accessbot_outbox_oldest_age_seconds",
			Help: "Age of the oldest queued outbox task; 0 when none."},
			func() float64 {
				if _, oldest := read(); !oldest.IsZero() {
					return time.Since(oldest).Seconds()
				}
				return 0
			}))
	}
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Registry) Handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

func outcome(err error) string {
	var ra *governance.RetryAfterError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ra):
		return "rate_limited"
	case governance.IsPermanent(err):
		return "permanent"
	}
	return "error"
}

// Transitioned counts lifecycle events and times decisions.
func (m *Registry) Transitioned(r *governance.Request, a governance.AuditRecord) {
	m.transitionsBy.get([3]string{string(a.Event), string(a.To), r.Item.Backend}, func(k [3]string) prometheus.Counter {
		return m.transitions.WithLabelValues(k[0], k[1], k[2])
	}).Inc()
	if (a.Event == governance.EventApprove || a.Event == governance.EventDeny) && r.Decision != nil {
		m.decisions.WithLabelValues(string(a.Event)).Observe(r.Decision.At.Sub(r.CreatedAt).Seconds())
	}
}

// BackendCalled counts backend calls by outcome, 429s included.
func (m *Registry) BackendCalled(backend, op string, took time.Duration, err error) {
	m.backend.WithLabelValues(backend, op, outcome(err)).Inc()
	m.backendTime.WithLabelValues(backend, op).Observe(took.Seconds())
}

// Delivered counts outbox delivery attempts by outcome.
func (m *Registry) Delivered(kind governance.TaskKind, _ time.Duration, err error) {
	m.deliveriesBy.get([2]string{string(kind), outcome(err)}, func(k [2]string) prometheus.Counter {
		return m.deliveries.WithLabelValues(k[0], k[1])
	}).Inc()
}

// Swept records a scheduler sweep.
func (m *Registry) Swept(took time.Duration, items int, _ error) {
	m.sweepTime.Observe(took.Seconds())
	m.sweepItems.Add(float64(items))
}

// Instrument times the endpoint h serves (accessbot_http_request_seconds{endpoint}).
func (m *Registry) Instrument(endpoint string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.httpBy.get(httpSeries{endpoint, sw.code}, func(k httpSeries) prometheus.Observer {
			return m.http.WithLabelValues(k.endpoint, strconv.Itoa(k.code))
		}).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the server's writer (to flush an answer
// written while the handler goes on working).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// SlackAPI wraps api so that every Web API call is counted by method and outcome
// (accessbot_chat_api_calls_total{platform="slack"}), on the request path and in the outbox alike.
func (m *Registry) SlackAPI(api slackbot.API) slackbot.API { return &countedSlack{api: api, m: m} }

type countedSlack struct {
	api slackbot.API
	m   *Registry
}

// TeamsCall counts a Bot Connector call (accessbot_chat_api_calls_total{platform="teams"}),
// for the Teams connector's Observe.
func (m *Registry) TeamsCall(call string, err error) {
	out := "ok"
	var ra *governance.RetryAfterError
	switch {
	case errors.As(err, &ra):
		out = "rate_limited"
	case err != nil:
		out = "error"
	}
	m.chatAPIBy.get([3]string{"teams", call, out}, func(k [3]string) prometheus.Counter {
		return m.chatAPI.WithLabelValues(k[0], k[1], k[2])
	}).Inc()
}

func (c *countedSlack) count(method string, err error) {
	out := "ok"
	if err != nil {
		out = "error"
		var rl *slackapi.RateLimitedError
		if errors.As(err, &rl) {
			out = "rate_limited"
		}
	}
	c.m.chatAPIBy.get([3]string{"slack", method, out}, func(k [3]string) prometheus.Counter {
		return c.m.chatAPI.WithLabelValues(k[0], k[1], k[2])
	}).Inc()
}

func (c *countedSlack) PostJSONContext(ctx context.Context, m slackbot.ChatMessage) (string, string, error) {
	ch, ts, err := c.api.PostJSONContext(ctx, m)
	c.count("chat.postMessage", err)
	return ch, ts, err
}

func (c *countedSlack) UpdateJSONContext(ctx context.Context, m slackbot.ChatMessage) (string, string, error) {
	ch, ts, err := c.api.UpdateJSONContext(ctx, m)
	c.count("chat.update", err)
	return ch, ts, err
}

func (c *countedSlack) OpenConversationContext(ctx context.Context, p *slackapi.OpenConversationParameters) (*slackapi.Channel, bool, bool, error) {
	ch, x, y, err := c.api.OpenConversationContext(ctx, p)
	c.count("conversations.open", err)
	return ch, x, y, err
}

func (c *countedSlack) GetUserInfoContext(ctx context.Context, user string, o ...slackapi.GetUserInfoOption) (*slackapi.User, error) {
	u, err := c.api.GetUserInfoContext(ctx, user, o...)
	c.count("users.info", err)
	return u, err
}

func (c *countedSlack) AuthTestContext(ctx context.Context) (*slackapi.AuthTestResponse, error) {
	r, err := c.api.AuthTestContext(ctx)
	c.count("auth.test", err)
	return r, err
}

func (c *countedSlack) GetUserByEmailContext(ctx context.Context, email string) (*slackapi.User, error) {
	u, err := c.api.GetUserByEmailContext(ctx, email)
	c.count("users.lookupByEmail", err)
	return u, err
}

func (c *countedSlack) OpenViewContext(ctx context.Context, trigger string, v slackapi.ModalViewRequest) (*slackapi.ViewResponse, error) {
	r, err := c.api.OpenViewContext(ctx, trigger, v)
	c.count("views.open", err)
	return r, err
}

func (c *countedSlack) PublishViewContext(ctx context.Context, req slackapi.PublishViewContextRequest) (*slackapi.ViewResponse, error) {
	r, err := c.api.PublishViewContext(ctx, req)
	c.count("views.publish", err)
	return r, err
}

func (c *countedSlack) GetPermalinkContext(ctx context.Context, p *slackapi.PermalinkParameters) (string, error) {
	link, err := c.api.GetPermalinkContext(ctx, p)
	c.count("chat.getPermalink", err)
	return link, err
}
