package redis

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// How a request is stored. Redis holds every pending request for weeks, so the stored
// form is compact: a string "<version> <JSON>" whose JSON has one- or two-letter names,
// times as Unix nanoseconds, durations as integers, and leaves out what the key already
// says (the id) and what is empty. A string costs far less than a hash of the same bytes
// (one allocation instead of a dictionary), and the version at its start is all the
// scripts need to read.
//
// Requests stored before (a hash with fields v, state and data, data the request as
// governance.Request encodes itself in JSON) are still read; a transition rewrites them in
// this form. storedRequest must name every field of governance.Request: a test fills each
// one and checks that it comes back.
type storedRequest struct {
	State       governance.State `json:"st,omitempty"` // left out while pending_approval, as most stored requests are
	Requester   storedPerson     `json:"q"`
	Item        storedItem       `json:"i"`
	Duration    seconds          `json:"d,omitempty"`
	Reason      string           `json:"r,omitempty"`
	Approvers   []storedPerson   `json:"a,omitempty"`
	Schedule    *storedSchedule  `json:"s,omitempty"`
	Platform    string           `json:"p,omitempty"`
	CreatedAt   unixNano         `json:"c,omitempty"`
	UpdatedAt   unixNano         `json:"u,omitempty"` // left out when it is CreatedAt; -1: zero
	Decision    *storedDecision  `json:"de,omitempty"`
	Submission  *storedSub       `json:"sb,omitempty"`
	CancelledAt unixNano         `json:"ca,omitempty"`
	Failure     string           `json:"f,omitempty"`
	Duplicate   bool             `json:"du,omitempty"`
	RevokedBy   *storedPerson    `json:"rb,omitempty"`
	Extends     string           `json:"x,omitempty"`
	ExtendTo    unixNano         `json:"xt,omitempty"`
	Reminders   int              `json:"rm,omitempty"`
	Escalations int              `json:"es,omitempty"`
	ChainEnd    int              `json:"ce,omitempty"`
	ExpiryNotes int              `json:"en,omitempty"`
	// Desk (the backend's own approvals, for requests it decides) is rare and rich: it is
	// stored as governance.Desk encodes itself. So are approval stages, where an item has
	// more than one approval to collect.
	Desk         *governance.Desk   `json:"dk,omitempty"`
	Stages       []governance.Stage `json:"sg,omitempty"`
	Stage        int                `json:"sn,omitempty"`
	StageStarted unixNano           `json:"ss,omitempty"`
	Approvals    []storedDecision   `json:"ap,omitempty"`
	RequestedBy  *storedPerson      `json:"qb,omitempty"`
	CancelledBy  *storedPerson      `json:"cb,omitempty"`
	AutoApproved string             `json:"aa,omitempty"`
}

type storedPerson struct {
	Email   string `json:"e"`
	Name    string `json:"n,omitempty"`
	EntraID string `json:"o,omitempty"`
}

// storedItem leaves out Ref when it is the item's id, as it mostly is.
type storedItem struct {
	ID          string  `json:"i"`
	Name        string  `json:"n,omitempty"`
	Backend     string  `json:"b,omitempty"`
	Ref         *string `json:"r,omitempty"` // nil: the id
	Channel     string  `json:"c,omitempty"`
	ChannelOnly bool    `json:"co,omitempty"`
}

type storedSchedule struct {
	DaysUntilEscalation  int       `json:"e,omitempty"`
	DaysBetweenReminders int       `json:"b,omitempty"`
	MaxReminders         int       `json:"m,omitempty"`
	FallbackApprover     string    `json:"f,omitempty"`
	RequestExpiryDays    int       `json:"x,omitempty"`
	ExpiryNotices        []seconds `json:"n,omitempty"`
}

type storedDecision struct {
	By       storedPerson `json:"b"`
	Platform string       `json:"p,omitempty"`
	ChatID   string       `json:"c,omitempty"`
	Approved bool         `json:"ok,omitempty"`
	Reason   string       `json:"r,omitempty"`
	At       unixNano     `json:"at,omitempty"`
	Stage    int          `json:"sg,omitempty"`
}

