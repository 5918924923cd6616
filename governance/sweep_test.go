package governance_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/builtin"
	"github.com/accessbot/accessbot/governance/governancetest"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// recorder is a Notifier that writes down who was told what; the Slack rendering of the
// same messages is tested in bot/slack and through the handlers.
type recorder struct {
	governancetest.Events
	mu    sync.Mutex
	zones map[string]*time.Location // e-mail → time zone, as a chat platform would tell
	// onCard, when set, runs while a card is on its way, before SendApprovalCard returns.
	onCard func(to governance.Person)
}

func (r *recorder) Digest(_ context.Context, to governance.Person, pending []*governance.Request) error {
	ids := make([]string, len(pending))
	for i, p := range pending {
		ids[i] = p.ID
	}
	r.Add("digest→" + to.Email + ":" + strings.Join(ids, ","))
	return nil
}

func (r *recorder) TimeZone(_ context.Context, to governance.Person) (*time.Location, error) {
	return r.zones[to.Email], nil
}

func (r *recorder) SendApprovalCard(_ context.Context, to governance.Person, req *governance.Request) (governance.MessageRef, error) {
	r.Add("card→" + to.Email)
	r.mu.Lock()
	hook := r.onCard
	r.mu.Unlock()
	if hook != nil {
		hook(to)
	}
	return governance.MessageRef{Platform: "test", Channel: to.Email, ID: req.ID}, nil
}

func (r *recorder) UpdateApprovalCard(_ context.Context, ref governance.MessageRef, req *governance.Request) error {
	r.Add("update→" + ref.Recipient + ":" + string(req.State))
	return nil
}

func (r *recorder) Notify(_ context.Context, to governance.Person, n governance.Notice) error {
	r.Add(string(n.Kind) + "→" + to.Email)
	return nil
}

func (r *recorder) AlertAdmins(_ context.Context, req *governance.Request) (governance.MessageRef, bool, error) {
	r.Add(fmt.Sprintf("alert→admins#%d", req.Escalations))
	return governance.MessageRef{Platform: "test", Channel: "admins"}, true, nil
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC) // a Monday

type bed struct {
	t      *testing.T
	clock  *governance.ManualClock
	rec    *recorder
	store  *redisstore.Store
	svc    *governance.Service
	disp   *governance.Dispatcher
	prefix string
	hours  governance.WorkingHours
	// catalog is the bed's catalog; default items.
	catalog string
	// backend is the bed's one backend; default the built-in one over the bed's store.
	backend governance.Backend
	// accounts are the connected accounts the service acts with; default none.
	accounts governance.Accounts
}

const items = `
items:
  - id: db
    name: Database
    backend: builtin
    approvers: [alice@example.com]
    defaultDuration: 8h
  - id: carols
    name: Carol's
    backend: builtin
    approvers: [alice@example.com, carol@example.com]
    defaultDuration: 8h
  - id: pair
    name: Pair
    backend: builtin
    approvers: [alice@example.com, bob@example.com]
    defaultDuration: 8h
`

// stagedItems is items and an item of two stages, the manager's and the owners' (two of
// them), that needs a ticket in the reason.
const stagedItems = items + `  - id: staged
    name: Staged
    backend: builtin
    defaultDuration: 8h
    requireTicket: '^(INC|CHG)-[0-9]+'
    approval:
      stages:
        - name: manager
          approvers: [manager]
        - name: owners
          approvers: [alice@example.com, bob@example.com, group:db-owners]
          required: 2
`

// The groups and managers of the bed's configuration.
var (
	bedGroups   = governance.Groups{"db-owners": {{Email: "dave@example.com"}, {Email: "alice@example.com"}}}
	bedManagers = map[string]governance.Person{"carol@example.com": {Email: "mgr@example.com"},
		"erin@example.com": {Email: "alice@example.com"}, "alice@example.com": {Email: "bob@example.com"}}
)

// grant is the built-in backend's grant of request id as the backend reports it; ok is
// false when it holds none.
func (b *bed) grant(id string) (g governance.Submission, ok bool) {
	b.t.Helper()
	backend, err := builtin.New(b.store, builtin.Options{Clock: b.clock})
	require.NoError(b.t, err)
	g, err = backend.Status(context.Background(), governance.Submission{ExternalID: "builtin:" + id})
	if errors.Is(err, governance.ErrNotFound) {
		return g, false
	}
	require.NoError(b.t, err)
	return g, true
}

// revokedAt is when request id's access was taken away (revoked, or at its end), as the
// backend and the request say.
func (b *bed) revokedAt(id string) time.Time {
	b.t.Helper()
	g, ok := b.grant(id)
	require.True(b.t, ok, "the built-in backend holds the grant of %s", id)
	require.Contains(b.t, []governance.State{governance.StateRevoked, governance.StateExpired}, g.State,
		"the built-in backend reports %s ended", id)
	return b.get(id).UpdatedAt
}

func newBed(t *testing.T, sched governance.Schedule) *bed {
	b := &bed{t: t, clock: governance.NewManualClock(t0), rec: &recorder{}, prefix: redistest.Prefix(t)}
	b.start(sched)
	return b
}

