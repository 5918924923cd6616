package slack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/slack/slackfake"
	"github.com/accessbot/accessbot/governance"
)

var members = []slackfake.User{
	{ID: "UALICE", Email: "alice@example.com", Name: "Alice", TZ: "America/New_York"},
	{ID: "UBOB", Email: "Bob@Example.com", Name: "Bob", TZ: "Asia/Tokyo"},
	{ID: "UCAROL", Email: "carol@example.com", Name: "Carol", TZ: "Europe/Berlin"},
	{ID: "UBOT", Name: "Some bot", IsBot: true},
	{ID: "UNOMAIL", Name: "No Mail"},
	{ID: "UGINA", Email: "gina@example.com", Name: "Gina", Restricted: true},
}

// memCache is an in-memory UserCache; the Redis one is tested in governance/redis.
type memCache struct {
	mu    sync.Mutex
	m     map[string]governance.ChatUser
	saved []time.Duration
}

func newMemCache() *memCache { return &memCache{m: map[string]governance.ChatUser{}} }

func (c *memCache) ChatUser(_ context.Context, platform, id string) (governance.ChatUser, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.m[platform+"/id/"+id]
	return u, ok, nil
}

func (c *memCache) ChatUserByEmail(_ context.Context, platform, email string) (governance.ChatUser, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.m[platform+"/email/"+email]
	return u, ok, nil
}

func (c *memCache) SaveChatUser(_ context.Context, u governance.ChatUser, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[u.Platform+"/id/"+u.ID] = u
	c.m[u.Platform+"/email/"+u.Email] = u
	c.saved = append(c.saved, ttl)
	return nil
}

var quiet = slog.New(slog.DiscardHandler)

func newNotifier(t *testing.T, opts ...NotifierOption) (*Notifier, *slackfake.Server) {
	fake := slackfake.Start(t, members...)
	api := NewClient("xoxb-test", fake.APIURL(), nil)
	return NewNotifier(api, NewDirectory(api, newMemCache(), WithDirectoryLogger(quiet)), quiet, opts...), fake
}

func TestNotifier_SendsTheCardToTheApproversDMAndUpdatesItThere(t *testing.T) {
	n, fake := newNotifier(t)
	ctx := context.Background()
	r := pendingRequest()

	ref, err := n.SendApprovalCard(ctx, bob, r)
	require.NoError(t, err)
	assert.Equal(t, governance.MessageRef{Platform: "slack", Recipient: "bob@example.com", Channel: "DUBOB", ID: "1700000000.000001"}, ref)
	lookups := fake.Calls("users.lookupByEmail")
	require.Len(t, lookups, 1)
	assert.Equal(t, "bob@example.com", lookups[0].Params.Get("email"))
	opens := fake.Calls("conversations.open")
	require.Len(t, opens, 1)
	assert.Equal(t, "UBOB", opens[0].Params.Get("users"))
	posts := fake.Calls("chat.postMessage")
	require.Len(t, posts, 1)
	assert.Equal(t, "DUBOB", posts[0].Channel, "the card goes to the D… channel conversations.open returned")
	assert.Contains(t, BlocksText(posts[0].Blocks), "[ Approve ] [ Deny ]")
	decoded, err := posts[0].DecodeBlocks()
	require.NoError(t, err, "slack-go can read the card back")
	assert.Len(t, decoded.BlockSet, 5)
	assert.Equal(t, "Carol asks for Production database (8h) — request AR-7 is waiting for your decision.", posts[0].Text)

	r.State, r.Version = governance.StateDenied, 2
	r.Decision = &governance.Decision{By: alice, Reason: "no", At: t0}
	require.NoError(t, n.UpdateApprovalCard(ctx, ref, r))
	updates := fake.Calls("chat.update")
	require.Len(t, updates, 1)
	assert.Equal(t, "DUBOB", updates[0].Channel)
	assert.Equal(t, ref.ID, updates[0].TS)
	card := fake.Messages("DUBOB")[0]
	assert.Equal(t, 1, card.Updates)
	assert.Contains(t, BlocksText(card.Blocks), "Denied by Alice (alice@example.com)")
	assert.NotContains(t, BlocksText(card.Blocks), "[ Approve ]", "the buttons are gone")

	_, err = n.SendApprovalCard(ctx, bob, pendingRequest())
	require.NoError(t, err)
	assert.Len(t, fake.Calls("users.lookupByEmail"), 1, "the approver's Slack id is cached")
	assert.Len(t, fake.Calls("conversations.open"), 1, "the DM channel is remembered")
	assert.Equal(t, "1700000000.000002", fake.Calls("chat.postMessage")[1].TS, "each message has its own ts")
}

