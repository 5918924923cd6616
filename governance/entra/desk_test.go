package entra_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/backendtest"
	"github.com/accessbot/accessbot/governance/entra"
	"github.com/accessbot/accessbot/governance/entra/graphfake"
	"github.com/accessbot/accessbot/governance/msgraph/msgraphtest"
)

// The approvals tenant: Carol asks for Payroll Reader under its self-service policy,
// whose stage 1 her manager Mallory decides (with a reason) and stage 2 the group Payroll
// Approvers (Grace, Gus); Alice decides nothing.
const (
	graceID  = "7c6d5e4f-3a21-4c1b-8e9f-0a1b2c3d4e5f"
	gusID    = "8d7e6f50-4b32-4d2c-9fa0-1b2c3d4e5f60"
	groupID  = "9e8f7061-5c43-4e3d-a0b1-2c3d4e5f6071"
	callback = "https://bot.example.com" + entra.ConnectCallbackPath
)

type desk struct {
	t     *testing.T
	clock *governance.ManualClock
	graph *graphfake.Server
	be    *entra.Backend
	accts *accounts
}

func newDesk(t *testing.T) *desk {
	clock := governance.NewManualClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	g := graphfake.New(graphfake.Options{Now: clock.Now, RedirectURIs: []string{callback}})
	t.Cleanup(g.Close)
	g.AddUser(graphfake.User{ID: carolID, Mail: "Carol@example.com", UserPrincipalName: "carol@contoso.onmicrosoft.com", DisplayName: "Carol", ManagerID: malloryID})
	g.AddUser(graphfake.User{ID: aliceID, Mail: "alice@example.com", UserPrincipalName: "alice@example.com", DisplayName: "Alice"})
	g.AddUser(graphfake.User{ID: malloryID, UserPrincipalName: "mallory@example.com", DisplayName: "Mallory Manager"})
	g.AddUser(graphfake.User{ID: graceID, Mail: "grace@example.com", UserPrincipalName: "grace@example.com", DisplayName: "Grace"})
	g.AddUser(graphfake.User{ID: gusID, Mail: "gus@example.com", UserPrincipalName: "gus@example.com", DisplayName: "Gus"})
	g.AddGroup(groupID, graceID, gusID)
	for who, id := range map[string]string{"carol": carolID, "alice": aliceID, "mallory": malloryID, "grace": graceID, "gus": gusID} {
		g.SetLogin(id, who+"@example.com", who+"-pw")
	}
	g.AddPackage(graphfake.Package{ID: payroll, DisplayName: "Payroll Reader", Policies: []graphfake.Policy{
		{ID: payrollPol, DisplayName: "Direct assignment", AllowedTargetScope: "notSpecified"},
		{ID: payrollSelf, DisplayName: "Employees may ask", AllowedTargetScope: "allMemberUsers", JustificationRequired: true, Stages: []graphfake.Stage{
			{Primary: []graphfake.Approver{{Kind: graphfake.ApproverManager}}, Fallback: []graphfake.Approver{{Kind: graphfake.ApproverUser, UserID: aliceID}},
				JustificationRequired: true},
			{Primary: []graphfake.Approver{{Kind: graphfake.ApproverGroup, GroupID: groupID}},
				Escalation: []graphfake.Approver{{Kind: graphfake.ApproverUser, UserID: aliceID}}, EscalateAfter: 48 * time.Hour},
		}}}})
	d := &desk{t: t, clock: clock, graph: g, accts: &accounts{by: map[string]governance.Account{}}}
	be, err := g.Backend(clock, func(o *entra.Options) {
		o.Timeout = 2 * time.Second
		o.Connect = entra.ConnectClient{ClientID: g.ConnectClientID(), ClientSecret: g.ConnectClientSecret()}
		o.Accounts = d.accts
	})
	require.NoError(t, err)
	d.be = be
	return d
}

// accounts are the connected accounts, by e-mail, as governance/accounts keeps them.
type accounts struct {
	mu sync.Mutex
	by map[string]governance.Account
}

func (a *accounts) Account(_ context.Context, backend, email string) (governance.Account, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if acc, ok := a.by[strings.ToLower(email)]; ok && backend == entra.Name {
		return acc, nil
	}
	return nil, governance.ErrNotConnected
}