// start builds a process over the bed's Redis prefix; a second call is another replica.
func (b *bed) start(sched governance.Schedule) *governance.Service {
	b.store = redisstore.New(redistest.Client(b.t), redisstore.Options{Prefix: b.prefix})
	catalog, err := governance.ParseCatalog([]byte(cmp.Or(b.catalog, items)))
	require.NoError(b.t, err)
	backend := b.backend
	if backend == nil {
		backend, err = builtin.New(b.store, builtin.Options{Clock: b.clock})
		require.NoError(b.t, err)
	}
	b.svc, err = governance.NewService(governance.Config{Catalog: catalog, Store: b.store, Backends: []governance.Backend{backend},
		Notifier: b.rec, Clock: b.clock, Schedule: sched, Hours: b.hours, Admins: []governance.Person{{Email: "admin@example.com"}},
		Logger: slog.New(slog.DiscardHandler), Groups: bedGroups, Managers: bedManagers, Accounts: b.accounts})
	require.NoError(b.t, err)
	b.disp = governance.NewDispatcher(b.svc, "bed")
	return b.svc
}

// ask asks for item as Carol; what the request sends is not delivered yet.
func (b *bed) ask(item string) *governance.Request { return b.askAs("carol@example.com", item) }

// askAs files who's request for item without delivering it.
func (b *bed) askAs(who, item string) *governance.Request {
	b.t.Helper()
	r, err := b.svc.Request(context.Background(), governance.RequestInput{
		Requester: governance.Actor{Person: governance.Person{Email: who}}, Item: item, Reason: "why"})
	require.NoError(b.t, err)
	return r
}

// request asks for item as Carol, delivers the approval cards and forgets them.
func (b *bed) request(item string) string {
	r := b.ask(item)
	b.deliver()
	b.rec.Take()
	return r.ID
}

func (b *bed) sweep() {
	b.t.Helper()
	governancetest.SweepAll(b.t, b.svc)
	b.deliver()
}

// approve approves id as approver and delivers what the decision sends.
func (b *bed) approve(id, approver string) {
	b.t.Helper()
	_, err := b.svc.Decide(context.Background(), governance.DecideInput{RequestID: id, Approve: true,
		Approver: governance.Actor{Person: governance.Person{Email: approver}}})
	require.NoError(b.t, err)
	b.deliver()
}

func (b *bed) deliver() { require.NoError(b.t, b.disp.Drain(context.Background())) }

// days moves the clock one day at a time and returns, per day, what was sent.
func (b *bed) days(n int) map[int][]string {
	out := map[int][]string{}
	for d := 1; d <= n; d++ {
		b.clock.Advance(governance.Day)
		b.sweep()
		if ev := b.rec.Take(); len(ev) > 0 {
			out[d] = ev
		}
	}
	return out
}

// hourly sets the clock to t0 plus each hour from first to last, sweeping at each, and
// returns what was sent, each with its hour ("7h expiring→carol@example.com").
func (b *bed) hourly(first, last int) []string {
	var got []string
	for h := first; h <= last; h++ {
		b.clock.Set(t0.Add(time.Duration(h) * time.Hour))
		b.sweep()
		for _, e := range b.rec.Take() {
			got = append(got, fmt.Sprintf("%dh %s", h, e))
		}
	}
	return got
}

