package voice

import (
	"strings"
	"time"
)

// Markup is how a platform writes spans: renderers fill it in, and Write does the rest,
// so that the two renderers differ only in their marks and escaping.
type Markup struct {
	Words   func(string) string            // accessbot's own words, made inert
	User    func(string) string            // someone else's text, made inert
	Date    func(time.Time) string         // a moment, in each reader's time zone where possible
	Command func(string) string            // a command's text (escaped already) as the platform writes it, marks included
	Icon    func(Icon) string              // an icon, "" for none
	Link    func(url, label string) string // a link of ours; the label is escaped already
	// Quote starts each line of a quotation; Strong, Emph and Code enclose a span.
	Quote, Strong, Emph, Code string
}

// SizeHint is about how many bytes t takes when written, so that a builder rarely grows.
func (t Text) SizeHint() int {
	n := 0
	for i := range t {
		n += len(t[i].Text) + len(t[i].URL) + 8 // and marks, or an escape
	}
	return n
}

// Write renders a line of text.
func (mk Markup) Write(t Text) string {
	var b strings.Builder
	mk.WriteText(&b, t)
	return b.String()
}

// WriteText renders a line of text into b: Write, for a renderer that puts more around
// the line, without a string of its own.
func (mk Markup) WriteText(b *strings.Builder, t Text) {
	b.Grow(t.SizeHint())
	for _, s := range t {
		mark := ""
		switch s.Style {
		case Strong:
			mark = mk.Strong
		case Emph:
			mark = mk.Emph
		case Code:
			mark = mk.Code
		}
		b.WriteString(mark)
		switch s.Kind {
		case Date:
			b.WriteString(mk.Date(s.At))
		case Command:
			b.WriteString(mk.Command(mk.User(s.Shown())))
		case Quote:
			mk.writeQuote(b, mk.User(s.Shown()))
		case Words:
			b.WriteString(mk.Words(s.Text))
		case Link:
			b.WriteString(mk.Link(s.URL, mk.Words(s.Text)))
		default:
			b.WriteString(mk.User(s.Shown()))
		}
		b.WriteString(mark)
	}
}

// writeQuote writes text (escaped already) as a quotation: each of its lines started
// with the platform's Quote.
func (mk Markup) writeQuote(b *strings.Builder, text string) {
	for {
		first, rest, more := strings.Cut(text, "\n")
		b.WriteString(mk.Quote)
		b.WriteString(first)
		if !more {
			return
		}
		b.WriteByte('\n')
		text = rest
	}
}

// Paragraph renders a paragraph: its icon, if any, then its text.
func (mk Markup) Paragraph(p Paragraph) string {
	icon := mk.Icon(p.Icon)
	if icon == "" {
		return mk.Write(p.Text)
	}
	var b strings.Builder
	b.Grow(len(icon) + len(" ") + p.Text.SizeHint())
	b.WriteString(icon)
	b.WriteByte(' ')
	mk.WriteText(&b, p.Text)
	return b.String()
}