// connect signs who in and keeps their connected account.
func (d *desk) connect(who string) backendtest.Account {
	d.t.Helper()
	a := backendtest.Connect(d.t, d.be, callback, who+"@example.com", who+"-pw")
	d.accts.mu.Lock()
	d.accts.by[a.ID.Email] = a
	d.accts.mu.Unlock()
	return a
}

// myAccess is Carol's request for Payroll Reader made in My Access.
func (d *desk) myAccess() string {
	return d.graph.AddRequest(graphfake.Request{RequestType: "userAdd", State: "pendingApproval", TargetID: carolID, RequestorID: carolID,
		PackageID: payroll, PolicyID: payrollSelf, Justification: "quarter close"})
}

// atStageTwo is Carol's My Access request once Mallory (connected) approved its first
// stage in My Access: its id, and the second stage's approval, which the group decides.
func (d *desk) atStageTwo() (string, governance.BackendApproval) {
	d.t.Helper()
	id := d.myAccess()
	d.connect("mallory")
	require.NoError(d.t, d.graph.DecideInMyAccess(id, malloryID, true, "fine"))
	return id, d.pending()[0]
}

func (d *desk) pending() []governance.BackendApproval {
	d.t.Helper()
	list, err := d.be.PendingApprovals(context.Background())
	require.NoError(d.t, err)
	return list
}

func emails(ps []governance.Person) []string {
	return backendtest.IDs(ps, func(p governance.Person) string { return p.Email })
}

func TestConnect_SignInIsTheTenantsV2EndpointsWithPKCEAndDelegatedScopes(t *testing.T) {
	d := newDesk(t)
	si, err := d.be.SignIn(context.Background())
	require.NoError(t, err)
	assert.Equal(t, governance.SignIn{AuthURL: d.graph.AuthorizeURL(), TokenURL: d.graph.TokenURL(), ClientID: d.graph.ConnectClientID(),
		ClientSecret: d.graph.ConnectClientSecret(), Scopes: entra.ConnectScopes, PKCE: true}, si)
	assert.True(t, d.be.Connectable())
}

func TestConnect_WithoutAConnectClientSaysWhatToSet(t *testing.T) {
	g := graphfake.New(graphfake.Options{})
	t.Cleanup(g.Close)
	be, err := g.Backend(governance.SystemClock{})
	require.NoError(t, err)
	assert.False(t, be.Connectable())
	_, err = be.SignIn(context.Background())
	assert.ErrorContains(t, err, "entra.connect.clientId")
}

func TestConnect_WhoIsTheSignedInUserFromMe(t *testing.T) {
	d := newDesk(t)
	a := d.connect("mallory")
	assert.Equal(t, governance.Identity{ID: malloryID, Email: "mallory@example.com", Name: "Mallory Manager"}, a.Identity(),
		"the user principal name stands in for a missing mail")
	tok, err := a.Token(context.Background())
	require.NoError(t, err)
	status, _, err := msgraphtest.Do(d.graph.BaseURL(), tok, http.MethodGet, "/me", "")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
}

