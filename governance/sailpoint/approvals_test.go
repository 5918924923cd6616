package sailpoint_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/backendtest"
	"github.com/accessbot/accessbot/governance/sailpoint"
	"github.com/accessbot/accessbot/governance/sailpoint/iscfake"
)

// The approvals tenant: Carol asks; her manager Mallory decides level 1 of Payroll
// Reader and the governance group Payroll Approvers (Grace, Gus) level 2; Alice owns
// nothing; Olga is an ORG_ADMIN.
const (
	graceID   = "2c9180857182305e01719937356229a1"
	gusID     = "2c9180857182305e01719937356229a2"
	olgaID    = "2c9180857182305e01719937356229a3"
	groupID   = "2c9180857182305e01719937356229b0"
	connectID = "b61429f5-203d-494c-94c3-04f54e17bc5c"
	callback  = "https://bot.example.com" + sailpoint.ConnectCallbackPath
)

type desk struct {
	t   *testing.T
	isc *iscfake.Server
	be  *sailpoint.Backend
}

func newDesk(t *testing.T, opts ...func(*sailpoint.Options)) *desk {
	isc := iscfake.New(iscfake.Options{})
	t.Cleanup(isc.Close)
	isc.AddIdentity(carolID, "carol@example.com", "Carol", malloryID)
	isc.AddIdentity(aliceID, "alice@example.com", "Alice", "")
	isc.AddIdentity(malloryID, "mallory@example.com", "Mallory Manager", "")
	isc.AddIdentity(graceID, "grace@example.com", "Grace", "")
	isc.AddIdentity(gusID, "gus@example.com", "Gus", "")
	isc.AddIdentity(olgaID, "olga@example.com", "Olga Admin", "")
	isc.SetUserLevel(olgaID, iscfake.OrgAdmin)
	for _, who := range []string{"carol", "alice", "mallory", "grace", "gus", "olga"} {
		id := map[string]string{"carol": carolID, "alice": aliceID, "mallory": malloryID, "grace": graceID, "gus": gusID, "olga": olgaID}[who]
		isc.SetLogin(id, who, who+"-pw")
	}
	isc.AddItem("ACCESS_PROFILE", payroll, "Payroll Reader", "Read payroll")
	isc.AddGroup(groupID, "Payroll Approvers", graceID, gusID)
	isc.SetApprovalSchemes(payroll, iscfake.Scheme{Approver: iscfake.SchemeManager},
		iscfake.Scheme{Approver: iscfake.SchemeGovernanceGroup, GroupID: groupID})
	isc.AddOAuthClient(iscfake.OAuthClient{ID: connectID, Secret: "connect-secret", Name: "accessbot connect",
		RedirectURIs: []string{callback}, GrantTypes: []string{iscfake.GrantAuthorizationCode, iscfake.GrantRefreshToken},
		AccessType: "OFFLINE", Enabled: true, Scope: []string{"idn:access-request-approvals:read", "idn:access-request-approvals:manage"}})
	be, err := isc.Backend(governance.SystemClock{}, append([]func(*sailpoint.Options){func(o *sailpoint.Options) {
		o.Timeout = 2 * time.Second
		o.Connect = sailpoint.ConnectClient{ClientID: connectID, ClientSecret: "connect-secret"}
	}}, opts...)...)
	require.NoError(t, err)
	return &desk{t: t, isc: isc, be: be}
}

// connect signs username in and returns their connected account.
func (d *desk) connect(username string) backendtest.Account {
	d.t.Helper()
	return backendtest.Connect(d.t, d.be, callback, username, username+"-pw")
}

// request submits Carol's request for Payroll Reader as approvals: backend does.
func (d *desk) request() governance.Submission {
	d.t.Helper()
	sub, err := d.be.Submit(context.Background(), governance.Grant{RequestID: "AR-1", Identity: governance.Identity{ID: carolID},
		Requester: carol.Person, Reason: "quarter close", Item: governance.ItemRef{Name: "Payroll Reader", Ref: "ACCESS_PROFILE:" + payroll},
		End: time.Now().Add(8 * time.Hour)})
	require.NoError(d.t, err)
	return sub
}

func (d *desk) pending() []sailpoint.BackendApproval {
	d.t.Helper()
	p, err := d.be.Pending(context.Background(), time.Time{})
	require.NoError(d.t, err)
	return p
}

