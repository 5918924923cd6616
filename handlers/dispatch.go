package handlers

import (
	"context"

	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// dispatch carries out a parsed command for who, the same way for every platform: one
// Service call (or, for connected accounts, one call of acc), and what the person is told as a platform-neutral message for the
// platform to render. key makes a request idempotent ("" for none). The platform's own
// steps stay with it: opening a form (CommandForm, which never comes here), reading
// mentions, answering in time.
func dispatch(ctx context.Context, svc *governance.Service, acc Connections, who governance.Actor, cmd governance.Command, key string) (voice.Message, error) {
	if isConnectCommand(cmd) {
		return connectCommand(ctx, acc, who, cmd)
	}
	switch cmd.Kind {
	case governance.CommandHelp:
		return voice.Help(svc.Catalog().Items()), nil
	case governance.CommandRequest:
		req, err := svc.Request(ctx, governance.RequestInput{Requester: who, Item: cmd.Item, Duration: cmd.Duration,
			Reason: cmd.Reason, IdempotencyKey: key})
		return answer(voice.RequestCreated, req, err)
	case governance.CommandStatus:
		rs, err := svc.Mine(ctx, who.Person)
		return answer(voice.Status, rs, err)
	case governance.CommandPending:
		rs, err := svc.PendingFor(ctx, who.Person)
		return answer(voice.Pending, rs, err)
	case governance.CommandCancel:
		req, err := svc.Cancel(ctx, cmd.ID, who)
		return answer(voice.Cancelled, req, err)
	case governance.CommandRevoke:
		req, err := svc.Revoke(ctx, governance.RevokeInput{By: who, Target: cmd.Item, Holder: cmd.Holder})
		return answer(voice.Revoked, req, err)
	case governance.CommandExtend:
		req, err := svc.ExtendFor(ctx, cmd.ID, who, cmd.Duration)
		return answer(voice.RequestCreated, req, err)
	case governance.CommandSchedule:
		req, steps, err := svc.Schedule(ctx, cmd.ID, who.Person)
		if err != nil {
			return voice.Message{}, err
		}
		return voice.Schedule(req, steps), nil
	}
	return voice.Message{}, &governance.Problem{Err: governance.ErrBadCommand, Message: voice.UnknownCommand}
}

// answer is say(v), or err when there is one.
func answer[T any](say func(T) voice.Message, v T, err error) (voice.Message, error) {
	if err != nil {
		return voice.Message{}, err
	}
	return say(v), nil
}
