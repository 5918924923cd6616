package sailpoint

import (
	"encoding/json"
	"testing"
)

// ISC's approval lists are outside input: whatever a page holds, reading it never panics,
// and an approval keeps its id and request id.
func FuzzPendingApprovals(f *testing.F) {
	f.Add([]byte(`[{"id":"a1","accessRequestId":"r1","requestedFor":{"type":"IDENTITY","id":"i1","name":"Carol"},
		"owner":{"type":"GOVERNANCE_GROUP","id":"g1","name":"Payroll Approvers"},"requestedObject":{"id":"o1","name":"Payroll","type":"ROLE"},
		"forwardHistory":[{"oldApproverName":"A","newApproverName":"B","modified":"2026-01-01T00:00:00.000Z"}],
		"previousReviewersComments":[{"comment":"ok","author":null}],"removeDate":"2026-02-01T00:00:00Z"}]`))
	f.Add([]byte(`[{"id":"a2","requestedFor":[{"id":"i1"},{"id":"i2"}],"owner":null,"requesterComment":null}]`))
	f.Add([]byte(`[{"requestedFor":null}]`))
	f.Add([]byte(`[{"requestedFor":"oops"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var page []pendingApproval
		if json.Unmarshal(data, &page) != nil {
			return
		}
		b := &Backend{approvalsURL: "https://acme.identitynow.com/ui/d/approvals/requested-items"}
		for _, p := range page {
			a := b.backendApproval(p)
			if a.ID != p.ID || a.RequestID != p.AccessRequestID {
				t.Fatalf("approval %q of request %q read as %q of %q", p.ID, p.AccessRequestID, a.ID, a.RequestID)
			}
		}
		var done []completedApproval
		if json.Unmarshal(data, &done) == nil {
			for _, c := range done {
				_ = completedOf(c)
			}
		}
	})
}
