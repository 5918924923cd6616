package redis

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
)

// fill sets every stored field reachable from v (structs, pointers, slices; not those
// tagged json:"-", which the governance types never store) to a value that is not its
// zero, different for each field, so that a codec that forgets a field — one added to
// governance.Request later — is caught.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(t0.Add(time.Duration(*n) * time.Second).Add(123456789)))
			return
		}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && f.Tag.Get("json") != "-" {
				fill(v.Field(i), n)
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), n)
		fill(v.Index(1), n)
	case reflect.String:
		v.SetString("s" + string(rune('a'+*n%26)) + " x{" + time.Duration(*n).String())
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Bool:
		v.SetBool(true)
	default:
		panic("fill: add " + v.Kind().String())
	}
}

func TestCodec_EveryFieldOfARequestComesBack(t *testing.T) {
	var r governance.Request
	n := 0
	fill(reflect.ValueOf(&r).Elem(), &n)
	r.ID, r.Version = "AR-42", 7
	data, err := encodeRequest(&r)
	require.NoError(t, err)
	got, err := decodeRequest("AR-42", data)
	require.NoError(t, err)
	assert.Equal(t, &r, got, "a field of governance.Request is missing from storedRequest (codec.go)")

	r.Item.Ref = r.Item.ID // the usual case, left out of the stored form
	data, err = encodeRequest(&r)
	require.NoError(t, err)
	got, err = decodeRequest("AR-42", data)
	require.NoError(t, err)
	assert.Equal(t, r.Item, got.Item)
}

// The stored form is much smaller than the request's own JSON: that is what keeps a
// pending request near 1 KB of Redis.
func TestCodec_StoredRequestIsCompact(t *testing.T) {
	r := request("AR-493", "user92@example.com", "approver@example.com")
	r.Item = governance.ItemRef{ID: "vpn-2", Name: "Office VPN 2", Backend: "builtin", Ref: "vpn-2"}
	r.Reason, r.Platform = "load test", "slack"
	r.Schedule.ExpiryNotices = []time.Duration{24 * time.Hour, time.Hour}
	old, err := json.Marshal(r)
	require.NoError(t, err)
	data, err := encodeRequest(r)
	require.NoError(t, err)
	t.Logf("stored: %d bytes (%s); as governance.Request's JSON: %d bytes", len(data), data, len(old))
	assert.Less(t, len(data), len(old)/2)
}

// Requests, card references and audit records stored before the compact forms are still
// read, and a transition rewrites a request in the new form.
func TestCodec_WhatWasStoredBeforeIsStillRead(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, Options{})
	r := request("AR-9", "carol@example.com", "alice@example.com")
	old, err := json.Marshal(r)
	require.NoError(t, err)
	shard := s.k.shardOf(r.ID)
	require.NoError(t, s.rdb.HSet(ctx, s.k.request(r.ID), "v", 1, "state", string(r.State), "data", old).Err())
	require.NoError(t, s.rdb.ZAdd(ctx, s.k.pending(shard, "alice@example.com"), goredisZ(r.CreatedAt, r.ID)).Err())
	ref := governance.MessageRef{Platform: "slack", Recipient: "alice@example.com", Channel: "DALICE", ID: "1700000000.000100"}
	oldRef, err := json.Marshal(ref)
	require.NoError(t, err)
	require.NoError(t, s.rdb.HSet(ctx, s.k.msgs(r.ID), "slack:alice@example.com", oldRef).Err())

	rec := governance.AuditRecord{At: t0, RequestID: r.ID, Event: governance.EventRequest, To: r.State, Actor: "carol@example.com"}
	oldRec, err := json.Marshal(rec)
	require.NoError(t, err)
	require.NoError(t, s.rdb.XAdd(ctx, &goredis.XAddArgs{Stream: s.k.audit(shard), ID: "*", Values: []any{"r", oldRec}}).Err())

	got, err := s.Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, r, got)
	var trail []governance.AuditRecord
	require.NoError(t, s.Audit(ctx, time.Time{}, time.Time{}, func(a governance.AuditRecord) error {
		trail = append(trail, a)
		return nil
	}))
	assert.Equal(t, []governance.AuditRecord{rec}, trail)
	pending, err := s.ListPendingFor(ctx, "alice@example.com", 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"AR-9"}, ids(pending))
	snaps, err := s.Snapshots(ctx, []string{r.ID})
	require.NoError(t, err)
	assert.Equal(t, []governance.MessageRef{ref}, snaps[r.ID].Cards)
	v, err := s.SaveMessageRef(ctx, r.ID, governance.MessageRef{Platform: "slack", Recipient: "bob@example.com", Channel: "DBOB", ID: "1.2"})
	require.NoError(t, err)
	assert.Equal(t, int64(1), v, "the version of a request stored as a hash")

	require.ErrorIs(t, s.Update(ctx, next(r, governance.StateApproved), 5, governance.Effects{}), governance.ErrConflict)
	require.NoError(t, s.Update(ctx, next(r, governance.StateApproved), 1, governance.Effects{}))
	kind, err := s.rdb.Type(ctx, s.k.request(r.ID)).Result()
	require.NoError(t, err)
	assert.Equal(t, "string", kind, "rewritten in the compact form")
	got, err = s.Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, governance.StateApproved, got.State)
	assert.Equal(t, int64(2), got.Version)
}

