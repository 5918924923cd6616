package backendtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/governancetest"
)

// Harness is one backend under the error-handling suite: how to start it against a fresh
// fake, and what it is expected to do and say where backends legitimately differ.
type Harness interface {
	// Start starts a fresh fake and accessbot over it, with the backend built as o asks.
	Start(t *testing.T, o Options) Subject
	// Contract is what the suite expects of this backend.
	Contract() Contract
}

// Options are the suite's changes to how a harness builds its backend.
type Options struct {
	Timeout          time.Duration // the backend's timeout per call; 0 keeps the harness's own
	WrongCredentials bool          // the backend is given credentials its fake refuses
	Log              io.Writer     // where the backend logs; nil discards
}

// Set puts the suite's timeout and a logger writing to Log into a backend's options,
// where the suite asks for them; the harness's own stay otherwise.
func (o Options) Set(timeout *time.Duration, logger **slog.Logger) {
	if o.Timeout > 0 {
		*timeout = o.Timeout
	}
	if o.Log != nil {
		*logger = slog.New(slog.NewTextHandler(o.Log, nil))
	}
}

// Fake is what the suite asks of a backend's fake server. match is the fake's own way to
// name a call ("POST /v3/access-requests").
type Fake interface {
	// Fail makes the fake answer the next call matching match with status and the
	// service's error body, with Retry-After when retryAfter is not empty.
	Fail(match string, status int, retryAfter string)
	// Hang makes the fake hold its answer to the next call matching match for d.
	Hang(match string, d time.Duration)
	// Lose makes the fake carry out the next call matching match but lose its answer, as
	// a timeout or a proxy does.
	Lose(match string)
}

// Subject is one started backend with its fake.
type Subject struct {
	*Bed
	Fake Fake
	// Accepted counts the submissions the fake accepted.
	Accepted func() int
	// Made lists the ids of the submissions the fake made, whether or not their answers
	// arrived.
	Made func() []string
	// TokensIssued counts the access tokens the fake's token endpoint issued; nil when the
	// fake has no token endpoint.
	TokensIssued func() int
}

// IDs lists the id of each record, in order.
func IDs[T any](records []T, id func(T) string) []string {
	out := make([]string, 0, len(records))
	for _, r := range records {
		out = append(out, id(r))
	}
	return out
}

// Fault is one injected failure of a call.
type Fault struct {
	Call       string // the fake's match
	Status     int
	RetryAfter string
}

// Refusal is a call answered with a status that fails the request at once, and what the
// request's failure then says.
type Refusal struct {
	Call    string
	Status  int
	Failure string // a part of it
}

// Contract is what the suite expects of one backend.
type Contract struct {
	// Item is a catalog item the Bed's Requester may ask for; Submit is the fake's match
	// for the call that submits its grant.
	Item, Submit string
	// Transient are failures of the calls a submission makes (5xx, 429), each retried: once
	// every one has been answered, the submission goes through.
	Transient []Fault
	// GiveUp is what a request's failure says once every attempt was answered 500.
	GiveUp string
	// Hidden is what the fake's error bodies say: it goes to the log, never to people.
	// Logged is how the log writes the words of a 400 of Submit.
	Hidden, Logged string
	// TrackingID finds the service's id of a refused call in a failure, and TrackingKey is
	// the log attribute that carries it.
	TrackingID  *regexp.Regexp
	TrackingKey string
	// Permanent are refusals that fail a request at once; a 400, 403 and 404 of Submit
	// among them.
	Permanent []Refusal
	// FreshTokenOn401 says a 401 is retried once with a fresh token. A backend that cannot
	// fetch one (a delegated token it is handed) lists Submit's 401 in Permanent instead.
	FreshTokenOn401 bool
	// WrongCredentials are what a failure says when the backend's credentials are refused.
	WrongCredentials []string
	// Stranger is the e-mail of someone the backend has no identity for, and NoIdentity
	// what the failure of their request says.
	Stranger, NoIdentity string
	// Duplicate matches what the failure of a second ask for Item says while the backend
	// still has accessbot's first request for it under way, which accessbot no longer
	// tracks (Bed.Forget); nil for a backend without a duplicate check of its own.
	Duplicate *regexp.Regexp
}

