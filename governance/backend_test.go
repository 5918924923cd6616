package governance_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

// script is a backend that works asynchronously, like SailPoint or Entra: Submit accepts,
// Status answers what the test says, Cancel and Revoke are recorded.
type script struct {
	mu        sync.Mutex
	status    governance.Submission // what Status answers
	statusErr error
	cancelErr error
	submitErr error
	statusN   int
	cancelled []string
	revoked   []governance.Grant
	found     []governance.ItemRef
	chart     map[string]string
}

func (s *script) Name() string { return "script" }
func (s *script) LookupIdentity(_ context.Context, p governance.Person) (governance.Identity, error) {
	return governance.Identity{ID: "id-" + p.Email, Email: p.Email}, nil
}
func (s *script) SearchCatalog(context.Context, string) ([]governance.ItemRef, error) {
	return s.found, nil
}
func (s *script) Submit(_ context.Context, g governance.Grant) (governance.Submission, error) {
	if s.submitErr != nil {
		return governance.Submission{}, s.submitErr
	}
	return governance.Submission{ExternalID: "ext-" + g.RequestID, State: governance.StateSubmitted, Start: g.Start, End: g.End}, nil
}
func (s *script) Status(context.Context, governance.Submission) (governance.Submission, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statusN++
	return s.status, s.statusErr
}
func (s *script) Extend(context.Context, governance.Grant, time.Time) (governance.Submission, error) {
	return governance.Submission{}, errors.New("not supported")
}
func (s *script) Revoke(_ context.Context, g governance.Grant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = append(s.revoked, g)
	return nil
}
func (s *script) Cancel(_ context.Context, sub governance.Submission) error {
	if s.cancelErr != nil {
		return s.cancelErr
	}
	s.cancelled = append(s.cancelled, sub.ExternalID)
	return nil
}
func (s *script) Manager(_ context.Context, email string) (governance.Person, bool, error) {
	boss, ok := s.chart[email]
	return governance.Person{Email: boss}, ok, nil
}

const scriptItems = `
items:
  - id: app
    name: The App
    backend: script
    approvers: [alice@example.com]
    defaultDuration: 8h
  - id: anything
    name: Anything in the script backend
    backend: script
    search: true
    approvers: [bob@example.com]
    defaultDuration: 1d
    maxDuration: 7d
`

type scriptBed struct {
	*bed
	be *script
}

