package metrics_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/handlers/metrics"
	"github.com/accessbot/accessbot/manifests"
)

// The dashboard in manifests/grafana is checked against the registry the bot serves, so that
// renaming a metric or a label breaks this test rather than a panel nobody looks at until an
// incident.

type dashboard struct {
	SchemaVersion int `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query string `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	Targets    []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	GridPos struct{ X, Y, W, H int } `json:"gridPos"`
	Panels  []panel                  `json:"panels"` // a collapsed row holds its panels
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// family is what the dashboard may rely on about one exported metric family.
type family struct {
	histogram bool
	labels    map[string]bool
}

// slackOK is a Slack Web API that answers auth.test; nothing else is called.
type slackOK struct{ slackbot.API }

func (slackOK) AuthTestContext(context.Context) (*slackapi.AuthTestResponse, error) {
	return &slackapi.AuthTestResponse{}, nil
}

// exported registers the bot's metrics as serve does and returns the families the registry
// gathers. A vector without series is not gathered, so each observer is called once; a metric
// added to the package needs a line here before a panel may use it.
func exported(t *testing.T) map[string]family {
	t.Helper()
	m := metrics.New(func(context.Context) (int64, time.Time, error) { return 3, time.Now().Add(-time.Minute), nil })
	created := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	r := &governance.Request{Item: governance.ItemRef{Backend: "sailpoint"}, CreatedAt: created,
		Decision: &governance.Decision{Approved: true, At: created.Add(time.Hour)}}
	m.Transitioned(r, governance.AuditRecord{Event: governance.EventApprove, To: governance.StateApproved})
	m.BackendCalled("sailpoint", "submit", time.Millisecond, nil)
	m.Delivered(governance.TaskNotify, time.Millisecond, nil)
	m.Swept(time.Second, 1, nil)
	m.Instrument("slack_commands", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/slack/commands", nil))
	_, err := m.SlackAPI(slackOK{}).AuthTestContext(t.Context())
	require.NoError(t, err)

	mfs, err := metrics.Gatherer(m).Gather()
	require.NoError(t, err)
	out := map[string]family{}
	for _, mf := range mfs {
		f := family{histogram: mf.GetType().String() == "HISTOGRAM", labels: map[string]bool{}}
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				f.labels[l.GetName()] = true
			}
		}
		out[mf.GetName()] = f
	}
	return out
}

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promMatcher  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promKeywords = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
		"group_left", "group_right", "inf", "nan", "Inf", "NaN"}
)

// promQL returns the metric names and the label names (in matchers and groupings) of a PromQL
// expression. It is no parser, but enough for a dashboard's queries: strings, matchers, ranges
// and groupings are cut out first, then every identifier not called as a function, not a
// keyword and not part of a number or a Grafana variable is a metric name.
func promQL(expr string) (names, labels []string) {
	expr = promString.ReplaceAllString(expr, `""`)
	expr = promMatchers.ReplaceAllStringFunc(expr, func(m string) string {
		for _, g := range promMatcher.FindAllStringSubmatch(m, -1) {
			labels = append(labels, g[1])
		}
		return " "
	})
	expr = promGrouping.ReplaceAllStringFunc(expr, func(m string) string {
		inner := promGrouping.FindStringSubmatch(m)[1]
		for l := range strings.SplitSeq(inner, ",") {
			if l = strings.TrimSpace(l); l != "" {
				labels = append(labels, l)
			}
		}
		return " "
	})
	expr = promRange.ReplaceAllString(expr, " ")
	for _, loc := range promIdent.FindAllStringIndex(expr, -1) {
		word := expr[loc[0]:loc[1]]
		if loc[0] > 0 && strings.ContainsAny(expr[loc[0]-1:loc[0]], "0123456789.$") {
			continue // 1e3, 0.5e-2, $__rate_interval
		}
		if strings.HasPrefix(strings.TrimLeft(expr[loc[1]:], " \t\n"), "(") || slices.Contains(promKeywords, word) {
			continue
		}
		names = append(names, word)
	}
	return names, labels
}

func TestPromQL_FindsMetricAndLabelNames(t *testing.T) {
	tests := []struct {
		name, expr    string
		names, labels []string
	}{
		{name: "bare counter", expr: `accessbot_transitions_total`, names: []string{"accessbot_transitions_total"}},
		{name: "matchers are labels, not metrics",
			expr:  `accessbot_transitions_total{event="escalate", state!~"denied|failed"}`,
			names: []string{"accessbot_transitions_total"}, labels: []string{"event", "state"}},
		{name: "functions, ranges and Grafana variables are skipped",
			expr:  `sum by (backend) (increase(accessbot_backend_calls_total[$__rate_interval]))`,
			names: []string{"accessbot_backend_calls_total"}, labels: []string{"backend"}},
		{name: "histogram quantile keeps the bucket suffix and le",
			expr:  `histogram_quantile(0.95, sum by (le, endpoint) (rate(accessbot_http_request_seconds_bucket[5m])))`,
			names: []string{"accessbot_http_request_seconds_bucket"}, labels: []string{"le", "endpoint"}},
		{name: "both sides of a division",
			expr:  `sum(rate(x_sum[5m])) / sum(rate(x_count[5m])) > 1e3`,
			names: []string{"x_sum", "x_count"}},
		{name: "grouping after the aggregation, offset and bool",
			expr:  `sum(a offset 5m) by (kind) > bool on(kind) group_left() b`,
			names: []string{"a", "b"}, labels: []string{"kind", "kind"}},
		{name: "a string that looks like a metric is not one",
			expr:  `label_replace(up, "dst", "not_a_metric", "src", "(.*)")`,
			names: []string{"up"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, labels := promQL(tt.expr)
			assert.Equal(t, tt.names, names)
			assert.Equal(t, tt.labels, labels)
		})
	}
}

