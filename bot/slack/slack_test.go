package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func pendingRequest() *governance.Request {
	return &governance.Request{ID: "AR-7", State: governance.StatePendingApproval,
		Requester: governance.Person{Email: "carol@example.com", Name: "Carol"},
		Item:      governance.ItemRef{ID: "prod-db", Name: "Production database"}, Duration: 8 * time.Hour,
		Reason: "INC-1", Approvers: []governance.Person{{Email: "alice@example.com", Name: "Alice"}}, CreatedAt: t0}
}

// wire encodes v as Slack receives it (encoding/json would hide "<" as \u003c).
func wire(t *testing.T, v any) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return b.String()
}

func TestEscape_NoMentionOrLinkCanBeInjected(t *testing.T) {
	got := Escape("hi <!channel> <@U123> <!here|here> <https://evil.example|click> @here @Channel @everyone & done")
	for _, bad := range []string{"<!", "<@", "<http", "@here", "@Channel", "@everyone"} {
		assert.NotContains(t, got, bad)
	}
	assert.Contains(t, got, "&amp; done")
	assert.Equal(t, "a &lt;b&gt;", Escape("a <b>"))
}

func TestApprovalCard_UserTextIsEscapedEverywhere(t *testing.T) {
	r := pendingRequest()
	r.Reason = "please <!channel>"
	r.Requester.Name = "<@U999> Mallory"
	r.Item.Name = "DB <!here>"
	blocks, _ := ApprovalCard(r)
	b := wire(t, blocks)
	require.Contains(t, b, "<!date^", "the encoding shows raw angle brackets")
	for _, bad := range []string{"<!channel>", "<@U999>", "<!here>"} {
		assert.NotContains(t, b, bad)
	}
}

func TestApprovalCard_PendingHasButtonsDecidedHasOutcome(t *testing.T) {
	r := pendingRequest()
	blocks, fallback := ApprovalCard(r)
	b, _ := json.Marshal(blocks)
	text := BlocksText(b)
	assert.Contains(t, text, "[ Approve ] [ Deny ]")
	assert.Contains(t, string(b), `"value":"AR-7"`)
	assert.Contains(t, fallback, "Carol asks for Production database (8h)")

	r.State = governance.StateDenied
	r.Decision = &governance.Decision{By: governance.Person{Email: "alice@example.com", Name: "Alice"}, Reason: "no", At: t0.Add(time.Hour)}
	blocks, _ = ApprovalCard(r)
	b, _ = json.Marshal(blocks)
	text = BlocksText(b)
	assert.NotContains(t, text, "[ Approve ]")
	assert.Contains(t, text, "Denied by Alice (alice@example.com) at 2026-11-23 10:00 UTC: no")
	assert.Contains(t, wire(t, blocks), "<!date^", "times render in each reader's own time zone")
}

func TestBlockKitLimits_AreKept(t *testing.T) {
	var rs []*governance.Request
	for i := range 80 {
		r := pendingRequest()
		r.ID = fmt.Sprintf("AR-%d", i)
		r.Reason = strings.Repeat("x", 5000)
		rs = append(rs, r)
	}
	for name, m := range map[string]Message{"pending": Pending(rs), "status": Status(rs)} {
		assert.LessOrEqual(t, len(m.Blocks), maxBlocks, name)
		b, _ := json.Marshal(m.Blocks)
		var blocks []struct {
			Text *struct{ Text string } `json:"text"`
		}
		require.NoError(t, json.Unmarshal(b, &blocks))
		for _, bl := range blocks {
			if bl.Text != nil {
				assert.LessOrEqual(t, len([]rune(bl.Text.Text)), maxSectionText, name)
			}
		}
	}
	var items []governance.Item
	for i := range 150 {
		items = append(items, governance.Item{ID: fmt.Sprintf("item-%d", i), Name: strings.Repeat("n", 200)})
	}
	items = append(items, governance.Item{ID: strings.Repeat("i", 80), Name: "long id"})
	form := RequestForm(items)
	b, _ := json.Marshal(form)
	assert.Equal(t, maxOptions, strings.Count(string(b), `"value":"item-`), "a static select holds at most 100 options")
	assert.NotContains(t, string(b), strings.Repeat("i", 80), "an option value over 75 characters is left out")
	assert.LessOrEqual(t, len(form.Title.Text), maxTitle)
	assert.LessOrEqual(t, len(Help(items).Blocks), maxBlocks)
}

