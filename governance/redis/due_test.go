package redis

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
)

func TestDueIndex_TransitionsAddMoveAndRemoveMembers(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	due := func() map[string]float64 {
		t.Helper()
		zs, err := s.rdb.ZRangeWithScores(ctx, s.k.due(s.k.shardOf("AR-1")), 0, -1).Result()
		require.NoError(t, err)
		out := map[string]float64{}
		for _, z := range zs {
			out[z.Member.(string)] = z.Score
		}
		return out
	}
	r := request("AR-1", "carol@example.com", "alice@example.com")
	mustCreate(t, s, r, governance.Effects{Due: map[string]time.Time{"approval:AR-1": t0.Add(time.Hour)}})
	assert.Equal(t, map[string]float64{"approval:AR-1": float64(t0.Add(time.Hour).UnixMilli())}, due())

	require.NoError(t, s.Update(ctx, next(r, governance.StatePendingApproval), 1, governance.Effects{
		Due: map[string]time.Time{"approval:AR-1": t0.Add(2 * time.Hour)}}))
	assert.Equal(t, map[string]float64{"approval:AR-1": float64(t0.Add(2 * time.Hour).UnixMilli())}, due(), "moved")

	require.NoError(t, s.Update(ctx, next(next(r, governance.StatePendingApproval), governance.StateActive), 2, governance.Effects{
		Undue: []string{"approval:AR-1"}, Due: map[string]time.Time{"expiry:AR-1": t0.Add(9 * time.Hour)}}))
	assert.Equal(t, map[string]float64{"expiry:AR-1": float64(t0.Add(9 * time.Hour).UnixMilli())}, due())
}

func TestClaimDue_HandsOutDueMembersOnceUntilTheirLeaseEnds(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	for i := range 30 {
		id := fmt.Sprintf("AR-%d", i)
		at := t0.Add(time.Duration(i) * time.Minute)
		if i >= 20 {
			at = at.Add(2 * time.Hour)
		}
		mustCreate(t, s, request(id, "carol@example.com", "alice@example.com"),
			governance.Effects{Due: map[string]time.Time{"approval:" + id: at}})
	}
	now := t0.Add(19 * time.Minute) // AR-0 … AR-19 are due, AR-20 … AR-29 later

	first, err := s.ClaimDue(ctx, now, 5*time.Minute, 8)
	require.NoError(t, err)
	require.Len(t, first, 8)
	rest, err := s.ClaimDue(ctx, now, 5*time.Minute, 100)
	require.NoError(t, err)
	require.Len(t, rest, 12)
	all := append(append([]string{}, first...), rest...)
	want := make([]string, 20)
	for i := range want {
		want[i] = fmt.Sprintf("approval:AR-%d", i)
	}
	assert.ElementsMatch(t, want, all, "each due member once")
	assert.IsIncreasing(t, numbers(first), "in the order they came due")

	none, err := s.ClaimDue(ctx, now.Add(5*time.Minute-time.Millisecond), 5*time.Minute, 100)
	require.NoError(t, err)
	assert.Empty(t, none, "leased members wait for the end of their lease")

	again, err := s.ClaimDue(ctx, now.Add(5*time.Minute), 5*time.Minute, 100)
	require.NoError(t, err)
	assert.Len(t, again, 20, "unhandled members are due again when their lease ends")
}

// numbers are the request numbers of due members "approval:AR-<n>".
func numbers(members []string) []int {
	out := make([]int, len(members))
	for i, m := range members {
		_, _ = fmt.Sscanf(m, "approval:AR-%d", &out[i])
	}
	return out
}
