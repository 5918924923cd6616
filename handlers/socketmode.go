package handlers

import (
	"context"
	"errors"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	slackbot "github.com/accessbot/accessbot/bot/slack"
)

// ackTimeout bounds handing an acknowledgement to the connection's writer. Slack waits
// 3 seconds for it; a later one is useless.
const ackTimeout = 3 * time.Second

// SocketMode serves Slack's slash commands, interactions and events over Socket Mode: WebSocket
// connections accessbot opens to Slack, so that Slack needs no way in. Every envelope is
// answered by the same functions as POST /slack/commands, /slack/interactions and
// /slack/events, and
// acknowledged with what the HTTP answer's body would be.
//
// slack-go's client closes its socket before it opens the next one (on Slack's
// disconnect, a dropped connection or a missed ping), so SocketMode holds several
// connections, each with a client of its own: while one reconnects, Slack sends to the
// others. It reads each client's Events at once and answers every envelope on a
// goroutine of its own, since a full Events channel stops the client reading pings.
type SocketMode struct {
	s       *slackHandler
	clients []*socketmode.Client
	wg      sync.WaitGroup // envelopes being answered
}

// NewSocketMode serves Slack over clients (socketmode.New over a slack-go client with
// the app-level token), one connection each, with cfg's Slack settings; SigningSecret is
// not needed, the connection being authenticated by the token.
func NewSocketMode(cfg Config, clients ...*socketmode.Client) *SocketMode {
	if len(clients) == 0 {
		panic("handlers: NewSocketMode needs a client")
	}
	return &SocketMode{s: newSlackHandler(cfg), clients: clients}
}

// Run holds the connections until ctx ends, or until Slack refuses the app-level token
// (then it returns why), and waits for the envelopes it is answering.
func (m *SocketMode) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(m.clients))
	var conns sync.WaitGroup
	for i, c := range m.clients {
		conns.Go(func() {
			err := c.RunContext(ctx)
			if ctx.Err() == nil {
				// RunContext reconnects by itself; it returns only when Slack refuses
				// the token, and then every connection would fail alike.
				m.s.log.Error("slack socket mode stopped", "connection", i, "err", err)
				errc <- err
				cancel()
			}
		})
		conns.Go(func() { m.read(ctx, i, c) })
	}
	conns.Wait()
	m.wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// read takes every event of connection i's client as it comes, until ctx ends.
func (m *SocketMode) read(ctx context.Context, i int, c *socketmode.Client) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-c.Events:
			m.event(ctx, i, c, evt)
		}
	}
}

// event handles one event: an envelope is answered on a goroutine of its own, the
// client's own events (connecting, connected, errors) are logged.
func (m *SocketMode) event(ctx context.Context, i int, c *socketmode.Client, evt socketmode.Event) {
	log := m.s.log
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		log.DebugContext(ctx, "slack socket mode connecting", "connection", i)
	case socketmode.EventTypeConnected:
		log.InfoContext(ctx, "slack socket mode connected", "connection", i)
	case socketmode.EventTypeHello:
		log.DebugContext(ctx, "slack socket mode hello", "connection", i)
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth, socketmode.EventTypeIncomingError,
		socketmode.EventTypeErrorWriteFailed, socketmode.EventTypeErrorBadMessage:
		log.WarnContext(ctx, "slack socket mode trouble", "connection", i, "event", evt.Type, "detail", evt.Data)
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
		if evt.Request == nil {
			return
		}
		m.wg.Go(func() { m.envelope(context.WithoutCancel(ctx), c, evt) })
	}
}

// envelope answers one envelope and acknowledges it with the answer. An envelope
// accessbot cannot read is acknowledged empty all the same, so Slack does not send it
// again.
func (m *SocketMode) envelope(ctx context.Context, c *socketmode.Client, evt socketmode.Event) {
	req := evt.Request
	attrs := []any{"envelope", req.EnvelopeID, "retry", req.RetryAttempt}
	var (
		answer      any
		responseURL string // where a command's answer goes if the ack cannot carry it
		err         error
		acked       bool // by a command whose work outlasted Slack's deadline
	)
	switch d := evt.Data.(type) {
	case slackapi.SlashCommand:
		early := func(msg slackbot.Message) {
			acked = true
			m.ack(ctx, c, req.EnvelopeID, &msg, d.ResponseURL, attrs)
		}
		var msg *slackbot.Message
		if msg, err = m.s.slashCommand(ctx, d, early, attrs...); msg != nil {
			answer, responseURL = msg, d.ResponseURL
		}
		if acked { // answerInTime orders the timer's write before its return
			return
		}
	case slackapi.InteractionCallback:
		var v *slackapi.ViewSubmissionResponse
		if v, err = m.s.interact(ctx, &d); v != nil {
			answer = v
		}
	case slackevents.EventsAPIEvent:
		// Acknowledged empty (events_api envelopes take no payload); what the event asks
		// for is done after, as over HTTP.
		m.s.event(ctx, d, attrs...)
	}
	if err != nil {
		m.s.log.WarnContext(ctx, "slack envelope refused", append(attrs, "type", evt.Type, "reason", err.Error())...)
	}
	m.ack(ctx, c, req.EnvelopeID, answer, responseURL, attrs)
}

// ack acknowledges envelope id with answer (nil: an empty acknowledgement). Slack drops an
// acknowledgement of 20 KB or more without a word, and slack-go refuses to send one: a
// command's answer that large is acknowledged empty and posted to its responseURL.
func (m *SocketMode) ack(ctx context.Context, c *socketmode.Client, id string, answer any, responseURL string, attrs []any) {
	ctx, cancel := context.WithTimeout(ctx, ackTimeout)
	defer cancel()
	err := c.AckCtx(ctx, id, answer)
	if err != nil && answer != nil && !errors.Is(err, context.DeadlineExceeded) {
		if msg, ok := answer.(*slackbot.Message); ok && responseURL != "" {
			m.s.log.InfoContext(ctx, "slack answer too large for the acknowledgement; sent through response_url", append(attrs, "err", err)...)
			m.s.reply(ctx, responseURL, *msg, attrs...)
			err = c.AckCtx(ctx, id, nil)
		}
	}
	if err != nil {
		m.s.log.ErrorContext(ctx, "slack envelope not acknowledged", append(attrs, "err", err)...)
	}
}