func TestClassify(t *testing.T) {
	ws := NewWorkspace()
	srv := httptest.NewServer(ws)
	defer srv.Close()
	api := NewClient("xoxb-t", srv.URL+"/api/", nil)
	ctx := context.Background()

	ws.Fail("chat.postMessage", http.StatusTooManyRequests, 7, "")
	_, _, err := api.PostMessageContext(ctx, "D1")
	var ra *governance.RetryAfterError
	require.True(t, errors.As(classify(err), &ra))
	assert.Equal(t, 7*time.Second, ra.After)

	ws.Fail("chat.postMessage", http.StatusOK, 0, "channel_not_found")
	_, _, err = api.PostMessageContext(ctx, "D1")
	assert.True(t, governance.IsPermanent(classify(err)))

	ws.Fail("chat.postMessage", http.StatusBadGateway, 0, "")
	_, _, err = api.PostMessageContext(ctx, "D1")
	assert.Error(t, classify(err))
	assert.False(t, governance.IsPermanent(classify(err)), "a 5xx is retried")
}

// memCache is an in-memory UserCache; the Redis one is tested in governance/redis.
type memCache struct {
	mu sync.Mutex
	m  map[string]governance.ChatUser
}

func (c *memCache) ChatUser(_ context.Context, platform, id string) (governance.ChatUser, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.m[platform+"/"+id]
	return u, ok, nil
}

func (c *memCache) ChatUserByEmail(_ context.Context, platform, email string) (governance.ChatUser, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.m[platform+"/"+email]
	return u, ok, nil
}

func (c *memCache) SaveChatUser(_ context.Context, u governance.ChatUser, _ time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[u.Platform+"/"+u.ID] = u
	c.m[u.Platform+"/"+u.Email] = u
	return nil
}

func TestDirectory_LooksUpOnceThenCaches(t *testing.T) {
	ws := NewWorkspace()
	ws.AddUser(WorkspaceUser{ID: "U1", Email: "Alice@Example.com", Name: "Alice", TZ: "Europe/Berlin"})
	srv := httptest.NewServer(ws)
	defer srv.Close()
	dir := NewDirectory(NewClient("xoxb-t", srv.URL+"/api/", nil), &memCache{m: map[string]governance.ChatUser{}})
	ctx := context.Background()
	for range 3 {
		p, err := dir.Person(ctx, "U1")
		require.NoError(t, err)
		assert.Equal(t, governance.Person{Email: "alice@example.com", Name: "Alice"}, p)
		id, err := dir.UserID(ctx, "alice@example.com")
		require.NoError(t, err)
		assert.Equal(t, "U1", id)
	}
	assert.Len(t, ws.Calls("users.info"), 1)
	assert.Empty(t, ws.Calls("users.lookupByEmail"), "users.info already taught the e-mail")

	_, err := dir.UserID(ctx, "nobody@example.com")
	assert.True(t, governance.IsPermanent(err), "an unknown person is not retried")
}

func TestDevDirectory(t *testing.T) {
	dir := NewDevDirectory(map[string]string{"U42": "Boss@Example.com"})
	p, err := dir.Person(context.Background(), "alice")
	require.NoError(t, err)
	assert.Equal(t, governance.Person{Email: "alice@example.com", Name: "Alice"}, p)
	id, _ := dir.UserID(context.Background(), "boss@example.com")
	assert.Equal(t, "U42", id)
	id, _ = dir.UserID(context.Background(), "bob@example.com")
	assert.Equal(t, "BOB", id)
}

func TestNoticeText_EveryKindSaysSomethingUseful(t *testing.T) {
	r := pendingRequest()
	r.Decision = &governance.Decision{By: governance.Person{Name: "Alice", Email: "alice@example.com"}, Approved: true, At: t0}
	r.Submission = &governance.Submission{End: t0.Add(8 * time.Hour)}
	r.Failure = "the access system refused"
	for kind, want := range map[governance.NoticeKind]string{
		governance.NoticeReceived: "went to Alice", governance.NoticeApproved: "approved your request AR-7",
		governance.NoticeSubmitted: "You will hear", governance.NoticeActive: "active until",
		governance.NoticeFailed: "could not be granted: the access system refused", governance.NoticeCancelled: "was cancelled",
	} {
		assert.Contains(t, NoticeText(governance.Notice{Kind: kind, Request: r}), want, kind)
	}
	r.Decision = &governance.Decision{By: governance.Person{Name: "Bob"}, Reason: "not today"}
	assert.Contains(t, NoticeText(governance.Notice{Kind: governance.NoticeDenied, Request: r}), "not today")
}