func TestNotifier_UpdateLeavesOtherPlatformsCardsAlone(t *testing.T) {
	n, fake := newNotifier(t)
	require.NoError(t, n.UpdateApprovalCard(context.Background(), governance.MessageRef{Platform: "teams", Channel: "x", ID: "1"}, pendingRequest()))
	assert.Empty(t, fake.Calls(""))
}

func TestNotifier_NotifiesTheRequesterByDM(t *testing.T) {
	n, fake := newNotifier(t)
	r := pendingRequest()
	r.Decision = &governance.Decision{By: bob, Reason: "use <!channel> the bastion"}
	require.NoError(t, n.Notify(context.Background(), carol, governance.Notice{Kind: governance.NoticeDenied, Request: r}))
	posts := fake.Calls("chat.postMessage")
	require.Len(t, posts, 1)
	assert.Equal(t, "DUCAROL", posts[0].Channel)
	assert.Contains(t, BlocksText(posts[0].Blocks), "Bob (bob@example.com) denied your request AR-7")
	assert.NotContains(t, posts[0].Text, "<!channel>", "the notification text is escaped too")
	assert.Contains(t, posts[0].Text, "&lt;!channel&gt;")
}

func TestNotifier_RateLimitedMeansRetryAfterSlacksDelay(t *testing.T) {
	n, fake := newNotifier(t)
	fake.Fail("chat.postMessage", 1, slackfake.Failure{Status: http.StatusTooManyRequests, RetryAfter: 7})
	_, err := n.SendApprovalCard(context.Background(), bob, pendingRequest())
	var ra *governance.RetryAfterError
	require.True(t, errors.As(err, &ra), "%v", err)
	assert.Equal(t, 7*time.Second, ra.After)
	assert.False(t, governance.IsPermanent(err))
}

func TestNotifier_ErrorsRetryingCannotFixArePermanent(t *testing.T) {
	for _, code := range []string{"channel_not_found", "invalid_auth", "account_inactive", "messages_tab_disabled", "invalid_blocks", "msg_too_long"} {
		t.Run(code, func(t *testing.T) {
			n, fake := newNotifier(t)
			fake.Fail("chat.postMessage", 1, slackfake.Failure{Error: code})
			_, err := n.SendApprovalCard(context.Background(), bob, pendingRequest())
			require.Error(t, err)
			assert.True(t, governance.IsPermanent(err), "%v", err)
		})
	}
}

// An approver Slack does not know, or a guest (guests never decide, so the card's buttons
// would only refuse them), gets no approval card; the failure is permanent and says why.
func TestNotifier_AnApproverWhoCannotDecideInSlackGetsNoCardAndThatIsPermanent(t *testing.T) {
	for email, why := range map[string]string{"nobody@example.com": "users_not_found", "gina@example.com": "guests never decide"} {
		t.Run(email, func(t *testing.T) {
			n, fake := newNotifier(t)
			_, err := n.SendApprovalCard(context.Background(), governance.Person{Email: email}, pendingRequest())
			require.Error(t, err)
			assert.True(t, governance.IsPermanent(err))
			assert.Contains(t, err.Error(), why)
			assert.Empty(t, fake.Calls("chat.postMessage"))
		})
	}
}

func TestNotifier_ServerErrorsAndTimeoutsAreRetried(t *testing.T) {
	n, fake := newNotifier(t)
	fake.Fail("chat.postMessage", 1, slackfake.Failure{Status: http.StatusBadGateway})
	_, err := n.SendApprovalCard(context.Background(), bob, pendingRequest())
	require.Error(t, err)
	assert.False(t, governance.IsPermanent(err), "a 5xx is retried")
	var ra *governance.RetryAfterError
	assert.False(t, errors.As(err, &ra))

	ref, err := n.SendApprovalCard(context.Background(), bob, pendingRequest())
	require.NoError(t, err, "the retry goes through")
	assert.Equal(t, "DUBOB", ref.Channel)
}

