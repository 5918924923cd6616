package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/bot"
	"github.com/accessbot/accessbot/governance"
)

// platform is a Notifier that records what it was asked to do.
type platform struct {
	name    string
	reaches map[string]bool
	admins  bool
	did     []string
}

func (p *platform) Name() string { return p.name }
func (p *platform) Reaches(_ context.Context, who governance.Person) (bool, error) {
	return p.reaches[who.Email], nil
}
func (p *platform) SendApprovalCard(_ context.Context, to governance.Person, _ *governance.Request) (governance.MessageRef, error) {
	p.did = append(p.did, "card "+to.Email)
	return governance.MessageRef{Platform: p.name, Recipient: to.Email}, nil
}
func (p *platform) UpdateApprovalCard(_ context.Context, ref governance.MessageRef, _ *governance.Request) error {
	p.did = append(p.did, "update "+ref.Recipient)
	return nil
}
func (p *platform) Notify(_ context.Context, to governance.Person, n governance.Notice) error {
	p.did = append(p.did, string(n.Kind)+" "+to.Email)
	return nil
}
func (p *platform) AlertAdmins(context.Context, *governance.Request) (governance.MessageRef, bool, error) {
	if !p.admins {
		return governance.MessageRef{}, false, nil
	}
	p.did = append(p.did, "alert")
	return governance.MessageRef{Platform: p.name}, true, nil
}
func (p *platform) Digest(_ context.Context, to governance.Person, _ []*governance.Request) error {
	p.did = append(p.did, "digest "+to.Email)
	return nil
}
func (p *platform) TimeZone(context.Context, governance.Person) (*time.Location, error) {
	return time.UTC, nil
}

func TestRouter_EachPersonWhereTheyAreEachCardWhereItWent(t *testing.T) {
	ctx := context.Background()
	teams := &platform{name: "teams", reaches: map[string]bool{"alice@example.com": true}}
	slack := &platform{name: "slack"}
	r := bot.NewRouter("slack", slack, teams)
	req := &governance.Request{ID: "AR-1"}
	alice, bob := governance.Person{Email: "alice@example.com"}, governance.Person{Email: "bob@example.com"}

	aliceRef, err := r.SendApprovalCard(ctx, alice, req)
	require.NoError(t, err)
	bobRef, err := r.SendApprovalCard(ctx, bob, req)
	require.NoError(t, err)
	require.NoError(t, r.Notify(ctx, bob, governance.Notice{Kind: governance.NoticeApproved, Request: req}))
	require.NoError(t, r.Digest(ctx, alice, nil))
	require.NoError(t, r.UpdateApprovalCard(ctx, aliceRef, req))
	require.NoError(t, r.UpdateApprovalCard(ctx, bobRef, req))
	assert.Equal(t, []string{"card alice@example.com", "digest alice@example.com", "update alice@example.com"}, teams.did)
	assert.Equal(t, []string{"card bob@example.com", "approved bob@example.com", "update bob@example.com"}, slack.did)

	err = r.UpdateApprovalCard(ctx, governance.MessageRef{Platform: "irc"}, req)
	assert.True(t, governance.IsPermanent(err), "a card from a platform no longer configured is not retried")

	_, ok, err := r.AlertAdmins(ctx, req)
	require.NoError(t, err)
	assert.False(t, ok, "no admin channel anywhere")
	slack.admins = true
	ref, ok, _ := r.AlertAdmins(ctx, req)
	assert.True(t, ok)
	assert.Equal(t, "slack", ref.Platform)
	teams.admins = true
	ref, _, _ = r.AlertAdmins(ctx, req)
	assert.Equal(t, "teams", ref.Platform, "Teams' admin channel first when both are set")
}

func TestRouter_WithoutAFallbackSaysWhoCannotBeReached(t *testing.T) {
	r := bot.NewRouter("", nil, &platform{name: "teams"})
	_, err := r.SendApprovalCard(context.Background(), governance.Person{Email: "bob@example.com"}, &governance.Request{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bob@example.com")
	assert.True(t, governance.IsPermanent(err))
}

// homes is a platform with home views that knows who ignores theirs.
type homes struct {
	platform
	ignoring map[string]bool
}

func (h *homes) PublishHome(context.Context, governance.Person, governance.Home) error { return nil }
func (h *homes) Watches(_ context.Context, to governance.Person) (bool, error) {
	return !h.ignoring[to.Email], nil
}
func (h *homes) IgnoresHome(to governance.Person) bool { return h.ignoring[to.Email] }

// Someone ignores their home views only when every platform that shows one knows it;
// a platform without home views has no say.
func TestRouter_IgnoresHomeOnlyWhereEveryHomeIsKnownIgnored(t *testing.T) {
	slack := &homes{platform: platform{name: "slack"}, ignoring: map[string]bool{"ann@example.com": true}}
	teams := &platform{name: "teams"}
	r := bot.NewRouter("slack", slack, teams)
	assert.True(t, r.IgnoresHome(governance.Person{Email: "ann@example.com"}))
	assert.False(t, r.IgnoresHome(governance.Person{Email: "bob@example.com"}))
}
