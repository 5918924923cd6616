package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/governance"
)

// busyHome is a home with n requests of each kind, long reasons and names.
func busyHome(n int) governance.Home {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	h := governance.Home{Person: governance.Person{Email: "carol@example.com"}}
	for i := range n {
		r := func(state governance.State) *governance.Request {
			return &governance.Request{ID: fmt.Sprintf("AR-%d", len(h.Open)+len(h.Active)+len(h.Decide)+1), Version: 1, State: state,
				Requester: governance.Person{Email: "dave@example.com", Name: "Dave <@channel>"},
				Item:      governance.ItemRef{ID: fmt.Sprintf("item-%d", i), Name: "A very long item name " + fmt.Sprint(i), Backend: "builtin"},
				Duration:  8 * time.Hour, Reason: "because " + fmt.Sprint(make([]byte, 300)), CreatedAt: t0, Approvers: []governance.Person{{Email: "alice@example.com"}},
				Submission: &governance.Submission{End: t0.Add(8 * time.Hour)}}
		}
		h.Decide = append(h.Decide, r(governance.StatePendingApproval))
		h.Open = append(h.Open, r(governance.StateSubmitted))
		h.Active = append(h.Active, r(governance.StateActive))
	}
	return h
}

func TestHomeView_StaysWithinTheHomeTabsLimitsAndSaysWhatItLeftOut(t *testing.T) {
	for _, n := range []int{0, 1, 10, 11, 40} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			v := HomeView(busyHome(n))
			assert.Equal(t, slackapi.VTHomeTab, v.Type)
			require.NoError(t, CheckBlocks(v.Blocks.BlockSet, MaxHomeBlocks))
			raw, err := json.Marshal(v.Blocks.BlockSet)
			require.NoError(t, err)
			text := BlocksText(raw)
			assert.NotContains(t, string(raw), "<@channel>", "user text is escaped")
			if n > 10 {
				assert.Contains(t, text, fmt.Sprintf("…and %d more: `/access pending`.", n-10))
				assert.Contains(t, text, fmt.Sprintf("…and %d more: `/access status`.", n-10))
			}
		})
	}
}

func TestPublishHome_TheFakeRefusesWhatSlackRefuses(t *testing.T) {
	fake := slackfake.Start(t, members...)
	api := NewClient(slackfake.Token, fake.APIURL(), nil)
	ctx := context.Background()

	require.NoError(t, PublishHome(ctx, api, "UALICE", busyHome(3)))
	h := fake.Home("UALICE")
	require.NotNil(t, h)
	assert.Equal(t, 1, h.Publishes)

	err := PublishHome(ctx, api, "UNOBODY", busyHome(1))
	assert.ErrorContains(t, err, "user_not_found")
	assert.True(t, governance.IsPermanent(err))

	tooMany := slackapi.HomeTabViewRequest{Type: slackapi.VTHomeTab}
	for range 101 {
		tooMany.Blocks.BlockSet = append(tooMany.Blocks.BlockSet, slackapi.NewDividerBlock())
	}
	_, err = api.PublishViewContext(ctx, slackapi.PublishViewContextRequest{UserID: "UALICE", View: tooMany})
	assert.ErrorContains(t, err, "invalid_arguments", "a Home tab holds at most 100 blocks")

	modal := slackapi.HomeTabViewRequest{Type: slackapi.VTModal, Blocks: slackapi.Blocks{BlockSet: []slackapi.Block{slackapi.NewDividerBlock()}}}
	_, err = api.PublishViewContext(ctx, slackapi.PublishViewContextRequest{UserID: "UALICE", View: modal})
	assert.ErrorContains(t, err, "invalid_arguments", "views.publish takes only a home view")

	stale := "0.stale"
	_, err = api.PublishViewContext(ctx, slackapi.PublishViewContextRequest{UserID: "UALICE", View: HomeView(busyHome(0)), Hash: &stale})
	assert.ErrorContains(t, err, "hash_conflict")

	_, err = NewClient("xoxp-user-token", fake.APIURL(), nil).PublishViewContext(ctx,
		slackapi.PublishViewContextRequest{UserID: "UALICE", View: HomeView(busyHome(0))})
	assert.ErrorContains(t, err, "invalid_auth", "only the bot token publishes")
	assert.Equal(t, 1, fake.Home("UALICE").Publishes, "nothing refused was shown")
}

func TestNotifierPublishHome_SkipsPeopleSlackDoesNotKnow(t *testing.T) {
	fake := slackfake.Start(t, members...)
	api := NewClient(slackfake.Token, fake.APIURL(), nil)
	n := NewNotifier(api, NewDirectory(api, newMemCache()), nil)
	ctx := context.Background()

	require.NoError(t, n.PublishHome(ctx, governance.Person{Email: "bob@example.com"}, busyHome(1)))
	assert.NotNil(t, fake.Home("UBOB"), "found by e-mail, in any case")
	require.NoError(t, n.PublishHome(ctx, governance.Person{Email: "teams-only@example.com"}, busyHome(1)),
		"someone with no Slack account has no Home tab: nothing to do, nothing to retry")

	fake.Fail("views.publish", 1, slackfake.Failure{Status: 429, RetryAfter: 7})
	err := n.PublishHome(ctx, governance.Person{Email: "bob@example.com"}, busyHome(1))
	var ra *governance.RetryAfterError
	require.True(t, errors.As(err, &ra), "%v", err)
	assert.Equal(t, 7*time.Second, ra.After)
}

func TestNotifierWatches_OnlyThoseWhoOpenedTheirHomeTab(t *testing.T) {
	fake := slackfake.Start(t, members...)
	api := NewClient(slackfake.Token, fake.APIURL(), nil)
	cache := newMemCache()
	dir := NewDirectory(api, cache)
	n := NewNotifier(api, dir, nil)
	ctx := context.Background()
	alice := governance.Person{Email: "alice@example.com"}

	watched, err := n.Watches(ctx, alice)
	require.NoError(t, err)
	assert.False(t, watched, "never opened")
	require.NoError(t, dir.SawHome(ctx, "UALICE"))
	watched, err = n.Watches(ctx, alice)
	require.NoError(t, err)
	assert.True(t, watched)
	assert.Len(t, fake.Calls("users.info"), 1, "the record kept longer is read from Slack afresh")

	// Another replica, sharing only the store, knows it too.
	other := NewNotifier(api, NewDirectory(api, cache), nil)
	watched, err = other.Watches(ctx, alice)
	require.NoError(t, err)
	assert.True(t, watched)
	watched, err = n.Watches(ctx, governance.Person{Email: "nobody@example.com"})
	assert.NoError(t, err, "someone Slack does not know has no Home tab")
	assert.False(t, watched)
}