func TestConnect_TheFakeRefusesWhatMicrosoftRefuses(t *testing.T) {
	d := newDesk(t)
	cfg := backendtest.OAuthConfig(t, d.be, callback)
	verifier := oauth2.GenerateVerifier()
	ctx := context.Background()

	t.Run("a redirect URI the app does not list", func(t *testing.T) {
		c := cfg
		c.RedirectURL = "https://evil.example.com/cb"
		resp, err := http.Get(c.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
	t.Run("no PKCE", func(t *testing.T) {
		resp, err := backendtest.NoRedirect.Get(cfg.AuthCodeURL("s"))
		require.NoError(t, err)
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		assert.Equal(t, "invalid_request", loc.Query().Get("error"))
	})
	t.Run("a wrong password", func(t *testing.T) {
		resp := backendtest.LogIn(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), "mallory@example.com", "guess")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
	t.Run("a code with the wrong verifier, and a code used twice", func(t *testing.T) {
		code := backendtest.Code(t, cfg, verifier, "mallory@example.com", "mallory-pw")
		_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		assert.ErrorContains(t, err, "invalid_grant")
		_, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		assert.ErrorContains(t, err, "invalid_grant", "one use, right or wrong")
	})
	t.Run("a refresh token is rotated on use", func(t *testing.T) {
		tok, err := cfg.Exchange(ctx, backendtest.Code(t, cfg, verifier, "mallory@example.com", "mallory-pw"), oauth2.VerifierOption(verifier))
		require.NoError(t, err)
		tok.Expiry = time.Now().Add(-time.Minute)
		fresh, err := cfg.TokenSource(ctx, tok).Token()
		require.NoError(t, err)
		assert.NotEqual(t, tok.RefreshToken, fresh.RefreshToken)
		_, err = cfg.TokenSource(ctx, tok).Token()
		assert.ErrorContains(t, err, "invalid_grant", "the old refresh token works once")
	})
	t.Run("an application token where Graph takes only a user's", func(t *testing.T) {
		app, err := oauth2ClientCredentials(d.graph)
		require.NoError(t, err)
		id := d.myAccess()
		status, _, err := msgraphtest.Do(d.graph.BaseURL(), app, http.MethodGet, graphfake.Root+"/accessPackageAssignmentApprovals/"+id+"/stages", "")
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, status)
		status, _, err = msgraphtest.Do(d.graph.BaseURL(), app, http.MethodGet, "/me", "")
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, status)
		status, _, err = msgraphtest.Do(d.graph.BaseURL(), app, http.MethodPatch,
			graphfake.Root+"/accessPackageAssignmentApprovals/"+id+"/stages/x", `{"reviewResult":"Approve","justification":"ok"}`)
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, status, "a decision takes no application token")
		userAdd := `{"requestType":"userAdd","assignment":{"targetId":"` + carolID + `","assignmentPolicyId":"` + payrollSelf + `","accessPackageId":"` + payroll + `"},"justification":"x"}`
		status, _, err = msgraphtest.Do(d.graph.BaseURL(), app, http.MethodPost, requests, userAdd)
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, status, "userAdd needs a signed-in user")
		assert.Zero(t, d.graph.Decisions())
	})
	t.Run("a user's token for someone else's request, or for an admin request", func(t *testing.T) {
		alice, err := d.connect("alice").Token(ctx)
		require.NoError(t, err)
		userAdd := `{"requestType":"userAdd","assignment":{"targetId":"` + carolID + `","assignmentPolicyId":"` + payrollSelf + `","accessPackageId":"` + payroll + `"},"justification":"x"}`
		status, _, err := msgraphtest.Do(d.graph.BaseURL(), alice, http.MethodPost, requests, userAdd)
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, status, "userAdd only for the signed-in user")
		adminAdd := strings.Replace(userAdd, "userAdd", "adminAdd", 1)
		status, _, err = msgraphtest.Do(d.graph.BaseURL(), alice, http.MethodPost, requests, adminAdd)
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, status, "no Entitlement Management role")
	})
}

// oauth2ClientCredentials is an application token of accessbot's app from the fake.
func oauth2ClientCredentials(g *graphfake.Server) (string, error) {
	resp, err := http.PostForm(g.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_id": {g.ClientID()},
		"client_secret": {g.ClientSecret()}, "scope": {"https://graph.microsoft.com/.default"}})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", err
	}
	return body.AccessToken, nil
}

