package entra_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/entra"
	"github.com/accessbot/accessbot/governance/entra/graphfake"
)

// benchBackend is the backend against a fake Graph whose payroll package has n requests
// by other people, so the duplicate check reads pages.
func benchBackend(b *testing.B, n int) (*entra.Backend, *graphfake.Server) {
	g := graphfake.New(graphfake.Options{PageSize: 100})
	b.Cleanup(g.Close)
	g.AddUser(graphfake.User{ID: carolID, Mail: "carol@example.com", UserPrincipalName: "carol@example.com"})
	g.AddPackage(graphfake.Package{ID: payroll, DisplayName: "Payroll Reader", Policies: []graphfake.Policy{{ID: payrollPol, AllowedTargetScope: "notSpecified"}}})
	for i := range n {
		g.AddRequest(graphfake.Request{RequestType: "userAdd", State: "delivered", TargetID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i),
			PackageID: payroll, PolicyID: payrollPol})
	}
	be, err := g.Backend(governance.SystemClock{}, func(o *entra.Options) { o.Rate, o.Burst = 1e6, 1000 })
	require.NoError(b, err)
	return be, g
}

func BenchmarkSubmit(b *testing.B) {
	be, g := benchBackend(b, 250)
	ctx := context.Background()
	item := governance.ItemRef{ID: "payroll", Name: "Payroll Reader", Backend: "entra", Ref: payroll + "/" + payrollPol}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		sub, err := be.Submit(ctx, governance.Grant{RequestID: fmt.Sprintf("AR-%d", i), Item: item,
			Identity: governance.Identity{ID: carolID}, Start: time.Now(), End: time.Now().Add(time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		g.SetState(sub.ExternalID, "canceled") // so the next one is no duplicate
		b.StartTimer()
	}
}

func BenchmarkStatus(b *testing.B) {
	be, g := benchBackend(b, 0)
	id := g.AddRequest(graphfake.Request{RequestType: "adminAdd", State: "pendingApproval", TargetID: carolID, PackageID: payroll, PolicyID: payrollPol})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := be.Status(context.Background(), governance.Submission{ExternalID: id}); err != nil {
			b.Fatal(err)
		}
	}
}