func TestSweep_ApprovalEventsDayByDay(t *testing.T) {
	const fallback = "fallback@example.com"
	tests := []struct {
		name  string
		sched governance.Schedule
		item  string
		want  map[int][]string
	}{
		{"D=3 B=1 M=3: reminders days 3,4,5; escalation day 6; then the fallback has it and everyone is reminded, M times",
			governance.Schedule{DaysUntilEscalation: 3, DaysBetweenReminders: 1, MaxReminders: 3, FallbackApprover: fallback}, "db",
			map[int][]string{
				3: {"reminder→alice@example.com"}, 4: {"reminder→alice@example.com"}, 5: {"reminder→alice@example.com"},
				6: {"alert→admins#1", "card→" + fallback, "escalated→carol@example.com"},
				7: {"reminder→alice@example.com", "reminder→" + fallback}, 8: {"reminder→alice@example.com", "reminder→" + fallback},
				9: {"reminder→alice@example.com", "reminder→" + fallback},
			}},
		{"D=0: no reminders, no escalation", governance.Schedule{DaysBetweenReminders: 1, MaxReminders: 3, FallbackApprover: fallback}, "db",
			map[int][]string{}},
		{"B=0: only the first reminder", governance.Schedule{DaysUntilEscalation: 2, MaxReminders: 3, FallbackApprover: fallback}, "db",
			map[int][]string{2: {"reminder→alice@example.com"}}},
		{"M=0: escalate at D without reminding, and nothing after the last of the chain has it",
			governance.Schedule{DaysUntilEscalation: 2, DaysBetweenReminders: 3, FallbackApprover: fallback}, "db",
			map[int][]string{2: {"alert→admins#1", "card→" + fallback, "escalated→carol@example.com"}}},
		{"B=0 M=0: no escalation, as SailPoint's B=0 means", governance.Schedule{DaysUntilEscalation: 2, FallbackApprover: fallback}, "db",
			map[int][]string{}},
		{"the chain reaching the requester skips them",
			governance.Schedule{DaysUntilEscalation: 1, DaysBetweenReminders: 1, FallbackApprover: "carol@example.com"}, "db",
			map[int][]string{1: {"alert→admins#1"}}},
		{"no fallback approver: the admins are alerted once, and the approvers reminded after",
			governance.Schedule{DaysUntilEscalation: 1, DaysBetweenReminders: 2, MaxReminders: 1}, "db",
			map[int][]string{1: {"reminder→alice@example.com"}, 3: {"alert→admins#1"}, 5: {"reminder→alice@example.com"}}},
		{"the requester is never an approver, so never reminded", governance.Schedule{DaysUntilEscalation: 1, MaxReminders: 1}, "carols",
			map[int][]string{1: {"reminder→alice@example.com"}}},
		{"timeout: reminders until then, then everyone is told",
			governance.Schedule{DaysUntilEscalation: 3, DaysBetweenReminders: 1, MaxReminders: 3, RequestExpiryDays: 5}, "db",
			map[int][]string{3: {"reminder→alice@example.com"}, 4: {"reminder→alice@example.com"},
				5: {"timed_out→carol@example.com", "update→alice@example.com:timed_out"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBed(t, tt.sched)
			b.request(tt.item)
			assert.Equal(t, tt.want, b.days(10))
		})
	}
}

func TestSweep_DecisionStopsTheReminders(t *testing.T) {
	b := newBed(t, governance.Schedule{DaysUntilEscalation: 3, DaysBetweenReminders: 1, MaxReminders: 3, RequestExpiryDays: 7})
	id := b.request("db")
	assert.Equal(t, map[int][]string{3: {"reminder→alice@example.com"}}, b.days(3))
	b.clock.Advance(12 * time.Hour)
	b.approve(id, "alice@example.com")
	b.rec.Take()
	assert.Equal(t, map[int][]string{1: {"ended→carol@example.com"}}, b.days(10),
		"no reminder, escalation or timeout after the decision; only the 8h grant's end")
}

func TestSweep_AnEscalatedRequestMayBeDecidedByAdminsAndTheFallback(t *testing.T) {
	b := newBed(t, governance.Schedule{DaysUntilEscalation: 1, DaysBetweenReminders: 1, FallbackApprover: "fallback@example.com"})
	id := b.request("db")
	_, err := b.svc.Decide(context.Background(), governance.DecideInput{RequestID: id, Approve: true,
		Approver: governance.Actor{Person: governance.Person{Email: "admin@example.com"}}})
	assert.ErrorIs(t, err, governance.ErrNotApprover, "an admin may not decide before escalation")
	b.days(1)
	r, err := b.svc.CheckDecider(context.Background(), id, governance.Person{Email: "fallback@example.com"})
	require.NoError(t, err)
	assert.Equal(t, 1, r.Escalations)
	b.approve(id, "admin@example.com")
	// The update runs beside the submission, so it may already see the grant active.
	assert.Condition(t, func() bool {
		ev := b.rec.Take()
		return slices.Contains(ev, "update→admins#1:approved") || slices.Contains(ev, "update→admins#1:active")
	}, "the admin alert is updated like the cards")
}

func TestSweep_OverdueRemindersCollapseIntoOne(t *testing.T) {
	b := newBed(t, governance.Schedule{DaysUntilEscalation: 3, DaysBetweenReminders: 1, MaxReminders: 3, FallbackApprover: "f@example.com"})
	b.request("db")
	b.clock.Advance(5*governance.Day + time.Hour) // the scheduler was down for days 3 to 5
	b.sweep()
	assert.Equal(t, []string{"reminder→alice@example.com"}, b.rec.Take())
	assert.Equal(t, map[int][]string{1: {"alert→admins#1", "card→f@example.com", "escalated→carol@example.com"}}, b.days(1))
}

// After days of downtime, an overdue timeout wins over escalations that are overdue too,
// however the sweeps and the deliveries interleave: nobody is alerted about a request that
// has lapsed.
func TestSweep_AnOverdueTimeoutWinsOverOverdueEscalations(t *testing.T) {
	sched := governance.Schedule{DaysUntilEscalation: 1, DaysBetweenReminders: 1, FallbackApprover: "f@example.com", RequestExpiryDays: 4}
	want := []string{"timed_out→carol@example.com", "update→alice@example.com:timed_out"}
	t.Run("sweep, then deliver", func(t *testing.T) {
		b := newBed(t, sched)
		b.request("db")
		b.clock.Advance(5 * governance.Day) // the scheduler was down from day 1 to day 5
		b.sweep()
		assert.Equal(t, want, b.rec.Take())
	})
	t.Run("delivering between passes", func(t *testing.T) {
		b := newBed(t, sched)
		b.request("db")
		b.clock.Advance(5 * governance.Day)
		for {
			n, err := b.svc.Sweep(context.Background(), 1, 5*time.Minute)
			require.NoError(t, err)
			b.deliver()
			if n == 0 {
				break
			}
		}
		assert.Equal(t, want, b.rec.Take())
	})
}

func TestSweep_EightHourGrant_WarnedAnHourBeforeAndRevokedAtTheEnd(t *testing.T) {
	b := newBed(t, governance.Schedule{ExpiryNotices: []time.Duration{24 * time.Hour, time.Hour}})
	id := b.request("db")
	b.approve(id, "alice@example.com")
	b.rec.Take()

	assert.Equal(t, []string{"7h expiring→carol@example.com", "8h ended→carol@example.com"}, b.hourly(1, 9))
	assert.Equal(t, t0.Add(8*time.Hour), b.revokedAt(id), "revoked at its end")
}

func TestSweep_TwoReplicasSendEachThingOnce(t *testing.T) {
	sched := governance.Schedule{DaysUntilEscalation: 1, DaysBetweenReminders: 1, MaxReminders: 2}
	b := newBed(t, sched)
	for i := range 20 {
		b.askAs(fmt.Sprintf("user%d@example.com", i), "db")
	}
	b.deliver()
	b.rec.Take()
	one := b.svc
	two := b.start(sched) // another replica over the same Redis, same clock
	b.clock.Advance(governance.Day)
	var wg sync.WaitGroup
	for _, svc := range []*governance.Service{one, two} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := svc.Sweep(context.Background(), 3, 5*time.Minute)
				assert.NoError(t, err)
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	b.deliver()
	assert.Len(t, b.rec.Take(), 20, "one reminder per request")
}

func TestSweep_ASweeperThatDiesAfterClaimingLosesNothing(t *testing.T) {
	b := newBed(t, governance.Schedule{DaysUntilEscalation: 1, MaxReminders: 1})
	b.request("db")
	b.clock.Advance(governance.Day)
	claimed, err := b.store.ClaimDue(context.Background(), b.clock.Now(), 5*time.Minute, 100)
	require.NoError(t, err)
	require.Len(t, claimed, 1) // and then that sweeper dies

	b.sweep()
	assert.Empty(t, b.rec.Take(), "leased to the dead sweeper")
	b.clock.Advance(5 * time.Minute)
	b.sweep()
	assert.Equal(t, []string{"reminder→alice@example.com"}, b.rec.Take())
	b.clock.Advance(time.Hour)
	b.sweep()
	assert.Empty(t, b.rec.Take(), "and only once")
}

func TestSweep_RemindersWaitForWorkingHoursInTheApproversZone_EscalationsDoNot(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	b := &bed{t: t, clock: governance.NewManualClock(t0), rec: &recorder{zones: map[string]*time.Location{"alice@example.com": tokyo}},
		prefix: redistest.Prefix(t), hours: governance.WorkingHours{Start: 9 * time.Hour, End: 18 * time.Hour}}
	b.start(governance.Schedule{DaysUntilEscalation: 4, DaysBetweenReminders: 1, MaxReminders: 1, FallbackApprover: "f@example.com"})
	b.request("db") // Monday 09:00 UTC

	at := func(ts string) { // moves the clock to a UTC time, then sweeps and delivers
		t.Helper()
		when, err := time.Parse(time.DateTime, ts)
		require.NoError(t, err)
		b.clock.Set(when)
		b.sweep()
	}
	at("2026-11-06 09:00:00") // Friday 18:00 in Tokyo: the window has just closed
	assert.Empty(t, b.rec.Take(), "the reminder waits for Monday morning in Tokyo")
	at("2026-11-07 09:00:00") // Saturday: the escalation keeps its day
	assert.Equal(t, []string{"alert→admins#1", "card→f@example.com", "escalated→carol@example.com"}, b.rec.Take())
	at("2026-11-08 23:59:00") // Sunday: the fallback has it, so no second escalation; reminder 2 waits too
	assert.Empty(t, b.rec.Take())
	at("2026-11-09 00:00:00") // Monday 09:00 in Tokyo
	assert.Equal(t, []string{"reminder→alice@example.com"}, b.rec.Take(), "the two held reminders arrive as one")
}

// A request made late on Friday has its Saturday and Sunday reminders held for Monday
// morning: they arrive as one reminder, not two identical ones.
func TestSweep_RemindersHeldOverTheWeekendArriveAsOne(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	friday := time.Date(2026, 11, 6, 17, 55, 0, 0, berlin)
	b := &bed{t: t, clock: governance.NewManualClock(friday), rec: &recorder{zones: map[string]*time.Location{"alice@example.com": berlin}},
		prefix: redistest.Prefix(t), hours: governance.WorkingHours{Start: 9 * time.Hour, End: 18 * time.Hour}}
	b.start(governance.Schedule{DaysUntilEscalation: 1, DaysBetweenReminders: 1, MaxReminders: 2})
	id := b.request("db")

	// schedule says when the held reminders will really arrive, not only when they come due.
	_, steps, err := b.svc.Schedule(context.Background(), id, governance.Person{Email: "alice@example.com"})
	require.NoError(t, err)
	monday := time.Date(2026, 11, 9, 9, 0, 0, 0, berlin)
	require.Equal(t, governance.PlanReminder, steps[0].Kind)
	assert.True(t, steps[0].Arrives.Equal(monday), "reminder 1, due Saturday, arrives %s", steps[0].Arrives)
	assert.True(t, steps[1].Arrives.Equal(monday), "reminder 2, due Sunday, too")
	assert.True(t, steps[2].Arrives.IsZero(), "an escalation keeps its day")

	var got []string
	for h := 1; h < 3*24; h++ { // to Monday 16:55 in Berlin, hour by hour, before the escalation
		b.clock.Set(friday.Add(time.Duration(h) * time.Hour))
		b.sweep()
		for _, e := range b.rec.Take() {
			got = append(got, b.clock.Now().In(berlin).Format("Mon 15:04")+" "+e)
		}
	}
	assert.Equal(t, []string{"Mon 09:55 reminder→alice@example.com"}, got)
}

// A reminder that waits for the approver's working hours is dropped when the request is
// decided meanwhile: nobody is asked to decide what was decided.
func TestSweep_AHeldReminderIsDroppedOnceTheRequestIsDecided(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	b := &bed{t: t, clock: governance.NewManualClock(t0), rec: &recorder{zones: map[string]*time.Location{"bob@example.com": tokyo}},
		prefix: redistest.Prefix(t), hours: governance.WorkingHours{Start: 9 * time.Hour, End: 18 * time.Hour}}
	b.start(governance.Schedule{DaysUntilEscalation: 1, MaxReminders: 1})
	id := b.request("pair")         // approvers alice (UTC) and bob (Tokyo); Monday 09:00 UTC
	b.clock.Advance(governance.Day) // Tuesday 09:00 UTC, 18:00 in Tokyo: bob's reminder waits
	b.sweep()
	assert.Equal(t, []string{"reminder→alice@example.com"}, b.rec.Take())

	b.approve(id, "alice@example.com")
	b.rec.Take()
	b.clock.Set(time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)) // Wednesday 09:00 in Tokyo
	b.sweep()
	assert.NotContains(t, b.rec.Take(), "reminder→bob@example.com")
}

