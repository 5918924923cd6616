package teams

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// These turn cards back into text a person reads in a terminal, the way bot/slack's
// BlocksText reads Block Kit: the tests compare the two.

var dateRe = regexp.MustCompile(`\{\{DATE\(([0-9TZ:-]+), SHORT\)\}\} \{\{TIME\([0-9TZ:-]+\)\}\}`)

// linkRe is a link in card markdown, [label](url), its label escaped.
var linkRe = regexp.MustCompile(`\[((?:[^\]\\]|\\.)*)\]\((https?://[^)\s]+)\)`)

// PlainText renders card markdown as a person reads it: dates in UTC, no bold markers,
// links as "label (url)", escapes undone.
func PlainText(s string) string {
	s = dateRe.ReplaceAllStringFunc(s, func(m string) string {
		t, err := time.Parse("2006-01-02T15:04:05Z", dateRe.FindStringSubmatch(m)[1])
		if err != nil {
			return m
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	})
	s = linkRe.ReplaceAllString(s, "$1 ($2)")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case strings.HasPrefix(s[i:], "**"):
			i++
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// CardText renders a card as text: text blocks as they read (small print indented by
// two spaces), facts as "Label: value", buttons as [ Approve ] [ Deny ]; inputs are left
// out.
func CardText(c Card) string {
	var b strings.Builder
	var walk func(elems []any)
	walk = func(elems []any) {
		for _, e := range elems {
			el, _ := e.(map[string]any)
			switch el["type"] {
			case "TextBlock":
				if el["isSubtle"] == true {
					b.WriteString("  ")
				}
				b.WriteString(PlainText(fmt.Sprint(el["text"])) + "\n")
			case "FactSet":
				facts, _ := el["facts"].([]any)
				for _, f := range facts {
					fm, _ := f.(map[string]any)
					fmt.Fprintf(&b, "%s: %s\n", fm["title"], PlainText(fmt.Sprint(fm["value"])))
				}
			case "Container":
				items, _ := el["items"].([]any)
				walk(items)
			case "ActionSet":
				actions, _ := el["actions"].([]any)
				var titles []string
				for _, a := range actions {
					am, _ := a.(map[string]any)
					titles = append(titles, fmt.Sprintf("[ %s ]", am["title"]))
				}
				b.WriteString(strings.Join(titles, " ") + "\n")
			}
		}
	}
	body, _ := c["body"].([]any)
	walk(body)
	return strings.TrimRight(b.String(), "\n")
}