func (d *desk) posts(action string) int {
	n := 0
	for _, c := range d.isc.Calls() {
		if c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/"+action) {
			n++
		}
	}
	return n
}

func TestConnect_SignInNamesTheTenantsAuthorizeEndpointWithPKCE(t *testing.T) {
	d := newDesk(t)
	si, err := d.be.SignIn(context.Background())
	require.NoError(t, err)
	assert.Equal(t, governance.SignIn{AuthURL: d.isc.AuthorizeURL(), TokenURL: d.isc.URL + "/oauth/token", ClientID: connectID,
		ClientSecret: "connect-secret", PKCE: true}, si)
}

func TestConnect_WithoutAConnectClientSaysWhatToSet(t *testing.T) {
	d := newDesk(t, func(o *sailpoint.Options) { o.Connect = sailpoint.ConnectClient{} })
	_, err := d.be.SignIn(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SAILPOINT_CONNECT_CLIENT_ID")
}

func TestConnect_WhoIsTheIdentityTheTokenResponseNames(t *testing.T) {
	d := newDesk(t)
	a := d.connect("mallory")
	assert.Equal(t, governance.Identity{ID: malloryID, Email: "mallory@example.com", Name: "Mallory Manager"}, a.Identity())

	_, err := d.be.WhoIs(context.Background(), "tok", func(string) any { return nil })
	require.Error(t, err, "a token response without identity_id is no person's")
	assert.Contains(t, err.Error(), "names no identity")
}

func TestConnect_TheFakeRefusesWhatISCRefuses(t *testing.T) {
	d := newDesk(t)
	cfg := backendtest.OAuthConfig(t, d.be, callback)
	verifier := oauth2.GenerateVerifier()
	ctx := context.Background()

	t.Run("a wrong password shows the form again", func(t *testing.T) {
		resp := backendtest.LogIn(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), "mallory", "guess")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
	t.Run("an unregistered redirect URI is never redirected to", func(t *testing.T) {
		other := cfg
		other.RedirectURL = "https://evil.example.com/oauth/sailpoint/callback"
		resp, err := backendtest.NoRedirect.Get(other.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Empty(t, resp.Header.Get("Location"))
	})
	t.Run("a code works once", func(t *testing.T) {
		code := backendtest.Code(t, cfg, verifier, "mallory", "mallory-pw")
		_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		require.NoError(t, err)
		_, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		assertOAuthError(t, err, "invalid_grant")
	})
	for _, tc := range []struct {
		name     string
		change   func(*oauth2.Config)
		verifier string
		want     string
	}{
		{"the PKCE verifier must match the challenge", func(*oauth2.Config) {}, oauth2.GenerateVerifier(), "invalid_grant"},
		{"the redirect URI must be the one the code was issued for",
			func(c *oauth2.Config) { c.RedirectURL = "https://bot.example.com/elsewhere" }, verifier, "invalid_grant"},
		{"a confidential client must authenticate", func(c *oauth2.Config) { c.ClientSecret = "wrong" }, verifier, "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := backendtest.Code(t, cfg, verifier, "mallory", "mallory-pw")
			other := cfg
			tc.change(&other)
			_, err := other.Exchange(ctx, code, oauth2.VerifierOption(tc.verifier))
			assertOAuthError(t, err, tc.want)
		})
	}
	t.Run("a refresh token is rotated and works once", func(t *testing.T) {
		tok, err := cfg.Exchange(ctx, backendtest.Code(t, cfg, verifier, "mallory", "mallory-pw"), oauth2.VerifierOption(verifier))
		require.NoError(t, err)
		old := &oauth2.Token{RefreshToken: tok.RefreshToken}
		fresh, err := cfg.TokenSource(ctx, old).Token()
		require.NoError(t, err)
		assert.NotEqual(t, tok.RefreshToken, fresh.RefreshToken)
		assert.Equal(t, malloryID, fresh.Extra("identity_id"))
		_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		assertOAuthError(t, err, "invalid_grant")
	})
	t.Run("revoked grants refresh no more", func(t *testing.T) {
		tok, err := cfg.Exchange(ctx, backendtest.Code(t, cfg, verifier, "gus", "gus-pw"), oauth2.VerifierOption(verifier))
		require.NoError(t, err)
		d.isc.RevokeGrants(gusID)
		_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		assertOAuthError(t, err, "invalid_grant")
	})
}

func assertOAuthError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, code, re.ErrorCode)
}

