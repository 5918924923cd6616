package slack

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// Identifiers in messages and modals, shared with the HTTP handlers.
const (
	ActionApprove       = string(voice.Approve) // button; value = request id
	ActionDeny          = string(voice.Deny)    // button; value = request id
	ActionExtend        = string(voice.Extend)  // button on an expiry warning; value = request id
	ActionForward       = string(voice.Forward) // button on a card of the backend's approval; value = request id
	ActionCancel        = string(voice.Cancel)  // button on the Home tab; value = request id
	ActionRevoke        = string(voice.Revoke)  // button on the Home tab, and an admin's on an auto-approval's FYI; value = request id
	CallbackDenyReason  = "deny_reason"         // modal; private_metadata = request id
	CallbackForward     = "forward"             // modal; private_metadata = request id
	CallbackRequestForm = "request_form"        // modal
	// Input block ids are the voice input names, which equal governance.Problem.Field
	// values, so a validation error lands on the field at fault.
	BlockItem      = voice.InputItem
	BlockDuration  = voice.InputDuration
	BlockFor       = voice.InputFor
	BlockReason    = voice.InputReason
	BlockForwardTo = voice.InputForwardTo
)

// InputActionID is the action id of the input element inside an input block.
func InputActionID(block string) string { return block + "_input" }

// Escape makes user-supplied text inert in mrkdwn: &, < and > become entities, so no
// <!channel>, <!here>, <@U…> or link can be injected, and a bare @here, @channel or
// @everyone gets a zero-width space so it cannot ping anyone either.
func Escape(s string) string { return escapeN(s, -1) }

// escapeN is Escape with the result cut to at most n characters (n < 0: no limit), never
// inside an entity, the cut marked with "…".
func escapeN(s string, n int) string {
	s = neutraliseMentions(s)
	if !strings.ContainsAny(s, "&<>") && (n < 0 || utf8.RuneCountInString(s) <= n) {
		return s // the common case, without building a copy rune by rune
	}
	var b strings.Builder
	pieces := 0
	cut := -1 // byte length of b when it last fitted n-1 characters
	for _, r := range s {
		var p string
		switch r {
		case '&':
			p = "&amp;"
		case '<':
			p = "&lt;"
		case '>':
			p = "&gt;"
		default:
			p = string(r)
		}
		if n >= 0 && cut < 0 && pieces+utf8.RuneCountInString(p) > n-1 {
			cut = b.Len()
		}
		pieces += utf8.RuneCountInString(p)
		b.WriteString(p)
	}
	if n >= 0 && pieces > n {
		return b.String()[:cut] + "…"
	}
	return b.String()
}

var broadcasts = []string{"here", "channel", "everyone"}

// neutraliseMentions puts a zero-width space after the @ of a bare @here, @channel or
// @everyone (any case), where it stands as a word of its own. Text without one (an e-mail
// address, say) is given back as it is, without a copy.
func neutraliseMentions(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	done := 0 // s[:done] is written to b
	for i := 0; i < len(s); i++ {
		if s[i] != '@' || !isBroadcast(s, i) {
			continue
		}
		b.Grow(len(s) + len("\u200b"))
		b.WriteString(s[done : i+1])
		b.WriteString("\u200b")
		done = i + 1
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// isBroadcast reports whether the @ at s[at] starts a bare @here, @channel or @everyone.
func isBroadcast(s string, at int) bool {
	if at > 0 && isWordByte(s[at-1]) {
		return false
	}
	for _, w := range broadcasts {
		end := at + 1 + len(w)
		if end <= len(s) && strings.EqualFold(s[at+1:end], w) && (end == len(s) || !isWordByte(s[end])) {
			return true
		}
	}
	return false
}

// isWordByte reports whether c belongs to a word, so that the @ of an e-mail address
// (alice@here.example) is left alone.
func isWordByte(c byte) bool {
	return c >= utf8.RuneSelf || unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)) || c == '_'
}

