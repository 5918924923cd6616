package slack

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"
)

// Block Kit limits (docs.slack.dev reference/block-kit). slack-go checks almost none of
// them, and Slack refuses a whole message or modal that breaks one (invalid_blocks), so
// the renderer keeps them and CheckBlocks/CheckView prove it.
const (
	MaxMessageBlocks = 50
	MaxModalBlocks   = 100
	MaxHomeBlocks    = 100 // a Home tab view
	maxSectionText   = 3000
	maxFieldText     = 2000
	maxFields        = 10
	maxHeader        = 150
	maxContextItems  = 10
	maxActions       = 25
	maxID            = 255 // block_id, action_id, callback_id
	maxButtonText    = 75
	maxButtonValue   = 2000
	maxURL           = 3000
	maxOptions       = 100
	maxOptionValue   = 75
	maxOptionText    = 75
	maxPlaceholder   = 150
	maxLabel         = 2000
	maxTitle         = 24 // modal title, submit, close
	maxMetadata      = 3000
	maxText          = 4000 // a message's fallback text; Slack truncates far later, people give up sooner
)

// CheckBlocks reports the first Block Kit limit that blocks break, or nil. max is
// MaxMessageBlocks for a message, MaxModalBlocks for a modal.
func CheckBlocks(blocks []slackapi.Block, max int) error {
	if len(blocks) > max {
		return fmt.Errorf("%d blocks; at most %d are allowed", len(blocks), max)
	}
	for i, b := range blocks {
		err, known := checkTyped(b)
		if !known {
			err = checkAsSent(b)
		}
		if err != nil {
			kind := "nil"
			if b != nil {
				kind = string(b.BlockType())
			}
			return fmt.Errorf("block %d (%s): %w", i+1, kind, err)
		}
	}
	return nil
}

// checkAsSent checks a block as Slack receives it, in JSON: for blocks checkTyped does
// not know.
func checkAsSent(b slackapi.Block) error {
	raw, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	var wire map[string]any
	if err := json.Unmarshal(raw, &wire); err != nil || wire == nil {
		return fmt.Errorf("not a block object")
	}
	return checkBlock(wire)
}

// checkTyped checks the blocks the renderer makes without encoding them, which is most
// of the cost of sending a card otherwise. known is false for anything else, which
// checkAsSent then checks. It must say what checkBlock says (TestCheckTyped_AgreesWithTheWireCheck).
func checkTyped(b slackapi.Block) (err error, known bool) {
	if !typedKnows(b) {
		return nil, false
	}
	if err := checkLen("block_id", b.ID(), 0, maxID); err != nil {
		return err, true
	}
	text := func(t *slackapi.TextBlockObject) string {
		if t == nil {
			return ""
		}
		return t.Text
	}
	switch b := b.(type) {
	case *slackapi.SectionBlock:
		if b.Text == nil && len(b.Fields) == 0 {
			return fmt.Errorf("a section needs text or fields"), true
		}
		if b.Text != nil {
			if err := checkLen("text", b.Text.Text, 1, maxSectionText); err != nil {
				return err, true
			}
		}
		if len(b.Fields) > maxFields {
			return fmt.Errorf("%d fields; at most %d", len(b.Fields), maxFields), true
		}
		for _, f := range b.Fields {
			if err := checkLen("field", text(f), 1, maxFieldText); err != nil {
				return err, true
			}
		}
	case *slackapi.HeaderBlock:
		return checkLen("header", text(b.Text), 1, maxHeader), true
	case *slackapi.ContextBlock:
		if err := checkCount("context elements", len(b.ContextElements.Elements), maxContextItems); err != nil {
			return err, true
		}
		for _, e := range b.ContextElements.Elements {
			if err := checkLen("context text", e.(*slackapi.TextBlockObject).Text, 0, maxSectionText); err != nil {
				return err, true
			}
		}
	case *slackapi.ActionBlock:
		if err := checkCount("elements", len(b.Elements.ElementSet), maxActions); err != nil {
			return err, true
		}
		for _, e := range b.Elements.ElementSet {
			btn := e.(*slackapi.ButtonBlockElement)
			for _, c := range []struct {
				what     string
				s        string
				min, max int
			}{{"action_id", btn.ActionID, 0, maxID}, {"button text", text(btn.Text), 1, maxButtonText},
				{"button value", btn.Value, 0, maxButtonValue}, {"button url", btn.URL, 0, maxURL}} {
				if err := checkLen(c.what, c.s, c.min, c.max); err != nil {
					return err, true
				}
			}
		}
	}
	return nil, true
}