func TestApprovals_ATwoLevelRequestIsDecidedByTheManagerThenAGroupMember(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	sub := d.request()
	require.Equal(t, []string{sub.ExternalID}, sub.ExternalIDs, "the submission keeps ISC's accessRequestIds")
	assert.Equal(t, "quarter close — requested in chat (accessbot request AR-1)", d.isc.Requests()[0].RequesterComment.Comment,
		"nobody approved it in chat: ISC's approvers decide")

	p := d.pending()
	require.Len(t, p, 1)
	first := p[0]
	assert.Equal(t, sub.ExternalID, first.RequestID)
	assert.Equal(t, sailpoint.ApprovalOwner{Identity: governance.Identity{ID: malloryID, Name: "Mallory Manager", Email: "mallory@example.com"}},
		first.Owner, "cards go to people by e-mail")
	assert.Equal(t, "carol@example.com", first.RequestedFor.Email)
	assert.Equal(t, sailpoint.BackendItem{ID: payroll, Name: "Payroll Reader", Type: "ACCESS_PROFILE"}, first.Item)
	assert.Equal(t, carolID, first.RequestedFor.ID)
	assert.Equal(t, 1, first.Step)
	assert.Equal(t, "manager", first.StepName)
	assert.Contains(t, first.Comment, "quarter close")
	assert.True(t, first.CommentRequiredToReject)
	assert.Equal(t, d.isc.URL+"/ui/d/approvals/requested-items", first.Link)

	done, err := d.be.Decide(ctx, sailpoint.ApprovalDecision{ApprovalID: first.ID, Action: sailpoint.ActionApprove,
		Comment: "fine", By: governance.Person{Email: "mallory@example.com"}, As: d.connect("mallory")})
	require.NoError(t, err)
	assert.Equal(t, sailpoint.ApprovalApproved, done.State)
	assert.Equal(t, malloryID, done.ReviewedBy.ID, "ISC records the manager, not accessbot")

	p = d.pending()
	require.Len(t, p, 1)
	second := p[0]
	assert.True(t, second.Owner.Group)
	assert.Equal(t, "Payroll Approvers", second.Owner.Identity.Name)
	assert.Equal(t, []governance.Identity{{ID: graceID, Name: "Grace", Email: "grace@example.com"}, {ID: gusID, Name: "Gus", Email: "gus@example.com"}},
		second.Owner.Members, "every member of the owning group gets a card")
	assert.Equal(t, 2, second.Step)
	assert.Equal(t, "governance group", second.StepName)
	require.Len(t, second.PreviousComments, 1)
	assert.Equal(t, "fine", second.PreviousComments[0].Comment)

	done, err = d.be.Decide(ctx, sailpoint.ApprovalDecision{ApprovalID: second.ID, Action: sailpoint.ActionApprove,
		By: governance.Person{Email: "gus@example.com"}, As: d.connect("gus")})
	require.NoError(t, err)
	assert.Equal(t, gusID, done.ReviewedBy.ID)
	assert.Empty(t, d.pending())

	completed, err := d.be.Completed(ctx, time.Time{})
	require.NoError(t, err)
	require.Len(t, completed, 2)
	assert.Equal(t, []string{malloryID, gusID}, []string{completed[0].ReviewedBy.ID, completed[1].ReviewedBy.ID})

	st, err := d.be.RequestStatus(ctx, sub.ExternalIDs)
	require.NoError(t, err)
	require.Len(t, st, 1)
	assert.Equal(t, []string{first.ID, second.ID}, st[0].ApprovalIDs, "the status row joins the approvals to the request")
	assert.Equal(t, governance.StateActive, st[0].Submission.State, "all levels approved: provisioned")
	held, ok := d.isc.Access(carolID, payroll)
	assert.True(t, ok)
	assert.NotEmpty(t, held)
}

func TestApprovals_ARejectionEndsTheRequest(t *testing.T) {
	d := newDesk(t)
	sub := d.request()
	_, err := d.be.Decide(context.Background(), sailpoint.ApprovalDecision{ApprovalID: d.pending()[0].ID, Action: sailpoint.ActionReject,
		Comment: "not this quarter", By: governance.Person{Email: "mallory@example.com"}, As: d.connect("mallory")})
	require.NoError(t, err)
	st, err := d.be.RequestStatus(context.Background(), sub.ExternalIDs)
	require.NoError(t, err)
	assert.Equal(t, governance.StateDenied, st[0].Submission.State)
	assert.Contains(t, st[0].Submission.Detail, "rejected in SailPoint by Mallory Manager: not this quarter")
}