func TestNotifier_AlertsTheAdminChannelWithButtonsWhenConfigured(t *testing.T) {
	n, fake := newNotifier(t)
	_, ok, err := n.AlertAdmins(context.Background(), pendingRequest())
	require.NoError(t, err)
	assert.False(t, ok, "no admin channel: nothing to alert")
	assert.Empty(t, fake.Calls("chat.postMessage"))

	n, fake = newNotifier(t, WithAdminChannel("UALICE")) // the fake's channels are DMs; Slack would take a C… id
	r := pendingRequest()
	r.Escalations = 1
	ref, ok, err := n.AlertAdmins(context.Background(), r)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "DUALICE", ref.Channel)
	got := BlocksText(fake.Calls("chat.postMessage")[0].Blocks)
	assert.Contains(t, got, "Escalated: nobody has decided AR-7 since 2026-11-23 09:00 UTC (escalation 1)")
	assert.Contains(t, got, "[ Approve ] [ Deny ]")

	fake.Fail("chat.postMessage", 1, slackfake.Failure{Error: "not_in_channel"})
	_, _, err = n.AlertAdmins(context.Background(), r)
	require.Error(t, err)
	assert.True(t, governance.IsPermanent(err))
	assert.Contains(t, err.Error(), "invite it there (/invite @accessbot in the channel)", "the log says what to do")
}

func TestNotifier_RefusesToSendAMessageSlackWouldRefuse(t *testing.T) {
	n, fake := newNotifier(t)
	r := pendingRequest()
	r.ID = string(make([]byte, 2500)) // a button value over 2000 characters
	_, err := n.SendApprovalCard(context.Background(), bob, r)
	require.Error(t, err)
	assert.True(t, governance.IsPermanent(err))
	assert.Empty(t, fake.Calls("chat.postMessage"))
}

func TestSlackfake_SpeaksTheWireFormatSlackGoExpects(t *testing.T) {
	fake := slackfake.Start(t, members...)
	api := NewClient("xoxb-test", fake.APIURL(), nil)
	ctx := context.Background()
	_, _, _, err := api.UpdateMessageContext(ctx, "UBOB", "1.1")
	assert.ErrorContains(t, err, "channel_not_found", "chat.update needs the D… channel, as in Slack")
	ch, ts, err := api.PostMessageContext(ctx, "UBOB")
	assert.ErrorContains(t, err, "no_text")
	assert.Empty(t, ch+ts)
	_, err = api.OpenViewContext(ctx, "trigger-1", DenyForm(pendingRequest()))
	require.NoError(t, err)
	_, err = api.OpenViewContext(ctx, "trigger-1", DenyForm(pendingRequest()))
	assert.ErrorContains(t, err, "trigger_exchanged", "a trigger id works once")
	var view struct {
		CallbackID string `json:"callback_id"`
	}
	require.NoError(t, json.Unmarshal(fake.Calls("views.open")[0].View, &view))
	assert.Equal(t, CallbackDenyReason, view.CallbackID)
}

func TestDirectory_LooksUpOnceThenCaches(t *testing.T) {
	fake := slackfake.Start(t, members...)
	cache := newMemCache()
	dir := NewDirectory(NewClient("xoxb-test", fake.APIURL(), nil), cache, WithDirectoryLogger(quiet))
	ctx := context.Background()
	for range 3 {
		p, err := dir.Person(ctx, "UBOB")
		require.NoError(t, err)
		assert.Equal(t, governance.Person{Email: "bob@example.com", Name: "Bob"}, p, "e-mail addresses are lower-cased")
		id, err := dir.UserID(ctx, "BOB@example.com")
		require.NoError(t, err)
		assert.Equal(t, "UBOB", id)
	}
	assert.Len(t, fake.Calls("users.info"), 1, "the second lookup makes no users.info call")
	assert.Empty(t, fake.Calls("users.lookupByEmail"), "users.info already taught the e-mail")
	assert.Equal(t, []time.Duration{CacheTTL}, cache.saved)
	assert.Equal(t, "Asia/Tokyo", cache.m["slack/id/UBOB"].TimeZone)
}