// cutMrkdwn cuts our own mrkdwn to at most n characters without leaving half a <…>
// token or half an entity behind, marking the cut. User text inside has been escaped
// already, so every < and & left in s is ours.
func cutMrkdwn(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	out := firstChars(s, n-1)
	if lt := strings.LastIndexByte(out, '<'); lt > strings.LastIndexByte(out, '>') {
		out = out[:lt]
	}
	if amp := strings.LastIndexByte(out, '&'); amp > strings.LastIndexByte(out, ';') {
		out = out[:amp]
	}
	return out + "…"
}

// cutPlain cuts plain text (labels, titles, options) to n characters.
func cutPlain(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return firstChars(s, n-1) + "…"
}

// firstChars is the first n characters of s, as string([]rune(s)[:n]) makes them (each
// byte of invalid UTF-8 a U+FFFD), without converting the whole of s.
func firstChars(s string, n int) string {
	end := len(s)
	for i := range s {
		if n == 0 {
			end = i
			break
		}
		n--
	}
	if !utf8.ValidString(s[:end]) {
		return string([]rune(s[:end]))
	}
	return s[:end]
}

// Date renders t so that each reader sees it in their own time zone, with a UTC fallback
// where Slack cannot format it.
func Date(t time.Time) string {
	b := make([]byte, 0, 80) // on the stack: only the string made of it is allocated
	b = append(b, "<!date^"...)
	b = strconv.AppendInt(b, t.Unix(), 10)
	b = append(b, "^{date_short_pretty} at {time}|"...)
	b = t.UTC().AppendFormat(b, "2006-01-02 15:04 UTC")
	return string(append(b, '>'))
}

func mrkdwn(s string, limit int) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, cutMrkdwn(s, limit), false, false)
}

func plain(s string, limit int) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.PlainTextType, cutPlain(s, limit), true, false)
}

func section(s string) slackapi.Block {
	return slackapi.NewSectionBlock(mrkdwn(s, maxSectionText), nil, nil)
}

func note(s string) slackapi.Block {
	return slackapi.NewContextBlock("", mrkdwn(s, maxSectionText))
}

// emojiCodes are Slack's codes for accessbot's icons; PlainText draws them back.
var emojiCodes = map[voice.Icon]string{
	voice.IconInbox: ":inbox_tray:", voice.IconApproved: ":white_check_mark:", voice.IconDenied: ":x:",
	voice.IconWarning: ":warning:", voice.IconUnlock: ":unlock:", voice.IconLock: ":lock:", voice.IconStop: ":no_entry_sign:",
	voice.IconTimeUp: ":hourglass:", voice.IconWaiting: ":hourglass_flowing_sand:", voice.IconAlarm: ":alarm_clock:",
	voice.IconUp: ":arrow_up:", voice.IconAlert: ":rotating_light:", voice.IconTada: ":tada:", voice.IconNews: ":newspaper:",
	voice.IconInfo: ":information_source:",
}

// markup is how Slack writes the spans of voice: every span escaped, dates in each
// reader's time zone, commands as /access commands, icons as emoji codes.
func markup() voice.Markup {
	return voice.Markup{Words: Escape, User: Escape, Date: Date,
		Command: func(c string) string {
			if c == "" {
				return "`/access`"
			}
			return "`/access " + c + "`"
		},
		Icon:  func(i voice.Icon) string { return emojiCodes[i] },
		Link:  func(url, label string) string { return "<" + Escape(url) + "|" + label + ">" },
		Quote: "> ", Strong: "*", Emph: "_", Code: "`"}
}

// Mrkdwn renders a line of voice as Slack mrkdwn.
func Mrkdwn(t voice.Text) string { return markup().Write(t) }

func paragraph(p voice.Paragraph) string { return markup().Paragraph(p) }

// Blocks renders a message as Block Kit: its blocks, within Slack's limits (a list too
// long for one message cut with the message's own "…and N more"), and its notification
// text.
func Blocks(m voice.Message) (blocks []slackapi.Block, fallback string) {
	blocks = head(m)
	var rows [][]slackapi.Block
	if m.Compact {
		rows = packed(m.Rows)
	} else {
		for _, row := range m.Rows {
			rows = append(rows, head(row))
		}
	}
	blocks = capped(blocks, rows, func(n int) string { return Mrkdwn(m.MoreText(n)) })
	return blocks, cutMrkdwn(fallbackText(Mrkdwn(m.SummaryText())), maxText)
}