func TestDecide_RefusalsSayWhatHappened(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(d *desk, approvalID string)
		who     string // the connected person ("" for none)
		action  sailpoint.ApprovalAction
		comment string
		want    error
		says    string
	}{
		{name: "someone who is not the owner", who: "alice", action: sailpoint.ActionApprove,
			want: governance.ErrNotApprover, says: "you are not this approval's owner in SailPoint (it waits for Mallory Manager)"},
		{name: "an ORG_ADMIN who is not the owner (ISC would let them)", who: "olga", action: sailpoint.ActionApprove,
			want: governance.ErrNotApprover, says: "you are not this approval's owner"},
		{name: "a rejection without a comment", who: "mallory", action: sailpoint.ActionReject,
			want: governance.ErrDenyReasonRequired, says: "SailPoint needs a comment to reject"},
		{name: "an approval already decided in SailPoint's UI", who: "mallory", action: sailpoint.ActionApprove,
			prepare: func(d *desk, id string) {
				require.Zero(d.t, d.isc.DecideInUI(id, malloryID, "approve", "from my phone", ""))
			},
			want: governance.ErrAlreadyDecided, says: "this approval was already approved in SailPoint by Mallory Manager"},
		{name: "an approval forwarded to someone else", who: "mallory", action: sailpoint.ActionApprove,
			prepare: func(d *desk, id string) {
				require.Zero(d.t, d.isc.DecideInUI(id, malloryID, "forward", "on leave", aliceID))
			},
			want: governance.ErrNotApprover, says: "(it waits for Alice)"},
		{name: "someone else's connected account", who: "mallory", action: sailpoint.ActionApprove,
			want: governance.ErrNotAllowed, says: "is mallory@example.com's, not yours"},
		{name: "a person not connected, with approveAs: connected", action: sailpoint.ActionApprove,
			want: governance.ErrNotConnected, says: "connect it with `/access connect sailpoint`"},
		{name: "a connected account SailPoint no longer honours", who: "mallory", action: sailpoint.ActionApprove,
			prepare: func(d *desk, _ string) { d.isc.RevokeGrants(malloryID) },
			want:    governance.ErrConnectAgain, says: "connect it again"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesk(t)
			d.request()
			id := d.pending()[0].ID
			dec := sailpoint.ApprovalDecision{ApprovalID: id, Action: tc.action, Comment: tc.comment,
				By: governance.Person{Email: tc.who + "@example.com"}}
			if errors.Is(tc.want, governance.ErrNotAllowed) {
				dec.By = governance.Person{Email: "alice@example.com"} // Alice clicks, holding Mallory's account
			}
			if tc.who != "" {
				dec.As = d.connect(tc.who)
			}
			if tc.prepare != nil {
				tc.prepare(d, id)
			}
			before := d.posts(string(tc.action))
			_, err := d.be.Decide(context.Background(), dec)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.says)
			if !errors.Is(tc.want, governance.ErrConnectAgain) {
				assert.Equal(t, before, d.posts(string(tc.action)), "ISC was not asked to act")
			}
		})
	}
}

func TestDecide_ADecisionMadeInTheUIBetweenTheReadAndThePostIsReported(t *testing.T) {
	var d *desk
	var id string
	d = newDesk(t, func(o *sailpoint.Options) {
		o.HTTPClient = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/approve") {
				d.isc.DecideInUI(id, malloryID, "reject", "no", "")
			}
			return http.DefaultTransport.RoundTrip(r)
		})}
	})
	d.request()
	id = d.pending()[0].ID
	_, err := d.be.Decide(context.Background(), sailpoint.ApprovalDecision{ApprovalID: id, Action: sailpoint.ActionApprove,
		By: governance.Person{Email: "mallory@example.com"}, As: d.connect("mallory")})
	require.ErrorIs(t, err, governance.ErrAlreadyDecided)
	assert.Contains(t, err.Error(), "already rejected in SailPoint by Mallory Manager")
}

