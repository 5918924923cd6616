package teams_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/teams"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// schema15 is the official Adaptive Card 1.5 schema (testdata/adaptivecards, MIT).
func schema15(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/adaptivecards/adaptive-card-1.5.0.json")
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("http://adaptivecards.io/schemas/adaptive-card.json", doc))
	s, err := c.Compile("http://adaptivecards.io/schemas/adaptive-card.json")
	require.NoError(t, err)
	return s
}

var (
	carol = governance.Person{Email: "carol@example.com", Name: "Carol"}
	alice = governance.Person{Email: "alice@example.com", Name: "Alice"}
)

func request(state governance.State) *governance.Request {
	r := &governance.Request{ID: "AR-7", Version: 3, State: state, Requester: carol,
		Item:     governance.ItemRef{ID: "prod-db", Name: "Production database", Backend: "builtin", Ref: "prod-db"},
		Duration: 8 * time.Hour, Reason: "incident 4711", Approvers: []governance.Person{alice},
		CreatedAt: now, UpdatedAt: now}
	switch state {
	case governance.StateActive, governance.StateApproved, governance.StateExpired, governance.StateRevoked:
		r.Decision = &governance.Decision{By: alice, Approved: true, At: now}
		r.Submission = &governance.Submission{State: governance.StateActive, Start: now, End: now.Add(8 * time.Hour)}
		r.RevokedBy = &alice
	case governance.StateDenied:
		r.Decision = &governance.Decision{By: alice, Reason: "not today", At: now}
	case governance.StateCancelled:
		r.CancelledAt = now
	case governance.StateFailed:
		r.Failure = "the source is down"
	}
	return r
}

// everyCard is every card the package can produce, with hostile and ordinary text.
func everyCard() map[string]teams.Card {
	cards := map[string]teams.Card{}
	states := []governance.State{governance.StatePendingApproval, governance.StateApproved, governance.StateActive, governance.StateDenied,
		governance.StateCancelled, governance.StateTimedOut, governance.StateFailed, governance.StateRevoked}
	for _, st := range states {
		r := request(st)
		cards["approval/"+string(st)] = teams.Render(voice.ApprovalCard(r))
		cards["admin/"+string(st)] = teams.Render(voice.AdminAlert(r))
		for _, k := range []governance.NoticeKind{governance.NoticeReceived, governance.NoticeApproved, governance.NoticeDenied,
			governance.NoticeSubmitted, governance.NoticeWaiting, governance.NoticeActive, governance.NoticeFailed, governance.NoticeCancelled,
			governance.NoticeReminder, governance.NoticeEscalated, governance.NoticeTimedOut, governance.NoticeExpiring,
			governance.NoticeEnded, governance.NoticeRevoked} {
			cards["notice/"+string(k)+"/"+string(st)] = teams.Render(voice.Notice(governance.Notice{Kind: k, Request: r}))
		}
		cards["created/"+string(st)] = teams.Render(voice.RequestCreated(r))
		cards["cancelled/"+string(st)] = teams.Render(voice.Cancelled(r))
		cards["revoked/"+string(st)] = teams.Render(voice.Revoked(r))
		cards["schedule/"+string(st)] = teams.Render(voice.Schedule(r, governance.Steps(r)))
		cards["deny form/"+string(st)] = teams.FormCard(voice.DenyForm(r), teams.VerbDeny)
	}
	pending := []*governance.Request{request(governance.StatePendingApproval), request(governance.StatePendingApproval)}
	pending[1].ID = "AR-8"
	cards["digest"] = teams.Render(voice.Digest(pending))
	cards["pending"] = teams.Render(voice.Pending(pending))
	cards["pending/none"] = teams.Render(voice.Pending(nil))
	cards["digest/one decided"] = teams.Render(voice.Pending([]*governance.Request{request(governance.StateDenied), pending[1]}))
	var many []*governance.Request
	for range 30 {
		many = append(many, request(governance.StatePendingApproval))
	}
	cards["pending/more than a card shows"] = teams.Render(voice.Pending(many))
	cards["status"] = teams.Render(voice.Status(append(pending, request(governance.StateActive), request(governance.StateFailed))))
	cards["status/none"] = teams.Render(voice.Status(nil))
	items := []governance.Item{{ID: "prod-db", Name: "Production database", DefaultDuration: 8 * time.Hour, MaxDuration: 7 * 24 * time.Hour},
		{ID: "sp", Name: "Anything in SailPoint", Backend: "sailpoint", Search: true}}
	cards["help"] = teams.Render(voice.Help(items))
	cards["help/empty"] = teams.Render(voice.Help(nil))
	cards["form"] = teams.FormCard(voice.RequestForm(items), teams.VerbRequest)
	cards["form/searches only"] = teams.FormCard(voice.RequestForm(items[1:]), teams.VerbRequest)
	cards["error/problem"] = teams.Render(voice.Error(&governance.Problem{Message: "You can't decide your own request AR-7."}, ""))
	cards["error/internal"] = teams.Render(voice.Error(errors.New("boom"), "E1"))
	return cards
}