func TestApprovals_ATwoStageRequestIsDecidedByTheManagerThenAGroupMember(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	id := d.myAccess()

	list := d.pending()
	require.Len(t, list, 1)
	first := list[0]
	assert.Equal(t, id+":1", first.ID)
	assert.Equal(t, id, first.RequestID)
	assert.Equal(t, []string{"mallory@example.com"}, emails(first.Approvers), "the requestor's manager")
	assert.Equal(t, "carol@example.com", first.Requester.Email)
	assert.Equal(t, payroll+"/"+payrollSelf, first.Item.Ref, "the catalog's ref form")
	assert.Equal(t, "quarter close", first.Comment)
	assert.Equal(t, 1, first.Step)
	assert.Equal(t, 2, first.Steps)
	assert.True(t, first.CommentRequired)
	assert.Empty(t, first.Ours, "made in My Access")

	mallory := d.connect("mallory")
	got, err := d.be.DecideApproval(ctx, mallory, governance.ApprovalDecision{Approval: first, Approve: true, Comment: "fine",
		By: governance.Person{Email: "mallory@example.com"}})
	require.NoError(t, err)
	assert.Equal(t, governance.ApprovalApproved, got.Status)
	r, _ := d.graph.Request(id)
	assert.Equal(t, malloryID, r.Stages[0].ReviewedBy, "Entra records Mallory")
	assert.Equal(t, "fine", r.Stages[0].Justification)

	list = d.pending()
	require.Len(t, list, 1)
	second := list[0]
	assert.Equal(t, id+":2", second.ID, "the second stage, known from Mallory's account")
	assert.Equal(t, "Stage 2", second.StepName)
	assert.ElementsMatch(t, []string{"grace@example.com", "gus@example.com"}, emails(second.Approvers), "each member of the group")
	out, err := d.be.ApprovalOutcome(ctx, first)
	require.NoError(t, err)
	assert.Equal(t, governance.ApprovalApproved, out.Status)
	assert.Equal(t, "mallory@example.com", out.DecidedBy.Email)

	_, err = d.be.DecideApproval(ctx, d.connect("alice"), governance.ApprovalDecision{Approval: second, Approve: true,
		By: governance.Person{Email: "alice@example.com"}})
	assert.ErrorIs(t, err, governance.ErrNotApprover, "Entra takes no decision from someone else's account")

	d.clock.Advance(49 * time.Hour)
	esc := d.pending()
	require.Len(t, esc, 1)
	assert.ElementsMatch(t, []string{"grace@example.com", "gus@example.com", "alice@example.com"}, emails(esc[0].Approvers),
		"after durationBeforeEscalation, the escalation approvers too")

	gus := d.connect("gus")
	got, err = d.be.DecideApproval(ctx, gus, governance.ApprovalDecision{Approval: second, Approve: true, By: governance.Person{Email: "gus@example.com"}})
	require.NoError(t, err)
	assert.Equal(t, governance.ApprovalApproved, got.Status)
	r, _ = d.graph.Request(id)
	assert.Equal(t, "delivered", r.State, "the last stage approved: Entra delivers")
	assert.Empty(t, d.pending())
}

func TestApprovals_ADenialInMyAccessIsReadWithWhoMadeIt(t *testing.T) {
	d := newDesk(t)
	id := d.myAccess()
	a := d.pending()[0]
	d.connect("mallory")
	require.NoError(t, d.graph.DecideInMyAccess(id, malloryID, false, "not this quarter"))
	out, err := d.be.ApprovalOutcome(context.Background(), a)
	require.NoError(t, err)
	assert.Equal(t, governance.ApprovalRejected, out.Status)
	assert.Equal(t, "mallory@example.com", out.DecidedBy.Email)
	assert.Equal(t, "not this quarter", out.Decision)
}

func TestApprovals_WithoutAConnectedApproverTheRequestsStateTells(t *testing.T) {
	d := newDesk(t)
	id := d.myAccess()
	a := d.pending()[0]
	require.NoError(t, d.graph.DecideInMyAccess(id, malloryID, false, "no"))
	out, err := d.be.ApprovalOutcome(context.Background(), a)
	require.NoError(t, err)
	assert.Equal(t, governance.ApprovalRejected, out.Status, "denied, read with the application's token")
	assert.Empty(t, out.DecidedBy.Email, "who decided is shown only to an approver's account")
}