func TestDirectory_AUserWithoutEmailIsToldWhatIsWrong(t *testing.T) {
	fake := slackfake.Start(t, members...)
	dir := NewDirectory(NewClient("xoxb-test", fake.APIURL(), nil), newMemCache(), WithDirectoryLogger(quiet))
	_, err := dir.Person(context.Background(), "UNOMAIL")
	var p *governance.Problem
	require.True(t, errors.As(err, &p), "%v", err)
	assert.ErrorIs(t, err, ErrNoEmail)
	assert.Contains(t, p.Message, "users:read.email")
	_, err = dir.Person(context.Background(), "UBOT")
	assert.ErrorIs(t, err, ErrBotUser, "a bot is told it is one")
}

// What Slack says of a person is remembered with them: a guest found by e-mail (for a
// card) is still a guest when they click, and a record from before workspaces were
// checked (no Org) is asked about again.
func TestDirectory_RemembersWhereAPersonIsFromAndWhetherTheyAreAGuest(t *testing.T) {
	fake := slackfake.Start(t, members...)
	cache := newMemCache()
	dir := NewDirectory(NewClient("xoxb-test", fake.APIURL(), nil), cache, WithDirectoryLogger(quiet),
		WithWorkspaces(Workspaces{Teams: []string{slackfake.TeamID}}))
	ctx := context.Background()
	id, err := dir.UserID(ctx, "gina@example.com")
	require.NoError(t, err)
	assert.Equal(t, "UGINA", id)
	fresh := NewDirectory(NewClient("xoxb-test", fake.APIURL(), nil), cache, WithDirectoryLogger(quiet),
		WithWorkspaces(Workspaces{Teams: []string{slackfake.TeamID}}))
	a, err := fresh.Actor(ctx, "UGINA")
	require.NoError(t, err)
	assert.True(t, a.Guest)
	assert.Equal(t, governance.Actor{Person: governance.Person{Email: "gina@example.com", Name: "Gina"}, Platform: Platform,
		ChatID: "UGINA", Guest: true}, a)
	assert.Empty(t, fake.Calls("users.info"), "from the cache")

	cache.m["slack/id/UALICE"] = governance.ChatUser{Platform: Platform, ID: "UALICE", Email: "alice@example.com"}
	_, err = fresh.Actor(ctx, "UALICE")
	require.NoError(t, err)
	assert.Len(t, fake.Calls("users.info"), 1, "a record without its workspace is asked about again")
	assert.Equal(t, slackfake.TeamID, cache.m["slack/id/UALICE"].Org)

	other := NewDirectory(NewClient("xoxb-test", fake.APIURL(), nil), cache, WithDirectoryLogger(quiet),
		WithWorkspaces(Workspaces{Teams: []string{"T0ELSE"}}))
	_, err = other.Actor(ctx, "UALICE")
	assert.ErrorIs(t, err, ErrExternalUser, "a record of a workspace no longer served is not trusted")
}

func TestDirectory_MissingScopeTellsWhomToAsk(t *testing.T) {
	fake := slackfake.Start(t, members...)
	fake.Fail("users.info", 1, slackfake.Failure{Error: "missing_scope"})
	dir := NewDirectory(NewClient("xoxb-test", fake.APIURL(), nil), newMemCache(), WithDirectoryLogger(quiet))
	_, err := dir.Person(context.Background(), "UBOB")
	var p *governance.Problem
	require.True(t, errors.As(err, &p), "%v", err)
	assert.Contains(t, p.Message, "Slack admin")
}

func TestDevDirectory_MapsIDsAndAddressesWithoutSlack(t *testing.T) {
	dir := NewDevDirectory(map[string]string{"U42": "Boss@Example.com", "uann": "Ann Smith <ann@example.com>"})
	ctx := context.Background()
	for id, want := range map[string]governance.Person{
		"U123ALICE": {Email: "u123alice@example.com", Name: "U123ALICE"},
		"U42":       {Email: "boss@example.com", Name: "U42"},
		"UANN":      {Email: "ann@example.com", Name: "Ann Smith"},
	} {
		p, err := dir.Person(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, want, p, id)
	}
	for email, want := range map[string]string{"boss@example.com": "U42", "u123alice@example.com": "U123ALICE", "Bob@example.com": "BOB", "ann@example.com": "UANN"} {
		id, err := dir.UserID(ctx, email)
		require.NoError(t, err)
		assert.Equal(t, want, id, email)
	}
}

