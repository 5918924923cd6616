package teams

import (
	"cmp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/accessbot/accessbot/bot/voice"
)

// Card is an Adaptive Card as JSON. Cards use schema 1.5, the highest Teams renders for
// bots; buttons are Action.Execute (Universal Actions) with an Action.Submit fallback for
// clients that cannot execute.
type Card = map[string]any

// The verbs of the card buttons, and the card inputs.
const (
	VerbApprove = string(voice.Approve)
	VerbDeny    = string(voice.Deny)
	VerbExtend  = string(voice.Extend)
	VerbRequest = "request"

	InputReason   = voice.InputReason
	InputItem     = voice.InputItem
	InputDuration = voice.InputDuration

	// DataFrom in a button's data says which card the click came from: FromList for a
	// list of several requests (pending, digest), whose answer must keep the others.
	DataFrom = "from"
	FromList = "list"
)

// ContentType is an Adaptive Card attachment's content type.
const ContentType = "application/vnd.microsoft.card.adaptive"

const cardVersion = "1.5"

func card(body []any, actions ...any) Card {
	c := Card{"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"version": cardVersion, "body": body}
	if len(actions) > 0 {
		c["actions"] = actions
	}
	return c
}

func text(s string, opts ...func(map[string]any)) map[string]any {
	t := map[string]any{"type": "TextBlock", "text": s, "wrap": true}
	for _, o := range opts {
		o(t)
	}
	return t
}

func heading(t map[string]any) { t["weight"] = "Bolder"; t["size"] = "Medium" }
func subtle(t map[string]any)  { t["isSubtle"] = true; t["size"] = "Small" }

// execute is a button: Action.Execute with verb and data, falling back to Action.Submit
// with the same data (and the verb in it) where Execute is not supported.
func execute(title, verb string, data map[string]any) map[string]any {
	d := map[string]any{"verb": verb}
	for k, v := range data {
		d[k] = v
	}
	return map[string]any{"type": "Action.Execute", "title": title, "verb": verb, "data": d,
		"fallback": map[string]any{"type": "Action.Submit", "title": title, "data": d}}
}

// Escape makes user text inert in a TextBlock: no markdown, links or mentions.
func Escape(s string) string { return escapeN(s, -1) }

func escapeN(s string, n int) string {
	if n >= 0 && utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '*', '_', '[', ']', '(', ')', '#', '`', '~', '>', '<', '|', '{', '}', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\r':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// words escapes accessbot's own words: they hold no markup, but may hold characters
// that would start some (the <item> of a usage line), which stay characters.
var words = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`, "{", `\{`, "}", `\}`)

// Date renders t in the reader's own time zone (Adaptive Card date functions).
func Date(t time.Time) string {
	ts := t.UTC().Format("2006-01-02T15:04:05Z")
	return "{{DATE(" + ts + ", SHORT)}} {{TIME(" + ts + ")}}"
}

// maxRows is how many rows of a list one card shows; the rest are pointed to.
const maxRows = 20

// markup is how Teams writes the spans of voice in card markdown: every span escaped,
// dates in each reader's time zone, commands without a slash (the bare command, Slack's
// /access, is `request`), icons as the emoji themselves.
func markup() voice.Markup {
	return voice.Markup{Words: words.Replace, User: Escape, Date: Date,
		Command: func(c string) string { return "`" + cmp.Or(c, "request") + "`" },
		Icon:    func(i voice.Icon) string { return string(i) },
		Quote:   `\> `, Strong: "**", Emph: "_", Code: "`"}
}

// Markdown renders a line of voice as card markdown.
func Markdown(t voice.Text) string { return markup().Write(t) }

func paragraph(p voice.Paragraph) string { return markup().Paragraph(p) }

// Render draws a message as an Adaptive Card. Buttons come with the reason box Deny
// needs; buttons in a list row carry DataFrom = FromList and a reason box of their own.
func Render(m voice.Message) Card {
	body := items(m, false)
	if m.Compact {
		var lines []string
		for _, row := range m.Rows {
			for _, p := range row.Body {
				lines = append(lines, paragraph(p))
			}
		}
		if len(lines) > 0 {
			body = append(body, text(strings.Join(lines, "\n")))
		}
		return card(body)
	}
	rows, left := m.CutRows(maxRows)
	for _, row := range rows {
		body = append(body, map[string]any{"type": "Container", "separator": true, "items": items(row, true)})
	}
	if left > 0 {
		body = append(body, text(Markdown(m.MoreText(left)), subtle))
	}
	return card(body)
}

// items is a message's card elements without its rows.
func items(m voice.Message, inList bool) []any {
	body := []any{}
	for _, p := range m.Lead {
		body = append(body, text(paragraph(p), func(t map[string]any) { t["color"] = "Attention" }))
	}
	if m.Title != "" {
		body = append(body, text(words.Replace(m.Title), heading))
	}
	if len(m.Fields) > 0 {
		fs := []any{}
		for _, f := range m.Fields {
			fs = append(fs, map[string]any{"title": f.Label, "value": Markdown(f.Value)})
		}
		body = append(body, map[string]any{"type": "FactSet", "facts": fs})
	}
	for _, p := range m.Body {
		body = append(body, text(paragraph(p)))
	}
	if len(m.Buttons) > 0 {
		body = append(body, buttons(m.Buttons, inList)...)
	}
	if len(m.Context) > 0 {
		body = append(body, text(Markdown(m.Context), subtle))
	}
	return body
}

// buttons is an ActionSet of the buttons, after the reason box where one is Deny.
func buttons(bs []voice.Button, inList bool) []any {
	var out, actions []any
	for _, b := range bs {
		data := map[string]any{"request": b.Request.ID, "version": b.Request.Version}
		if inList {
			data[DataFrom] = FromList
		}
		if b.Action == voice.Deny {
			box := input(voice.ReasonBox())
			if inList { // one reason box per request in a list
				box["id"] = InputReason + "-" + b.Request.ID
			}
			out = append(out, box)
		}
		actions = append(actions, execute(b.Action.Label(), string(b.Action), data))
	}
	return append(out, map[string]any{"type": "ActionSet", "actions": actions})
}

// input is a form input as a card input.
func input(in voice.Input) map[string]any {
	m := map[string]any{"type": "Input.Text", "id": in.Name, "label": in.Label}
	if len(in.Choices) > 0 {
		choices := []any{}
		for _, c := range in.Choices {
			choices = append(choices, map[string]any{"title": c.Title, "value": c.Value})
		}
		m["type"], m["choices"] = "Input.ChoiceSet", choices
	}
	if in.Placeholder != "" {
		m["placeholder"] = in.Placeholder
	}
	if in.Multiline {
		m["isMultiline"] = true
	}
	if in.MaxLength > 0 {
		m["maxLength"] = in.MaxLength
	}
	if !in.Optional {
		m["isRequired"], m["errorMessage"] = true, in.Missing
	}
	return m
}

// FormCard draws a form as a card with its inputs and a submit button of verb.
func FormCard(f voice.Form, verb string) Card {
	body := []any{text(words.Replace(f.Title), heading)}
	if len(f.Intro) > 0 {
		body = append(body, text(Markdown(f.Intro)))
	}
	for _, in := range f.Inputs {
		body = append(body, input(in))
		if in.Hint != "" {
			body = append(body, text(words.Replace(in.Hint), subtle))
		}
	}
	return card(body, execute(f.Submit, verb, map[string]any{}))
}

// Summary is the notification text of a message: plain text, no markdown.
func Summary(m voice.Message) string { return PlainText(Markdown(m.SummaryText())) }