// Likewise a warning that access ends, held for the weekend, is dropped once the access
// was revoked in the meantime; left alone, it arrives on Monday morning.
func TestSweep_AHeldExpiryWarningIsDroppedOnceTheAccessIsRevoked(t *testing.T) {
	for _, revoke := range []bool{false, true} {
		t.Run(fmt.Sprintf("revoked %v", revoke), func(t *testing.T) {
			friday := time.Date(2026, 11, 6, 20, 0, 0, 0, time.UTC)
			b := &bed{t: t, clock: governance.NewManualClock(friday), rec: &recorder{},
				prefix: redistest.Prefix(t), hours: governance.WorkingHours{Start: 9 * time.Hour, End: 18 * time.Hour}}
			b.start(governance.Schedule{ExpiryNotices: []time.Duration{24 * time.Hour}})
			carol := governance.Actor{Person: governance.Person{Email: "carol@example.com"}}
			r, err := b.svc.Request(context.Background(), governance.RequestInput{Requester: carol, Item: "db",
				Duration: 3 * governance.Day, Reason: "why"}) // ends Monday 20:00
			require.NoError(t, err)
			b.approve(r.ID, "alice@example.com")
			b.rec.Take()

			b.clock.Set(friday.Add(2 * governance.Day)) // Sunday 20:00: due, and held for Monday 09:00
			b.sweep()
			require.Empty(t, b.rec.Take())
			if revoke {
				_, err = b.svc.Revoke(context.Background(), governance.RevokeInput{Target: r.ID, By: carol})
				require.NoError(t, err)
				b.deliver()
				b.rec.Take()
			}
			b.clock.Set(time.Date(2026, 11, 9, 9, 0, 0, 0, time.UTC))
			b.sweep()
			if revoke {
				assert.Empty(t, b.rec.Take(), "no warning for access that was given up")
			} else {
				assert.Equal(t, []string{"expiring→carol@example.com"}, b.rec.Take())
			}
		})
	}
}

