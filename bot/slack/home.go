package slack

import (
	"context"
	"errors"
	"fmt"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// CallbackHome is the callback_id of the Home tab's view.
const CallbackHome = "home"

var _ governance.HomePublisher = (*Notifier)(nil)

// HomeView renders a person's home as their App Home tab: each section of voice.Home
// under a header, its rows with their buttons, sections apart by dividers, within the
// 100 blocks a Home tab may hold.
func HomeView(h governance.Home) slackapi.HomeTabViewRequest {
	var blocks []slackapi.Block
	for i, sec := range voice.Home(h) {
		if i > 0 {
			blocks = append(blocks, slackapi.NewDividerBlock())
		}
		blocks = append(blocks, head(sec)...)
		for _, row := range sec.Rows {
			blocks = append(blocks, head(row)...)
		}
	}
	return slackapi.HomeTabViewRequest{Type: slackapi.VTHomeTab, CallbackID: CallbackHome, Blocks: slackapi.Blocks{BlockSet: blocks}}
}

// PublishHome shows h on the App Home tab of the Slack user userID (views.publish).
func PublishHome(ctx context.Context, api API, userID string, h governance.Home) error {
	v := HomeView(h)
	if err := CheckBlocks(v.Blocks.BlockSet, MaxHomeBlocks); err != nil {
		return governance.Permanent(fmt.Errorf("home view breaks a Block Kit limit: %w", err))
	}
	if _, err := api.PublishViewContext(ctx, slackapi.PublishViewContextRequest{UserID: userID, View: v}); err != nil {
		return fmt.Errorf("views.publish home of %s: %w", userID, classify(err))
	}
	return nil
}

// HomeWatch is how long after a person opened their Home tab a change is drawn there at
// once; later, it is drawn when they open it again.
const HomeWatch = 12 * time.Hour

// Watches reports whether the person opened their Home tab within HomeWatch.
func (n *Notifier) Watches(ctx context.Context, to governance.Person) (bool, error) {
	seen, err := n.dir.HomeSeen(ctx, to.Email)
	if err != nil || seen.IsZero() {
		return false, err
	}
	return time.Since(seen) < HomeWatch, nil
}

// IgnoresHome reports whether this process knows, without asking Redis or Slack, that the
// person has not opened their Home tab within HomeWatch: their record is in the directory's
// in-process cache (as it is for whoever just asked or was sent a card) and says so, as
// Watches would read it from there. False when the record is not at hand.
func (n *Notifier) IgnoresHome(to governance.Person) bool {
	return n.dir.ignoresHome(to.Email, time.Now())
}

// PublishHome redraws the App Home tab of the person with to's e-mail. Someone Slack does
// not know (or not in a served workspace) has no Home tab to draw: nothing is done.
func (n *Notifier) PublishHome(ctx context.Context, to governance.Person, h governance.Home) error {
	uid, err := n.dir.UserID(ctx, to.Email)
	if slackError(err) == "users_not_found" || errors.Is(err, ErrDeactivated) || errors.Is(err, ErrExternalUser) || errors.Is(err, ErrBotUser) {
		n.log.DebugContext(ctx, "no slack user to draw a home for", "to", to.Email, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	return PublishHome(ctx, n.api, uid, h)
}

// PublishRefusal shows on the App Home tab of userID why accessbot cannot act for them
// (m, the refusal as it would be answered to a command).
func PublishRefusal(ctx context.Context, api API, userID string, m Message) error {
	blocks := m.Blocks
	if len(blocks) == 0 {
		blocks = []slackapi.Block{section(m.Text)}
	}
	v := slackapi.HomeTabViewRequest{Type: slackapi.VTHomeTab, CallbackID: CallbackHome, Blocks: slackapi.Blocks{BlockSet: blocks}}
	if _, err := api.PublishViewContext(ctx, slackapi.PublishViewContextRequest{UserID: userID, View: v}); err != nil {
		return fmt.Errorf("views.publish refusal to %s: %w", userID, classify(err))
	}
	return nil
}

// PostReply sends m, an answer meant for the person who acted, to userID by direct message:
// for a click that came with no response_url (one on the Home tab).
func PostReply(ctx context.Context, api API, userID string, m Message) error {
	dm, _, _, err := api.OpenConversationContext(ctx, &slackapi.OpenConversationParameters{Users: []string{userID}, ReturnIM: true})
	if err != nil {
		return fmt.Errorf("conversations.open with %s: %w", userID, classify(err))
	}
	if _, _, err := api.PostJSONContext(ctx, ChatMessage{Channel: dm.ID, Text: m.Text, Blocks: m.Blocks}); err != nil {
		return fmt.Errorf("chat.postMessage answer to %s: %w", userID, classify(err))
	}
	return nil
}
