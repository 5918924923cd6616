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
	VerbRevoke  = string(voice.Revoke)
	VerbForward = string(voice.Forward)
	VerbRequest = "request"

	InputReason   = voice.InputReason
	InputItem     = voice.InputItem
	InputDuration = voice.InputDuration
	InputFor      = voice.InputFor

	// DataFrom in a button's data says which card the click came from: FromList for a
	// list of several requests (pending, digest), whose answer must keep the others.
	DataFrom = "from"
	FromList = "list"

	// VerbMore is the button that shows the next page of a long list: DataList names the
	// list (a voice.List), DataOffset is where the page begins. A list row's buttons carry
	// the DataOffset of their page too.
	VerbMore   = "more"
	DataList   = "list"
	DataOffset = "offset"
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

// linkTarget escapes what would end a markdown link's target early.
var linkTarget = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20")

// Date renders t in the reader's own time zone (Adaptive Card date functions).
func Date(t time.Time) string {
	ts := t.UTC().Format("2006-01-02T15:04:05Z")
	return "{{DATE(" + ts + ", SHORT)}} {{TIME(" + ts + ")}}"
}

// markup is how Teams writes the spans of voice in card markdown: every span escaped,
// dates in each reader's time zone, commands without a slash (the bare command, Slack's
// /access, is `request`), icons as the emoji themselves.
func markup() voice.Markup {
	return voice.Markup{Words: words.Replace, User: Escape, Date: Date,
		Command: func(c string) string { return "`" + cmp.Or(c, "request") + "`" },
		Icon:    func(i voice.Icon) string { return string(i) },
		Link: func(url, label string) string {
			return "[" + label + "](" + linkTarget.Replace(url) + ")"
		},
		Quote: `\> `, Strong: "**", Emph: "_", Code: "`"}
}

// Markdown renders a line of voice as card markdown.
func Markdown(t voice.Text) string { return markup().Write(t) }

// Render draws a message as an Adaptive Card within the size budget, a long list's
// first page of rows. Buttons come with the reason box Deny needs; buttons in a list row
// carry DataFrom = FromList and a reason box of their own.
func Render(m voice.Message) Card { return RenderPage(m, 0) }

// RenderPage draws a message as an Adaptive Card within the size budget (see fit), its
// rows from offset on: PageRows of them, then the message's own "…and N more" and, for a
// list that can be read again (voice.Message.List), a button that shows the next page.
// An offset past the end shows the last page.
func RenderPage(m voice.Message, offset int) Card {
	if offset >= len(m.Rows) {
		offset = max(0, len(m.Rows)-PageRows)
	}
	offset = max(offset, 0)
	n := len(m.Rows) - offset
	if !m.Compact {
		n = min(n, PageRows)
	}
	return fit(func(d drawing, n int) Card { return d.message(m, offset, n) }, n)
}

