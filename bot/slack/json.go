package slack

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"
)

// The messages accessbot draws are written as JSON on every command (the answer, the
// card), and encoding/json spends most of that walking slack-go's block types by
// reflection and calling their MarshalJSON methods. appendBlock writes the kinds of block
// accessbot draws itself, byte for byte what encoding/json writes for them (json_test.go
// compares the two over every message voice draws, and fuzzes the strings); any other
// kind, or a part accessbot never sets (an accessory, a confirmation), goes through
// encoding/json as before.

// AppendJSON appends m as encoding/json writes it (HTML-escaped, without a newline).
func (m Message) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	if m.ResponseType != "" {
		b = append(b, `"response_type":`...)
		b = appendString(b, m.ResponseType)
		b = append(b, ',')
	}
	b, err := appendTextAndBlocks(b, m.Text, m.Blocks)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"replace_original":`...)
	b = strconv.AppendBool(b, m.ReplaceOriginal)
	return append(b, '}'), nil
}

// MarshalJSON is AppendJSON for encoding/json.
func (m Message) MarshalJSON() ([]byte, error) { return m.AppendJSON(make([]byte, 0, 2048)) }

// AppendJSON appends m, the body of chat.postMessage or chat.update, as encoding/json
// writes it.
func (m ChatMessage) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"channel":`...)
	b = appendString(b, m.Channel)
	b = appendField(b, "ts", m.TS)
	b = appendField(b, "thread_ts", m.ThreadTS)
	b = append(b, ',')
	b, err := appendTextAndBlocks(b, m.Text, m.Blocks)
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// appendTextAndBlocks appends "text" and, unless there are none, "blocks": the two fields
// every message has.
func appendTextAndBlocks(b []byte, text string, blocks []slackapi.Block) ([]byte, error) {
	b = append(b, `"text":`...)
	b = appendString(b, text)
	if len(blocks) == 0 {
		return b, nil
	}
	b = append(b, `,"blocks":`...)
	return appendBlocks(b, blocks)
}

// appendBlocks appends blocks as a JSON array.
func appendBlocks(b []byte, blocks []slackapi.Block) ([]byte, error) {
	b = append(b, '[')
	for i, block := range blocks {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendBlock(b, block); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

func appendBlock(b []byte, block slackapi.Block) ([]byte, error) {
	switch x := block.(type) {
	case *slackapi.HeaderBlock:
		if x != nil {
			b = appendType(b, string(x.Type))
			if x.Text != nil {
				b = append(b, `,"text":`...)
				b = appendText(b, x.Text)
			}
			b = appendField(b, "block_id", x.BlockID)
			if x.Level != 0 {
				b = append(b, `,"level":`...)
				b = strconv.AppendInt(b, int64(x.Level), 10)
			}
			return append(b, '}'), nil
		}
	case *slackapi.SectionBlock:
		if x != nil && x.Accessory == nil && !x.Expand && !hasNil(x.Fields) {
			b = appendType(b, string(x.Type))
			if x.Text != nil {
				b = append(b, `,"text":`...)
				b = appendText(b, x.Text)
			}
			b = appendField(b, "block_id", x.BlockID)
			if len(x.Fields) > 0 {
				b = append(b, `,"fields":`...)
				b = appendArray(b, x.Fields, appendText)
			}
			return append(b, '}'), nil
		}
	case *slackapi.ContextBlock:
		if x != nil && textsOnly(x.ContextElements.Elements) {
			return appendElements(b, x.Type, x.BlockID, x.ContextElements.Elements, func(b []byte, e slackapi.MixedElement) []byte {
				return appendText(b, e.(*slackapi.TextBlockObject))
			}), nil
		}
	case *slackapi.ActionBlock:
		if x != nil && x.Elements != nil && plainButtons(x.Elements.ElementSet) {
			return appendElements(b, x.Type, x.BlockID, x.Elements.ElementSet, func(b []byte, e slackapi.BlockElement) []byte {
				return appendButton(b, e.(*slackapi.ButtonBlockElement))
			}), nil
		}
	case *slackapi.DividerBlock:
		if x != nil {
			b = appendType(b, string(x.Type))
			b = appendField(b, "block_id", x.BlockID)
			return append(b, '}'), nil
		}
	}
	j, err := json.Marshal(block)
	return append(b, j...), err
}

// appendArray appends items as a JSON array, each written by each; a nil slice is null,
// as encoding/json writes it.
func appendArray[T any](b []byte, items []T, each func([]byte, T) []byte) []byte {
	if items == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, x := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = each(b, x)
	}
	return append(b, ']')
}

// appendElements appends a block that is its type, its block_id and its elements (a
// context block, an actions block).
func appendElements[T any](b []byte, typ slackapi.MessageBlockType, blockID string, elements []T, each func([]byte, T) []byte) []byte {
	b = appendType(b, string(typ))
	b = appendField(b, "block_id", blockID)
	b = append(b, `,"elements":`...)
	b = appendArray(b, elements, each)
	return append(b, '}')
}

// appendType opens an object with its "type".
func appendType(b []byte, t string) []byte {
	b = append(b, `{"type":`...)
	return appendString(b, t)
}

// appendField appends ,"name":"v" unless v is empty (omitempty).
func appendField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendText(b []byte, t *slackapi.TextBlockObject) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	b = appendType(b, t.Type)
	b = append(b, `,"text":`...)
	b = appendString(b, t.Text)
	if t.Emoji != nil {
		b = append(b, `,"emoji":`...)
		b = strconv.AppendBool(b, *t.Emoji)
	}
	if t.Verbatim {
		b = append(b, `,"verbatim":true`...)
	}
	return append(b, '}')
}

func appendButton(b []byte, x *slackapi.ButtonBlockElement) []byte {
	b = append(b, '{')
	if x.Type != "" {
		b = append(b, `"type":`...)
		b = appendString(b, string(x.Type))
		b = append(b, ',')
	}
	b = append(b, `"text":`...)
	b = appendText(b, x.Text)
	b = appendField(b, "action_id", x.ActionID)
	b = appendField(b, "url", x.URL)
	b = appendField(b, "value", x.Value)
	b = appendField(b, "style", string(x.Style))
	b = appendField(b, "accessibility_label", x.AccessibilityLabel)
	b = appendField(b, "agent_prompt", x.AgentPrompt)
	b = appendField(b, "agent_prompt_display", x.AgentPromptDisplay)
	return append(b, '}')
}

func hasNil(ts []*slackapi.TextBlockObject) bool {
	for _, t := range ts {
		if t == nil {
			return true
		}
	}
	return false
}

func textsOnly(es []slackapi.MixedElement) bool {
	for _, e := range es {
		if t, ok := e.(*slackapi.TextBlockObject); !ok || t == nil {
			return false
		}
	}
	return true
}

func plainButtons(es []slackapi.BlockElement) bool {
	for _, e := range es {
		if x, ok := e.(*slackapi.ButtonBlockElement); !ok || x == nil || x.Confirm != nil || x.VisibleToUserIDs != nil {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// jsonSafe says which ASCII bytes stand in a JSON string as they are, HTML escaping on.
var jsonSafe = func() (safe [utf8.RuneSelf]bool) {
	for c := byte(0x20); c < utf8.RuneSelf; c++ {
		safe[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return safe
}()

// appendString appends s as a JSON string, escaped as encoding/json escapes it with HTML
// escaping on: ", \ and control characters, <, > and &, U+2028 and U+2029, and each
// byte of invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