// head is a message's blocks without its rows.
func head(m voice.Message) []slackapi.Block {
	blocks := make([]slackapi.Block, 0, len(m.Lead)+len(m.Body)+4) // and a title, fields, buttons, context
	for _, p := range m.Lead {
		blocks = append(blocks, section(paragraph(p)))
	}
	if m.Title != "" {
		blocks = append(blocks, slackapi.NewHeaderBlock(plain(m.Title, maxHeader)))
	}
	if len(m.Fields) > 0 {
		fields := make([]*slackapi.TextBlockObject, 0, min(len(m.Fields), maxFields))
		for _, f := range m.Fields[:cap(fields)] {
			fields = append(fields, mrkdwn(fieldText(f), maxFieldText))
		}
		blocks = append(blocks, slackapi.NewSectionBlock(nil, fields, nil))
	}
	for _, p := range m.Body {
		blocks = append(blocks, section(paragraph(p)))
	}
	if b := buttons(m.Buttons); b != nil {
		blocks = append(blocks, b)
	}
	if len(m.Context) > 0 {
		blocks = append(blocks, note(Mrkdwn(m.Context)))
	}
	return blocks
}

// fieldText is a field as mrkdwn: its label in bold, its value on the next line.
func fieldText(f voice.Field) string {
	var b strings.Builder
	b.Grow(len(f.Label) + len("**\n") + f.Value.SizeHint())
	b.WriteByte('*')
	b.WriteString(Escape(f.Label))
	b.WriteString("*\n")
	markup().WriteText(&b, f.Value)
	return b.String()
}

// packed draws text-only rows together, as many to a section as fit.
func packed(rows []voice.Message) [][]slackapi.Block {
	var out [][]slackapi.Block
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, []slackapi.Block{section(cur.String())})
			cur.Reset()
		}
	}
	for _, row := range rows {
		var parts []string
		for _, p := range row.Body {
			parts = append(parts, paragraph(p))
		}
		text := strings.Join(parts, "\n")
		if cur.Len() > 0 && utf8.RuneCountInString(cur.String())+1+utf8.RuneCountInString(text) > maxSectionText {
			flush()
		}
		if cur.Len() > 0 {
			cur.WriteString("\n")
		}
		cur.WriteString(text)
	}
	flush()
	return out
}

// buttons is the action block of a message's buttons, or nil.
func buttons(bs []voice.Button) slackapi.Block {
	if len(bs) == 0 {
		return nil
	}
	var elems []slackapi.BlockElement
	kind := "decide"
	for _, b := range bs {
		e := slackapi.NewButtonBlockElement(string(b.Action), b.Request.ID, plain(b.Text(), maxButtonText))
		switch b.Action {
		case voice.Open:
			e = e.WithURL(b.URL)
		case voice.Deny:
			e = e.WithStyle(slackapi.StyleDanger)
		case voice.Extend:
			kind = "extend"
			e = e.WithStyle(slackapi.StylePrimary)
		case voice.Cancel:
			kind = "cancel"
		case voice.Revoke:
			if kind == "decide" {
				kind = "revoke"
			}
			e = e.WithStyle(slackapi.StyleDanger)
		default:
			e = e.WithStyle(slackapi.StylePrimary)
		}
		elems = append(elems, e)
	}
	// A new block id per version, as Slack asks of updated messages.
	r := bs[0].Request
	return slackapi.NewActionBlock(kind+":"+r.ID+":"+strconv.FormatInt(r.Version, 10), elems...)
}

// Message is a message body for an HTTP answer or a response_url: ephemeral unless said
// otherwise, and never replacing the message it answers.
type Message struct {
	ResponseType    string           `json:"response_type,omitempty"`
	Text            string           `json:"text"`
	Blocks          []slackapi.Block `json:"blocks,omitempty"`
	ReplaceOriginal bool             `json:"replace_original"`
}

// Ephemeral is a message only the person who acted sees. text is mrkdwn (escaped where it
// holds user text); it is the whole message when no blocks are given, else the
// notification text.
func Ephemeral(text string, blocks ...slackapi.Block) Message {
	if len(blocks) > MaxMessageBlocks {
		blocks = append(blocks[:MaxMessageBlocks-1:MaxMessageBlocks-1], note(Mrkdwn(voice.Message{}.MoreText(len(blocks)-MaxMessageBlocks+1))))
	}
	return Message{ResponseType: slackapi.ResponseTypeEphemeral, Text: cutMrkdwn(text, maxText), Blocks: blocks}
}

