package teams_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/teams"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// Texts as long as accessbot takes them: 1,000 characters of reason, 200 of item name,
// in words, and in the characters that grow most on the way into a card (escaped for
// markdown, then for JSON) or into UTF-16 (emoji).
var (
	longWords   = strings.Repeat("lorem ipsum dolor sit amet ", 40)[:1000]
	longHostile = strings.Repeat(`<&>[*]\_😀`, 100)
)

// worst is n pending requests with reasons and item names made of text, as long as
// accessbot takes them.
func worst(n int, text string) []*governance.Request {
	var rs []*governance.Request
	for i := range n {
		r := request(governance.StatePendingApproval)
		r.ID = fmt.Sprintf("AR-%d", i+1)
		r.Reason = string([]rune(text)[:governance.MaxReasonLength])
		r.Item.Name = string([]rune(text)[:200])
		r.Requester.Name = string([]rune(text)[:100])
		r.Approvers = []governance.Person{alice, {Email: "bob@example.com", Name: string([]rune(text)[:100])}}
		rs = append(rs, r)
	}
	return rs
}

// worstCards is every kind of card accessbot sends, about the worst requests.
func worstCards(text string) map[string]teams.Card {
	rs := worst(20, text)
	r := rs[0]
	failed := worst(1, text)[0]
	failed.State, failed.Failure = governance.StateFailed, text
	cards := map[string]teams.Card{
		"approval card": teams.Render(voice.ApprovalCard(r)),
		"admin alert":   teams.Render(voice.AdminAlert(r)),
		"reminder":      teams.Render(voice.Notice(governance.Notice{Kind: governance.NoticeReminder, Request: r})),
		"failed":        teams.Render(voice.Notice(governance.Notice{Kind: governance.NoticeFailed, Request: failed})),
		"deny form":     teams.FormCard(voice.DenyForm(r), teams.VerbDeny),
		"created":       teams.Render(voice.RequestCreated(r)),
	}
	for _, list := range []struct {
		name string
		m    voice.Message
	}{{"pending", voice.Pending(rs)}, {"digest", voice.Digest(rs)}, {"status", voice.Status(rs)}} {
		for offset := 0; offset < len(rs); offset += teams.PageRows {
			cards[fmt.Sprintf("%s from %d", list.name, offset)] = teams.RenderPage(list.m, offset)
		}
	}
	var items []governance.Item
	for i := range 500 {
		items = append(items, governance.Item{ID: fmt.Sprintf("item-%d", i), Name: string([]rune(text)[:200]),
			Description: string([]rune(text)[:300]), DefaultDuration: time.Hour})
	}
	cards["help of a large catalog"] = teams.Render(voice.Help(items))
	cards["request form of a large catalog"] = teams.FormCard(voice.RequestForm(items), teams.VerbRequest)
	return cards
}

func TestCards_EveryCardFitsTheBudgetWhateverItSays(t *testing.T) {
	for _, text := range []string{longWords, longHostile} {
		for name, c := range worstCards(text) {
			t.Run(name+"/"+text[:5], func(t *testing.T) {
				act := teams.Activity(c, text)
				assert.LessOrEqual(t, teams.Size(act), teams.MaxActivityBytes)
				invoke := map[string]any{"statusCode": 200, "type": teams.ContentType, "value": c}
				assert.LessOrEqual(t, teams.Size(invoke), teams.MaxActivityBytes, "the answer to a click too")
			})
		}
	}
}

func TestCards_TextTooLongForTheBudgetIsCutWithAnEllipsis(t *testing.T) {
	r := worst(1, longHostile)[0]
	// A request made in a backend's own portal may give a reason longer than accessbot
	// takes; the card shows 2,000 characters of it, 3 each in card JSON (\\<).
	r.Reason = strings.Repeat("<", 3000)
	r.Requester.Name = strings.Repeat("<", 3000)
	c := teams.Render(voice.ApprovalCard(r))
	text := teamsfake.CardText(c)
	assert.Contains(t, text, `\<\<…`, "cut, and marked")
	assert.Contains(t, text, "[Approve]", "nothing but text is cut")
	assert.LessOrEqual(t, teams.Size(teams.Activity(c, "")), teams.MaxActivityBytes)

	short := request(governance.StatePendingApproval)
	assert.Equal(t, teams.CardText(teams.Render(voice.ApprovalCard(short))), teams.CardText(teams.Render(voice.ApprovalCard(short))))
	assert.NotContains(t, teamsfake.CardText(teams.Render(voice.ApprovalCard(short))), "…", "what fits is not cut")
}

