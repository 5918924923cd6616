package metrics_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/handlers/metrics"
)

func TestMetrics_BackendOutcomes_429IsRateLimited(t *testing.T) {
	m := metrics.New(nil)
	boom := errors.New("boom")
	m.BackendCalled("sailpoint", "submit", time.Millisecond, governance.RetryAfter(boom, 10*time.Second))
	m.BackendCalled("sailpoint", "submit", time.Millisecond, governance.Permanent(boom))
	m.BackendCalled("sailpoint", "submit", time.Millisecond, boom)
	m.Delivered(governance.TaskNotify, time.Millisecond, governance.RetryAfter(boom, time.Second))
	m.Swept(time.Second, 7, nil)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`accessbot_backend_calls_total{backend="sailpoint",op="submit",outcome="rate_limited"} 1`,
		`accessbot_backend_calls_total{backend="sailpoint",op="submit",outcome="permanent"} 1`,
		`accessbot_backend_calls_total{backend="sailpoint",op="submit",outcome="error"} 1`,
		`accessbot_outbox_deliveries_total{kind="notify",outcome="rate_limited"} 1`,
		`accessbot_scheduler_items_total 7`,
		`accessbot_scheduler_sweep_seconds_count 1`,
	} {
		assert.Contains(t, string(body), want)
	}
}