// resolve finds the family a series name in a query belongs to: the name itself for counters
// and gauges, and a histogram's name with _bucket, _sum or _count (the bare name of a
// histogram has no series).
func resolve(families map[string]family, name string) (string, bool) {
	if f, ok := families[name]; ok {
		return name, !f.histogram
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if f, found := families[base]; ok && found && f.histogram {
			return base, true
		}
	}
	return "", false
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	var d dashboard
	require.NoError(t, json.Unmarshal(manifests.Grafana, &d), "manifests/grafana/accessbot.json is not valid JSON")
	return d
}

// walk calls f for every panel, rows and the panels in collapsed rows included.
func walk(ps []panel, f func(panel)) {
	for _, p := range ps {
		f(p)
		walk(p.Panels, f)
	}
}

func TestGrafanaDashboard_ImportsAnywhereWithUniquePanelIDs(t *testing.T) {
	d := loadDashboard(t)
	assert.GreaterOrEqual(t, d.SchemaVersion, 41, "the schema Grafana 11.6 and 12 write")
	require.NotEmpty(t, d.Templating.List)
	v := d.Templating.List[0]
	assert.Equal(t, "datasource", v.Name)
	assert.Equal(t, "datasource", v.Type)
	assert.Equal(t, "prometheus", v.Query)

	seen := map[int]string{}
	walk(d.Panels, func(p panel) {
		assert.Positive(t, p.ID, "panel %q has no id", p.Title)
		if other, dup := seen[p.ID]; dup {
			assert.Failf(t, "duplicate panel id", "%q and %q both have id %d", other, p.Title, p.ID)
		}
		seen[p.ID] = p.Title
		if p.Type == "row" {
			return
		}
		want := &datasource{Type: "prometheus", UID: "${datasource}"}
		assert.Equal(t, want, p.Datasource, "panel %q", p.Title)
		assert.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, q := range p.Targets {
			assert.Equal(t, want, q.Datasource, "panel %q query %s", p.Title, q.RefID)
		}
	})
}

func TestGrafanaDashboard_PanelsFitTheGridWithoutOverlap(t *testing.T) {
	var placed []panel
	for _, p := range loadDashboard(t).Panels { // panels inside a collapsed row are placed when it opens
		g := p.GridPos
		assert.True(t, g.X >= 0 && g.W > 0 && g.X+g.W <= 24 && g.Y >= 0 && g.H > 0, "panel %q lies outside Grafana's 24 columns: %+v", p.Title, g)
		for _, q := range placed {
			o := q.GridPos
			overlap := g.X < o.X+o.W && o.X < g.X+g.W && g.Y < o.Y+o.H && o.Y < g.Y+g.H
			assert.False(t, overlap, "panels %q and %q overlap", q.Title, p.Title)
		}
		placed = append(placed, p)
	}
}

func TestGrafanaDashboard_EveryQueryNamesExportedMetricsAndLabels(t *testing.T) {
	families := exported(t)
	walk(loadDashboard(t).Panels, func(p panel) {
		for _, q := range p.Targets {
			names, labels := promQL(q.Expr)
			if !assert.NotEmpty(t, names, "panel %q query %s names no metric: %s", p.Title, q.RefID, q.Expr) {
				continue
			}
			known := map[string]bool{}
			for _, n := range names {
				base, ok := resolve(families, n)
				if !assert.True(t, ok, "panel %q query %s: %s is not a metric the bot exports", p.Title, q.RefID, n) {
					continue
				}
				for l := range families[base].labels {
					known[l] = true
				}
				if strings.HasSuffix(n, "_bucket") {
					known["le"] = true
				}
			}
			for _, l := range labels {
				assert.True(t, known[l], "panel %q query %s: no metric in it has the label %q: %s", p.Title, q.RefID, l, q.Expr)
			}
		}
	})
}

func TestGrafanaDashboard_ShowsEveryAccessbotMetric(t *testing.T) {
	shown := map[string]bool{}
	families := exported(t)
	walk(loadDashboard(t).Panels, func(p panel) {
		for _, q := range p.Targets {
			names, _ := promQL(q.Expr)
			for _, n := range names {
				if base, ok := resolve(families, n); ok {
					shown[base] = true
				}
			}
		}
	})
	for name := range families {
		if strings.HasPrefix(name, "accessbot_") {
			assert.True(t, shown[name], "%s has no panel in manifests/grafana/accessbot.json", name)
		}
	}
}