func TestDigest_EachApproverOncePerTickAcrossReplicas(t *testing.T) {
	b := newBed(t, governance.Schedule{FallbackApprover: "fallback@example.com"})
	one := b.svc
	b.request("db")
	b.clock.Advance(time.Minute)
	b.request("carols")
	two := b.start(governance.Schedule{FallbackApprover: "fallback@example.com"})

	n1, err := one.Digest(context.Background())
	require.NoError(t, err)
	n2, err := two.Digest(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n1+n2, "two replicas on the same tick: one digest")
	assert.Equal(t, []string{"digest→alice@example.com:AR-1,AR-2"}, b.rec.Take(), "only approvers with something waiting, oldest first")

	b.clock.Advance(24 * time.Hour)
	n, err := one.Digest(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the next day's tick sends again")
}

func TestExtend_AnApprovedExtensionMovesTheEndOfTheOriginalGrant(t *testing.T) {
	ctx := context.Background()
	b := newBed(t, governance.Schedule{ExpiryNotices: []time.Duration{time.Hour}})
	carol := governance.Actor{Person: governance.Person{Email: "carol@example.com"}}
	id := b.request("db")
	b.approve(id, "alice@example.com")
	b.rec.Take()

	b.clock.Advance(7 * time.Hour)
	b.sweep()
	assert.Equal(t, []string{"expiring→carol@example.com"}, b.rec.Take())

	_, err := b.svc.Extend(ctx, id, governance.Actor{Person: governance.Person{Email: "alice@example.com"}})
	assert.ErrorIs(t, err, governance.ErrNotRequester, "only the person with the access may extend it")
	ext, err := b.svc.Extend(ctx, id, carol)
	require.NoError(t, err)
	again, err := b.svc.Extend(ctx, id, carol)
	require.NoError(t, err)
	assert.Equal(t, ext.ID, again.ID, "a double click asks once")
	assert.Equal(t, id, ext.Extends)
	assert.Equal(t, t0.Add(16*time.Hour), ext.ExtendTo)
	assert.Equal(t, "why", ext.Reason, "the person's own reason; the card says what it extends")
	b.deliver()
	assert.Equal(t, []string{"card→alice@example.com", "received→carol@example.com"}, b.rec.Take(), "a new approval round")

	b.approve(ext.ID, "alice@example.com")
	b.rec.Take()
	g, _ := b.grant(id)
	assert.Equal(t, t0.Add(16*time.Hour), g.End, "the backend's grant now ends later")
	orig, err := b.store.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(16*time.Hour), orig.EndsAt())

	assert.Equal(t, []string{"15h expiring→carol@example.com", "16h ended→carol@example.com"}, b.hourly(8, 17),
		"warned again before the new end; ended once, by the original")
	assert.Equal(t, t0.Add(16*time.Hour), b.revokedAt(id))
	for _, rid := range []string{id, ext.ID} {
		r, err := b.store.Get(ctx, rid)
		require.NoError(t, err)
		assert.Equal(t, governance.StateExpired, r.State, rid)
	}
	_, err = b.svc.Extend(ctx, id, carol)
	assert.ErrorIs(t, err, governance.ErrNotPending, "ended access cannot be extended")
}