type storedSub struct {
	Backend     string           `json:"b,omitempty"`
	ExternalID  string           `json:"x,omitempty"`
	ExternalIDs []string         `json:"xs,omitempty"`
	State       governance.State `json:"st,omitempty"`
	Start       unixNano         `json:"s,omitempty"`
	End         unixNano         `json:"e,omitempty"`
	Detail      string           `json:"d,omitempty"`
	Waiting     string           `json:"w,omitempty"`
	Checks      int              `json:"k,omitempty"`
	At          unixNano         `json:"at,omitempty"`
}

// seconds is a duration as whole seconds, or as Go writes it ("1.5s") when it is not.
type seconds time.Duration

func (d seconds) MarshalJSON() ([]byte, error) {
	if time.Duration(d)%time.Second == 0 {
		return strconv.AppendInt(nil, int64(time.Duration(d)/time.Second), 10), nil
	}
	return json.Marshal(time.Duration(d).String())
}

func (d *seconds) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		*d = seconds(v)
		return err
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	*d = seconds(time.Duration(n) * time.Second)
	return err
}

func durations[T ~int64, U ~int64](ds []T) []U {
	if ds == nil {
		return nil
	}
	out := make([]U, len(ds))
	for i, d := range ds {
		out[i] = U(d)
	}
	return out
}

// unixNano is a time as Unix nanoseconds (UTC); the zero time is 0, left out.
type unixNano int64

func nano(t time.Time) unixNano {
	if t.IsZero() {
		return 0
	}
	return unixNano(t.UnixNano())
}

func (n unixNano) time() time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(n)).UTC()
}

func person(p governance.Person) storedPerson { return storedPerson{p.Email, p.Name, p.EntraID} }

func optionalPerson(p *governance.Person) *storedPerson {
	if p == nil {
		return nil
	}
	sp := person(*p)
	return &sp
}

func (p *storedPerson) optional() *governance.Person {
	if p == nil {
		return nil
	}
	gp := p.person()
	return &gp
}

func decision(d governance.Decision) storedDecision {
	return storedDecision{By: person(d.By), Platform: d.Platform, ChatID: d.ChatID, Approved: d.Approved, Reason: d.Reason, At: nano(d.At), Stage: d.Stage}
}

func (d storedDecision) decision() governance.Decision {
	return governance.Decision{By: d.By.person(), Platform: d.Platform, ChatID: d.ChatID, Approved: d.Approved, Reason: d.Reason, At: d.At.time(), Stage: d.Stage}
}

func (p storedPerson) person() governance.Person {
	return governance.Person{Email: p.Email, Name: p.Name, EntraID: p.EntraID}
}

// appendRequest appends r as stored to b: "<version> <compact JSON>", the JSON written by
// hand (jsonw.go) exactly as encoding/json would write storedForm(r).
func appendRequest(b []byte, r *governance.Request) ([]byte, error) {
	s := storedForm(r)
	w := jsonw{b: b}
	w.b = strconv.AppendInt(w.b, r.Version, 10)
	w.b = append(w.b, ' ')
	s.write(&w)
	return w.b, w.err
}