func TestDirectory_TimeZoneComesFromSlack(t *testing.T) {
	fake := slackfake.Start(t, members...)
	dir := NewDirectory(NewClient("xoxb-test", fake.APIURL(), nil), newMemCache(), WithDirectoryLogger(quiet))
	loc, err := dir.TimeZone(context.Background(), "bob@example.com")
	require.NoError(t, err)
	require.NotNil(t, loc)
	assert.Equal(t, "Asia/Tokyo", loc.String())
	loc, err = NewDevDirectory(nil).TimeZone(context.Background(), "bob@example.com")
	assert.NoError(t, err)
	assert.Nil(t, loc, "development mode knows no zones: the configured default applies")
}

func TestNotifier_PostsAndUpdatesCardsAsJSONWithTheBearerToken(t *testing.T) {
	n, fake := newNotifier(t)
	ctx := context.Background()
	r := pendingRequest()
	ref, err := n.SendApprovalCard(ctx, bob, r)
	require.NoError(t, err)
	r.State = governance.StateApproved
	r.Decision = &governance.Decision{Approved: true, By: alice, At: t0}
	require.NoError(t, n.UpdateApprovalCard(ctx, ref, r))
	for _, c := range append(fake.Calls("chat.postMessage"), fake.Calls("chat.update")...) {
		assert.True(t, c.JSON, "%s is a JSON body, not a form", c.Method)
		assert.True(t, c.Bearer, "%s carries the token in Authorization: Bearer", c.Method)
		assert.Empty(t, c.Params.Get("token"), "the token is never in the body")
		assert.Empty(t, c.Failed)
	}
	assert.Contains(t, BlocksText(fake.Messages("DUBOB")[0].Blocks), "Approved by Alice (alice@example.com)")
}

