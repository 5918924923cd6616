package slack

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
)

// These turn Slack's wire format back into text a person reads in a terminal: the
// Transcript, the demo and the tests show messages this way.

var (
	linkRe = regexp.MustCompile(`<(https?://[^|>]+)\|([^>]*)>`)
	unesc  = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "\u200b", "")
	emoji  = emojiDrawn()
)

// emojiDrawn replaces each of accessbot's emoji codes by the icon it stands for.
func emojiDrawn() *strings.Replacer {
	var pairs []string
	for icon, code := range emojiCodes {
		pairs = append(pairs, code, string(icon))
	}
	return strings.NewReplacer(pairs...)
}

// fallbackText turns our mrkdwn into a message's notification text: dates in UTC (a date
// token's label) and no bold markers (*text* within a line), but still escaped, since
// Slack reads that text as mrkdwn too. Every message sent passes here, so it is scanned
// by hand rather than by regular expressions (the test holds the expressions it matches).
func fallbackText(s string) string {
	if strings.Contains(s, "<!date^") {
		s = dateLabels(s)
	}
	if strings.IndexByte(s, '*') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] == '*' {
			if j := strings.IndexAny(s[i+1:], "*\n"); j > 0 && s[i+1+j] == '*' {
				b.WriteString(s[i+1 : i+1+j])
				i += j + 2
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// dateLabels replaces each of Slack's date tokens in s by its label.
func dateLabels(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "<!date^") {
			if label, end, ok := dateLabel(s, i); ok {
				b.WriteString(label)
				i = end
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// dateLabel reads Slack's date token <!date^<unix>^<format>|<label>> at s[i:]: the label
// and the index after the token.
func dateLabel(s string, i int) (label string, end int, ok bool) {
	j := i + len("<!date^")
	if j < len(s) && s[j] == '-' {
		j++
	}
	digits := j
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == digits || j >= len(s) || s[j] != '^' {
		return "", 0, false
	}
	j++
	k := strings.IndexAny(s[j:], "|>")
	if k < 0 || s[j+k] != '|' {
		return "", 0, false
	}
	j += k + 1
	k = strings.IndexByte(s[j:], '>')
	if k < 0 {
		return "", 0, false
	}
	return s[j : j+k], j + k + 1, true
}

// PlainText renders mrkdwn as a person reads it: dates in UTC, no bold markers, entities
// decoded, emoji codes drawn.
func PlainText(s string) string {
	return emoji.Replace(unesc.Replace(linkRe.ReplaceAllString(fallbackText(s), "$2 ($1)")))
}

// flexText is a text object, or — in context blocks — the text itself.
type flexText struct{ Text string }

func (f *flexText) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &f.Text)
	}
	var t struct {
		Text string `json:"text"`
	}
	err := json.Unmarshal(b, &t)
	f.Text = t.Text
	return err
}

type wireOption struct {
	Text  flexText `json:"text"`
	Value string   `json:"value"`
}

type wireElement struct {
	Type        string       `json:"type"`
	Text        flexText     `json:"text"`
	Options     []wireOption `json:"options"`
	Placeholder *flexText    `json:"placeholder"`
	Style       string       `json:"style"`
}

type wireBlock struct {
	Type     string        `json:"type"`
	Text     *flexText     `json:"text"`
	Fields   []flexText    `json:"fields"`
	Elements []wireElement `json:"elements"`
	Element  *wireElement  `json:"element"`
	Label    *flexText     `json:"label"`
	Optional bool          `json:"optional"`
}

// BlocksText renders a JSON array of blocks as text: buttons as [ Approve ] [ Deny ],
// fields as "Label: value", inputs as "Label: [ ________ ]".
func BlocksText(blocksJSON []byte) string {
	var blocks []wireBlock
	if err := json.Unmarshal(blocksJSON, &blocks); err != nil {
		return string(blocksJSON)
	}
	var b strings.Builder
	for _, bl := range blocks {
		switch bl.Type {
		case "header":
			if bl.Text != nil {
				b.WriteString(bl.Text.Text + "\n")
			}
		case "section":
			if bl.Text != nil {
				b.WriteString(PlainText(bl.Text.Text) + "\n")
			}
			for _, f := range bl.Fields {
				label, value, _ := strings.Cut(PlainText(f.Text), "\n")
				b.WriteString(label + ": " + value + "\n")
			}
		case "context":
			var parts []string
			for _, e := range bl.Elements {
				parts = append(parts, PlainText(e.Text.Text))
			}
			b.WriteString("  " + strings.Join(parts, " ") + "\n")
		case "actions":
			var buttons []string
			for _, e := range bl.Elements {
				buttons = append(buttons, "[ "+e.Text.Text+" ]")
			}
			b.WriteString(strings.Join(buttons, " ") + "\n")
		case "input":
			label := ""
			if bl.Label != nil {
				label = bl.Label.Text
			}
			field := "[ ________ ]"
			if e := bl.Element; e != nil && len(e.Options) > 0 {
				var opts []string
				for _, o := range e.Options {
					opts = append(opts, o.Value)
				}
				field = "[ choose: " + strings.Join(opts, " | ") + " ]"
			} else if e != nil && e.Placeholder != nil {
				field = "[ " + e.Placeholder.Text + " ]"
			}
			if bl.Optional {
				label += " (optional)"
			}
			b.WriteString(label + ": " + field + "\n")
		case "divider":
			b.WriteString("———\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// MessageText renders a message from its text and blocks (JSON): the blocks when there
// are any, else the text.
func MessageText(text string, blocksJSON []byte) string {
	if len(blocksJSON) > 0 && string(blocksJSON) != "null" && string(blocksJSON) != "[]" {
		return BlocksText(blocksJSON)
	}
	return PlainText(text)
}

// ResponseText renders a message body (an HTTP answer or a response_url post) as text.
func ResponseText(body []byte) string {
	var m struct {
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return strings.TrimSpace(string(body))
	}
	return MessageText(m.Text, m.Blocks)
}

// ViewErrors renders the field errors of a view_submission answer, or "" if it has none.
func ViewErrors(body []byte) string {
	var m struct {
		Errors map[string]string `json:"errors"`
	}
	if json.Unmarshal(body, &m) != nil || len(m.Errors) == 0 {
		return ""
	}
	var lines []string
	for field, msg := range m.Errors {
		lines = append(lines, field+": "+msg)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