func TestCards_ALongListShowsAPageAtATimeWithAButtonForTheNext(t *testing.T) {
	rs := worst(25, longWords)
	m := voice.Pending(rs)
	ids := func(c teams.Card) string { return teamsfake.CardText(c) } // ids in bold: **AR-7**

	first := teams.Render(m)
	text := teams.CardText(first)
	assert.Contains(t, text, "25 waiting for your decision")
	assert.Contains(t, ids(first), "**AR-10**")
	assert.NotContains(t, ids(first), "**AR-11**")
	assert.Contains(t, text, "…and 15 more — decide these, then `pending` shows the rest.")
	assert.Contains(t, text, "[ Show 10 more ]")
	more := teamsfake.Button(first, teams.VerbMore, "")
	require.NotNil(t, more)
	assert.Equal(t, map[string]any{"verb": "more", "list": "pending", "offset": 10}, more)
	assert.NotContains(t, teamsfake.Button(first, "approve", "AR-3"), teams.DataOffset, "the first page begins at 0")

	second := teams.RenderPage(m, 10)
	text = teams.CardText(second)
	assert.Contains(t, text, "Requests 11–20 of 25.")
	assert.Regexp(t, `(?s)\*\*AR-11\*\*.*\*\*AR-20\*\*`, ids(second))
	assert.NotContains(t, ids(second), "**AR-10**")
	assert.Contains(t, text, "[ Show 5 more ]")
	assert.Equal(t, 10, teamsfake.Button(second, "deny", "AR-12")[teams.DataOffset], "a row's click answers with its page")

	last := teams.RenderPage(m, 20)
	text = teams.CardText(last)
	assert.Contains(t, text, "Requests 21–25 of 25.")
	assert.NotContains(t, text, "more")
	assert.Nil(t, teamsfake.Button(last, teams.VerbMore, ""))

	assert.Equal(t, teams.CardText(teams.RenderPage(m, 15)), teams.CardText(teams.RenderPage(m, 99)), "past the end: the last ten")
	assert.NotContains(t, teams.CardText(teams.Render(voice.Pending(rs[:10]))), "more", "a list of one page has no button")
}

func TestSize_CountsAsTeamsDoes(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want int
	}{
		{"ASCII: two bytes a character", "ab", 2 * len(`"ab"`)},
		{"accents: two bytes too", "é", 2 * 3},
		{"emoji: a surrogate pair", "😀", 2*2 + 4},
		{"JSON's escapes count", `"\`, 2 * len(`"\"\\"`)},
		{"no HTML escapes", "<&>", 2 * len(`"<&>"`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, teams.Size(tt.v)) })
	}
}

func TestConnector_ACardTeamsRefusesAsTooLargeIsSaidInTheLog(t *testing.T) {
	fake := teamsfake.Start(t, appID)
	var logs bytes.Buffer
	c := teams.NewConnector(teams.ConnectorOptions{AppID: appID, AppPassword: "secret", TokenURL: fake.TokenURL(),
		ServiceHosts: []string{fake.URL}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	conv := teams.Conversation{ServiceURL: fake.URL, ID: "a:1"}

	// 25,000 ASCII characters: 25 KB as sent, 50 KB as Teams counts.
	big := schema.Activity{Type: schema.Message, Text: strings.Repeat("x", 25_000)}
	_, err := c.Send(context.Background(), conv, big)
	require.ErrorIs(t, err, teams.ErrTooLarge)
	assert.True(t, governance.IsPermanent(err), "sending it again will not help")
	var e *teams.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 413, e.Status)
	assert.Equal(t, "MessageSizeTooBig", e.Code)
	assert.Equal(t, "Message size too large.", e.Message)
	assert.Contains(t, logs.String(), `"msg":"teams refused an activity as too large; it is not sent again"`)
	assert.Contains(t, logs.String(), fmt.Sprintf(`"size_utf16":%d`, teams.Size(big)))
	require.Len(t, fake.Refused(), 1)
	assert.Equal(t, teams.Size(big), fake.Refused()[0].Size, "the fake measures as accessbot does")
	assert.Empty(t, fake.Calls(), "nothing was delivered")

	// Over accessbot's budget but within what Teams takes: sent, and said.
	logs.Reset()
	over := schema.Activity{Type: schema.Message, Text: strings.Repeat("x", 15_000)}
	_, err = c.Send(context.Background(), conv, over)
	require.NoError(t, err)
	assert.Contains(t, logs.String(), `"msg":"teams activity over accessbot's size budget"`)
}