func TestDecide_AForwardMovesTheApprovalToTheNewOwner(t *testing.T) {
	d := newDesk(t)
	d.request()
	id := d.pending()[0].ID
	done, err := d.be.Decide(context.Background(), sailpoint.ApprovalDecision{ApprovalID: id, Action: sailpoint.ActionForward,
		Comment: "Alice knows payroll", NewOwner: governance.Identity{ID: aliceID}, By: governance.Person{Email: "mallory@example.com"},
		As: d.connect("mallory")})
	require.NoError(t, err)
	assert.Equal(t, sailpoint.ApprovalForwarded, done.State)
	assert.Equal(t, aliceID, done.ForwardedTo.ID)
	p := d.pending()[0]
	assert.Equal(t, aliceID, p.Owner.Identity.ID)
	require.Len(t, p.Forwards, 1)
	assert.Equal(t, sailpoint.ApprovalForward{From: "Mallory Manager", To: "Alice", By: "Mallory Manager", Comment: "Alice knows payroll",
		Kind: "MANUAL_REASSIGNMENT", At: p.Forwards[0].At}, p.Forwards[0])

	_, err = d.be.Decide(context.Background(), sailpoint.ApprovalDecision{ApprovalID: id, Action: sailpoint.ActionForward,
		NewOwner: governance.Identity{ID: aliceID}, As: d.connect("alice")})
	assert.ErrorIs(t, err, governance.ErrBadCommand, "a forward needs a comment, as ForwardApprovalDto does")
}

func TestDecide_ApproveAsServiceNamesTheChatApproverAndStillChecksTheOwner(t *testing.T) {
	d := newDesk(t, func(o *sailpoint.Options) { o.ApproveAs = sailpoint.ApproveAsService })
	d.request()
	id := d.pending()[0].ID

	_, err := d.be.Decide(context.Background(), sailpoint.ApprovalDecision{ApprovalID: id, Action: sailpoint.ActionApprove,
		By: governance.Person{Email: "alice@example.com", Name: "Alice"}})
	require.ErrorIs(t, err, governance.ErrNotApprover, "accessbot's ORG_ADMIN token decides only for the owner")

	done, err := d.be.Decide(context.Background(), sailpoint.ApprovalDecision{ApprovalID: id, Action: sailpoint.ActionApprove,
		Comment: "ok", By: governance.Person{Email: "Mallory@example.com", Name: "Mallory"}})
	require.NoError(t, err)
	assert.Equal(t, iscfake.ServiceIdentityID, done.ReviewedBy.ID, "ISC records accessbot's service identity")
	assert.Equal(t, "ok — decided in chat by Mallory <Mallory@example.com> (accessbot)", done.Comment)
}

func TestDecide_ISCRefusesAnotherIdentitysToken(t *testing.T) {
	d := newDesk(t)
	d.request()
	id := d.pending()[0].ID
	for _, tc := range []struct {
		who  string
		want int
	}{{"alice", http.StatusForbidden}, {"grace", http.StatusForbidden}, {"olga", http.StatusAccepted}} {
		tok, err := d.connect(tc.who).Token(context.Background())
		require.NoError(t, err)
		req, _ := http.NewRequest(http.MethodPost, d.isc.URL+"/v3/access-request-approvals/"+id+"/approve", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, tc.want, resp.StatusCode, tc.who)
	}
	c := d.isc.CompletedApprovals()
	require.Len(t, c, 1)
	assert.Equal(t, olgaID, c[0].ReviewedBy.ID, "an ORG_ADMIN deciding for an owner is recorded as the reviewer")

	// A person's token lists only their own approvals.
	tok, _ := d.connect("grace").Token(context.Background())
	for q, want := range map[string]int{"": http.StatusOK, "?owner-id=me": http.StatusOK, "?owner-id=" + malloryID: http.StatusForbidden} {
		req, _ := http.NewRequest(http.MethodGet, d.isc.URL+"/v3/access-request-approvals/pending"+q, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var list []json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, q)
		if want == http.StatusOK {
			assert.Len(t, list, 1, "grace's group owns level 2, now pending")
		}
	}
}

