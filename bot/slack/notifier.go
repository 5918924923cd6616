package slack

import (
	"context"
	"fmt"
	"log/slog"

	slackapi "github.com/slack-go/slack"

	"github.com/accessbot/accessbot/governance"
)

// Notifier tells people things through Slack direct messages.
type Notifier struct {
	api API
	dir *Directory
	log *slog.Logger
}

var _ governance.Notifier = (*Notifier)(nil)

// NewNotifier returns a Notifier sending through api, finding people through dir.
func NewNotifier(api API, dir *Directory, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{api: api, dir: dir, log: log}
}

// dm opens (or finds) the direct-message channel with a person.
func (n *Notifier) dm(ctx context.Context, email string) (string, error) {
	uid, err := n.dir.UserID(ctx, email)
	if err != nil {
		return "", err
	}
	ch, _, _, err := n.api.OpenConversationContext(ctx, &slackapi.OpenConversationParameters{Users: []string{uid}, ReturnIM: true})
	if err != nil {
		return "", fmt.Errorf("conversations.open with %s: %w", email, classify(err))
	}
	return ch.ID, nil
}

// SendApprovalCard sends r's approval card to an approver by direct message.
func (n *Notifier) SendApprovalCard(ctx context.Context, to governance.Person, r *governance.Request) (governance.MessageRef, error) {
	ch, err := n.dm(ctx, to.Email)
	if err != nil {
		return governance.MessageRef{}, err
	}
	blocks, fallback := ApprovalCard(r)
	channel, ts, err := n.api.PostMessageContext(ctx, ch, slackapi.MsgOptionBlocks(blocks...), slackapi.MsgOptionText(fallback, false))
	if err != nil {
		return governance.MessageRef{}, fmt.Errorf("chat.postMessage card %s: %w", r.ID, classify(err))
	}
	// chat.update needs the D… channel the message is in, which postMessage returns.
	return governance.MessageRef{Platform: Platform, Recipient: to.Email, Channel: channel, ID: ts}, nil
}

// UpdateApprovalCard redraws a card sent earlier, in place.
func (n *Notifier) UpdateApprovalCard(ctx context.Context, ref governance.MessageRef, r *governance.Request) error {
	if ref.Platform != Platform {
		return nil
	}
	blocks, fallback := ApprovalCard(r)
	_, _, _, err := n.api.UpdateMessageContext(ctx, ref.Channel, ref.ID, slackapi.MsgOptionBlocks(blocks...), slackapi.MsgOptionText(fallback, false))
	if err != nil {
		return fmt.Errorf("chat.update card %s: %w", r.ID, classify(err))
	}
	return nil
}

// Notify sends a notice to a person by direct message.
func (n *Notifier) Notify(ctx context.Context, to governance.Person, nt governance.Notice) error {
	ch, err := n.dm(ctx, to.Email)
	if err != nil {
		return err
	}
	text := NoticeText(nt)
	_, _, err = n.api.PostMessageContext(ctx, ch, slackapi.MsgOptionBlocks(section(text)), slackapi.MsgOptionText(plainText(text), false))
	if err != nil {
		return fmt.Errorf("chat.postMessage %s notice for %s: %w", nt.Kind, nt.Request.ID, classify(err))
	}
	return nil
}