// fit draws a card with draw, as it is if it fits the card's share of the budget, else
// with someone else's text cut shorter and shorter, and at last with fewer of its n rows
// (or choices): the largest number that fits.
func fit(draw func(d drawing, n int) Card, n int) Card {
	var c Card
	for _, limit := range cuts {
		if c = draw(drawing{limit: limit}, n); Size(c) <= maxCardBytes {
			return c
		}
	}
	last := drawing{limit: cuts[len(cuts)-1]}
	lo, hi := 0, n-1 // the largest count that fits lies in [lo, hi]; 0 rows may not fit either
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if Size(draw(last, mid)) <= maxCardBytes {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return draw(last, lo)
}

// cuts are the limits, in characters, fit puts on each piece of someone else's text in
// turn (0: only the message's own limits).
var cuts = []int{0, 1000, 500, 300, 200, 150, 100, 75, 50}

// drawing draws cards with someone else's text cut at limit characters (0: as the
// message says).
type drawing struct{ limit int }

func (d drawing) markup() voice.Markup {
	mk := markup()
	if d.limit > 0 {
		mk.User = func(s string) string { return escapeN(s, d.limit) }
	}
	return mk
}

func (d drawing) markdown(t voice.Text) string { return d.markup().Write(t) }

func (d drawing) paragraph(p voice.Paragraph) string { return d.markup().Paragraph(p) }

// message is m's card with n of its rows from offset on.
func (d drawing) message(m voice.Message, offset, n int) Card {
	body := d.items(m, false, 0)
	rows := m.Rows[offset : offset+n]
	left := len(m.Rows) - offset - n
	if m.Compact {
		var lines []string
		for _, row := range rows {
			for _, p := range row.Body {
				lines = append(lines, d.paragraph(p))
			}
		}
		if len(lines) > 0 {
			body = append(body, text(strings.Join(lines, "\n")))
		}
		if left > 0 {
			body = append(body, text(d.markdown(m.MoreText(left)), subtle))
		}
		return card(body)
	}
	if offset > 0 && n > 0 {
		body = append(body, text(d.markdown(voice.PageShown(offset+1, offset+n, len(m.Rows))), subtle))
	}
	for _, row := range rows {
		body = append(body, map[string]any{"type": "Container", "separator": true, "items": d.items(row, true, offset)})
	}
	if left > 0 {
		body = append(body, text(d.markdown(m.MoreText(left)), subtle))
		if m.List != "" {
			more := execute(voice.ShowMore(min(left, PageRows)), VerbMore, map[string]any{DataList: string(m.List), DataOffset: offset + n})
			body = append(body, map[string]any{"type": "ActionSet", "actions": []any{more}})
		}
	}
	return card(body)
}

// items is a message's card elements without its rows; offset is where the page of a
// list row begins.
func (d drawing) items(m voice.Message, inList bool, offset int) []any {
	body := []any{}
	for _, p := range m.Lead {
		body = append(body, text(d.paragraph(p), func(t map[string]any) { t["color"] = "Attention" }))
	}
	if m.Title != "" {
		body = append(body, text(words.Replace(m.Title), heading))
	}
	if len(m.Fields) > 0 {
		fs := []any{}
		for _, f := range m.Fields {
			fs = append(fs, map[string]any{"title": f.Label, "value": d.markdown(f.Value)})
		}
		body = append(body, map[string]any{"type": "FactSet", "facts": fs})
	}
	for _, p := range m.Body {
		body = append(body, text(d.paragraph(p)))
	}
	if len(m.Buttons) > 0 {
		body = append(body, buttons(m.Buttons, inList, offset)...)
	}
	if len(m.Context) > 0 {
		body = append(body, text(d.markdown(m.Context), subtle))
	}
	return body
}

// buttons is an ActionSet of the buttons, after the reason box where one is Deny. A
// list row's buttons say where its page begins, so that the answer shows that page.
func buttons(bs []voice.Button, inList bool, offset int) []any {
	var out, actions []any
	for _, b := range bs {
		if b.Action == voice.Open {
			actions = append(actions, map[string]any{"type": "Action.OpenUrl", "title": b.Text(), "url": b.URL})
			continue
		}
		data := map[string]any{"request": b.Request.ID}
		if inList {
			data[DataFrom] = FromList
			if offset > 0 {
				data[DataOffset] = offset
			}
		}
		if b.Action == voice.Forward && !inList { // whom to, beside the reason box, which carries the comment
			out = append(out, input(voice.ForwardTo()))
		}
		if b.Action == voice.Deny {
			box := input(voice.ReasonBox())
			if inList { // one reason box per request in a list; its label says enough
				box["id"] = InputReason + "-" + b.Request.ID
				delete(box, "placeholder")
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

// FormCard draws a form as a card with its inputs and a submit button of verb, within
// the size budget: a choice list too long for it shows the choices that fit, and says so.
func FormCard(f voice.Form, verb string) Card {
	choices := 0
	for _, in := range f.Inputs {
		choices = max(choices, len(in.Choices))
	}
	return fit(func(d drawing, n int) Card { return d.form(f, verb, n) }, choices)
}

// form is f's card with at most n choices in each choice input.
func (d drawing) form(f voice.Form, verb string, n int) Card {
	body := []any{text(words.Replace(f.Title), heading)}
	if len(f.Intro) > 0 {
		body = append(body, text(d.markdown(f.Intro)))
	}
	for _, in := range f.Inputs {
		total := len(in.Choices)
		if total > n {
			in.Choices = in.Choices[:max(n, 1)]
		}
		body = append(body, input(in))
		if total > len(in.Choices) {
			body = append(body, text(d.markdown(voice.FormShows(len(in.Choices), total)), subtle))
		}
		if in.Hint != "" {
			body = append(body, text(words.Replace(in.Hint), subtle))
		}
	}
	return card(body, execute(f.Submit, verb, map[string]any{}))
}

// Summary is the notification text of a message: plain text, no markdown.
func Summary(m voice.Message) string { return PlainText(Markdown(m.SummaryText())) }
