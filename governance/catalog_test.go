package governance

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleCatalog = `
items:
  - id: prod-db-read
    name: Production database (read-only)
    backend: builtin
    approvers: ["Alice <alice@example.com>", bob@example.com]
    defaultDuration: 8h
    maxDuration: 7d
    justificationRequired: true
  - id: vpn
    name: Office VPN
    backend: builtin
    approvers: [alice@example.com]
`

func TestParseCatalog(t *testing.T) {
	c, err := ParseCatalog([]byte(sampleCatalog))
	require.NoError(t, err)
	it, err := c.Lookup("PROD-DB-READ")
	require.NoError(t, err)
	assert.Equal(t, "Production database (read-only)", it.Name)
	assert.Equal(t, 8*time.Hour, it.DefaultDuration)
	assert.Equal(t, 7*Day, it.MaxDuration)
	assert.Equal(t, []Person{{Email: "alice@example.com", Name: "Alice"}, {Email: "bob@example.com"}}, it.Approvers)
	assert.Equal(t, "prod-db-read", it.Ref, "ref defaults to the id")

	byName, err := c.Lookup("office vpn")
	require.NoError(t, err)
	assert.Equal(t, "vpn", byName.ID)
}

func TestLookup_UnknownItemSuggestsClosest(t *testing.T) {
	c, err := ParseCatalog([]byte(sampleCatalog))
	require.NoError(t, err)
	_, err = c.Lookup("prod-db-reed")
	require.ErrorIs(t, err, ErrUnknownItem)
	assert.Contains(t, err.Error(), "prod-db-read")
	assert.NotContains(t, err.Error(), "`vpn`")

	_, err = c.Lookup("zzzzzzzzzzzzzz")
	require.ErrorIs(t, err, ErrUnknownItem)
	assert.Contains(t, err.Error(), "help")
}