// The JSON calls fail with the values slack-go gives, so classify reads them alike.
func TestClient_JSONCallsFailAsSlackGoDoes(t *testing.T) {
	var status int
	var header, body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if header != "" {
			w.Header().Set("Retry-After", header)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	api := NewClient("xoxb-test", srv.URL+"/api", nil)
	ctx := context.Background()

	status, header, body = http.StatusTooManyRequests, "7", ""
	_, _, err := api.PostJSONContext(ctx, ChatMessage{Channel: "DUBOB", Text: "hi"})
	var rl *slackapi.RateLimitedError
	require.True(t, errors.As(err, &rl), "%v", err)
	assert.Equal(t, 7*time.Second, rl.RetryAfter)

	status, header = http.StatusTooManyRequests, ""
	_, _, err = api.UpdateJSONContext(ctx, ChatMessage{Channel: "DUBOB", TS: "1.1", Text: "hi"})
	assert.Equal(t, slackapi.StatusCodeError{Code: 429, Status: "429 Too Many Requests"}, err, "no Retry-After: retried with backoff")

	status, body = http.StatusInternalServerError, "<html>oops</html>"
	_, _, err = api.PostJSONContext(ctx, ChatMessage{Channel: "DUBOB", Text: "hi"})
	assert.Equal(t, slackapi.StatusCodeError{Code: 500, Status: "500 Internal Server Error"}, err)

	status, body = http.StatusOK, `{"ok":false,"error":"channel_not_found"}`
	_, _, err = api.PostJSONContext(ctx, ChatMessage{Channel: "DUBOB", Text: "hi"})
	assert.Equal(t, slackapi.SlackErrorResponse{Err: "channel_not_found"}, err)

	body = `{"ok":true,"channel":"DUBOB","ts":"1700000000.000009","text":"hi"}`
	ch, ts, err := api.UpdateJSONContext(ctx, ChatMessage{Channel: "DUBOB", TS: "1700000000.000009", Text: "hi"})
	require.NoError(t, err)
	assert.Equal(t, []string{"DUBOB", "1700000000.000009"}, []string{ch, ts})
}

func TestNotifier_CardUpdatesAreRetriedOrGivenUpAsPostsAre(t *testing.T) {
	for name, tc := range map[string]struct {
		fail      slackfake.Failure
		after     time.Duration // the RetryAfter wanted; 0: none
		permanent bool
	}{
		"rate limited":      {fail: slackfake.Failure{Status: http.StatusTooManyRequests, RetryAfter: 7}, after: 7 * time.Second},
		"channel not found": {fail: slackfake.Failure{Error: "channel_not_found"}, permanent: true},
		"server error":      {fail: slackfake.Failure{Status: http.StatusInternalServerError}},
	} {
		t.Run(name, func(t *testing.T) {
			n, fake := newNotifier(t)
			ctx := context.Background()
			ref, err := n.SendApprovalCard(ctx, bob, pendingRequest())
			require.NoError(t, err)
			fake.Fail("chat.update", 1, tc.fail)
			err = n.UpdateApprovalCard(ctx, ref, pendingRequest())
			require.Error(t, err)
			assert.Equal(t, tc.permanent, governance.IsPermanent(err), "%v", err)
			var ra *governance.RetryAfterError
			assert.Equal(t, tc.after != 0, errors.As(err, &ra), "%v", err)
			if tc.after != 0 {
				assert.Equal(t, tc.after, ra.After)
			}
			assert.True(t, fake.Calls("chat.update")[0].JSON)
			require.NoError(t, n.UpdateApprovalCard(ctx, ref, pendingRequest()), "the next try goes through")
		})
	}
}

// A person who acts again, or gets another card, is found in the process without a
// round trip or an allocation; a person found by e-mail is not found by an id that
// happens to be spelt the same.
func TestDirectory_APersonKeptInTheProcessIsFoundWithoutAllocating(t *testing.T) {
	fake := slackfake.Start(t, members...)
	dir := NewDirectory(NewClient("xoxb-test", fake.APIURL(), nil), newMemCache(), WithDirectoryLogger(quiet))
	ctx := context.Background()
	_, err := dir.Actor(ctx, "UBOB")
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_, _ = dir.Actor(ctx, "UBOB")
		_, _ = dir.UserID(ctx, "bob@example.com")
	}))
	_, ok := dir.near.get(idKey("bob@example.com"))
	assert.False(t, ok, "an e-mail address is not an id")
	u, ok := dir.near.get(emailKey("bob@example.com"))
	assert.True(t, ok)
	assert.Equal(t, "UBOB", u.ID)
}

// failingCache is a shared cache that cannot be read.
type failingCache struct{ *memCache }

func (failingCache) ChatUser(context.Context, string, string) (governance.ChatUser, bool, error) {
	return governance.ChatUser{}, false, errors.New("redis: connection refused")
}

func (failingCache) ChatUserByEmail(context.Context, string, string) (governance.ChatUser, bool, error) {
	return governance.ChatUser{}, false, errors.New("redis: connection refused")
}

// A shared cache that cannot be read costs a lookup in Slack, logged with whom it was about.
func TestDirectory_AFailedCacheReadAsksSlackAndSaysForWhom(t *testing.T) {
	fake := slackfake.Start(t, members...)
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	ctx := context.Background()
	dir := NewDirectory(NewClient("xoxb-test", fake.APIURL(), nil), failingCache{newMemCache()}, WithDirectoryLogger(log))
	p, err := dir.Person(ctx, "UBOB")
	require.NoError(t, err)
	assert.Equal(t, "bob@example.com", p.Email)
	fresh := NewDirectory(NewClient("xoxb-test", fake.APIURL(), nil), failingCache{newMemCache()}, WithDirectoryLogger(log))
	id, err := fresh.UserID(ctx, "carol@example.com")
	require.NoError(t, err)
	assert.Equal(t, "UCAROL", id)
	assert.Len(t, fake.Calls("users.info"), 1)
	assert.Len(t, fake.Calls("users.lookupByEmail"), 1)
	assert.Contains(t, logged.String(), `msg="slack user cache read failed; asking Slack" user=UBOB err="redis: connection refused"`)
	assert.Contains(t, logged.String(), `msg="slack user cache read failed; asking Slack" email=carol@example.com err="redis: connection refused"`)
}