func newScriptBed(t *testing.T) *scriptBed {
	b := &bed{t: t, clock: governance.NewManualClock(t0), rec: &recorder{}, prefix: redistest.Prefix(t)}
	be := &script{status: governance.Submission{State: governance.StateSubmitted}, chart: map[string]string{"carol@example.com": "mallory@example.com"}}
	b.store = redisstore.New(redistest.Client(t), redisstore.Options{Prefix: b.prefix})
	catalog, err := governance.ParseCatalog([]byte(scriptItems))
	require.NoError(t, err)
	b.svc, err = governance.NewService(governance.Config{Catalog: catalog, Store: b.store, Backends: []governance.Backend{be},
		Notifier: b.rec, Clock: b.clock, Admins: []governance.Person{{Email: "admin@example.com"}},
		Sync:   governance.SyncPolicy{First: time.Minute, Max: 8 * time.Minute},
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	b.disp = governance.NewDispatcher(b.svc, "bed")
	return &scriptBed{bed: b, be: be}
}

// approved is a request for item by carol, approved by its approver and handed to the backend.
func (b *scriptBed) approved(item string) *governance.Request {
	id := b.request(item)
	r, err := b.store.Get(context.Background(), id)
	require.NoError(b.t, err)
	_, err = b.svc.Decide(context.Background(), governance.DecideInput{RequestID: id, Approve: true,
		Approver: governance.Actor{Person: r.Approvers[0]}})
	require.NoError(b.t, err)
	b.deliver()
	b.rec.Take()
	return b.get(id)
}

func (b *scriptBed) get(id string) *governance.Request {
	r, err := b.store.Get(context.Background(), id)
	require.NoError(b.t, err)
	return r
}

func TestSync_EveryBackendOutcomeMapsOntoTheLifecycle(t *testing.T) {
	tests := []struct {
		answer  governance.Submission
		state   governance.State
		notice  string
		failure string
	}{
		{governance.Submission{State: governance.StateActive}, governance.StateActive, "active→carol@example.com", ""},
		{governance.Submission{State: governance.StateFailed, Detail: "the source is down"}, governance.StateFailed, "failed→carol@example.com", "the source is down"},
		{governance.Submission{State: governance.StateDenied, Detail: "rejected by Olivia"}, governance.StateDenied, "denied→carol@example.com", "rejected by Olivia"},
		{governance.Submission{State: governance.StateCancelled, Detail: "closed by an admin"}, governance.StateCancelled, "cancelled→carol@example.com", "closed by an admin"},
		{governance.Submission{State: governance.StateTimedOut}, governance.StateTimedOut, "timed_out→carol@example.com", "script ended it as timed out"},
	}
	for _, tt := range tests {
		t.Run(string(tt.state), func(t *testing.T) {
			b := newScriptBed(t)
			r := b.approved("app")
			require.Equal(t, governance.StateSubmitted, r.State)

			b.be.status = governance.Submission{State: governance.StateSubmitted, Waiting: "approval in script by Olivia"}
			b.clock.Advance(time.Minute)
			b.sweep()
			assert.Equal(t, []string{"waiting→carol@example.com"}, b.rec.Take(), "the requester hears what the backend waits for")
			b.clock.Advance(2 * time.Minute)
			b.sweep()
			assert.Empty(t, b.rec.Take(), "…once, not at every check")

			b.be.status = tt.answer
			b.clock.Advance(4 * time.Minute)
			b.sweep()
			got := b.get(r.ID)
			assert.Equal(t, tt.state, got.State)
			assert.Equal(t, tt.failure, got.Failure)
			assert.Contains(t, b.rec.Take(), tt.notice)
			checks := b.be.statusN
			b.clock.Advance(time.Hour)
			b.sweep()
			assert.Equal(t, checks, b.be.statusN, "a settled request is not checked again")
		})
	}
}

func TestSync_ChecksGetRarerAndTransientErrorsAreRetried(t *testing.T) {
	b := newScriptBed(t)
	b.approved("app")
	var at []int
	for m := 1; m <= 40; m++ {
		b.clock.Advance(time.Minute)
		n := b.be.statusN
		b.sweep()
		if b.be.statusN > n {
			at = append(at, m)
		}
	}
	assert.Equal(t, []int{1, 3, 7, 15, 23, 31, 39}, at, "1, 2, 4, 8 minutes apart, then every 8 (the policy's Max)")

	b.be.statusErr = errors.New("connection reset")
	b.clock.Advance(8 * time.Minute)
	_, err := b.svc.Sweep(context.Background(), 10, 5*time.Minute)
	require.Error(t, err)
	b.be.statusErr = nil
	b.be.status = governance.Submission{State: governance.StateActive}
	b.clock.Advance(5 * time.Minute) // the lease of the failed check ends
	b.sweep()
	assert.Contains(t, b.rec.Take(), "active→carol@example.com")
}

func TestCancel_ASubmittedRequestIsWithdrawnInTheBackendFirst(t *testing.T) {
	b := newScriptBed(t)
	r := b.approved("app")
	carol := governance.Actor{Person: governance.Person{Email: "carol@example.com"}}

	_, err := b.svc.Cancel(context.Background(), r.ID, governance.Actor{Person: governance.Person{Email: "alice@example.com"}})
	assert.ErrorIs(t, err, governance.ErrNotRequester)
	assert.Empty(t, b.be.cancelled)

	b.be.cancelErr = &governance.Problem{Err: governance.ErrNotPending, Message: "script has finished its approvals"}
	_, err = b.svc.Cancel(context.Background(), r.ID, carol)
	assert.EqualError(t, err, "script has finished its approvals", "the backend's refusal reaches the requester")
	assert.Equal(t, governance.StateSubmitted, b.get(r.ID).State, "nothing changed")

	b.be.cancelErr = nil
	got, err := b.svc.Cancel(context.Background(), r.ID, carol)
	require.NoError(t, err)
	assert.Equal(t, governance.StateCancelled, got.State)
	assert.Equal(t, []string{"ext-" + r.ID}, b.be.cancelled)
	checks := b.be.statusN
	b.clock.Advance(time.Hour)
	b.sweep()
	assert.Equal(t, checks, b.be.statusN, "a cancelled request is not checked again")
}

func TestRevoke_WhoMayEndActiveAccess(t *testing.T) {
	person := func(email string) governance.Actor {
		return governance.Actor{Person: governance.Person{Email: email}}
	}
	tests := []struct {
		name   string
		by     string
		target string
		holder string
		err    error
		notice bool
	}{
		{"the holder, by item", "carol@example.com", "app", "", nil, false},
		{"the holder, by item name", "carol@example.com", "The App", "", nil, false},
		{"the holder, by request id", "carol@example.com", "AR-1", "", nil, false},
		{"the holder's manager", "mallory@example.com", "app", "carol@example.com", nil, true},
		{"an admin", "admin@example.com", "app", "carol@example.com", nil, true},
		{"the approver is not enough", "alice@example.com", "app", "carol@example.com", governance.ErrNotAllowed, false},
		{"someone else", "eve@example.com", "AR-1", "", governance.ErrNotAllowed, false},
		{"access nobody holds", "carol@example.com", "other", "", governance.ErrNotActive, false},
		{"a bad holder", "mallory@example.com", "app", "not-an-address", governance.ErrBadCommand, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newScriptBed(t)
			r := b.approved("app")
			require.Equal(t, "AR-1", r.ID)
			b.be.status = governance.Submission{State: governance.StateActive}
			b.clock.Advance(time.Minute)
			b.sweep()
			require.Equal(t, governance.StateActive, b.get(r.ID).State)
			b.rec.Take()

			got, err := b.svc.Revoke(context.Background(), governance.RevokeInput{By: person(tt.by), Target: tt.target, Holder: tt.holder})
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
				var p *governance.Problem
				assert.ErrorAs(t, err, &p, "a refusal says what to do")
				assert.Equal(t, governance.StateActive, b.get(r.ID).State)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, governance.StateRevoked, got.State)
			b.deliver()
			require.Len(t, b.be.revoked, 1)
			assert.Equal(t, "id-carol@example.com", b.be.revoked[0].Identity.ID)
			assert.Equal(t, tt.by, b.be.revoked[0].RevokedBy.Email)
			assert.Contains(t, b.be.revoked[0].Reason, "Revoked in chat by "+tt.by+" (accessbot AR-1)")
			if tt.notice {
				assert.Equal(t, []string{"revoked→carol@example.com"}, b.rec.Take())
			} else {
				assert.Empty(t, b.rec.Take(), "the holder did it and was answered in place")
			}
			b.clock.Advance(24 * time.Hour)
			b.sweep()
			assert.Len(t, b.be.revoked, 1, "the end of the grant does not revoke it again")
		})
	}
}

