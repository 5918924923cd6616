// Package voice is everything accessbot says, written once: each message (notices,
// approval cards, outcomes, lists, acknowledgements, errors, help) is built here as a
// small platform-neutral model, which bot/slack renders as Block Kit and bot/teams as an
// Adaptive Card. It knows the governance types it describes and none of a platform's
// workings: no markup, no escaping, no emoji codes, no limits, no SDK. (A few refusals
// name the platform they happen on; they are written here too.)
package voice

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/accessbot/accessbot/governance"
)

// Kind says what a Span holds, and so how a renderer writes it. Kind, Style and Limit
// are small so that a Span is 64 bytes rather than 80: every line allocates its spans.
type Kind uint8

// The kinds of span.
const (
	// Words are accessbot's own words. They hold no markup; renderers still escape them.
	Words Kind = iota
	// User is someone else's text (a name, a reason, an item's name, a backend's message):
	// escaped so that it can neither format, link nor mention, and cut at Limit characters.
	User
	// Date is a moment, shown in each reader's own time zone where the platform can.
	Date
	// Command is an accessbot command's text after the command name ("cancel AR-7"):
	// Slack writes it `/access cancel AR-7`, Teams `cancel AR-7`. The bare command (no
	// text, Slack's `/access`, which opens the form) is `request` in Teams.
	Command
	// Quote is someone else's text set apart as a quotation, cut at Limit characters.
	Quote
	// Link is a link accessbot made (URL) with accessbot's own words as its label (Text).
	Link
)

// Style is how a span is emphasised.
type Style uint8

// The styles of span.
const (
	Plain  Style = iota
	Strong       // bold: request ids, item names, headings inside text
	Emph         // italic: asides such as "none given"
	Code         // monospace: ids people type back
)

// Span is one piece of a line of text.
type Span struct {
	Kind  Kind
	Style Style
	Limit int32 // User, Quote, Command: at most this many characters of Text (0: all)
	Text  string
	At    time.Time // Date
	URL   string    // Link
}

// Text is a line (or several, split by "\n" in Words) of spans.
type Text []Span

// Icon is the emoji that leads a paragraph. Its value is the Unicode emoji, which Teams
// shows as it is and Slack maps to its own emoji code, so that both read the same.
type Icon string

// The icons accessbot uses.
const (
	IconNone     Icon = ""
	IconInbox    Icon = "📥"
	IconApproved Icon = "✅"
	IconDenied   Icon = "❌"
	IconWarning  Icon = "⚠️"
	IconUnlock   Icon = "🔓"
	IconLock     Icon = "🔒"
	IconStop     Icon = "🚫"
	IconTimeUp   Icon = "⌛"
	IconWaiting  Icon = "⏳"
	IconAlarm    Icon = "⏰"
	IconUp       Icon = "⬆️"
	IconAlert    Icon = "🚨"
	IconTada     Icon = "🎉"
	IconNews     Icon = "📰"
	IconInfo     Icon = "ℹ️"
)

// Icons is every icon, for renderers that map them.
func Icons() []Icon {
	return []Icon{IconInbox, IconApproved, IconDenied, IconWarning, IconUnlock, IconLock, IconStop, IconTimeUp,
		IconWaiting, IconAlarm, IconUp, IconAlert, IconTada, IconNews, IconInfo}
}

// Paragraph is a block of text, led by an icon.
type Paragraph struct {
	Icon Icon
	Text Text
}

// Field is a label and its value, shown side by side (Slack fields, a Teams FactSet).
type Field struct {
	Label string
	Value Text
}

// Action is what a button does.
type Action string

// The buttons accessbot puts on messages. Their values are the Slack action ids and the
// Teams verbs.
const (
	Approve Action = "approve"
	Deny    Action = "deny"
	Extend  Action = "extend"
	// Forward hands one of the backend's approvals to someone else (approvals: backend).
	Forward Action = "forward"
	// Open is a link to the request in the backend's own web UI (Button.URL).
	Open   Action = "open"
	Cancel Action = "cancel" // the requester withdraws their request (home view)
	Revoke Action = "revoke" // access ends now: the holder's (home view), an admin's (FYI of an auto-approval)
)