func TestDecide_RefusalsSayWhatHappened(t *testing.T) {
	ctx := context.Background()
	t.Run("a forward, which Entra does not have", func(t *testing.T) {
		d := newDesk(t)
		d.myAccess()
		_, err := d.be.DecideApproval(ctx, d.connect("mallory"), governance.ApprovalDecision{Approval: d.pending()[0],
			By: governance.Person{Email: "mallory@example.com"}, Comment: "you", ForwardTo: governance.Person{Email: "alice@example.com"}})
		assert.ErrorIs(t, err, governance.ErrNotAllowed)
		assert.ErrorContains(t, err, "no way to hand an approval")
		assert.Zero(t, d.graph.Decisions())
	})
	t.Run("as accessbot itself", func(t *testing.T) {
		d := newDesk(t)
		d.myAccess()
		_, err := d.be.DecideApproval(ctx, nil, governance.ApprovalDecision{Approval: d.pending()[0], Approve: true,
			By: governance.Person{Email: "mallory@example.com"}})
		assert.ErrorIs(t, err, governance.ErrNotAllowed)
	})
	t.Run("an approval without the reason the stage requires", func(t *testing.T) {
		d := newDesk(t)
		d.myAccess()
		_, err := d.be.DecideApproval(ctx, d.connect("mallory"), governance.ApprovalDecision{Approval: d.pending()[0], Approve: true,
			By: governance.Person{Email: "mallory@example.com"}})
		assert.ErrorIs(t, err, governance.ErrJustificationRequired)
		assert.Zero(t, d.graph.Decisions())
	})
	t.Run("a PATCH that loses the race to another approver of the stage", func(t *testing.T) {
		d := newDesk(t)
		_, second := d.atStageTwo()
		gus := d.connect("gus")
		// Grace's decision lands between Gus's read of the stages and his PATCH.
		d.graph.Fail("PATCH "+graphfake.Root+"/accessPackageAssignmentApprovals/*", http.StatusConflict, "")
		_, err := d.be.DecideApproval(ctx, gus, governance.ApprovalDecision{Approval: second, Approve: true, By: governance.Person{Email: "gus@example.com"}})
		assert.ErrorIs(t, err, governance.ErrAlreadyDecided)
		assert.Equal(t, 1, d.graph.Decisions(), "only Mallory's")
	})
	t.Run("a stage another approver decided already, named", func(t *testing.T) {
		d := newDesk(t)
		id, second := d.atStageTwo()
		require.NoError(t, d.graph.DecideInMyAccess(id, graceID, false, "no budget"))
		_, err := d.be.DecideApproval(ctx, d.connect("gus"), governance.ApprovalDecision{Approval: second, Approve: true, By: governance.Person{Email: "gus@example.com"}})
		assert.ErrorIs(t, err, governance.ErrAlreadyDecided)
		assert.ErrorContains(t, err, "already denied by Grace")
	})
}

// deskHarness runs the shared desk suite against the fake Graph: Carol's My Access request
// waits for her manager Mallory; Alice may not decide it.
type deskHarness struct{}

func (deskHarness) StartDesk(t *testing.T) backendtest.DeskSubject {
	d := newDesk(t)
	s := backendtest.ManagerDesk(d.be, func(who string) governance.Account { return d.connect(who) })
	s.Request = func() string { d.myAccess(); return d.pending()[0].ID }
	s.DecideElsewhere = func(id string) {
		req, _, _ := strings.Cut(id, ":")
		require.NoError(t, d.graph.DecideInMyAccess(req, malloryID, true, "from my phone"))
	}
	s.Decisions = d.graph.Decisions
	return s
}

func TestApprovals_EntraFollowsTheSharedDeskSuite(t *testing.T) {
	backendtest.RunDesk(t, deskHarness{})
}

func TestSubmit_ABackendDecidedItemIsAskedAsTheRequesterUnderItsPolicy(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	carolAcct := d.connect("carol")
	end := d.clock.Now().Add(8 * time.Hour)
	g := governance.Grant{RequestID: "AR-7", Requester: governance.Person{Email: "carol@example.com"}, Reason: "quarter close",
		Item: governance.ItemRef{Name: "Payroll Reader", Ref: payroll + "/" + payrollSelf}, Start: d.clock.Now(), End: end,
		BackendDecides: true, As: carolAcct}
	sub, err := d.be.Submit(ctx, g)
	require.NoError(t, err)
	assert.Equal(t, governance.StateSubmitted, sub.State)
	r, ok := d.graph.Request(sub.ExternalID)
	require.True(t, ok)
	assert.Equal(t, "userAdd", r.RequestType)
	assert.Equal(t, carolID, r.RequestorID, "Entra records Carol as the requestor")
	assert.Equal(t, payrollSelf, r.PolicyID, "the item's policy, whose stages apply")
	assert.Equal(t, "pendingApproval", r.State)
	assert.Equal(t, end, r.End, "time-bound access")

	a := d.pending()
	require.Len(t, a, 1)
	assert.Equal(t, "AR-7", a[0].Ours, "accessbot knows its own request")
	assert.Equal(t, "quarter close", a[0].Comment)

	again, err := d.be.Submit(ctx, g)
	require.NoError(t, err)
	assert.Equal(t, sub.ExternalID, again.ExternalID, "a retry finds the request made before")
	assert.Len(t, d.graph.Requests(), 1)

	t.Run("refused without the requester's own account", func(t *testing.T) {
		for _, tc := range []struct {
			as   governance.Account
			want error
		}{{nil, governance.ErrNotConnected}, {d.connect("alice"), governance.ErrNotAllowed}} {
			x := g
			x.RequestID, x.As = "AR-8", tc.as
			_, err := d.be.Submit(ctx, x)
			assert.ErrorIs(t, err, tc.want)
			assert.True(t, governance.IsPermanent(err))
		}
		assert.Len(t, d.graph.Requests(), 1, "nothing more asked")
	})
}