// storedForm is r as stored, but for its id (the key's) and version (before the JSON).
func storedForm(r *governance.Request) storedRequest {
	s := storedRequest{
		State: r.State, Requester: person(r.Requester), Duration: seconds(r.Duration), Reason: r.Reason, Platform: r.Platform,
		Item: storedItem{ID: r.Item.ID, Name: r.Item.Name, Backend: r.Item.Backend, Channel: r.Item.Channel,
			ChannelOnly: r.Item.ChannelOnly},
		CreatedAt: nano(r.CreatedAt), CancelledAt: nano(r.CancelledAt),
		Failure: r.Failure, Duplicate: r.Duplicate, Extends: r.Extends, ExtendTo: nano(r.ExtendTo),
		Reminders: r.Reminders, Escalations: r.Escalations, ChainEnd: r.ChainEnd, ExpiryNotes: r.ExpiryNotices,
		Desk: r.Desk, Stages: r.Stages, Stage: r.Stage, StageStarted: nano(r.StageStarted), AutoApproved: r.AutoApproved,
		RequestedBy: optionalPerson(r.RequestedBy), CancelledBy: optionalPerson(r.CancelledBy),
	}
	for _, d := range r.Approvals {
		s.Approvals = append(s.Approvals, decision(d))
	}
	if r.Item.Ref != r.Item.ID {
		s.Item.Ref = &r.Item.Ref
	}
	if s.State == governance.StatePendingApproval {
		s.State = ""
	}
	switch {
	case r.UpdatedAt.IsZero() && !r.CreatedAt.IsZero():
		s.UpdatedAt = -1
	case !r.UpdatedAt.Equal(r.CreatedAt):
		s.UpdatedAt = nano(r.UpdatedAt)
	}
	if len(r.Approvers) > 0 {
		s.Approvers = make([]storedPerson, len(r.Approvers))
		for i, a := range r.Approvers {
			s.Approvers[i] = person(a)
		}
	}
	if sc := r.Schedule; sc.DaysUntilEscalation != 0 || sc.DaysBetweenReminders != 0 || sc.MaxReminders != 0 ||
		sc.FallbackApprover != "" || sc.RequestExpiryDays != 0 || len(sc.ExpiryNotices) > 0 {
		s.Schedule = &storedSchedule{sc.DaysUntilEscalation, sc.DaysBetweenReminders, sc.MaxReminders,
			sc.FallbackApprover, sc.RequestExpiryDays, durations[time.Duration, seconds](sc.ExpiryNotices)}
	}
	if d := r.Decision; d != nil {
		sd := decision(*d)
		s.Decision = &sd
	}
	if b := r.Submission; b != nil {
		s.Submission = &storedSub{Backend: b.Backend, ExternalID: b.ExternalID, ExternalIDs: b.ExternalIDs, State: b.State, Start: nano(b.Start),
			End: nano(b.End), Detail: b.Detail, Waiting: b.Waiting, Checks: b.Checks, At: nano(b.At)}
	}
	if r.RevokedBy != nil {
		p := person(*r.RevokedBy)
		s.RevokedBy = &p
	}
	return s
}

// decodeRequest reads a stored request of either form: "<version> <compact JSON>", or
// (stored before) the JSON of governance.Request.
func decodeRequest(id string, data []byte) (*governance.Request, error) {
	if len(data) > 0 && data[0] == '{' {
		var r governance.Request
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("decode stored request %s: %w", id, err)
		}
		return &r, nil
	}
	v, js, ok := strings.Cut(string(data), " ")
	version, err := strconv.ParseInt(v, 10, 64)
	if !ok || err != nil {
		return nil, fmt.Errorf("decode stored request %s: no version", id)
	}
	var s storedRequest
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		return nil, fmt.Errorf("decode stored request %s: %w", id, err)
	}
	r := &governance.Request{
		ID: id, Version: version, State: s.State, Requester: s.Requester.person(), Duration: time.Duration(s.Duration), Reason: s.Reason,
		Item: governance.ItemRef{ID: s.Item.ID, Name: s.Item.Name, Backend: s.Item.Backend, Ref: s.Item.ID,
			Channel: s.Item.Channel, ChannelOnly: s.Item.ChannelOnly},
		Platform: s.Platform, CreatedAt: s.CreatedAt.time(), UpdatedAt: s.UpdatedAt.time(), CancelledAt: s.CancelledAt.time(),
		Failure: s.Failure, Duplicate: s.Duplicate, Extends: s.Extends, ExtendTo: s.ExtendTo.time(),
		Reminders: s.Reminders, Escalations: s.Escalations, ChainEnd: s.ChainEnd, ExpiryNotices: s.ExpiryNotes,
		Desk: s.Desk, Stages: s.Stages, Stage: s.Stage, StageStarted: s.StageStarted.time(), AutoApproved: s.AutoApproved,
		RequestedBy: s.RequestedBy.optional(), CancelledBy: s.CancelledBy.optional(),
	}
	for _, d := range s.Approvals {
		r.Approvals = append(r.Approvals, d.decision())
	}
	if s.Item.Ref != nil {
		r.Item.Ref = *s.Item.Ref
	}
	if r.State == "" {
		r.State = governance.StatePendingApproval
	}
	switch s.UpdatedAt {
	case 0:
		r.UpdatedAt = r.CreatedAt
	case -1:
		r.UpdatedAt = time.Time{}
	}
	if len(s.Approvers) > 0 {
		r.Approvers = make([]governance.Person, len(s.Approvers))
		for i, a := range s.Approvers {
			r.Approvers[i] = a.person()
		}
	}
	if sc := s.Schedule; sc != nil {
		r.Schedule = governance.Schedule{DaysUntilEscalation: sc.DaysUntilEscalation, DaysBetweenReminders: sc.DaysBetweenReminders,
			MaxReminders: sc.MaxReminders, FallbackApprover: sc.FallbackApprover, RequestExpiryDays: sc.RequestExpiryDays,
			ExpiryNotices: durations[seconds, time.Duration](sc.ExpiryNotices)}
	}
	if d := s.Decision; d != nil {
		gd := d.decision()
		r.Decision = &gd
	}
	if b := s.Submission; b != nil {
		r.Submission = &governance.Submission{Backend: b.Backend, ExternalID: b.ExternalID, ExternalIDs: b.ExternalIDs, State: b.State, Start: b.Start.time(),
			End: b.End.time(), Detail: b.Detail, Waiting: b.Waiting, Checks: b.Checks, At: b.At.time()}
	}
	if s.RevokedBy != nil {
		p := s.RevokedBy.person()
		r.RevokedBy = &p
	}
	return r, nil
}

