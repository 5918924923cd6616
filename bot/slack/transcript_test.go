package slack

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/governancetest"
)

func TestTranscript_ShowsTheConversationAsPeopleSeeIt(t *testing.T) {
	var out governancetest.Logs
	tr := NewTranscript(&out, map[string]string{"ALICE": "Alice <alice@example.com>"})
	dir := NewDevDirectory(map[string]string{"ALICE": "Alice <alice@example.com>"})
	n := NewNotifier(tr, dir, quiet)
	ctx := context.Background()

	r := pendingRequest()
	ref, err := n.SendApprovalCard(ctx, alice, r)
	require.NoError(t, err)
	assert.Equal(t, "DALICE", ref.Channel)
	r.State, r.Decision = governance.StateApproved, &governance.Decision{By: alice, Approved: true, At: t0}
	require.NoError(t, n.UpdateApprovalCard(ctx, ref, r))
	_, err = tr.OpenViewContext(ctx, "trigger", DenyForm(r))
	require.NoError(t, err)
	require.NoError(t, tr.Respond(ctx, "", Reply(voice.Error(&governance.Problem{Message: "You are not an approver of AR-7."}, ""))))

	got := out.String()
	want := []string{
		"── DM to alice@example.com (ALICE) ──\n  Access request AR-7\n  Requester: Carol (carol@example.com)\n",
		"  [ Approve ] [ Deny ]\n",
		"── update of message " + ref.ID + " (DM to alice@example.com (ALICE)) ──\n",
		"  ✅ Approved by Alice (alice@example.com) at 2026-11-23 09:00 UTC.\n",
		"── modal \"Deny AR-7\" opened ──\n",
		"  Reason for denying: [ Tell the requester why, and what to do instead ]\n",
		"── reply only the person who acted sees ──\n  ⚠️ You are not an approver of AR-7.\n",
	}
	for _, w := range want {
		assert.Contains(t, got, w)
	}
	assert.NotContains(t, got, "<!date", "dates read in UTC")
}

func TestTranscript_GivesDistinctTimestampsAndNeverInterleaves(t *testing.T) {
	var out governancetest.Logs // safe for the notifications written at once below
	tr := NewTranscript(&out, nil)
	n := NewNotifier(tr, NewDevDirectory(nil), quiet)
	var wg sync.WaitGroup
	refs := make([]governance.MessageRef, 20)
	for i := range refs {
		wg.Go(func() {
			var err error
			refs[i], err = n.SendApprovalCard(context.Background(), governance.Person{Email: fmt.Sprintf("u%d@example.com", i)}, pendingRequest())
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, ref := range refs {
		assert.False(t, seen[ref.ID], "ts %s given twice", ref.ID)
		seen[ref.ID] = true
	}
	entries := strings.Split(strings.TrimSpace(out.String()), "\n\n")
	assert.Len(t, entries, 20)
	for _, e := range entries {
		assert.True(t, strings.HasPrefix(e, "── DM to u"), e)
		assert.Equal(t, 1, strings.Count(e, "──\n"), "one entry per heading")
	}
}