func TestPending_ARequestMadeInISCsOwnUIIsListedToo(t *testing.T) {
	d := newDesk(t)
	arID := d.isc.RequestInUI(carolID, carolID, payroll, "need it for the audit")
	p := d.pending()
	require.Len(t, p, 1)
	assert.Equal(t, arID, p[0].RequestID)
	assert.Equal(t, carolID, p[0].Requester.ID, "Carol asked herself, in Request Center")
	assert.Equal(t, "need it for the audit", p[0].Comment)
}

func TestPending_OnlyWhatChangedSinceIsReadAgain(t *testing.T) {
	d := newDesk(t)
	d.request()
	all := d.pending()
	require.Len(t, all, 1)
	later, err := d.be.Pending(context.Background(), all[0].Modified.Add(time.Millisecond))
	require.NoError(t, err)
	assert.Empty(t, later)
	again, err := d.be.Pending(context.Background(), all[0].Modified)
	require.NoError(t, err)
	assert.Len(t, again, 1)
	var last iscfake.Call
	for _, c := range d.isc.Calls() {
		if c.Path == "/v3/access-request-approvals/pending" {
			last = c
		}
	}
	q, err := url.ParseQuery(last.RawQuery)
	require.NoError(t, err)
	assert.Equal(t, "modified ge "+all[0].Modified.Format("2006-01-02T15:04:05.000Z"), q.Get("filters"))
	assert.Equal(t, "modified", q.Get("sorters"))
}

func TestPending_ReadsEveryPage(t *testing.T) {
	d := newDesk(t)
	for i := 0; i < 260; i++ {
		id := fmt.Sprintf("2c9180857182305e0171993735%06d", i)
		d.isc.AddIdentity(id, fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("P%d", i), malloryID)
		d.isc.RequestInUI(id, id, payroll, "")
	}
	assert.Len(t, d.pending(), 260)
	pages := 0
	for _, c := range d.isc.Calls() {
		if c.Path == "/v3/access-request-approvals/pending" {
			q, _ := url.ParseQuery(c.RawQuery)
			assert.Equal(t, "250", q.Get("limit"))
			pages++
		}
	}
	assert.Equal(t, 2, pages)
}

func TestApprovals_WithApprovalsMustBeExternalISCCreatesNone(t *testing.T) {
	d := newDesk(t)
	d.isc.SetConfig(json.RawMessage(`{"approvalsMustBeExternal": true}`))
	sub := d.request()
	assert.Empty(t, d.pending())
	st, err := d.be.RequestStatus(context.Background(), sub.ExternalIDs)
	require.NoError(t, err)
	assert.Equal(t, governance.StateActive, st[0].Submission.State, "straight to provisioning")
	s, err := d.be.ApprovalSettings(context.Background())
	require.NoError(t, err)
	assert.True(t, s.MustBeExternal)
}

func TestApprovalSettings_ReadISCsReminderAndEscalation(t *testing.T) {
	d := newDesk(t)
	s, err := d.be.ApprovalSettings(context.Background())
	require.NoError(t, err)
	three, one, two := 3, 1, 2
	assert.Equal(t, sailpoint.BackendApprovalSettings{DaysUntilEscalation: &three, DaysBetweenReminders: &one, MaxReminders: &two,
		FallbackApprover: governance.Identity{ID: "5168015d32f890ca15812c9180835d2e", Name: "Alison Ferguso", Email: "alison.ferguso@example.com"}}, s)
}

func TestConnect_TheAuthorizeEndpointComesFromOAuthInfoElseTheLoginHost(t *testing.T) {
	tests := []struct {
		name string
		info func() (*http.Response, error)
		want string
	}{
		{name: "a vanity domain named by /oauth/info", want: "https://login.acme.example.com/oauth/authorize",
			info: func() (*http.Response, error) {
				return jsonResponse(http.StatusOK, `{"authorizeEndpoint":"https://login.acme.example.com/oauth/authorize","tokenEndpoint":"x"}`), nil
			}},
		{name: "/oauth/info not answering", want: "https://acme.login.sailpoint.com/oauth/authorize",
			info: func() (*http.Response, error) { return jsonResponse(http.StatusNotFound, `{}`), nil }},
		{name: "/oauth/info unreachable", want: "https://acme.login.sailpoint.com/oauth/authorize",
			info: func() (*http.Response, error) { return nil, errors.New("connection refused") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			be, err := sailpoint.New(sailpoint.Options{BaseURL: "https://acme.api.identitynow.com/v3", ClientID: "pat", ClientSecret: "s",
				Connect: sailpoint.ConnectClient{ClientID: connectID},
				HTTPClient: &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
					require.Equal(t, "https://acme.api.identitynow.com/oauth/info", r.URL.String())
					return tc.info()
				})}})
			require.NoError(t, err)
			si, err := be.SignIn(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tc.want, si.AuthURL)
			assert.Equal(t, "https://acme.api.identitynow.com/oauth/token", si.TokenURL)
			assert.Empty(t, si.ClientSecret, "a PUBLIC client has none")
		})
	}
}

