package pagerduty_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/pagerduty"
	"github.com/accessbot/accessbot/governance/pagerduty/pdfake"
)

const key = "y_NbAkKc66ryYTWUXYEu" // PagerDuty's documentation example key

func setup(t *testing.T) (*pdfake.Server, *pagerduty.Client) {
	pd := pdfake.Start(t, key)
	pd.AddUser(pdfake.User{ID: "PCAROL", Name: "Carol", Email: "Carol@Example.com"})
	pd.AddUser(pdfake.User{ID: "PCAROLINE", Name: "Caroline", Email: "caroline@example.com"})
	c, err := pagerduty.New(pagerduty.Options{BaseURL: pd.URL, APIKey: key, Timeout: 200 * time.Millisecond,
		Clock: governance.NewManualClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))})
	require.NoError(t, err)
	return pd, c
}

func TestOnCallNow_AsksWithTheDocumentedHeadersAndFilters(t *testing.T) {
	pd, c := setup(t)
	pd.SetOnCall(pdfake.OnCall{UserID: "PCAROL", ScheduleID: "PSCHED1", PolicyID: "PPOL1", Level: 1})
	on, err := c.OnCallNow(context.Background(), "carol@example.com", governance.OnCallTarget{Schedules: []string{"PSCHED1", "PSCHED2"}})
	require.NoError(t, err)
	assert.True(t, on)
	calls := pd.Calls()
	require.Len(t, calls, 2)
	for _, call := range calls {
		assert.Equal(t, http.MethodGet, call.Method)
		assert.Equal(t, "Token token="+key, call.Auth)
		assert.Equal(t, pdfake.Accept, call.Accept)
	}
	assert.Equal(t, "/users", calls[0].Path)
	assert.Equal(t, url.Values{"query": {"carol@example.com"}, "limit": {"100"}}, calls[0].Query)
	assert.Equal(t, "/oncalls", calls[1].Path)
	assert.Equal(t, url.Values{"user_ids[]": {"PCAROL"}, "schedule_ids[]": {"PSCHED1", "PSCHED2"}, "limit": {"100"}}, calls[1].Query)
}

func TestOnCallNow_ByEscalationPolicyAskedApartFromSchedules(t *testing.T) {
	pd, c := setup(t)
	pd.SetOnCall(pdfake.OnCall{UserID: "PCAROL", PolicyID: "PPOL1", Level: 2})
	on, err := c.OnCallNow(context.Background(), "carol@example.com",
		governance.OnCallTarget{Schedules: []string{"PSCHED1"}, EscalationPolicies: []string{"PPOL1"}})
	require.NoError(t, err)
	assert.True(t, on)
	calls := pd.Calls()
	require.Len(t, calls, 3, "a user lookup, then schedules and policies asked apart (filters intersect)")
	assert.Equal(t, []string{"PPOL1"}, calls[2].Query["escalation_policy_ids[]"])
	assert.Empty(t, calls[2].Query["schedule_ids[]"])
}

func TestOnCallNow_NotOnCallOrUnknownIsNo(t *testing.T) {
	pd, c := setup(t)
	pd.SetOnCall(pdfake.OnCall{UserID: "PCAROLINE", ScheduleID: "PSCHED1", PolicyID: "PPOL1", Level: 1})
	on, err := c.OnCallNow(context.Background(), "carol@example.com", governance.OnCallTarget{Schedules: []string{"PSCHED1"}})
	require.NoError(t, err)
	assert.False(t, on, "Caroline is on call, not Carol (query matches her too; the e-mail decides)")

	before := len(pd.Calls())
	on, err = c.OnCallNow(context.Background(), "mallory@example.com", governance.OnCallTarget{Schedules: []string{"PSCHED1"}})
	require.NoError(t, err)
	assert.False(t, on)
	assert.Len(t, pd.Calls(), before+1, "someone PagerDuty does not know is not asked about")

	_, err = c.OnCallNow(context.Background(), "carol@example.com", governance.OnCallTarget{Schedules: []string{"PSCHED1"}})
	require.NoError(t, err)
	assert.Equal(t, "/oncalls", pd.Calls()[len(pd.Calls())-1].Path)
	assert.Len(t, pd.Calls(), before+2, "Carol's user id is remembered")
}

func TestOnCallNow_FailuresAreErrorsNeverYes(t *testing.T) {
	for name, breakIt := range map[string]func(pd *pdfake.Server){
		"an outage":     func(pd *pdfake.Server) { pd.Fail(http.StatusInternalServerError) },
		"rate limited":  func(pd *pdfake.Server) { pd.Fail(http.StatusTooManyRequests) },
		"too slow":      func(pd *pdfake.Server) { pd.Hang() },
		"a revoked key": func(pd *pdfake.Server) { pd.Fail(http.StatusUnauthorized) },
	} {
		t.Run(name, func(t *testing.T) {
			pd, c := setup(t)
			pd.SetOnCall(pdfake.OnCall{UserID: "PCAROL", ScheduleID: "PSCHED1", PolicyID: "PPOL1", Level: 1})
			breakIt(pd)
			on, err := c.OnCallNow(context.Background(), "carol@example.com", governance.OnCallTarget{Schedules: []string{"PSCHED1"}})
			require.Error(t, err)
			assert.False(t, on)
		})
	}
}

func TestFake_RefusesWhatPagerDutyRefuses(t *testing.T) {
	pd := pdfake.Start(t, key)
	get := func(path, auth, accept string) int {
		req, err := http.NewRequest(http.MethodGet, pd.URL+path, nil)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, get("/oncalls", "", pdfake.Accept))
	assert.Equal(t, http.StatusUnauthorized, get("/oncalls", "Bearer "+key, pdfake.Accept), "the Token token= form only")
	assert.Equal(t, http.StatusUnauthorized, get("/oncalls", "Token token=other", pdfake.Accept))
	assert.Equal(t, http.StatusBadRequest, get("/oncalls?schedule_ids=P1", "Token token="+key, pdfake.Accept), "a filter without []")
	assert.Equal(t, http.StatusBadRequest, get("/oncalls?limit=101", "Token token="+key, pdfake.Accept))
	assert.Equal(t, http.StatusBadRequest, get("/oncalls?limit=100&offset=9950", "Token token="+key, pdfake.Accept))
	assert.Equal(t, http.StatusOK, get("/oncalls?limit=100", "Token token="+key, pdfake.Accept))
}

func TestSettings_CheckAndOpen(t *testing.T) {
	s := pagerduty.Settings{BaseURL: "http://api.pagerduty.com", Timeout: governance.Duration(time.Minute)}
	errs := s.Check()
	require.Len(t, errs, 2)
	assert.ErrorContains(t, errs[0], "pagerduty timeout 1m0s")
	assert.ErrorContains(t, errs[1], "not an https URL")
	s.FromEnv(governance.Env{Get: func(string) string { return "" }, Secret: func(n string) string {
		if n == "PAGERDUTY_API_KEY" {
			return key
		}
		return ""
	}})
	assert.True(t, s.Enabled())
}

func TestProbe_AsksOnceWithTheKey(t *testing.T) {
	pd := pdfake.Start(t, key)
	s := pagerduty.Settings{BaseURL: pd.URL, APIKey: key}
	msg, err := s.Probe(context.Background())
	require.NoError(t, err)
	assert.Contains(t, msg, "answers who is on call")
	assert.Equal(t, url.Values{"limit": {"1"}}, pd.Calls()[0].Query)
	s.APIKey = "revoked"
	_, err = s.Probe(context.Background())
	assert.ErrorContains(t, err, "401")
}