func TestCodec_CardReferencesAreShortUnlessTheyCannotBe(t *testing.T) {
	for name, ref := range map[string]governance.MessageRef{
		"slack":            {Platform: "slack", Recipient: "alice@example.com", Channel: "DALICE", ID: "1700000000.000100"},
		"teams":            {Platform: "teams", Recipient: "bob@example.com", Channel: "a:1xYz-conversation;messageid=17", ID: "1:1abc"},
		"a space in an id": {Platform: "teams", Recipient: "bob@example.com", Channel: "odd channel", ID: "1"},
		"no message id":    {Platform: "slack", Recipient: "admins#1", Channel: "CADMINS"},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := appendRef(nil, ref)
			require.NoError(t, err)
			got, err := decodeRef(ref.Platform+":"+ref.Recipient, string(b))
			require.NoError(t, err)
			assert.Equal(t, ref, got)
		})
	}
}

func goredisZ(at time.Time, member string) goredis.Z {
	return goredis.Z{Score: float64(at.UnixMilli()), Member: member}
}

func TestCodec_EveryFieldOfAnAuditRecordComesBack(t *testing.T) {
	var a governance.AuditRecord
	n := 0
	fill(reflect.ValueOf(&a).Elem(), &n)
	b, err := encodeAudit(a)
	require.NoError(t, err)
	entry := strconv.FormatInt(auditMillis(a), 10) + "-0"
	got, err := decodeAudit(entry, map[string]any{"a": string(b)})
	require.NoError(t, err)
	assert.Equal(t, a, got, "a field of governance.AuditRecord is missing from storedAudit (codec.go)")
	got, err = decodeAudit("1-0", map[string]any{"a": string(b), "m": strconv.FormatInt(auditMillis(a), 10)})
	require.NoError(t, err)
	assert.Equal(t, a, got, "placed at a later entry, with its own millisecond beside it")
	for _, at := range []time.Time{{}, t0} {
		a.At, a.To = at, governance.StatePendingApproval
		b, err := encodeAudit(a)
		require.NoError(t, err)
		got, err := decodeAudit(strconv.FormatInt(auditMillis(a), 10)+"-3", map[string]any{"a": string(b)})
		require.NoError(t, err)
		assert.Equal(t, a, got)
	}

	old, err := json.Marshal(a) // as records were stored before
	require.NoError(t, err)
	got, err = decodeAudit("5-0", map[string]any{"r": string(old)})
	require.NoError(t, err)
	assert.Equal(t, a, got)
	assert.Less(t, len(b), len(old))
}
