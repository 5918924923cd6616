package teams_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot/teams"
	"github.com/accessbot/accessbot/bot/teams/teamsfake"
	"github.com/accessbot/accessbot/governance"
	redisstore "github.com/accessbot/accessbot/governance/redis"
	"github.com/accessbot/accessbot/governance/redis/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// directoryBed is a Directory over real Redis and a fake Teams, on a clock the test moves.
type directoryBed struct {
	fake  *teamsfake.Server
	dir   *teams.Directory
	clock *governance.ManualClock
	logs  *bytes.Buffer
}

func newDirectoryBed(t *testing.T, users ...teamsfake.User) *directoryBed {
	fake := teamsfake.Start(t, appID, users...)
	store := redisstore.New(redistest.Client(t), redisstore.Options{Prefix: redistest.Prefix(t)})
	b := &directoryBed{fake: fake, clock: governance.NewManualClock(now), logs: &bytes.Buffer{}}
	b.dir = teams.NewDirectory(connector(fake), store, []string{"tenant-1", "tenant-2"}, teams.WithClock(b.clock),
		teams.WithDirectoryLogger(slog.New(slog.NewJSONHandler(b.logs, nil))))
	return b
}

// from is an activity of user (named name) in their personal chat, in tenant.
func (b *directoryBed) from(user, name, tenant string) schema.Activity {
	return schema.Activity{Type: schema.Message, ServiceURL: b.fake.URL,
		From:         schema.ChannelAccount{ID: user, Name: name, AadObjectID: "aad-" + user},
		Conversation: schema.ConversationAccount{ID: "a:" + user, ConversationType: "personal", TenantID: tenant},
		ChannelData:  map[string]interface{}{"tenant": map[string]interface{}{"id": tenant}}}
}

// lookups is how many times the member records were read.
func (b *directoryBed) lookups() int {
	n := 0
	for _, c := range b.fake.Calls() {
		if c.Method == http.MethodGet && c.MemberLookedUp != "" {
			n++
		}
	}
	return n
}

func (b *directoryBed) remember(t *testing.T, act schema.Activity) governance.Person {
	t.Helper()
	p, err := b.dir.Remember(context.Background(), act)
	require.NoError(t, err)
	return p
}

func TestDirectory_AMemberRecordIsReadAgainADayAfterItWasRead(t *testing.T) {
	b := newDirectoryBed(t, teamsfake.User{ID: "29:carol", Email: "carol@example.com", Name: "Carol"})
	act := b.from("29:carol", "Carol", "tenant-1")
	assert.Equal(t, "carol@example.com", b.remember(t, act).Email)
	require.Equal(t, 1, b.lookups())

	// Her admins give her a new address; accessbot believes the old one for a day.
	b.fake.SetUser(teamsfake.User{ID: "29:carol", Email: "carol.jones@example.com", Name: "Carol"})
	b.clock.Advance(teams.MemberMaxAge - time.Second)
	assert.Equal(t, "carol@example.com", b.remember(t, act).Email)
	assert.Equal(t, 1, b.lookups(), "a record younger than a day is believed")

	b.clock.Advance(time.Second)
	assert.Equal(t, "carol.jones@example.com", b.remember(t, act).Email, "a day old: read again")
	assert.Equal(t, 2, b.lookups())
	assert.Contains(t, b.logs.String(), `"msg":"teams member's e-mail changed","teams_user":"29:carol","from":"carol@example.com","to":"carol.jones@example.com","why":"read more than a day ago"`)

	_, _, ok, err := b.dir.Reach(context.Background(), "carol@example.com")
	require.NoError(t, err)
	assert.False(t, ok, "her old address reaches her no more")
	conv, _, ok, err := b.dir.Reach(context.Background(), "carol.jones@example.com")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "a:29:carol", conv.ID)

	b.clock.Advance(time.Hour)
	b.remember(t, act)
	assert.Equal(t, 2, b.lookups(), "read again: believed for another day")
}

func TestDirectory_AnActivityThatContradictsTheRecordHasItReadAtOnce(t *testing.T) {
	tests := []struct {
		name     string
		act      func(b *directoryBed) schema.Activity
		now      teamsfake.User // what her member record says by then
		why      string
		newEmail string
	}{
		{"another name", func(b *directoryBed) schema.Activity { return b.from("29:carol", "Carol Jones", "tenant-1") },
			teamsfake.User{ID: "29:carol", Email: "carol.jones@example.com", Name: "Carol Jones"},
			"the activity names them otherwise", "carol.jones@example.com"},
		{"another tenant", func(b *directoryBed) schema.Activity { return b.from("29:carol", "Carol", "tenant-2") },
			teamsfake.User{ID: "29:carol", Email: "carol@subsidiary.example.com", Name: "Carol", Tenant: "tenant-2"},
			"the activity names another tenant", "carol@subsidiary.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newDirectoryBed(t, teamsfake.User{ID: "29:carol", Email: "carol@example.com", Name: "Carol"})
			b.remember(t, b.from("29:carol", "Carol", "tenant-1"))
			b.fake.SetUser(tt.now)

			b.clock.Advance(30 * time.Second)
			assert.Equal(t, "carol@example.com", b.remember(t, tt.act(b)).Email, "within a minute of a read, not read again")
			assert.Equal(t, 1, b.lookups())

			b.clock.Advance(30 * time.Second)
			assert.Equal(t, tt.newEmail, b.remember(t, tt.act(b)).Email, "hours before the day is out")
			assert.Equal(t, 2, b.lookups())
			assert.Contains(t, b.logs.String(), `"why":"`+tt.why+`"`)

			b.clock.Advance(time.Hour)
			b.remember(t, tt.act(b))
			assert.Equal(t, 2, b.lookups(), "once the record agrees, it is believed")
		})
	}
}

func TestDirectory_ARecordReadAgainInAChannelStillReachesTheirPersonalChat(t *testing.T) {
	b := newDirectoryBed(t, teamsfake.User{ID: "29:carol", Email: "carol@example.com", Name: "Carol"})
	b.remember(t, b.from("29:carol", "Carol", "tenant-1"))
	b.clock.Advance(teams.MemberMaxAge)
	inChannel := b.from("29:carol", "Carol", "tenant-1")
	inChannel.Conversation = schema.ConversationAccount{ID: "19:general@thread.tacv2", ConversationType: "channel", IsGroup: true, TenantID: "tenant-1"}
	b.remember(t, inChannel)
	require.Equal(t, 2, b.lookups())

	conv, u, ok, err := b.dir.Reach(context.Background(), "carol@example.com")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "a:29:carol", conv.ID, "her personal chat, not the channel")
	assert.Equal(t, b.clock.Now(), u.Checked)
}
