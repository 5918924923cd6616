package governance

import (
	"context"
	"fmt"
	"slices"
)

// ChannelNotifier is a Notifier that can also post an approval card to a channel, where
// any of the request's approvers decides, and record what happens to the request in the
// card's thread.
type ChannelNotifier interface {
	// SendChannelCard posts r's approval card to channel (ItemRef.Channel) and says where.
	SendChannelCard(ctx context.Context, channel string, r *Request) (MessageRef, error)
	// ChannelNote records n (a reminder, an escalation) in the thread of the channel card ref.
	ChannelNote(ctx context.Context, ref MessageRef, n Notice) error
}

// ChannelRecipient is the Recipient of the MessageRef of a channel card.
const ChannelRecipient = "channel"

// channelTasks are what a change of r means for its approval channel: the card, when r
// is new; a note in its thread for a reminder or an escalation.
func channelTasks(prev, r *Request, fx *Effects) []Task {
	if r.Item.Channel == "" {
		return nil
	}
	if prev == nil {
		return []Task{{Kind: TaskChannelCard, RequestID: r.ID, To: ChannelRecipient}}
	}
	var tasks []Task
	for _, a := range fx.Audit {
		switch a.Event {
		case EventRemind:
			tasks = append(tasks, Task{Kind: TaskChannelNote, RequestID: r.ID, To: ChannelRecipient, Notice: NoticeReminder, N: r.Reminders})
		case EventEscalate:
			tasks = append(tasks, Task{Kind: TaskChannelNote, RequestID: r.ID, To: ChannelRecipient, Notice: NoticeEscalated, N: r.Escalations})
		}
	}
	return tasks
}

// sendChannelCard delivers a TaskChannelCard: the card goes to the channel once, while
// the request waits for a decision (one decided before it went out needs none). The card
// it sent is saved with the task's acknowledgement.
func (s *Service) sendChannelCard(ctx context.Context, r *Request, refs []MessageRef) (*SentCard, error) {
	cn, ok := s.notifier.(ChannelNotifier)
	if !ok || r.State != StatePendingApproval || slices.ContainsFunc(refs, isChannelCard) {
		return nil, nil
	}
	ref, err := cn.SendChannelCard(ctx, r.Item.Channel, r)
	if err != nil {
		return nil, fmt.Errorf("send card for %s to %s: %w", r.ID, r.Item.Channel, err)
	}
	ref.Recipient = ChannelRecipient
	return &SentCard{Request: r, Ref: ref}, nil
}

// channelNote delivers a TaskChannelNote in the thread of the request's channel card.
func (s *Service) channelNote(ctx context.Context, t Task, r *Request, refs []MessageRef) error {
	cn, ok := s.notifier.(ChannelNotifier)
	i := slices.IndexFunc(refs, isChannelCard)
	if !ok || i < 0 || stale(t, r, s.clock.Now()) { // a reminder of a request decided since, or superseded
		return nil
	}
	if first, err := s.firstDelivery(ctx, t); err != nil || !first {
		return err
	}
	if err := cn.ChannelNote(ctx, refs[i], Notice{Kind: t.Notice, Request: r}); err != nil {
		return fmt.Errorf("note %s of %s in %s: %w", t.Notice, r.ID, refs[i].Channel, err)
	}
	return nil
}

func isChannelCard(ref MessageRef) bool { return ref.Recipient == ChannelRecipient }