// appendRef appends a card's reference as stored under the field "<platform>:<recipient>",
// which says the rest: "<channel> <message id>", or the JSON of governance.MessageRef
// (as it was stored before) when either holds a space. Short values keep the hash in
// Redis's compact listpack form.
func appendRef(b []byte, ref governance.MessageRef) ([]byte, error) {
	if ref.Channel != "" && ref.ID != "" && !strings.ContainsAny(ref.Channel, " {") && !strings.ContainsAny(ref.ID, " {") {
		b = append(b, ref.Channel...)
		b = append(b, ' ')
		return append(b, ref.ID...), nil
	}
	js, err := json.Marshal(ref)
	return append(b, js...), err
}

// decodeRef reads a card reference stored under field by appendRef, or before it.
func decodeRef(field, value string) (governance.MessageRef, error) {
	var ref governance.MessageRef
	if strings.HasPrefix(value, "{") {
		err := json.Unmarshal([]byte(value), &ref)
		return ref, err
	}
	platform, recipient, ok1 := strings.Cut(field, ":")
	channel, id, ok2 := strings.Cut(value, " ")
	if !ok1 || !ok2 {
		return ref, fmt.Errorf("card reference %q: %q is neither JSON nor \"<channel> <id>\"", field, value)
	}
	return governance.MessageRef{Platform: platform, Recipient: recipient, Channel: channel, ID: id}, nil
}

// storedAudit is an audit record as stored in its stream entry's field "a"; records
// stored before are the JSON of governance.AuditRecord in the field "r". Both decode to
// the same record, so `audit export` writes what it always wrote. The record's time is
// its entry's millisecond (the entry id, or the field "m" when the entry had to be placed
// later, apply.lua) and the nanoseconds past it (Nanos).
type storedAudit struct {
	Nanos     int64             `json:"n,omitempty"`
	RequestID string            `json:"q"`
	Event     governance.Event  `json:"e"`
	From      governance.State  `json:"f,omitempty"`
	To        *governance.State `json:"s,omitempty"` // nil: pending_approval, what most records say
	Actor     string            `json:"a,omitempty"`
	Platform  string            `json:"p,omitempty"`
	ChatID    string            `json:"c,omitempty"`
	Detail    string            `json:"d,omitempty"`
	Zero      bool              `json:"z,omitempty"` // At is the zero time
}

// auditMillis is the millisecond an audit record is stored at.
func auditMillis(a governance.AuditRecord) int64 { return max(a.At.UnixMilli(), 0) }

// decodeAudit reads an audit stream entry of either form.
func decodeAudit(id string, fields map[string]any) (governance.AuditRecord, error) {
	var a governance.AuditRecord
	if raw, ok := fields["r"].(string); ok {
		err := json.Unmarshal([]byte(raw), &a)
		return a, err
	}
	raw, _ := fields["a"].(string)
	var s storedAudit
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return a, err
	}
	ms := entryTime(id).UnixMilli()
	if m, ok := fields["m"].(string); ok {
		v, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			return a, fmt.Errorf("audit record time %q: %w", m, err)
		}
		ms = v
	}
	a = governance.AuditRecord{RequestID: s.RequestID, Event: s.Event, From: s.From, To: governance.StatePendingApproval,
		Actor: s.Actor, Platform: s.Platform, ChatID: s.ChatID, Detail: s.Detail}
	if !s.Zero {
		a.At = time.Unix(0, ms*int64(time.Millisecond)+s.Nanos).UTC()
	}
	if s.To != nil {
		a.To = *s.To
	}
	return a, nil
}