// Where the item's backend knows no managers (the built-in one), the configuration's
// managers are the holders' managers for revoking, as they are for approving.
func TestRevoke_TheConfiguredManagerEndsADirectReportsAccess(t *testing.T) {
	ctx := context.Background()
	b := newBed(t, governance.Schedule{})
	id := b.request("db") // carol's; bedManagers names mgr@example.com her manager
	b.approve(id, "alice@example.com")
	b.rec.Take()

	_, err := b.svc.Revoke(ctx, governance.RevokeInput{By: governance.Actor{Person: governance.Person{Email: "erin@example.com"}},
		Target: "db", Holder: "carol@example.com"})
	require.ErrorIs(t, err, governance.ErrNotActive, "another's manager is told there is nothing of carol's to revoke")

	revoked, err := b.svc.Revoke(ctx, governance.RevokeInput{By: governance.Actor{Person: governance.Person{Email: "MGR@example.com"}},
		Target: "db", Holder: "carol@example.com"})
	require.NoError(t, err)
	assert.Equal(t, governance.StateRevoked, revoked.State)
	assert.Equal(t, "mgr@example.com", revoked.RevokedBy.Email)
	b.deliver()
	assert.Contains(t, b.rec.Take(), "revoked→carol@example.com", "carol is told her manager ended it")
}

// Revoking extended access ends the whole chain: the original and its extension are both
// revoked, every view agrees, and nothing more is planned for either.
func TestRevoke_ExtendedAccessEndsWithItsExtensions(t *testing.T) {
	for _, target := range []string{"db", "extension id"} {
		t.Run("revoke "+target, func(t *testing.T) {
			ctx := context.Background()
			b := newBed(t, governance.Schedule{ExpiryNotices: []time.Duration{time.Hour}})
			carol := governance.Actor{Person: governance.Person{Email: "carol@example.com"}}
			id := b.request("db")
			b.approve(id, "alice@example.com")
			ext, err := b.svc.Extend(ctx, id, carol)
			require.NoError(t, err)
			b.deliver()
			b.approve(ext.ID, "alice@example.com")
			got, err := b.store.Get(ctx, ext.ID)
			require.NoError(t, err)
			require.Equal(t, governance.StateActive, got.State)
			steps := governance.Steps(got)
			require.Len(t, steps, 1, "an extension warns about nothing itself: it only ends, with the access it extends")
			assert.Equal(t, governance.PlanEnd, steps[0].Kind)
			b.rec.Take()

			what := target
			if target == "extension id" {
				what = ext.ID
			}
			revoked, err := b.svc.Revoke(ctx, governance.RevokeInput{By: carol, Target: what})
			require.NoError(t, err)
			assert.Equal(t, id, revoked.ID)
			b.deliver()
			for _, rid := range []string{id, ext.ID} {
				r, err := b.store.Get(ctx, rid)
				require.NoError(t, err)
				assert.Equal(t, governance.StateRevoked, r.State, rid)
				assert.Empty(t, governance.Steps(r), rid)
			}
			mine, err := b.svc.Mine(ctx, carol.Person)
			require.NoError(t, err)
			for _, r := range mine {
				assert.NotEqual(t, governance.StateActive, r.State, "status shows %s active", r.ID)
			}
			assert.Empty(t, b.hourly(1, 20), "nothing more happens to either")
		})
	}
}

// An extension approved only after the access it extends has ended is granted afresh,
// from the approval on, and from then on is access of its own: warned about, found by its
// item, and revoked at its end (not left in the backend for ever).
func TestExtend_ApprovedAfterTheOriginalEndedIsAGrantOfItsOwn(t *testing.T) {
	ctx := context.Background()
	carol := governance.Actor{Person: governance.Person{Email: "carol@example.com"}}
	lateExtension := func(t *testing.T) (*bed, string) {
		b := newBed(t, governance.Schedule{ExpiryNotices: []time.Duration{time.Hour}})
		id := b.request("db") // 8h
		b.approve(id, "alice@example.com")
		b.clock.Advance(7 * time.Hour)
		b.sweep()
		ext, err := b.svc.Extend(ctx, id, carol) // asked at 7h...
		require.NoError(t, err)
		b.deliver()
		b.clock.Advance(2 * time.Hour) // ...the original ends at 8h...
		b.sweep()
		b.approve(ext.ID, "alice@example.com") // ...approved at 9h
		b.rec.Take()
		r, err := b.store.Get(ctx, ext.ID)
		require.NoError(t, err)
		require.Equal(t, governance.StateActive, r.State)
		assert.Equal(t, t0.Add(17*time.Hour), r.EndsAt(), "8h from its approval")
		assert.Empty(t, r.Extends, "no longer an extension of the ended grant")
		return b, ext.ID
	}

	t.Run("warned and revoked at its end", func(t *testing.T) {
		b, id := lateExtension(t)
		assert.Equal(t, []string{"16h expiring→carol@example.com", "17h ended→carol@example.com"}, b.hourly(10, 18))
		assert.Equal(t, t0.Add(17*time.Hour), b.revokedAt(id), "revoked at its end")
	})
	t.Run("revoked by its item", func(t *testing.T) {
		b, id := lateExtension(t)
		r, err := b.svc.Revoke(ctx, governance.RevokeInput{By: carol, Target: "db"})
		require.NoError(t, err)
		assert.Equal(t, id, r.ID)
		b.deliver()
		assert.Equal(t, t0.Add(9*time.Hour), b.revokedAt(id))
	})
}