func TestRequest_UnknownNamesAreSearchedInTheBackend(t *testing.T) {
	b := newScriptBed(t)
	carol := governance.Actor{Person: governance.Person{Email: "carol@example.com"}}
	ask := func(item string) (*governance.Request, error) {
		return b.svc.Request(context.Background(), governance.RequestInput{Requester: carol, Item: item, Reason: "why"})
	}

	b.be.found = nil
	_, err := ask("payroll")
	assert.ErrorIs(t, err, governance.ErrUnknownItem)

	b.be.found = []governance.ItemRef{{ID: "2c91aa", Name: "Payroll Admin", Ref: "ROLE:2c91aa"}, {ID: "2c91bb", Name: "Payroll Reader", Ref: "ACCESS_PROFILE:2c91bb"}}
	_, err = ask("payroll")
	require.ErrorIs(t, err, governance.ErrUnknownItem)
	assert.Contains(t, err.Error(), "Several things match \"payroll\": `Payroll Admin`, `Payroll Reader`. Ask again with the full name.")

	r, err := ask("payroll reader")
	require.NoError(t, err)
	assert.Equal(t, governance.ItemRef{ID: "2c91bb", Name: "Payroll Reader", Backend: "script", Ref: "ACCESS_PROFILE:2c91bb"}, r.Item)
	assert.Equal(t, []governance.Person{{Email: "bob@example.com"}}, r.Approvers, "the searchable item's policy applies")
	assert.Equal(t, 24*time.Hour, r.Duration)

	_, err = b.svc.Request(context.Background(), governance.RequestInput{Requester: carol, Item: "Payroll Reader", Duration: 30 * 24 * time.Hour})
	assert.ErrorIs(t, err, governance.ErrDurationTooLong, "…and its limits")

	_, err = ask("anything")
	assert.ErrorIs(t, err, governance.ErrUnknownItem, "the searchable item itself is not a thing to ask for")
}

func TestSubmit_ADuplicateTellsTheRequesterWhatTheBackendHas(t *testing.T) {
	b := newScriptBed(t)
	b.be.submitErr = governance.Permanent(&governance.Problem{Err: governance.ErrDuplicate,
		Message: "script already has a request for The App for you (state: waiting for approval), so no second one was made"})
	r := b.approved("app")
	assert.Equal(t, governance.StateFailed, r.State)
	assert.True(t, r.Duplicate)
	assert.Equal(t, "script already has a request for The App for you (state: waiting for approval), so no second one was made", r.Failure)
}

// Revoking a request that is no longer active tells its people why, and a stranger only
// that there is no such request: neither its state nor that it exists.
func TestRevoke_AStrangerLearnsNothingOfARequestNoLongerActive(t *testing.T) {
	b := newScriptBed(t)
	r := b.approved("app")
	b.be.status = governance.Submission{State: governance.StateFailed, Detail: "the source is down"}
	b.clock.Advance(time.Minute)
	b.sweep()
	require.Equal(t, governance.StateFailed, b.get(r.ID).State)
	_, err := b.svc.Revoke(context.Background(), governance.RevokeInput{By: governance.Actor{Person: governance.Person{Email: "eve@example.com"}}, Target: r.ID})
	require.ErrorIs(t, err, governance.ErrNotActive)
	assert.Equal(t, "There is no request AR-1; `status` lists yours and `pending` the ones waiting for you.", err.Error())
	_, err = b.svc.Revoke(context.Background(), governance.RevokeInput{By: governance.Actor{Person: governance.Person{Email: "carol@example.com"}}, Target: r.ID})
	require.ErrorIs(t, err, governance.ErrNotActive)
	assert.Contains(t, err.Error(), "AR-1 is failed, so there is no access to revoke.", "its requester is told why")
}