func TestSettings_ConnectedAccountsAndTheirCheck(t *testing.T) {
	env := map[string]string{"AZURE_TENANT_ID": "contoso.onmicrosoft.com", "ENTRA_CLIENT_ID": "id", "ENTRA_CLIENT_SECRET": "secret"}
	var s entra.Settings
	s.FromEnv(governance.Env{Get: func(n string) string { return env[n] }, Secret: func(n string) string { return env[n] }})
	item := governance.Item{Ref: payroll + "/" + payrollSelf, Approvals: governance.ApprovalsBackend}
	if errs := s.CheckItem(item); assert.Len(t, errs, 1) {
		assert.ErrorContains(t, errs[0], "ENTRA_CONNECT_CLIENT_ID")
	}
	env["ENTRA_CONNECT_CLIENT_ID"], env["ENTRA_CONNECT_CLIENT_SECRET"] = "connect-app", "connect-secret"
	s.FromEnv(governance.Env{Get: func(n string) string { return env[n] }, Secret: func(n string) string { return env[n] }})
	assert.Empty(t, s.CheckItem(item))
	assert.Equal(t, entra.ConnectClient{ClientID: "connect-app", ClientSecret: "connect-secret"}, s.Options().Connect)
}

func TestSettings_DoctorChecksTheConnectApp(t *testing.T) {
	g := graphfake.New(graphfake.Options{RedirectURIs: []string{callback}})
	t.Cleanup(g.Close)
	s := entra.Settings{CallbackURL: callback}
	s.TenantID, s.ClientID, s.ClientSecret, s.GraphURL, s.LoginURL = g.TenantID(), g.ClientID(), g.ClientSecret(), g.BaseURL(), g.LoginURL()
	s.Connect = entra.ConnectClient{ClientID: g.ConnectClientID(), ClientSecret: g.ConnectClientSecret()}
	out, err := s.Probe(context.Background())
	require.NoError(t, err)
	assert.Contains(t, out, "people connect through the app registration "+g.ConnectClientID())
	assert.Contains(t, out, callback)

	s.Connect.ClientSecret = ""
	_, err = s.Probe(context.Background())
	assert.ErrorContains(t, err, "ENTRA_CONNECT_CLIENT_SECRET")
	s.Connect.ClientSecret, s.CallbackURL = g.ConnectClientSecret(), ""
	_, err = s.Probe(context.Background())
	assert.ErrorContains(t, err, "public URL")
}

// A group:<name> approver of accessbot's own stages may name an Entra group by its display
// name: its members, by the e-mails chat knows them by.
func TestMembersOf_AnEntraGroupByDisplayName(t *testing.T) {
	d := newDesk(t)
	d.graph.NameGroup(groupID, "Payroll Approvers")
	ms, ok, err := d.be.MembersOf(context.Background(), "Payroll Approvers")
	require.NoError(t, err)
	require.True(t, ok)
	assert.ElementsMatch(t, []governance.Person{{Email: "grace@example.com", Name: "Grace"}, {Email: "gus@example.com", Name: "Gus"}}, ms)
	_, ok, err = d.be.MembersOf(context.Background(), "O'Brien's group")
	require.NoError(t, err)
	assert.False(t, ok, "a quote in the name is escaped, and no such group is no group")
}

// The requests of one approvals poll name the same approvers over and over: each user and
// each group's members are read from Graph once a poll, not once a request and stage.
func TestDesk_APollReadsEachApproverOnce(t *testing.T) {
	d := newDesk(t)
	for range 3 {
		d.myAccess()
	}
	list := d.pending()
	require.Len(t, list, 3)
	for _, a := range list {
		assert.Equal(t, []string{"mallory@example.com"}, emails(a.Approvers))
	}
	reads := map[string]int{}
	for _, c := range d.graph.Calls() {
		if c.Method == http.MethodGet && (c.Path == "/users/"+aliceID || c.Path == "/groups/"+groupID+"/members") {
			reads[c.Path]++
		}
	}
	assert.Equal(t, map[string]int{"/users/" + aliceID: 1, "/groups/" + groupID + "/members": 1}, reads,
		"Alice (a fallback and an escalation approver) and the group, once for three requests")
}
