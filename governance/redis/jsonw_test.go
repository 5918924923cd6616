package redis

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
)

// byReflection is what encoding/json writes for v (HTML escaping off, as the stored forms
// were written before jsonw).
func byReflection(t testing.TB, v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func byHand(r *governance.Request) (string, error) {
	s := storedForm(r)
	var w jsonw
	s.write(&w)
	return string(w.b), w.err
}

// The hand-written stored form is byte for byte what encoding/json writes, for a request
// with every field set, one with the fewest, and text that needs escaping.
func TestCodec_StoredFormIsWhatEncodingJSONWrites(t *testing.T) {
	var full governance.Request
	n := 0
	fill(reflect.ValueOf(&full).Elem(), &n)
	full.Schedule.ExpiryNotices = []time.Duration{24 * time.Hour, 1500 * time.Millisecond, 0}
	full.Duration = 90 * time.Minute
	odd := request("AR-1", "a@example.com", "b@example.com")
	odd.Reason = "needs \"quotes\", a \\ back\nslash\t<tag> & \u2028 é \x00 \xff"
	odd.Duration = 2500 * time.Millisecond
	odd.Submission = &governance.Submission{ExternalIDs: []string{"x", "y\"z"}}
	for _, r := range []*governance.Request{&full, request("AR-2", "a@example.com"), odd, {}} {
		got, err := byHand(r)
		require.NoError(t, err)
		s := storedForm(r)
		assert.Equal(t, byReflection(t, &s), got)
	}
}

func FuzzStoredForm(f *testing.F) {
	f.Add("a@example.com", "Ann", "because", "vpn", int64(7*24*3600e9), "builtin")
	f.Add("", "\u2028", "\"\\\n", "<&>", int64(1500e6), "é\xff")
	f.Fuzz(func(t *testing.T, email, name, reason, item string, d int64, backend string) {
		r := request("AR-9", email, name+"@example.com")
		r.Requester.Name, r.Reason, r.Duration = name, reason, time.Duration(d)
		r.Item = governance.ItemRef{ID: item, Name: name, Backend: backend, Ref: reason}
		r.Approvals = []governance.Decision{{By: governance.Person{Email: email, Name: reason}, Reason: name}}
		got, err := byHand(r)
		if err != nil {
			t.Fatal(err)
		}
		s := storedForm(r)
		if want := byReflection(t, &s); got != want {
			t.Fatalf("by hand %s\nencoding/json %s", got, want)
		}
	})
}

// A task's entry is what encoding/json writes for it (outbox.go reads it with encoding/json).
func TestCodec_TaskIsWhatEncodingJSONWrites(t *testing.T) {
	for _, task := range []governance.Task{
		{ID: "1-0", Kind: governance.TaskSendCard, RequestID: "AR-1", To: "a@example.com"},
		{Kind: governance.TaskNotify, RequestID: "AR-2", To: "b\"@example.com", Notice: governance.NoticeReceived, N: 3, Attempt: 2},
		{},
	} {
		got, err := encodeTask(task)
		require.NoError(t, err)
		want, err := json.Marshal(task)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got))
	}
}

// BenchmarkEncodeRequest compares the stored form written by hand with encoding/json's.
func BenchmarkEncodeRequest(b *testing.B) {
	r := request("AR-493", "user92@example.com", "approver@example.com")
	r.Reason, r.Platform = "load test", "slack"
	r.Schedule.ExpiryNotices = []time.Duration{24 * time.Hour, time.Hour}
	b.Run("jsonw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := encodeRequest(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			s := storedForm(r)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(&s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// An audit record written by hand is byte for byte what json.Marshal wrote for its stored
// form (HTML escaping on), for a record with every field set, one with the fewest, and
// text that needs escaping.
func TestCodec_AuditIsWhatJSONMarshalWrites(t *testing.T) {
	var full governance.AuditRecord
	n := 0
	fill(reflect.ValueOf(&full).Elem(), &n)
	odd := governance.AuditRecord{At: time.Unix(0, -1500), RequestID: "AR-1", Event: governance.EventDeny,
		From: governance.StatePendingApproval, To: "", Actor: "<a&b>@example.com",
		Detail: "\"quotes\", a \\ back\nslash\t<tag> & \u2028 é \x00 \xff"}
	for _, a := range []governance.AuditRecord{full, odd, {At: t0, To: governance.StatePendingApproval}, {}} {
		got, err := encodeAudit(a)
		require.NoError(t, err)
		want, err := json.Marshal(auditForm(a))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got))
	}
}

func FuzzAudit(f *testing.F) {
	f.Add(int64(1795424400123456789), "AR-1", "deny", "approved", "a@example.com", "no <thanks> & bye")
	f.Add(int64(0), "", "", "pending_approval", "\u2028", "\xff\"\\")
	f.Fuzz(func(t *testing.T, at int64, id, from, to, actor, detail string) {
		a := governance.AuditRecord{RequestID: id, Event: governance.Event(from), From: governance.State(from),
			To: governance.State(to), Actor: actor, Platform: detail, ChatID: actor, Detail: detail}
		if at != 0 {
			a.At = time.Unix(0, at)
		}
		got, err := encodeAudit(a)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(auditForm(a))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("by hand %s\njson.Marshal %s", got, want)
		}
	})
}

// The stored forms as tests and benchmarks take them whole.
func encodeRequest(r *governance.Request) ([]byte, error)  { return appendRequest(nil, r) }
func encodeTask(t governance.Task) ([]byte, error)         { return appendTask(nil, t) }
func encodeAudit(a governance.AuditRecord) ([]byte, error) { return appendAudit(nil, a) }

// auditForm is a as stored with the millisecond auditMillis(a), for json.Marshal to write
// what appendAudit must write.
func auditForm(a governance.AuditRecord) storedAudit {
	s := storedAudit{RequestID: a.RequestID, Event: a.Event, From: a.From, Actor: a.Actor, Platform: a.Platform,
		ChatID: a.ChatID, Detail: a.Detail, Zero: a.At.IsZero()}
	if !s.Zero {
		s.Nanos = a.At.UnixNano() - auditMillis(a)*int64(time.Millisecond)
	}
	if a.To != governance.StatePendingApproval {
		s.To = &a.To
	}
	return s
}
