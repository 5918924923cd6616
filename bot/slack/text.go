package slack

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
)

// These turn Slack's wire format back into text a person reads in a terminal: the
// development transcript, `accessbot say` and the demo show messages this way.

var (
	dateRe = regexp.MustCompile(`<!date\^\d+\^[^|>]*\|([^>]*)>`)
	boldRe = regexp.MustCompile(`\*([^*\n]+)\*`)
	unesc  = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "\u200b", "")
	emoji  = strings.NewReplacer(":white_check_mark:", "✅", ":x:", "❌", ":warning:", "⚠️", ":unlock:", "🔓",
		":no_entry_sign:", "🚫", ":hourglass:", "⌛", ":inbox_tray:", "📥", ":tada:", "🎉")
)

// plainText renders mrkdwn as plain text: dates in UTC, no bold markers, entities decoded.
func plainText(s string) string {
	s = dateRe.ReplaceAllString(s, "$1")
	s = boldRe.ReplaceAllString(s, "$1")
	return emoji.Replace(unesc.Replace(s))
}

type wireText struct {
	Text string `json:"text"`
}

// flexText is a text object, or — in context blocks — the text itself.
type flexText struct{ Text string }

func (f *flexText) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &f.Text)
	}
	var t wireText
	err := json.Unmarshal(b, &t)
	f.Text = t.Text
	return err
}

type wireOption struct {
	Text  wireText `json:"text"`
	Value string   `json:"value"`
}

type wireElement struct {
	Type     string       `json:"type"`
	Text     flexText     `json:"text"`
	Options  []wireOption `json:"options"`
	Multi    bool         `json:"multiline"`
	ActionID string       `json:"action_id"`
}

type wireBlock struct {
	Type     string        `json:"type"`
	Text     *wireText     `json:"text"`
	Fields   []wireText    `json:"fields"`
	Elements []wireElement `json:"elements"`
	Element  *wireElement  `json:"element"`
	Label    *wireText     `json:"label"`
	Optional bool          `json:"optional"`
}

// BlocksText renders a JSON array of blocks as text.
func BlocksText(blocksJSON []byte) string {
	var blocks []wireBlock
	if err := json.Unmarshal(blocksJSON, &blocks); err != nil {
		return string(blocksJSON)
	}
	var b strings.Builder
	for _, bl := range blocks {
		switch bl.Type {
		case "header":
			b.WriteString(plainText(bl.Text.Text) + "\n")
		case "section":
			if bl.Text != nil {
				b.WriteString(plainText(bl.Text.Text) + "\n")
			}
			for _, f := range bl.Fields {
				label, value, _ := strings.Cut(plainText(f.Text), "\n")
				b.WriteString(label + ": " + value + "\n")
			}
		case "context":
			for _, e := range bl.Elements {
				b.WriteString("  " + plainText(e.Text.Text) + "\n")
			}
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

// ResponseText renders a message body (an HTTP answer or a response_url post) as text.
func ResponseText(body []byte) string {
	var m struct {
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return strings.TrimSpace(string(body))
	}
	if len(m.Blocks) > 0 && string(m.Blocks) != "null" {
		return BlocksText(m.Blocks)
	}
	return plainText(m.Text)
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
