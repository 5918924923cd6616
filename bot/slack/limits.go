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
	raw, err := json.Marshal(blocks)
	if err != nil {
		return fmt.Errorf("encode blocks: %w", err)
	}
	var wire []map[string]any
	if err := json.Unmarshal(raw, &wire); err != nil {
		return fmt.Errorf("decode blocks: %w", err)
	}
	for i, b := range wire {
		if err := checkBlock(b); err != nil {
			return fmt.Errorf("block %d (%v): %w", i+1, b["type"], err)
		}
	}
	return nil
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
		elems, _ := b["elements"].([]any)
		if len(elems) == 0 || len(elems) > maxContextItems {
			return fmt.Errorf("%d context elements; 1 to %d are allowed", len(elems), maxContextItems)
		}
		for _, e := range elems {
			if err := checkLen("context text", textOf(e), 0, maxSectionText); err != nil {
				return err
			}
		}
	case "actions":
		elems, _ := b["elements"].([]any)
		if len(elems) == 0 || len(elems) > maxActions {
			return fmt.Errorf("%d elements; 1 to %d are allowed", len(elems), maxActions)
		}
		for _, e := range elems {
			m, _ := e.(map[string]any)
			if err := checkElement(m); err != nil {
				return err
			}
		}
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
		opts, _ := e["options"].([]any)
		if len(opts) == 0 || len(opts) > maxOptions {
			return fmt.Errorf("%d options; 1 to %d are allowed", len(opts), maxOptions)
		}
		for _, o := range opts {
			m, _ := o.(map[string]any)
			if err := checkLen("option value", str(m, "value"), 1, maxOptionValue); err != nil {
				return err
			}
			if err := checkLen("option text", textOf(m["text"]), 1, maxOptionText); err != nil {
				return err
			}
		}
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