// RunErrors runs the error-handling suite: 429 with Retry-After, 5xx with backoff and
// giving up, timeouts and lost answers, permanent refusals, logged tracking ids, token
// refresh, bad credentials and unknown people, each against a fresh fake.
func RunErrors(t *testing.T, h Harness) {
	c := h.Contract()
	t.Run("a 429 is retried once its Retry-After has passed", func(t *testing.T) {
		s := h.Start(t, Options{})
		s.Fake.Fail(c.Submit, http.StatusTooManyRequests, "7")
		r := s.Approved(c.Item)
		assert.Equal(t, governance.StateApproved, r.State, "not submitted yet")
		assert.Zero(t, s.Accepted())

		s.Retry(6 * time.Second)
		assert.Zero(t, s.Accepted(), "not before Retry-After")
		s.Retry(time.Second)
		assert.Equal(t, 1, s.Accepted())
		assert.Equal(t, governance.StateSubmitted, s.Get(r.ID).State)
	})
	t.Run("5xx and 429 answers are retried with backoff until the submission goes through", func(t *testing.T) {
		require.NotEmpty(t, c.Transient)
		s := h.Start(t, Options{})
		for _, f := range c.Transient {
			s.Fake.Fail(f.Call, f.Status, f.RetryAfter)
		}
		r := s.Approved(c.Item)
		for range c.Transient {
			s.Retry(time.Minute)
		}
		assert.Equal(t, governance.StateSubmitted, s.Get(r.ID).State)
		assert.Equal(t, 1, s.Accepted())
	})
	t.Run("a 500 on every attempt fails the request and says so", func(t *testing.T) {
		s := h.Start(t, Options{})
		for range MaxAttempts {
			s.Fake.Fail(c.Submit, http.StatusInternalServerError, "")
		}
		r := s.Approved(c.Item)
		for range MaxAttempts {
			s.Retry(time.Minute)
		}
		got := s.Get(r.ID)
		assert.Equal(t, governance.StateFailed, got.State)
		assert.Contains(t, got.Failure, c.GiveUp)
		assert.NotContains(t, got.Failure, c.Hidden, "the service's words are not for display")
		assert.Contains(t, s.Notes.Take(), "failed→"+s.Requester.Email)
		assert.Zero(t, s.Accepted())
	})
	t.Run("a call that times out is retried and submits once", func(t *testing.T) {
		s := h.Start(t, Options{Timeout: 200 * time.Millisecond})
		s.Fake.Hang(c.Submit, 5*time.Second)
		r := s.Approved(c.Item)
		assert.Equal(t, governance.StateApproved, r.State, "the answer was lost")

		s.Retry(time.Minute)
		assert.Equal(t, governance.StateSubmitted, s.Get(r.ID).State)
		assert.Equal(t, 1, s.Accepted())
	})
	t.Run("a retry after a lost answer finds the first submission and asks nothing new", func(t *testing.T) {
		s := h.Start(t, Options{Timeout: 200 * time.Millisecond})
		s.Fake.Lose(c.Submit)
		r := s.Approved(c.Item)
		assert.Equal(t, governance.StateApproved, r.State, "the answer was lost")
		made := s.Made()
		require.Len(t, made, 1, "but the service made it")

		s.Retry(time.Minute)
		got := s.Get(r.ID)
		assert.Equal(t, governance.StateSubmitted, got.State, got.Failure)
		assert.Equal(t, made[0], got.Submission.ExternalID)
		assert.Equal(t, made, s.Made(), "the retry asked nothing new")
	})
	for _, status := range []int{http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound} {
		require.True(t, slices.ContainsFunc(c.Permanent, func(p Refusal) bool { return p.Call == c.Submit && p.Status == status }),
			"the contract says what a %d of the submission says", status)
	}
	for _, p := range c.Permanent {
		t.Run(fmt.Sprintf("a %d of %s fails the request at once and says what to do", p.Status, p.Call), func(t *testing.T) {
			s := h.Start(t, Options{})
			s.Fake.Fail(p.Call, p.Status, "")
			r := s.Approved(c.Item)
			assert.Equal(t, governance.StateFailed, r.State)
			assert.Contains(t, r.Failure, p.Failure)
			assert.Zero(t, s.Accepted(), "not retried")
		})
	}
	t.Run("the service's own words are logged with its tracking id, not shown", func(t *testing.T) {
		log := &governancetest.Logs{}
		s := h.Start(t, Options{Log: log})
		s.Fake.Fail(c.Submit, http.StatusBadRequest, "")
		r := s.Approved(c.Item)
		require.Equal(t, governance.StateFailed, r.State)
		assert.NotContains(t, r.Failure, c.Hidden)
		tracking := c.TrackingID.FindString(r.Failure)
		require.NotEmpty(t, tracking, "the failure quotes the tracking id: %s", r.Failure)
		assert.Contains(t, log.String(), c.TrackingKey+"="+tracking)
		assert.Contains(t, log.String(), c.Logged)
	})
	if c.FreshTokenOn401 {
		t.Run("a 401 is tried once more with a fresh token", func(t *testing.T) {
			s := h.Start(t, Options{})
			s.Fake.Fail(c.Submit, http.StatusUnauthorized, "")
			r := s.Approved(c.Item)
			assert.Equal(t, governance.StateSubmitted, r.State, r.Failure)
			assert.Equal(t, 2, s.TokensIssued())
		})
	} else {
		require.True(t, slices.ContainsFunc(c.Permanent, func(p Refusal) bool { return p.Call == c.Submit && p.Status == http.StatusUnauthorized }),
			"a backend that cannot fetch a fresh token says what a 401 of the submission fails with")
	}
	t.Run("credentials the service refuses fail the request and name the settings", func(t *testing.T) {
		s := h.Start(t, Options{WrongCredentials: true})
		r := s.Approved(c.Item)
		assert.Equal(t, governance.StateFailed, r.State)
		for _, want := range c.WrongCredentials {
			assert.Contains(t, r.Failure, want)
		}
		assert.Zero(t, s.Accepted())
	})
	if c.Duplicate != nil {
		t.Run("a second ask while the service has the first under way fails as a duplicate and asks nothing", func(t *testing.T) {
			s := h.Start(t, Options{})
			first := s.Approved(c.Item)
			require.Equal(t, governance.StateSubmitted, first.State)
			s.Notes.Take()
			s.Forget(first.ID) // accessbot itself refuses a second ask while the first is open

			second := s.Approved(c.Item)
			assert.Equal(t, governance.StateFailed, second.State)
			assert.True(t, second.Duplicate)
			assert.Regexp(t, c.Duplicate, second.Failure)
			assert.Equal(t, 1, s.Accepted(), "the service was asked once")
			assert.Contains(t, s.Notes.Take(), "failed→"+s.Requester.Email)
		})
	}
	t.Run("a requester the service has no identity for is told to check their e-mail", func(t *testing.T) {
		s := h.Start(t, Options{})
		_, err := s.Backend.LookupIdentity(context.Background(), governance.Person{Email: c.Stranger})
		require.Error(t, err)
		assert.True(t, governance.IsPermanent(err))
		assert.Equal(t, c.NoIdentity, err.Error())

		r := s.Ask(governance.Actor{Person: governance.Person{Email: c.Stranger}}, c.Item)
		s.Drain()
		got := s.Get(r.ID)
		assert.Equal(t, governance.StateFailed, got.State)
		assert.Equal(t, c.NoIdentity, got.Failure)
	})
}
