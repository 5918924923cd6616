package teams

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// What Teams takes. Microsoft documents the limit of a bot's message as the UTF-16
// encoding of the whole activity (base64 images aside): 40 KB until 2025, "about 100 KB,
// keep the message within 80 KB" since, and a larger message is refused with 413
// (RequestEntityTooLarge) and the error code MessageSizeTooBig. Incoming webhooks and
// the Power Automate connector stop at 28 KB. accessbot keeps every activity it sends
// within MaxActivityBytes, well inside all of them, so that no card is refused whatever
// limit a tenant's Teams applies.
const (
	// MaxActivityBytes is accessbot's budget for one activity (or invoke response), in
	// bytes of UTF-16, measured by Size.
	MaxActivityBytes = 28 << 10
	// maxCardBytes is a card's share of the budget: the rest is the activity around it,
	// whose summary Activity cuts at maxSummary characters.
	maxCardBytes = MaxActivityBytes - 3<<10
	maxSummary   = 150
	// PageRows is how many rows of a list (pending, the digest, status) one card shows;
	// a button shows the next ones.
	PageRows = 10
)

// Size is v (an activity, a card, an invoke response) measured as Teams measures a
// message: the bytes of its JSON, as Marshal writes it, encoded as UTF-16.
func Size(v any) int {
	b, err := Marshal(v)
	if err != nil {
		return 0
	}
	return utf16Bytes(b)
}

// Marshal is v as accessbot sends it to Teams: JSON without the HTML escapes Go adds by
// default (a < is one character, not six: \u003c), which nothing reading an activity
// needs and which would make escaped user text six times as large.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// utf16Bytes is the length of UTF-8 text b in UTF-16: two bytes a character, four for
// one outside the Basic Multilingual Plane (most emoji).
func utf16Bytes(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if r >= 0x10000 {
			n += 4
		} else {
			n += 2
		}
	}
	return n
}
