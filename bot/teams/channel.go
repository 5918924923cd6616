package teams

import (
	"context"
	"fmt"
	"strings"

	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

var _ governance.ChannelNotifier = (*Notifier)(nil)

// WithChannelServiceURL sets the Bot Connector serviceUrl that approval channels
// ("teams:19:…@thread.tacv2") are posted through: the one of an activity from that team.
func (n *Notifier) WithChannelServiceURL(u string) *Notifier {
	n.channelURL = u
	return n
}

// SendChannelCard posts r's approval card as a new post in a Teams channel, where any of
// its approvers decides. The app must be installed in the team.
func (n *Notifier) SendChannelCard(ctx context.Context, channel string, r *governance.Request) (governance.MessageRef, error) {
	id, ok := strings.CutPrefix(channel, Platform+":")
	if !ok || n.channelURL == "" {
		return governance.MessageRef{}, governance.Permanent(fmt.Errorf("approval channel %q: a Teams channel needs teams.channelServiceURL", channel))
	}
	conv := Conversation{ServiceURL: n.channelURL, ID: id}
	m := voice.ChannelCard(r)
	act, err := n.conn.Send(ctx, conv, Activity(Render(m), Summary(m)))
	if err != nil {
		return governance.MessageRef{}, fmt.Errorf("post card %s to Teams channel %s (is accessbot installed in its team?): %w", r.ID, id, err)
	}
	return governance.MessageRef{Platform: Platform, Recipient: governance.ChannelRecipient, Channel: encodeConversation(conv), ID: act}, nil
}

// ChannelNote replies in the thread of a channel card.
func (n *Notifier) ChannelNote(ctx context.Context, ref governance.MessageRef, nt governance.Notice) error {
	if ref.Platform != Platform {
		return nil
	}
	conv, err := decodeConversation(ref.Channel)
	if err != nil {
		return governance.Permanent(err)
	}
	m := voice.ChannelNote(nt)
	_, err = n.conn.Reply(ctx, conv, ref.ID, Activity(Render(m), Summary(m)))
	return err
}
