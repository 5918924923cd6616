package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

var _ governance.ChannelNotifier = (*Notifier)(nil)

// SendChannelCard posts r's approval card to an approval channel ("slack:C…"), where any
// of its approvers decides. The bot must be a member of the channel (invite it there).
func (n *Notifier) SendChannelCard(ctx context.Context, channel string, r *governance.Request) (governance.MessageRef, error) {
	id, ok := strings.CutPrefix(channel, Platform+":")
	if !ok {
		return governance.MessageRef{}, governance.Permanent(fmt.Errorf("approval channel %q is not a Slack channel", channel))
	}
	blocks, fallback := Blocks(voice.ChannelCard(r))
	ch, ts, err := n.post(ctx, id, blocks, fallback)
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) && (se.Err == "not_in_channel" || se.Err == "channel_not_found") {
		return governance.MessageRef{}, fmt.Errorf("approval channel %s of %s: accessbot is not a member of it; "+
			"invite it there (/invite @accessbot in the channel): %w", id, r.Item.ID, err)
	}
	if err != nil {
		return governance.MessageRef{}, fmt.Errorf("chat.postMessage card %s to %s: %w", r.ID, id, err)
	}
	return governance.MessageRef{Platform: Platform, Recipient: governance.ChannelRecipient, Channel: ch, ID: ts}, nil
}

// ChannelNote replies in the thread of a channel card.
func (n *Notifier) ChannelNote(ctx context.Context, ref governance.MessageRef, nt governance.Notice) error {
	if ref.Platform != Platform {
		return nil
	}
	blocks, fallback := Blocks(voice.ChannelNote(nt))
	if err := CheckBlocks(blocks, MaxMessageBlocks); err != nil {
		return governance.Permanent(fmt.Errorf("note breaks a Block Kit limit: %w", err))
	}
	_, _, err := n.api.PostJSONContext(ctx, ChatMessage{Channel: ref.Channel, ThreadTS: ref.ID, Text: fallback, Blocks: blocks})
	if err != nil {
		return fmt.Errorf("chat.postMessage %s note in the thread of %s: %w", nt.Kind, ref.ID, classify(err))
	}
	return nil
}