// typedKnows says whether checkTyped knows b: the blocks the renderer makes — sections
// without an accessory, headers, dividers, contexts of text and actions of buttons.
func typedKnows(b slackapi.Block) bool {
	switch b := b.(type) {
	case *slackapi.SectionBlock:
		return b.Accessory == nil
	case *slackapi.HeaderBlock, *slackapi.DividerBlock:
		return true
	case *slackapi.ContextBlock:
		for _, e := range b.ContextElements.Elements {
			if _, ok := e.(*slackapi.TextBlockObject); !ok {
				return false
			}
		}
		return true
	case *slackapi.ActionBlock:
		if b.Elements == nil {
			return false
		}
		for _, e := range b.Elements.ElementSet {
			if _, ok := e.(*slackapi.ButtonBlockElement); !ok {
				return false
			}
		}
		return true
	}
	return false
}

// CheckView reports the first limit a modal breaks, or nil.
func CheckView(v slackapi.ModalViewRequest) error {
	for what, t := range map[string]*slackapi.TextBlockObject{"title": v.Title, "submit": v.Submit, "close": v.Close} {
		if t != nil {
			if err := checkLen(what, t.Text, 1, maxTitle); err != nil {
				return err
			}
		}
	}
	if err := checkLen("callback_id", v.CallbackID, 0, maxID); err != nil {
		return err
	}
	if err := checkLen("private_metadata", v.PrivateMetadata, 0, maxMetadata); err != nil {
		return err
	}
	return CheckBlocks(v.Blocks.BlockSet, MaxModalBlocks)
}

func checkBlock(b map[string]any) error {
	if err := checkLen("block_id", str(b, "block_id"), 0, maxID); err != nil {
		return err
	}
	switch b["type"] {
	case "section":
		fields, _ := b["fields"].([]any)
		if b["text"] == nil && len(fields) == 0 {
			return fmt.Errorf("a section needs text or fields")
		}
		if b["text"] != nil {
			if err := checkLen("text", textOf(b["text"]), 1, maxSectionText); err != nil {
				return err
			}
		}
		if len(fields) > maxFields {
			return fmt.Errorf("%d fields; at most %d", len(fields), maxFields)
		}
		for _, f := range fields {
			if err := checkLen("field", textOf(f), 1, maxFieldText); err != nil {
				return err
			}
		}
		if acc, ok := b["accessory"].(map[string]any); ok {
			return checkElement(acc)
		}
	case "header":
		return checkLen("header", textOf(b["text"]), 1, maxHeader)
	case "context":
		return checkEach("context elements", b["elements"], maxContextItems, func(_ map[string]any, v any) error {
			return checkLen("context text", textOf(v), 0, maxSectionText)
		})
	case "actions":
		return checkEach("elements", b["elements"], maxActions, func(e map[string]any, _ any) error { return checkElement(e) })
	case "input":
		if err := checkLen("label", textOf(b["label"]), 1, maxLabel); err != nil {
			return err
		}
		m, _ := b["element"].(map[string]any)
		return checkElement(m)
	}
	return nil
}

func checkElement(e map[string]any) error {
	if e == nil {
		return fmt.Errorf("missing element")
	}
	if err := checkLen("action_id", str(e, "action_id"), 0, maxID); err != nil {
		return err
	}
	if p, ok := e["placeholder"]; ok {
		if err := checkLen("placeholder", textOf(p), 1, maxPlaceholder); err != nil {
			return err
		}
	}
	switch e["type"] {
	case "button":
		if err := checkLen("button text", textOf(e["text"]), 1, maxButtonText); err != nil {
			return err
		}
		if err := checkLen("button value", str(e, "value"), 0, maxButtonValue); err != nil {
			return err
		}
		return checkLen("button url", str(e, "url"), 0, maxURL)
	case "static_select":
		return checkEach("options", e["options"], maxOptions, func(o map[string]any, _ any) error {
			if err := checkLen("option value", str(o, "value"), 1, maxOptionValue); err != nil {
				return err
			}
			return checkLen("option text", textOf(o["text"]), 1, maxOptionText)
		})
	}
	return nil
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// textOf is the text of a text object, or of a context element given as one.
func textOf(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case map[string]any:
		return str(t, "text")
	}
	return ""
}

func checkLen(what, s string, min, max int) error {
	if n := utf8.RuneCountInString(s); n < min || n > max {
		if min > 0 && n < min {
			return fmt.Errorf("%s is empty", what)
		}
		return fmt.Errorf("%s is %d characters; at most %d are allowed", what, n, max)
	}
	return nil
}

// checkCount checks that there are 1 to max of what.
// checkEach checks that list, a JSON array, holds 1 to max entries, and each entry with
// check, given as an object (nil when it is none) and as it is.
func checkEach(what string, list any, max int, check func(entry map[string]any, raw any) error) error {
	entries, _ := list.([]any)
	if err := checkCount(what, len(entries), max); err != nil {
		return err
	}
	for _, v := range entries {
		m, _ := v.(map[string]any)
		if err := check(m, v); err != nil {
			return err
		}
	}
	return nil
}

func checkCount(what string, n, max int) error {
	if n == 0 || n > max {
		return fmt.Errorf("%d %s; 1 to %d are allowed", n, what, max)
	}
	return nil
}
