package redis

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// jsonw writes a JSON object field by field, as encoding/json writes a struct whose
// fields are tagged omitempty (with HTML escaping off, or on with html: json.Marshal's
// default), without reflection: the stored request, the outbox tasks and the audit
// records are written on every command. Each method leaves out an empty value, as
// omitempty does, except those named always.
type jsonw struct {
	b     []byte
	err   error
	first bool
	html  bool // escape <, > and & as json.Marshal does
}

func (w *jsonw) open() { w.b, w.first = append(w.b, '{'), true }

func (w *jsonw) close() { w.b = append(w.b, '}') }

func (w *jsonw) key(k string) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *jsonw) str(k, v string) {
	if v != "" {
		w.strAlways(k, v)
	}
}

func (w *jsonw) strAlways(k, v string) {
	w.key(k)
	w.b = appendJSONString(w.b, v, w.html, &w.err)
}

func (w *jsonw) int(k string, v int64) {
	if v != 0 {
		w.key(k)
		w.b = strconv.AppendInt(w.b, v, 10)
	}
}

func (w *jsonw) bool(k string, v bool) {
	if v {
		w.key(k)
		w.b = append(w.b, "true"...)
	}
}

// list writes items as a JSON array under k, each with write; no items, nothing (omitempty).
func list[T any](w *jsonw, k string, items []T, write func(*T, *jsonw)) {
	if len(items) == 0 {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	for i := range items {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		write(&items[i], w)
	}
	w.b = append(w.b, ']')
}

// value writes v as encoding/json does (with HTML escaping off), for what is rare enough
// not to need a writer of its own.
func (w *jsonw) value(k string, v any) {
	w.key(k)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil && w.err == nil {
		w.err = err
	}
	w.b = append(w.b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// appendJSONString appends s as a JSON string: as it is when it holds only printable
// ASCII other than '"' and '\' (and, with html, '<', '>' and '&'); otherwise as
// encoding/json writes it (HTML escaping as html says), which is exact for every string
// (invalid UTF-8, U+2028 and all).
func appendJSONString(b []byte, s string, html bool, errp *error) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || html && (c == '<' || c == '>' || c == '&') {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(html)
			if err := enc.Encode(s); err != nil && *errp == nil {
				*errp = err
			}
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// write writes s as encoding/json writes storedRequest (field by field, in its order).
func (s *storedRequest) write(w *jsonw) {
	w.open()
	w.str("st", string(s.State))
	w.key("q")
	s.Requester.write(w)
	w.key("i")
	s.Item.write(w)
	if s.Duration != 0 {
		w.key("d")
		s.Duration.write(w)
	}
	w.str("r", s.Reason)
	list(w, "a", s.Approvers, (*storedPerson).write)
	if s.Schedule != nil {
		w.key("s")
		s.Schedule.write(w)
	}
	w.str("p", s.Platform)
	w.int("c", int64(s.CreatedAt))
	w.int("u", int64(s.UpdatedAt))
	if s.Decision != nil {
		w.key("de")
		s.Decision.write(w)
	}
	if s.Submission != nil {
		w.key("sb")
		s.Submission.write(w)
	}
	w.int("ca", int64(s.CancelledAt))
	w.str("f", s.Failure)
	w.bool("du", s.Duplicate)
	if s.RevokedBy != nil {
		w.key("rb")
		s.RevokedBy.write(w)
	}
	w.str("x", s.Extends)
	w.int("xt", int64(s.ExtendTo))
	w.int("rm", int64(s.Reminders))
	w.int("es", int64(s.Escalations))
	w.int("ce", int64(s.ChainEnd))
	w.int("en", int64(s.ExpiryNotes))
	if s.Desk != nil {
		w.value("dk", s.Desk)
	}
	if len(s.Stages) > 0 {
		w.value("sg", s.Stages)
	}
	w.int("sn", int64(s.Stage))
	w.int("ss", int64(s.StageStarted))
	list(w, "ap", s.Approvals, (*storedDecision).write)
	if s.RequestedBy != nil {
		w.key("qb")
		s.RequestedBy.write(w)
	}
	if s.CancelledBy != nil {
		w.key("cb")
		s.CancelledBy.write(w)
	}
	w.str("aa", s.AutoApproved)
	w.close()
}

func (p *storedPerson) write(w *jsonw) {
	w.open()
	w.strAlways("e", p.Email)
	w.str("n", p.Name)
	w.str("o", p.EntraID)
	w.close()
}

func (it *storedItem) write(w *jsonw) {
	w.open()
	w.strAlways("i", it.ID)
	w.str("n", it.Name)
	w.str("b", it.Backend)
	if it.Ref != nil {
		w.strAlways("r", *it.Ref)
	}
	w.str("c", it.Channel)
	w.bool("co", it.ChannelOnly)
	w.close()
}

func (sc *storedSchedule) write(w *jsonw) {
	w.open()
	w.int("e", int64(sc.DaysUntilEscalation))
	w.int("b", int64(sc.DaysBetweenReminders))
	w.int("m", int64(sc.MaxReminders))
	w.str("f", sc.FallbackApprover)
	w.int("x", int64(sc.RequestExpiryDays))
	list(w, "n", sc.ExpiryNotices, func(d *seconds, w *jsonw) { d.write(w) })
	w.close()
}

func (d *storedDecision) write(w *jsonw) {
	w.open()
	w.key("b")
	d.By.write(w)
	w.str("p", d.Platform)
	w.str("c", d.ChatID)
	w.bool("ok", d.Approved)
	w.str("r", d.Reason)
	w.int("at", int64(d.At))
	w.int("sg", int64(d.Stage))
	w.close()
}

func (sub *storedSub) write(w *jsonw) {
	w.open()
	w.str("b", sub.Backend)
	w.str("x", sub.ExternalID)
	list(w, "xs", sub.ExternalIDs, func(id *string, w *jsonw) { w.b = appendJSONString(w.b, *id, w.html, &w.err) })
	w.str("st", string(sub.State))
	w.int("s", int64(sub.Start))
	w.int("e", int64(sub.End))
	w.str("d", sub.Detail)
	w.str("w", sub.Waiting)
	w.int("k", int64(sub.Checks))
	w.int("at", int64(sub.At))
	w.close()
}

// write writes d as its MarshalJSON does.
func (d seconds) write(w *jsonw) {
	if time.Duration(d)%time.Second == 0 {
		w.b = strconv.AppendInt(w.b, int64(time.Duration(d)/time.Second), 10)
		return
	}
	w.b = appendJSONString(w.b, time.Duration(d).String(), w.html, &w.err)
}

// appendTask appends an outbox task as its stream entry holds it to b: what encoding/json
// writes for governance.Task (but for HTML escaping, which reads back the same).
func appendTask(b []byte, t governance.Task) ([]byte, error) {
	w := jsonw{b: b}
	w.open()
	w.strAlways("kind", string(t.Kind))
	w.strAlways("req", t.RequestID)
	w.str("to", t.To)
	w.str("notice", string(t.Notice))
	w.int("n", int64(t.N))
	w.int("attempt", int64(t.Attempt))
	w.close()
	return w.b, w.err
}

// appendAudit appends a as stored with the millisecond auditMillis(a) to b: what
// json.Marshal writes for auditForm(a), HTML escaping included.
func appendAudit(b []byte, a governance.AuditRecord) ([]byte, error) {
	w := jsonw{b: b, html: true}
	w.open()
	if !a.At.IsZero() {
		w.int("n", a.At.UnixNano()-auditMillis(a)*int64(time.Millisecond))
	}
	w.strAlways("q", a.RequestID)
	w.strAlways("e", string(a.Event))
	w.str("f", string(a.From))
	if a.To != governance.StatePendingApproval {
		w.strAlways("s", string(a.To))
	}
	w.str("a", a.Actor)
	w.str("p", a.Platform)
	w.str("c", a.ChatID)
	w.str("d", a.Detail)
	w.bool("z", a.At.IsZero())
	w.close()
	return w.b, w.err
}