func jsonResponse(status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body))}
}

func TestApprovals_ISCsTemporaryErrorsAreRetriedLikeEveryOtherCall(t *testing.T) {
	tests := []struct {
		name      string
		match     string
		status    int
		call      func(d *desk) error
		retryable bool
	}{
		{name: "429 on the pending list", match: "GET /v3/access-request-approvals/pending", status: http.StatusTooManyRequests,
			call: func(d *desk) error { _, err := d.be.Pending(context.Background(), time.Time{}); return err }, retryable: true},
		{name: "503 on the completed list", match: "GET /v3/access-request-approvals/completed", status: http.StatusServiceUnavailable,
			call: func(d *desk) error { _, err := d.be.Completed(context.Background(), time.Time{}); return err }, retryable: true},
		{name: "500 on an approve", match: "POST /v3/access-request-approvals/", status: http.StatusInternalServerError,
			call: func(d *desk) error {
				_, err := d.be.Decide(context.Background(), sailpoint.ApprovalDecision{ApprovalID: d.isc.PendingApprovals()[0].ID,
					Action: sailpoint.ActionApprove, By: governance.Person{Email: "mallory@example.com"}, As: d.connect("mallory")})
				return err
			}, retryable: true},
		{name: "429 on the group's members", match: "GET /beta/workgroups/", status: http.StatusTooManyRequests,
			call: func(d *desk) error { _, err := d.be.GroupMembers(context.Background(), groupID); return err }, retryable: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesk(t)
			d.request()
			d.isc.Fail(tc.match, tc.status, "7")
			err := tc.call(d)
			require.Error(t, err)
			assert.Equal(t, !tc.retryable, governance.IsPermanent(err))
			if tc.status == http.StatusTooManyRequests {
				var ra *governance.RetryAfterError
				require.ErrorAs(t, err, &ra)
				assert.Equal(t, 7*time.Second, ra.After)
			}
		})
	}
}