func TestParseCatalog_ReportsEveryMistake(t *testing.T) {
	_, err := ParseCatalog([]byte(`
items:
  - id: a
    name: A
    backend: builtin
    approvers: [not-an-email]
    defaultDuration: 8x
  - id: a
    name: ""
    backend: ""
    approvers: []
    defaultDuration: 8d
    maxDuration: 1d
`))
	require.Error(t, err)
	for _, want := range []string{"not-an-email", "8x", "used twice", "name is empty", "backend is empty", "no approvers", "longer than maxDuration"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestParseCatalog_RejectsUnknownKeys(t *testing.T) {
	_, err := ParseCatalog([]byte("items:\n  - id: a\n    name: A\n    backend: builtin\n    approver: [a@example.com]\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "approver")
}

func TestLifecycle_EveryTransitionIsReachableAndTerminalStatesAreFinal(t *testing.T) {
	for _, tr := range lifecycle {
		assert.False(t, tr.from.Terminal(), "%s leaves terminal state %s", tr.event, tr.from)
		to, _, ok := Next(tr.from, tr.event)
		assert.True(t, ok)
		assert.Equal(t, tr.to, to)
	}
	_, _, ok := Next(StateDenied, EventApprove)
	assert.False(t, ok, "a denied request can never be approved")
	_, _, ok = Next(StatePendingApproval, EventActivate)
	assert.False(t, ok, "access is never active without approval and submission")
}

func TestCheckLifecycle(t *testing.T) {
	ok := []AuditRecord{{Event: EventSubmit, From: StateApproved, To: StateSubmitted}, {Event: EventActivate, From: StateSubmitted, To: StateActive}}
	assert.NoError(t, checkLifecycle(StateApproved, StateActive, ok))
	assert.Error(t, checkLifecycle(StateApproved, StateActive, ok[:1]), "skipping activate")
	assert.Error(t, checkLifecycle(StatePendingApproval, StateActive, []AuditRecord{{Event: EventActivate, From: StatePendingApproval, To: StateActive}}))
	assert.NoError(t, checkLifecycle(StatePendingApproval, StatePendingApproval, nil))
}

func TestSchedule_FirstApprovalDue(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	at, ok := Schedule{DaysUntilEscalation: 3, DaysBetweenReminders: 1, RequestExpiryDays: 7}.FirstApprovalDue(t0)
	require.True(t, ok)
	assert.Equal(t, t0.Add(3*Day), at)
	at, ok = Schedule{RequestExpiryDays: 2}.FirstApprovalDue(t0)
	require.True(t, ok)
	assert.Equal(t, t0.Add(2*Day), at)
	_, ok = Schedule{}.FirstApprovalDue(t0)
	assert.False(t, ok)
}

func TestParseCatalog_ApprovalChannels(t *testing.T) {
	c, err := ParseCatalog([]byte(`
items:
  - id: payroll
    name: Payroll
    backend: builtin
    approvers: [alice@example.com]
    approvalChannel: slack:CAPPROVE
    directMessages: false
  - id: wiki
    name: Wiki
    backend: builtin
    approvers: [alice@example.com]
    approvalChannel: "teams:19:abc@thread.tacv2"
`))
	require.NoError(t, err)
	payroll, _ := c.Lookup("payroll")
	assert.Equal(t, ItemRef{ID: "payroll", Name: "Payroll", Backend: "builtin", Ref: "payroll", Channel: "slack:CAPPROVE", ChannelOnly: true},
		payroll.Snapshot(), "the request keeps where its card goes")
	wiki, _ := c.Lookup("wiki")
	assert.False(t, wiki.ChannelOnly, "besides direct messages unless directMessages: false")

	_, err = ParseCatalog([]byte(`
items:
  - id: a
    name: A
    backend: builtin
    approvers: [alice@example.com]
    approvalChannel: "#approvals"
  - id: b
    name: B
    backend: builtin
    approvers: [alice@example.com]
    directMessages: false
`))
	require.Error(t, err)
	assert.ErrorContains(t, err, `catalog item 1 (a): approvalChannel "#approvals": write slack:<channel id> (C…) or teams:<channel id>`)
	assert.ErrorContains(t, err, "catalog item 2 (b): directMessages: false needs an approvalChannel")
}

// Lookup ignores case as strings.EqualFold does, and the first item in catalog order that
// matches by id or name wins, whether the catalog is all ASCII (looked up in an index) or
// not (looked through).
func TestLookup_IgnoresCaseAsEqualFoldDoesFirstItemWins(t *testing.T) {
	yaml := func(name2 string) string {
		return `
items:
  - id: vpn
    name: Office VPN
    backend: builtin
    approvers: [bob@example.com]
  - id: wiki
    name: ` + name2 + `
    backend: builtin
    approvers: [bob@example.com]
  - id: office-vpn
    name: Wiki
    backend: builtin
    approvers: [bob@example.com]
`
	}
	for _, name2 := range []string{"Team wiki", "Team wi\u212ai"} { // the second holds the Kelvin sign, which folds to k
		c, err := ParseCatalog([]byte(yaml(name2)))
		require.NoError(t, err)
		for _, q := range []string{"vpn", "VPN", " office vpn ", "OFFICE-VPN", "wiki", "Wiki", "team WIKI", "team wi\u212ai", "vpn2", "", "v\u212an"} {
			var want *Item
			for i := range c.items {
				if it := &c.items[i]; strings.EqualFold(it.ID, strings.TrimSpace(q)) || strings.EqualFold(it.Name, strings.TrimSpace(q)) {
					want = it
					break
				}
			}
			got, err := c.Lookup(q)
			if want == nil {
				assert.ErrorIs(t, err, ErrUnknownItem, "%q in %q", q, name2)
				continue
			}
			require.NoError(t, err, "%q in %q", q, name2)
			assert.Equal(t, want.ID, got.ID, "%q in %q", q, name2)
		}
	}
}
