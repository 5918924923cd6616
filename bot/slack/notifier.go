package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// Notifier tells people things through Slack direct messages: approval cards to
// approvers, updates of those cards, and notices to requesters. Its errors tell the
// outbox what to do: governance.RetryAfterError when Slack rate-limits, a
// governance.PermanentError when no retry can help, a plain error otherwise.
type Notifier struct {
	api    API
	dir    *Directory
	log    *slog.Logger
	admins string // channel id of the admin channel; "" when there is none

	mu  sync.Mutex
	dms map[string]string // Slack user id → D… channel; a DM's id never changes
}

var _ governance.Notifier = (*Notifier)(nil)

// NotifierOption tunes a Notifier.
type NotifierOption func(*Notifier)

// WithAdminChannel names the Slack channel (C…, with accessbot in it) that escalations
// are posted to, with working buttons.
func WithAdminChannel(channelID string) NotifierOption {
	return func(n *Notifier) { n.admins = channelID }
}

// NewNotifier returns a Notifier sending through api and finding people through dir.
func NewNotifier(api API, dir *Directory, log *slog.Logger, opts ...NotifierOption) *Notifier {
	if log == nil {
		log = slog.Default()
	}
	n := &Notifier{api: api, dir: dir, log: log, dms: map[string]string{}}
	for _, o := range opts {
		o(n)
	}
	return n
}

// dm returns the direct-message channel with the person who has this e-mail address.
func (n *Notifier) dm(ctx context.Context, email string) (string, error) {
	uid, err := n.dir.UserID(ctx, email)
	if err != nil {
		return "", err
	}
	n.mu.Lock()
	ch, ok := n.dms[uid]
	n.mu.Unlock()
	if ok {
		return ch, nil
	}
	c, _, _, err := n.api.OpenConversationContext(ctx, &slackapi.OpenConversationParameters{Users: []string{uid}, ReturnIM: true})
	if err != nil {
		return "", fmt.Errorf("conversations.open with %s (%s): %w", email, uid, classify(err))
	}
	n.mu.Lock()
	n.dms[uid] = c.ID
	n.mu.Unlock()
	return c.ID, nil
}

// post sends a message to a DM and says where it landed.
func (n *Notifier) post(ctx context.Context, ch string, blocks []slackapi.Block, fallback string) (channel, ts string, err error) {
	if err := CheckBlocks(blocks, MaxMessageBlocks); err != nil {
		return "", "", governance.Permanent(fmt.Errorf("message breaks a Block Kit limit: %w", err))
	}
	channel, ts, err = n.api.PostJSONContext(ctx, ChatMessage{Channel: ch, Text: fallback, Blocks: blocks})
	return channel, ts, classify(err)
}

// SendApprovalCard sends r's approval card to an approver by direct message. The
// reference holds the D… channel and ts that chat.update needs later.
func (n *Notifier) SendApprovalCard(ctx context.Context, to governance.Person, r *governance.Request) (governance.MessageRef, error) {
	// A guest never decides (docs/slack.md): no card to click in vain, and the log says why.
	if n.dir.dev == nil {
		u, err := n.dir.byEmail(ctx, strings.ToLower(strings.TrimSpace(to.Email)))
		if err != nil {
			return governance.MessageRef{}, err // as dm would say it, without asking Slack twice
		}
		if u.Guest {
			return governance.MessageRef{}, governance.Permanent(fmt.Errorf(
				"%s is a guest of the Slack workspace, and guests never decide: no approval card of %s was sent; name a member as approver instead",
				to.Email, r.ID))
		}
	}
	ch, err := n.dm(ctx, to.Email)
	if err != nil {
		return governance.MessageRef{}, err
	}
	blocks, fallback := Blocks(voice.CardFor(r, to))
	channel, ts, err := n.post(ctx, ch, blocks, fallback)
	if err != nil {
		return governance.MessageRef{}, fmt.Errorf("chat.postMessage card %s to %s: %w", r.ID, to.Email, err)
	}
	return governance.MessageRef{Platform: Platform, Recipient: to.Email, Channel: channel, ID: ts}, nil
}

