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

// Write renders a line of text.
func (mk Markup) Write(t Text) string {
	var b strings.Builder
	n := 0 // about what the line takes, so that the builder rarely grows
	for i := range t {
		n += len(t[i].Text) + len(t[i].URL) + 8
	}
	b.Grow(n)
	for _, s := range t {
		var piece string
		switch s.Kind {
		case Date:
			piece = mk.Date(s.At)
		case Command:
			piece = mk.Command(mk.User(s.Shown()))
		case Quote:
			piece = mk.Quote + strings.ReplaceAll(mk.User(s.Shown()), "\n", "\n"+mk.Quote)
		case Words:
			piece = mk.Words(s.Text)
		case Link:
			piece = mk.Link(s.URL, mk.Words(s.Text))
		default:
			piece = mk.User(s.Shown())
		}
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
		b.WriteString(piece)
		b.WriteString(mark)
	}
	return b.String()
}

// Paragraph renders a paragraph: its icon, if any, then its text.
func (mk Markup) Paragraph(p Paragraph) string {
	if icon := mk.Icon(p.Icon); icon != "" {
		return icon + " " + mk.Write(p.Text)
	}
	return mk.Write(p.Text)
}
