package permissions_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/permissions"
	"github.com/accessbot/accessbot/governance/permissions/pmfake"
)

// benchBackend is the backend against a fake whose pages hold 100 changes.
func benchBackend(b *testing.B) (*permissions.Backend, *pmfake.Server, *governance.ManualClock) {
	clock := governance.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	pm := pmfake.New(pmfake.Options{PageSize: 100, Now: clock.Now})
	b.Cleanup(pm.Close)
	pm.AddUser(pmfake.User{ID: alexID, Mail: "alex@contoso.com", UserPrincipalName: "alex@contoso.com"})
	be, err := pm.Backend(clock, func(o *permissions.Options) { o.Rate, o.Burst = 1e6, 1000 })
	if err != nil {
		b.Fatal(err)
	}
	return be, pm, clock
}

var benchItem = governance.ItemRef{ID: "aws-policy", Name: "AWS", Backend: "permissions", Ref: "aws:" + awsAccount + ":policy:" + awsPolicy + "@" + awsRole}

func BenchmarkSubmit(b *testing.B) {
	be, _, clock := benchBackend(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		clock.Advance(25 * time.Hour) // earlier requests leave the duplicate search's window
		now := clock.Now()
		_, err := be.Submit(ctx, governance.Grant{RequestID: fmt.Sprintf("AR-%d", i), Item: benchItem,
			Requester: governance.Person{Email: "alex@contoso.com"}, Start: now, End: now.Add(time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStatus(b *testing.B) {
	be, pm, clock := benchBackend(b)
	ctx := context.Background()
	now := clock.Now()
	sub, err := be.Submit(ctx, governance.Grant{RequestID: "AR-1", Item: benchItem, Requester: governance.Person{Email: "alex@contoso.com"},
		Start: now, End: now.Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	sub.At = now
	for i := range 250 { // a busy tenant: other requests' changes in the window
		pm.AddRequest(pmfake.Request{TicketNumber: fmt.Sprintf("INC%d", i)})
	}
	pm.SetStatus(sub.ExternalID, "approved", "granting")
	b.ReportAllocs()
	for b.Loop() {
		got, err := be.Status(ctx, sub)
		if err != nil || got.State != governance.StateSubmitted {
			b.Fatal(got, err)
		}
	}
}

func BenchmarkParseRef(b *testing.B) {
	ref := "azure:" + azureSub + ":role:" + azureRole1 + "," + azureRole2 + "@/subscriptions/" + azureSub
	b.ReportAllocs()
	for b.Loop() {
		if _, err := permissions.ParseRef(ref); err != nil {
			b.Fatal(err)
		}
	}
}