// UpdateApprovalCard redraws a card sent earlier, in place: the outcome, who decided and
// when, and no buttons once the request is no longer pending. References to cards on
// other platforms are not this notifier's and are left alone.
func (n *Notifier) UpdateApprovalCard(ctx context.Context, ref governance.MessageRef, r *governance.Request) error {
	if ref.Platform != Platform {
		return nil
	}
	m := voice.CardFor(r, governance.Person{Email: ref.Recipient})
	if ref.Recipient == governance.ChannelRecipient {
		m = voice.ChannelCard(r)
	}
	blocks, fallback := Blocks(m)
	if err := CheckBlocks(blocks, MaxMessageBlocks); err != nil {
		return governance.Permanent(fmt.Errorf("card %s breaks a Block Kit limit: %w", r.ID, err))
	}
	_, _, err := n.api.UpdateJSONContext(ctx, ChatMessage{Channel: ref.Channel, TS: ref.ID, Text: fallback, Blocks: blocks})
	if err != nil {
		return fmt.Errorf("chat.update card %s for %s: %w", r.ID, ref.Recipient, classify(err))
	}
	return nil
}

// Notify sends a notice to a person by direct message.
func (n *Notifier) Notify(ctx context.Context, to governance.Person, nt governance.Notice) error {
	ch, err := n.dm(ctx, to.Email)
	if err != nil {
		return err
	}
	blocks, fallback := Blocks(voice.Notice(nt))
	if c := nt.Card; c != nil && c.Platform == Platform && nt.Kind == governance.NoticeReminder {
		// A link to the original card; the reminder's own buttons work without it.
		if link, err := n.api.GetPermalinkContext(ctx, &slackapi.PermalinkParameters{Channel: c.Channel, Ts: c.ID}); err == nil {
			blocks = append(blocks, note("<"+link+"|"+voice.OriginalCard+">"))
		}
	}
	if _, _, err := n.post(ctx, ch, blocks, fallback); err != nil {
		return fmt.Errorf("chat.postMessage %s notice of %s to %s: %w", nt.Kind, nt.Request.ID, to.Email, err)
	}
	return nil
}

// Digest sends an approver the requests waiting for their decision, with working buttons.
func (n *Notifier) Digest(ctx context.Context, to governance.Person, pending []*governance.Request) error {
	ch, err := n.dm(ctx, to.Email)
	if err != nil {
		return err
	}
	blocks, fallback := Blocks(voice.Digest(pending))
	if _, _, err := n.post(ctx, ch, blocks, fallback); err != nil {
		return fmt.Errorf("chat.postMessage digest to %s: %w", to.Email, err)
	}
	return nil
}

// TimeZone is the person's time zone as Slack shows it, or nil when unknown.
func (n *Notifier) TimeZone(ctx context.Context, to governance.Person) (*time.Location, error) {
	return n.dir.TimeZone(ctx, to.Email)
}

// AlertAdmins posts an escalated request to the admin channel with working buttons. ok is
// false, and nothing is sent, when no admin channel is configured.
func (n *Notifier) AlertAdmins(ctx context.Context, r *governance.Request) (governance.MessageRef, bool, error) {
	if n.admins == "" {
		return governance.MessageRef{}, false, nil
	}
	blocks, fallback := Blocks(voice.AdminAlert(r))
	channel, ts, err := n.post(ctx, n.admins, blocks, fallback)
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) && se.Err == "not_in_channel" {
		return governance.MessageRef{}, false, fmt.Errorf("escalation of %s: accessbot is not a member of the admin channel %s; "+
			"invite it there (/invite @accessbot in the channel), or it cannot post alerts: %w", r.ID, n.admins, err)
	}
	if err != nil {
		return governance.MessageRef{}, false, fmt.Errorf("chat.postMessage escalation of %s to %s: %w", r.ID, n.admins, err)
	}
	return governance.MessageRef{Platform: Platform, Channel: channel, ID: ts}, true, nil
}

// AccountConnected tells a person by direct message that their account at backend is connected.
func (n *Notifier) AccountConnected(ctx context.Context, to governance.Person, backend string, as governance.Identity) error {
	ch, err := n.dm(ctx, to.Email)
	if err != nil {
		return err
	}
	blocks, fallback := Blocks(voice.AccountConnected(backend, as))
	if _, _, err := n.post(ctx, ch, blocks, fallback); err != nil {
		return fmt.Errorf("chat.postMessage account connected to %s: %w", to.Email, err)
	}
	return nil
}