// Reply is m as an ephemeral answer to the person who acted.
func Reply(m voice.Message) Message {
	blocks, fallback := Blocks(m)
	return Ephemeral(fallback, blocks...)
}

// capped appends rows (each one or more blocks) to head while the message stays within
// the block limit, ending with more(n) when n rows did not fit.
func capped(head []slackapi.Block, rows [][]slackapi.Block, more func(n int) string) []slackapi.Block {
	blocks := head
	for i, row := range rows {
		if len(blocks)+len(row) > MaxMessageBlocks-1 {
			return append(blocks, note(more(len(rows)-i)))
		}
		blocks = append(blocks, row...)
	}
	return blocks
}

// RequestForm is the modal that asks for access: the item (a select of the catalog), an
// optional duration and an optional reason. A select holds at most 100 options of ids
// up to 75 characters: any other item is still requestable by command, and a note says so.
func RequestForm(items []governance.Item) slackapi.ModalViewRequest {
	f := voice.RequestForm(items)
	what := &f.Inputs[0]
	what.Choices = slices.DeleteFunc(what.Choices, func(c voice.Choice) bool { return utf8.RuneCountInString(c.Value) > maxOptionValue })
	what.Choices = what.Choices[:min(len(what.Choices), maxOptions)]
	v := modal(f, CallbackRequestForm)
	if len(items) > len(what.Choices) {
		v.Blocks.BlockSet = append(v.Blocks.BlockSet, note(Mrkdwn(voice.FormShows(len(what.Choices), len(items)))))
	}
	return v
}

// DenyForm is the modal that asks an approver why they deny request r; the request id
// travels in private_metadata (the handler still checks who submits it).
func DenyForm(r *governance.Request) slackapi.ModalViewRequest {
	v := modal(voice.DenyForm(r), CallbackDenyReason)
	v.PrivateMetadata = r.ID
	return v
}

// ForwardForm is the modal that asks an approver whom to forward one of the backend's
// approvals of r to, and why; the request id rides in private_metadata.
func ForwardForm(r *governance.Request) slackapi.ModalViewRequest {
	v := modal(voice.ForwardForm(r), CallbackForward)
	v.PrivateMetadata = r.ID
	return v
}

// modal renders a form as a modal: each input a block named for it.
func modal(f voice.Form, callback string) slackapi.ModalViewRequest {
	var blocks []slackapi.Block
	if len(f.Intro) > 0 {
		blocks = append(blocks, section(Mrkdwn(f.Intro)))
	}
	for _, in := range f.Inputs {
		var elem slackapi.BlockElement
		if len(in.Choices) > 0 {
			var options []*slackapi.OptionBlockObject
			for _, c := range in.Choices {
				options = append(options, slackapi.NewOptionBlockObject(c.Value, plain(c.Title, maxOptionText), nil))
			}
			elem = slackapi.NewOptionsSelectBlockElement(slackapi.OptTypeStatic, plain(in.Placeholder, maxPlaceholder), InputActionID(in.Name), options...)
		} else {
			t := slackapi.NewPlainTextInputBlockElement(plain(in.Placeholder, maxPlaceholder), InputActionID(in.Name)).WithMultiline(in.Multiline)
			t.MaxLength = in.MaxLength
			elem = t
		}
		var hint *slackapi.TextBlockObject
		if in.Hint != "" {
			hint = plain(in.Hint, maxLabel)
		}
		blocks = append(blocks, slackapi.NewInputBlock(in.Name, plain(in.Label, maxLabel), hint, elem).WithOptional(in.Optional))
	}
	return slackapi.ModalViewRequest{
		Type: slackapi.VTModal, CallbackID: callback,
		Title: plain(f.Title, maxTitle), Submit: plain(f.Submit, maxTitle), Close: plain(f.Close, maxTitle),
		Blocks: slackapi.Blocks{BlockSet: blocks},
	}
}