// Label is the button's caption.
func (a Action) Label() string {
	switch a {
	case Approve:
		return "Approve"
	case Deny:
		return "Deny"
	case Extend:
		return "Extend"
	case Forward:
		return "Forward"
	case Cancel:
		return "Cancel request"
	case Revoke:
		return "Revoke"
	}
	return string(a)
}

// Button is a button about one request.
type Button struct {
	Action  Action
	Request *governance.Request
	URL     string // Open: where the link goes
	Caption string // instead of the action's label
}

// Text is the button's caption.
func (b Button) Text() string {
	if b.Caption != "" {
		return b.Caption
	}
	return b.Action.Label()
}

// Message is one thing accessbot says, in the order renderers draw it: lead paragraphs,
// a title, fields, body paragraphs, buttons, a context line, then list rows (each a
// message of its own), cut with More where a platform cannot show them all.
type Message struct {
	Lead    []Paragraph // above the title: why this message reached its reader
	Title   string      // a heading; plain words, no markup
	Fields  []Field
	Body    []Paragraph
	Buttons []Button
	Context Text // small print at the end
	Rows    []Message
	// Compact rows are text only and may be drawn together, as many to a block as fit.
	Compact bool
	// More says that n rows were left out; nil: the default pointer to `status`.
	More func(n int) Text
	// List names a list that can be read again, so that a platform which shows a long
	// list a page at a time (Teams, whose cards have a size budget) can offer the next
	// page; empty for anything else.
	List List
	// Summary is the notification text; empty: the first paragraph.
	Summary Text
}

// List names a list of requests that can be read again for its next page.
type List string

// The lists accessbot shows.
const (
	ListPending List = "pending" // what waits for the reader's decision
	ListDigest  List = "digest"  // the same, as the daily digest
	ListStatus  List = "status"  // the reader's own requests
)

// MoreText is what a message says about the n rows a platform could not show.
func (m Message) MoreText(n int) Text {
	if m.More != nil {
		return m.More(n)
	}
	return line(fmt.Sprintf("…and %d more — see ", n), cmd("status"), ".")
}

// SummaryText is the notification text of the message: Summary, else the first
// paragraph's text.
func (m Message) SummaryText() Text {
	switch {
	case len(m.Summary) > 0:
		return m.Summary
	case len(m.Body) > 0:
		return m.Body[0].Text
	case len(m.Lead) > 0:
		return m.Lead[0].Text
	}
	return line(m.Title)
}

// line makes a Text of strings (accessbot's words), spans and texts.
func line(parts ...any) Text {
	n := 0 // the spans, counted first so that the line is allocated once
	for _, p := range parts {
		switch p := p.(type) {
		case string, Span:
			n++
		case Text:
			n += len(p)
		}
	}
	var t Text
	if n > 0 {
		t = make(Text, 0, n)
	}
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			if p != "" {
				t = append(t, Span{Kind: Words, Text: p})
			}
		case Span:
			t = append(t, p)
		case Text:
			t = append(t, p...)
		default:
			panic(fmt.Sprintf("voice: %T in a line", p))
		}
	}
	return t
}

func para(icon Icon, parts ...any) Paragraph { return Paragraph{Icon: icon, Text: line(parts...)} }

func user(s string, limit int32) Span { return Span{Kind: User, Text: s, Limit: limit} }

// words is accessbot's own words as a span, for a Text written as a literal.
func words(s string) Span { return Span{Kind: Words, Text: s} }

func strong(s string) Span { return Span{Kind: Words, Style: Strong, Text: s} }

func emph(s string) Span { return Span{Kind: Words, Style: Emph, Text: s} }

func date(t time.Time) Span { return Span{Kind: Date, At: t} }

func cmd(s string) Span { return Span{Kind: Command, Text: s} }

// cmdWith is a command with someone else's text in it (an item id), cut at limit.
func cmdWith(prefix, s string, limit int) Span {
	return Span{Kind: Command, Text: prefix + cut(s, limit)}
}

// Shown is the span's text as it is shown: cut at its Limit.
func (s Span) Shown() string { return cut(s.Text, int(s.Limit)) }

// cut cuts s to at most n characters (n <= 0: no limit), the cut marked with "…".
func cut(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s // most text: counted, not converted
	}
	return string([]rune(s)[:n-1]) + "…"
}