// Once an ask to extend is over without extending anything, Extend asks again: a new
// approval round, not the denied request handed back.
func TestExtend_AfterADenialAsksAgain(t *testing.T) {
	ctx := context.Background()
	b := newBed(t, governance.Schedule{})
	carol := governance.Actor{Person: governance.Person{Email: "carol@example.com"}}
	alice := governance.Actor{Person: governance.Person{Email: "alice@example.com"}}
	id := b.request("db")
	b.approve(id, "alice@example.com")
	first, err := b.svc.Extend(ctx, id, carol)
	require.NoError(t, err)
	_, err = b.svc.Decide(ctx, governance.DecideInput{RequestID: first.ID, Reason: "not now", Approver: alice})
	require.NoError(t, err)
	b.deliver()
	b.rec.Take()

	b.clock.Advance(time.Hour)
	second, err := b.svc.Extend(ctx, id, carol)
	require.NoError(t, err)
	assert.NotEqual(t, first.ID, second.ID)
	assert.Equal(t, governance.StatePendingApproval, second.State)
	again, err := b.svc.Extend(ctx, id, carol)
	require.NoError(t, err)
	assert.Equal(t, second.ID, again.ID, "a double click still asks once")
	b.deliver()
	assert.Equal(t, []string{"card→alice@example.com", "received→carol@example.com"}, b.rec.Take())
}

// managers is the built-in backend plus an org chart, like a backend that can tell
// managers.
type managers struct {
	*builtin.Backend
	chart map[string]string
}

func (m managers) Manager(_ context.Context, email string) (governance.Person, bool, error) {
	boss, ok := m.chart[email]
	return governance.Person{Email: boss}, ok, nil
}