func TestCards_EveryCardIsAValidAdaptiveCard15(t *testing.T) {
	s := schema15(t)
	for name, c := range everyCard() {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(c)
			require.NoError(t, err)
			assert.Less(t, len(b), 28<<10, "well under Teams' size limits")
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			require.NoError(t, err)
			if m, ok := inst.(map[string]any); ok {
				delete(m, "msteams") // Teams' own extension, not in the generic schema
			}
			assert.NoError(t, s.Validate(inst))
			assert.Equal(t, "1.5", c["version"])
		})
	}
}

func TestCards_TheSchemaCheckCatchesABadCard(t *testing.T) {
	s := schema15(t)
	bad := teams.Render(voice.ApprovalCard(request(governance.StatePendingApproval)))
	bad["bodyy"] = []any{}
	b, _ := json.Marshal(bad)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	assert.Error(t, s.Validate(inst))
}

func TestCards_UserTextIsInert(t *testing.T) {
	r := request(governance.StatePendingApproval)
	r.Reason = "click [here](https://evil.example.com) **now** <at>Everyone</at> {{DATE(2020-01-01T00:00:00Z)}}"
	r.Requester.Name = "Mallory](https://evil.example.com)"
	text := teamsfake.CardText(teams.Render(voice.ApprovalCard(r)))
	for _, bad := range []string{"[here](", "**now**", "<at>", "](https://evil", "{{DATE(2020"} {
		assert.NotContains(t, text, bad)
	}
	assert.True(t, strings.Contains(text, `\[here\]\(https://evil.example.com\)`), text)
}

func TestCards_ApprovalCardAsksUntilDecidedThenSaysWho(t *testing.T) {
	pending := teamsfake.CardText(teams.Render(voice.ApprovalCard(request(governance.StatePendingApproval))))
	assert.Contains(t, pending, "[Approve]")
	assert.Contains(t, pending, "[Deny]")
	assert.Contains(t, pending, "Requester: Carol (carol@example.com)")

	denied := teamsfake.CardText(teams.Render(voice.ApprovalCard(request(governance.StateDenied))))
	assert.NotContains(t, denied, "[Approve]")
	assert.Contains(t, denied, "Denied by Alice (alice@example.com) at {{DATE(2026-11-23T09:00:00Z, SHORT)}} {{TIME(2026-11-23T09:00:00Z)}}:\n\\> not today")
}

func TestCards_RequestFormOfOnlySearchesAsksToTypeTheItem(t *testing.T) {
	form := teams.FormCard(voice.RequestForm([]governance.Item{{ID: "sp", Name: "Anything in SailPoint", Backend: "sailpoint", Search: true}}), teams.VerbRequest)
	b, err := json.Marshal(form)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "null", "no null arrays")
	item := form["body"].([]any)[1].(map[string]any)
	assert.Equal(t, teams.InputItem, item["id"])
	assert.Equal(t, "Input.Text", item["type"], "a choice set needs choices; with none the item is typed")

	form = teams.FormCard(voice.RequestForm([]governance.Item{{ID: "prod-db", Name: "Production database"}}), teams.VerbRequest)
	assert.Equal(t, "Input.ChoiceSet", form["body"].([]any)[1].(map[string]any)["type"])
}