// governance's ApprovalDesk over ISC: each approval with the e-mails of the people who may
// decide it, a decision carried out as the connected account and re-read, and what became
// of an approval decided in ISC's own UI.
func TestDesk_ISCsApprovalsAsGovernanceSeesThem(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	sub := d.request()
	list, err := d.be.PendingApprovals(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	first := list[0]
	assert.Equal(t, sub.ExternalID, first.RequestID)
	assert.Equal(t, "AR-1", first.Ours, "the clientMetadata accessbot sent")
	assert.Equal(t, []governance.Person{{Email: "mallory@example.com", Name: "Mallory Manager"}}, first.Approvers)
	assert.Equal(t, "carol@example.com", first.For.Email)
	assert.Equal(t, "ACCESS_PROFILE:"+payroll, first.Item.Ref, "the catalog's ref form")
	assert.Equal(t, governance.ApprovalPending, first.Status)

	got, err := d.be.DecideApproval(ctx, d.connect("mallory"), governance.ApprovalDecision{Approval: first, Approve: true,
		By: governance.Person{Email: "mallory@example.com"}})
	require.NoError(t, err)
	assert.Equal(t, governance.ApprovalApproved, got.Status)
	assert.Equal(t, "mallory@example.com", got.DecidedBy.Email)

	list, err = d.be.PendingApprovals(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.ElementsMatch(t, []string{"grace@example.com", "gus@example.com"},
		[]string{list[0].Approvers[0].Email, list[0].Approvers[1].Email}, "each member of the governance group")
	_, err = d.be.DecideApproval(ctx, d.connect("alice"), governance.ApprovalDecision{Approval: list[0], Approve: true,
		By: governance.Person{Email: "alice@example.com"}})
	assert.ErrorIs(t, err, governance.ErrNotApprover, "ISC takes no decision from someone else's account")

	require.Zero(t, d.isc.DecideInUI(list[0].ID, gusID, "reject", "not this quarter", ""))
	out, err := d.be.ApprovalOutcome(ctx, list[0])
	require.NoError(t, err)
	assert.Equal(t, governance.ApprovalRejected, out.Status)
	assert.Equal(t, "gus@example.com", out.DecidedBy.Email, "ISC's reviewer, with the e-mail chat knows them by")
	assert.Equal(t, "not this quarter", out.Decision)
}

// deskHarness runs the shared desk suite against the fake ISC: Carol's request waits for
// her manager Mallory; Alice may not decide it.
type deskHarness struct{}

func (deskHarness) StartDesk(t *testing.T) backendtest.DeskSubject {
	d := newDesk(t)
	s := backendtest.ManagerDesk(d.be, func(who string) governance.Account { return d.connect(who) })
	s.Request = func() string { d.request(); return d.pending()[0].ID }
	s.DecideElsewhere = func(id string) { require.Zero(t, d.isc.DecideInUI(id, malloryID, "approve", "from my phone", "")) }
	s.Decisions = func() int { return len(d.isc.CompletedApprovals()) }
	return s
}

func TestApprovals_SailPointFollowsTheSharedDeskSuite(t *testing.T) {
	backendtest.RunDesk(t, deskHarness{})
}

// The owner approver kind of accessbot's own approval stages reads the item's owner from
// ISC: a role's or access profile's ownerRef, with the e-mail chat knows them by.
func TestOwner_IsTheItemsOwnerInISC(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	_, ok, err := d.be.Owner(ctx, governance.ItemRef{Ref: "ACCESS_PROFILE:" + payroll})
	require.NoError(t, err)
	assert.False(t, ok, "an owner chat cannot reach (ISC's service identity, with no e-mail) is no owner")
	d.isc.SetOwner(payroll, graceID, "")
	owner, ok, err := d.be.Owner(ctx, governance.ItemRef{Ref: "ACCESS_PROFILE:" + payroll})
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, governance.Person{Email: "grace@example.com", Name: "Grace"}, owner)
	_, ok, err = d.be.Owner(ctx, governance.ItemRef{Ref: "ENTITLEMENT:" + payroll})
	require.NoError(t, err)
	assert.False(t, ok, "ISC's requestable objects tell no entitlement's owner")
}

// A group:<name> approver of accessbot's own stages may name an ISC governance group: its
// members, with the e-mails chat knows them by.
func TestMembersOf_AnISCGovernanceGroupByName(t *testing.T) {
	d := newDesk(t)
	ms, ok, err := d.be.MembersOf(context.Background(), "Payroll Approvers")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, []governance.Person{{Email: "grace@example.com", Name: "Grace"}, {Email: "gus@example.com", Name: "Gus"}}, ms)
	_, ok, err = d.be.MembersOf(context.Background(), "Nobody's Group")
	require.NoError(t, err)
	assert.False(t, ok)
}

// Each approvals poll names the same requesters and owners: their e-mails are read from
// ISC once within IdentityTTL, not on every poll.
func TestDesk_APollAsksISCOnlyForPeopleNotSeenLately(t *testing.T) {
	clock := governance.NewManualClock(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	d := newDesk(t, func(o *sailpoint.Options) { o.Clock, o.IdentityTTL = clock, 10*time.Minute })
	ctx := context.Background()
	d.request()
	lookups := func() int {
		n := 0
		for _, c := range d.isc.Calls() {
			q, _ := url.ParseQuery(c.RawQuery)
			if c.Path == "/v3/public-identities" && strings.HasPrefix(q.Get("filters"), "id in (") {
				n++
			}
		}
		return n
	}
	poll := func() []governance.Person {
		list, err := d.be.PendingApprovals(ctx)
		require.NoError(t, err)
		require.Len(t, list, 1)
		return append(list[0].Approvers, list[0].Requester, list[0].For)
	}
	want := poll()
	assert.Equal(t, "mallory@example.com", want[0].Email)
	first := lookups()
	require.Positive(t, first)

	assert.Equal(t, want, poll(), "the same people, from memory")
	assert.Equal(t, first, lookups(), "no look-up for people seen within IdentityTTL")

	clock.Advance(10 * time.Minute)
	assert.Equal(t, want, poll())
	assert.Greater(t, lookups(), first, "read again once IdentityTTL has passed")
}