func TestSweep_EscalationWalksUpTheManagersThenTheFallback(t *testing.T) {
	tests := []struct {
		name  string
		chart map[string]string
		want  map[int][]string
	}{
		{"manager, their manager, then the fallback",
			map[string]string{"alice@example.com": "boss@example.com", "boss@example.com": "ceo@example.com"},
			map[int][]string{
				1: {"alert→admins#1", "card→boss@example.com", "escalated→carol@example.com"},
				2: {"alert→admins#2", "card→ceo@example.com", "escalated→carol@example.com"},
				3: {"alert→admins#3", "card→fallback@example.com", "escalated→carol@example.com"},
			}},
		{"a manager who is the requester is skipped",
			map[string]string{"alice@example.com": "carol@example.com"},
			map[int][]string{1: {"alert→admins#1", "card→fallback@example.com", "escalated→carol@example.com"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &bed{t: t, clock: governance.NewManualClock(t0), rec: &recorder{}, prefix: redistest.Prefix(t)}
			b.store = redisstore.New(redistest.Client(t), redisstore.Options{Prefix: b.prefix})
			catalog, err := governance.ParseCatalog([]byte(items))
			require.NoError(t, err)
			bi, err := builtin.New(b.store, builtin.Options{Clock: b.clock})
			require.NoError(t, err)
			b.svc, err = governance.NewService(governance.Config{Catalog: catalog, Store: b.store,
				Backends: []governance.Backend{managers{Backend: bi, chart: tt.chart}}, Notifier: b.rec, Clock: b.clock,
				Schedule: governance.Schedule{DaysUntilEscalation: 1, DaysBetweenReminders: 1, FallbackApprover: "fallback@example.com"},
				Logger:   slog.New(slog.DiscardHandler)})
			require.NoError(t, err)
			b.disp = governance.NewDispatcher(b.svc, "bed")
			b.request("db")
			assert.Equal(t, tt.want, b.days(5))
		})
	}
}

// `extend AR-7 for 4h` asks for another 4 hours, not the original's length again; more
// than the item allows is refused like any request.
func TestExtend_ForAnotherDuration(t *testing.T) {
	ctx := context.Background()
	b := newBed(t, governance.Schedule{})
	carol := governance.Actor{Person: governance.Person{Email: "carol@example.com"}}
	id := b.request("db")
	b.approve(id, "alice@example.com")
	ext, err := b.svc.ExtendFor(ctx, id, carol, 4*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, 4*time.Hour, ext.Duration)
	assert.Equal(t, t0.Add(12*time.Hour), ext.ExtendTo, "8h granted, then 4h more")
}

// A finished request is kept for the retention time after it finished, then forgotten
// with its cards, index entries and grant record; one still open is never forgotten. The
// audit trail is trimmed by age on its own clock.
func TestRetention_FinishedRequestsAndOldAuditRecordsAreForgotten(t *testing.T) {
	ctx := context.Background()
	b := newBed(t, governance.Schedule{})
	carol := governance.Person{Email: "carol@example.com"}
	alice := governance.Actor{Person: governance.Person{Email: "alice@example.com"}}
	denied := b.request("db")
	granted := b.request("pair")
	open := b.request("carols")
	_, err := b.svc.Decide(ctx, governance.DecideInput{RequestID: denied, Approve: false, Reason: "no", Approver: alice})
	require.NoError(t, err)
	_, err = b.svc.Decide(ctx, governance.DecideInput{RequestID: granted, Approve: true, Approver: alice})
	require.NoError(t, err)
	b.deliver() // granted for 8h: it expires, and so finishes, a day later here
	audit := func() int {
		n := 0
		require.NoError(t, b.store.Audit(ctx, time.Time{}, time.Time{}, func(governance.AuditRecord) error { n++; return nil }))
		return n
	}
	require.NotZero(t, audit())

	b.days(int(governance.DefaultRetainFinished/governance.Day) - 1)
	mine, err := b.svc.Mine(ctx, carol)
	require.NoError(t, err)
	assert.Len(t, mine, 3, "kept for the retention time")

	b.days(1)
	_, err = b.store.Get(ctx, denied)
	assert.ErrorIs(t, err, governance.ErrNotFound, "denied 90 days ago: forgotten")
	refs, err := b.store.MessageRefs(ctx, denied)
	require.NoError(t, err)
	assert.Empty(t, refs, "its cards too")
	_, err = b.store.Get(ctx, granted)
	require.NoError(t, err, "expired less than 90 days ago (the daily sweep saw it end on day 1): kept")
	b.days(1)
	_, err = b.store.Get(ctx, granted)
	assert.ErrorIs(t, err, governance.ErrNotFound)
	_, ok := b.grant(granted)
	assert.False(t, ok, "the built-in backend's grant of it too")
	mine, err = b.svc.Mine(ctx, carol)
	require.NoError(t, err)
	require.Len(t, mine, 1, "status keeps working for what remains")
	assert.Equal(t, open, mine[0].ID, "a pending request is never forgotten")
	require.NotZero(t, audit(), "the audit trail keeps its own time")

	b.days(int((governance.DefaultRetainAudit-governance.DefaultRetainFinished)/governance.Day) + 1)
	assert.Zero(t, audit(), "records older than 400 days are trimmed")
	_, err = b.store.Get(ctx, open)
	require.NoError(t, err)
}

// A person who already asked for an item, or holds it, is told so instead of every
// approver getting a second card; once that request is over, they may ask again.
func TestRequest_ASecondAskForTheSameAccessIsRefused(t *testing.T) {
	ctx := context.Background()
	b := newBed(t, governance.Schedule{})
	carol := governance.Actor{Person: governance.Person{Email: "carol@example.com"}}
	ask := func() (*governance.Request, error) {
		return b.svc.Request(ctx, governance.RequestInput{Requester: carol, Item: "db", Reason: "why"})
	}
	first := b.request("db")
	_, err := ask()
	require.ErrorIs(t, err, governance.ErrAlreadyRequested)
	assert.ErrorContains(t, err, "You already asked for Database: "+first+" is waiting for approval. `status` shows where it is; `cancel "+first+"` withdraws it.")
	b.deliver()
	assert.Empty(t, b.rec.Take(), "no second card")
	_, err = b.svc.Request(ctx, governance.RequestInput{Requester: carol, Item: "pair", Reason: "why"})
	require.NoError(t, err, "another item is another request")

	b.approve(first, "alice@example.com")
	_, err = ask()
	require.ErrorIs(t, err, governance.ErrAlreadyRequested)
	assert.ErrorContains(t, err, "You already have Database ("+first+") until", "active access")
	assert.ErrorContains(t, err, "`extend "+first+"`")

	b.clock.Advance(9 * time.Hour) // the 8h grant ends
	b.sweep()
	again, err := ask()
	require.NoError(t, err, "ended access may be asked for again")
	assert.NotEqual(t, first, again.ID)
}

// mislaid is a store that takes every new ask for a retry of request id's, as a store
// that gave an id twice would.
type mislaid struct {
	*redisstore.Store
	id string
}

func (m mislaid) CreateReserved(context.Context, string, string, string, func(string) (*governance.Request, governance.Effects)) (governance.Reserved, error) {
	return governance.Reserved{Bound: m.id}, nil
}

// Whatever its store says, the service never answers one person's ask with another
// person's request.
func TestRequest_IsNeverAnsweredWithAnotherPersonsRequest(t *testing.T) {
	b := newBed(t, governance.Schedule{})
	carols := b.ask("db")
	catalog, err := governance.ParseCatalog([]byte(items))
	require.NoError(t, err)
	backend, err := builtin.New(b.store, builtin.Options{Clock: b.clock})
	require.NoError(t, err)
	svc, err := governance.NewService(governance.Config{Catalog: catalog, Store: mislaid{b.store, carols.ID},
		Backends: []governance.Backend{backend}, Notifier: b.rec, Clock: b.clock, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)

	r, err := svc.Request(context.Background(), governance.RequestInput{
		Requester: governance.Actor{Person: governance.Person{Email: "dave@example.com"}}, Item: "db", Reason: "why"})
	require.Error(t, err)
	assert.Nil(t, r, "Dave is not shown Carol's request")

	again, err := svc.Request(context.Background(), governance.RequestInput{
		Requester: governance.Actor{Person: governance.Person{Email: "carol@example.com"}}, Item: "db", Reason: "why"})
	require.NoError(t, err, "Carol's own retry is answered with her request")
	assert.Equal(t, carols.ID, again.ID)
}
