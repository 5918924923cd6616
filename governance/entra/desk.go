package entra

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/msgraph"
)

// Entitlement Management's own approvals as governance's ApprovalDesk. Each request
// waiting for approval (state pendingApproval, listed with accessbot's application
// permission) becomes one approval per current stage of its policy's
// requestApprovalSettings, with the e-mail addresses of the stage's approvers; a click is
// a PATCH of that stage with the approver's delegated token.
//
// Graph shows an approval's stages (which one is current, who decided one) only to a
// delegated caller who is one of its approvers — no application permission exists. So
// accessbot reads them with the connected account of one of the request's approvers;
// while none of them has connected, it takes the request to be at its first stage.

var _ governance.ApprovalDesk = (*Backend)(nil)

// UseAccounts gives the backend people's connected accounts, through which it reads the
// stages of approvals; the composition root calls it once the accounts are open.
func (b *Backend) UseAccounts(a governance.Accounts) { b.accounts = a }

// approvalID is the id accessbot gives stage k (1-based) of request id.
func approvalID(requestID string, k int) string { return requestID + ":" + strconv.Itoa(k) }

func splitApprovalID(id string) (requestID string, k int, err error) {
	req, n, ok := strings.Cut(id, ":")
	k, err = strconv.Atoi(n)
	if !ok || err != nil || k < 1 {
		return "", 0, fmt.Errorf("entra: %q is not an approval id accessbot made", id)
	}
	return req, k, nil
}

// maxStageReaders bounds how many connected approvers a poll tries per request.
const maxStageReaders = 3

// PendingApprovals lists every request Entra holds for approval, each as the approval
// of its current stage with the people who may decide it.
func (b *Backend) PendingApprovals(ctx context.Context) ([]governance.BackendApproval, error) {
	q := url.Values{"$filter": {"state eq 'pendingApproval'"}, "$expand": {"requestor,accessPackage"}}
	reqs, err := msgraph.All[assignmentRequest](ctx, b.api, emRoot+"/assignmentRequests", q, 0)
	if err != nil {
		return nil, err
	}
	pols := map[string][]assignmentPolicy{}
	seen := &lookups{users: map[string]*msgraph.User{}, groups: map[string][]msgraph.User{}}
	var out []governance.BackendApproval
	for _, r := range reqs {
		if r.state() != "pendingApproval" || r.AccessPackage == nil {
			continue
		}
		pol, err := b.policyOf(ctx, r.AccessPackage.ID, pols)
		if err != nil {
			return nil, err
		}
		if pol == nil {
			b.log.WarnContext(ctx, "an Entra request waits for approval under no policy with approval stages", "entra_request", r.ID)
			continue
		}
		a, err := b.approval(ctx, r, *pol, seen)
		if err != nil {
			return nil, fmt.Errorf("entra request %s: %w", r.ID, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// policyOf is the access package's policy whose approval stages a request follows: its
// policy that requires approval for a new assignment (Graph names no policy on a request
// an application reads; docs/backends/entra.md says why one such policy per package).
func (b *Backend) policyOf(ctx context.Context, pkg string, cache map[string][]assignmentPolicy) (*assignmentPolicy, error) {
	list, ok := cache[pkg]
	if !ok {
		var p accessPackage
		if err := b.api.Do(ctx, http.MethodGet, emRoot+"/accessPackages/"+url.PathEscape(pkg),
			url.Values{"$expand": {"assignmentPolicies"}}, nil, &p); err != nil {
			return nil, err
		}
		list = p.AssignmentPolicies
		cache[pkg] = list
	}
	for i, pol := range list {
		if s := pol.RequestApprovalSettings; s != nil && s.IsApprovalRequiredForAdd && len(s.Stages) > 0 {
			return &list[i], nil
		}
	}
	return nil, nil
}

// approval is request r's current stage under pol as a BackendApproval.
func (b *Backend) approval(ctx context.Context, r assignmentRequest, pol assignmentPolicy, seen *lookups) (governance.BackendApproval, error) {
	settings := pol.RequestApprovalSettings.Stages
	requester := b.subjectPerson(r.Requestor)
	// Everyone who may decide some stage can read the stages.
	var everyone []governance.Person
	for k := range settings {
		ps, err := b.stageApprovers(ctx, settings[k], requester, true, seen)
		if err != nil {
			return governance.BackendApproval{}, err
		}
		everyone = append(everyone, ps...)
	}
	stages, _ := b.readStages(ctx, r.ID, everyone)
	k, started := 0, parseTime(r.CreatedDateTime)
	for k < len(stages) && k < len(settings)-1 && stages[k].Status == "Completed" {
		if t := parseTime(stages[k].ReviewedDateTime); !t.IsZero() {
			started = t
		}
		k++
	}
	st := settings[k]
	escalated := st.IsEscalationEnabled && !started.IsZero() && !b.clock.Now().Before(started.Add(isoDuration(st.DurationBeforeEscalation)))
	approvers, err := b.stageApprovers(ctx, st, requester, escalated, seen)
	if err != nil {
		return governance.BackendApproval{}, err
	}
	comment, ours := splitMarker(r.Justification)
	a := governance.BackendApproval{
		ID: approvalID(r.ID, k+1), RequestID: r.ID, Ours: ours, Requester: requester, For: requester,
		Item:    governance.ItemRef{ID: r.AccessPackage.ID, Name: r.AccessPackage.DisplayName, Backend: Name, Ref: r.AccessPackage.ID + "/" + pol.ID},
		Comment: comment, Ends: r.Schedule.end(), Approvers: approvers, Step: k + 1, Steps: len(settings),
		CommentRequired: st.IsApproverJustificationRequired, Link: "https://myaccess.microsoft.com/@" + b.tenantID + "#/approvals",
		Status: governance.ApprovalPending, Created: parseTime(r.CreatedDateTime),
	}
	if k < len(stages) {
		a.StepName = stages[k].DisplayName
	}
	for _, ans := range r.Answers {
		if ans.AnsweredQuestion != nil && ans.AnsweredQuestion.Text != "" {
			a.Answers = append(a.Answers, governance.Answer{Question: ans.AnsweredQuestion.Text, Answer: ans.DisplayValue})
		}
	}
	names := make([]string, 0, len(approvers))
	for _, p := range approvers {
		names = append(names, p.Display())
	}
	a.Owner = strings.Join(names, ", ")
	return a, nil
}

// stageApprovers are the people who may decide a stage: its primary approvers (or, when
// they name nobody, its fallback approvers), and once Entra has escalated it, its
// escalation approvers too. Subject sets accessbot cannot resolve to people (sponsors,
// connected organisations, attribute rules) add nobody; Entra still asks them by e-mail.
func (b *Backend) stageApprovers(ctx context.Context, st stageSettings, requester governance.Person, escalated bool, seen *lookups) ([]governance.Person, error) {
	pick := func(primary, fallback []subjectSet) ([]governance.Person, error) {
		ps, err := b.resolve(ctx, primary, requester, seen)
		if err == nil && len(ps) == 0 {
			ps, err = b.resolve(ctx, fallback, requester, seen)
		}
		return ps, err
	}
	ps, err := pick(st.PrimaryApprovers, st.FallbackPrimaryApprovers)
	if err != nil || !escalated {
		return ps, err
	}
	more, err := pick(st.EscalationApprovers, st.FallbackEscalationApprovers)
	for _, p := range more {
		if !slices.ContainsFunc(ps, p.Is) {
			ps = append(ps, p)
		}
	}
	return ps, err
}

// lookups are the users and group members one approvals poll has read: the requests of a
// poll name the same approvers over and over, each stage's twice (everyone who may read the
// stages, then the current stage's).
type lookups struct {
	users  map[string]*msgraph.User  // by object id; nil: deleted
	groups map[string][]msgraph.User // members, by group id
}

// userByID is the user with object id, or nil when Graph has none.
func (b *Backend) userByID(ctx context.Context, id string, seen *lookups) (*msgraph.User, error) {
	if u, ok := seen.users[id]; ok {
		return u, nil
	}
	u := &msgraph.User{}
	err := b.api.Do(ctx, http.MethodGet, "/users/"+url.PathEscape(id), url.Values{"$select": {msgraph.UserSelect}}, nil, u)
	if errors.Is(err, governance.ErrNotFound) {
		u, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	seen.users[id] = u
	return u, nil
}

// members are the members of group id (none when Graph has no such group).
func (b *Backend) members(ctx context.Context, id string, seen *lookups) ([]msgraph.User, error) {
	if ms, ok := seen.groups[id]; ok {
		return ms, nil
	}
	ms, err := msgraph.All[msgraph.User](ctx, b.api, "/groups/"+url.PathEscape(id)+"/members",
		url.Values{"$select": {msgraph.UserSelect}}, 0)
	if err != nil && !errors.Is(err, governance.ErrNotFound) {
		return nil, err
	}
	seen.groups[id] = ms
	return ms, nil
}

func (b *Backend) resolve(ctx context.Context, sets []subjectSet, requester governance.Person, seen *lookups) ([]governance.Person, error) {
	var out []governance.Person
	add := func(u msgraph.User) {
		if p := (governance.Person{Email: strings.ToLower(firstOf(u.Mail, u.UserPrincipalName)), Name: u.DisplayName}); p.Email != "" && !slices.ContainsFunc(out, p.Is) {
			out = append(out, p)
		}
	}
	for _, s := range sets {
		switch s.kind() {
		case "singleUser":
			u, err := b.userByID(ctx, s.UserID, seen)
			if err != nil {
				return nil, err
			}
			if u != nil { // a deleted user decides nothing
				add(*u)
			}
		case "groupMembers":
			members, err := b.members(ctx, s.GroupID, seen)
			if err != nil {
				return nil, err
			}
			for _, u := range members {
				add(u)
			}
		case "requestorManager":
			if requester.Email == "" {
				continue
			}
			m, ok, err := b.Manager(ctx, requester.Email)
			if err != nil && !errors.Is(err, governance.ErrNotFound) {
				return nil, err
			}
			if ok {
				add(msgraph.User{Mail: m.Email, DisplayName: m.Name})
			}
		}
	}
	return out, nil
}

// readStages reads the approval's stages with the connected account of one of people;
// ok is false when none of them has connected (or Graph answered none of them).
func (b *Backend) readStages(ctx context.Context, requestID string, people []governance.Person) ([]approvalStage, bool) {
	if b.accounts == nil {
		return nil, false
	}
	tried := 0
	for _, p := range people {
		if tried == maxStageReaders {
			break
		}
		as, err := b.accounts.Account(ctx, Name, p.Email)
		if err != nil {
			continue
		}
		tried++
		stages, err := b.stages(ctx, as, requestID)
		if err == nil {
			return stages, true
		}
		b.log.InfoContext(ctx, "could not read an Entra approval's stages as an approver", "entra_request", requestID, "as", p.Email, "err", err)
	}
	return nil, false
}

// stages is GET …/accessPackageAssignmentApprovals/{id}/stages as the account's holder.
func (b *Backend) stages(ctx context.Context, as governance.Account, requestID string) ([]approvalStage, error) {
	list, err := msgraph.All[approvalStage](ctx, b.asPerson(ctx, as), approvalsPath(requestID)+"/stages", nil, 0)
	return list, delegatedError(err)
}

func approvalsPath(requestID string) string {
	return emRoot + "/accessPackageAssignmentApprovals/" + url.PathEscape(requestID)
}

// ApprovalOutcome reads what became of a stage no longer listed pending: from its stages
// (with a connected approver's account) who decided it and how, else from the request's
// state — delivered or on its way means approved, denied rejected, cancelled gone.
func (b *Backend) ApprovalOutcome(ctx context.Context, a governance.BackendApproval) (governance.BackendApproval, error) {
	reqID, k, err := splitApprovalID(a.ID)
	if err != nil {
		return a, governance.Permanent(err)
	}
	r, err := b.request(ctx, reqID)
	if errors.Is(err, governance.ErrNotFound) {
		a.Status = governance.ApprovalGone
		return a, nil
	}
	if err != nil {
		return a, err
	}
	if stages, ok := b.readStages(ctx, reqID, a.Approvers); ok && k <= len(stages) && stages[k-1].Status == "Completed" {
		return b.reviewed(ctx, a, stages[k-1])
	}
	switch r.state() {
	case "pendingApproval":
		a.Status = governance.ApprovalPending
	case "denied":
		a.Status = governance.ApprovalRejected
	case "canceled":
		a.Status = governance.ApprovalGone
	default:
		a.Status = governance.ApprovalApproved
	}
	return a, nil
}

// reviewed is a as the completed stage says it ended, with the reviewer's e-mail.
func (b *Backend) reviewed(ctx context.Context, a governance.BackendApproval, st approvalStage) (governance.BackendApproval, error) {
	a.Status = governance.ApprovalRejected
	if st.ReviewResult == "Approved" {
		a.Status = governance.ApprovalApproved
	}
	a.Decision, a.At = st.Justification, parseTime(st.ReviewedDateTime)
	if st.ReviewedBy != nil && st.ReviewedBy.ID != "" {
		var u msgraph.User
		err := b.api.Do(ctx, http.MethodGet, "/users/"+url.PathEscape(st.ReviewedBy.ID), url.Values{"$select": {msgraph.UserSelect}}, nil, &u)
		if err != nil && !errors.Is(err, governance.ErrNotFound) {
			return a, err
		}
		a.DecidedBy = governance.Person{Email: strings.ToLower(firstOf(u.Mail, u.UserPrincipalName)), Name: firstOf(u.DisplayName, st.ReviewedBy.DisplayName)}
	}
	return a, nil
}

// DecideApproval carries out d in Entra as the account's holder: it reads the approval's
// stages with their token, then PATCHes the current one. Entra has no forward, and takes
// no decision from an application.
func (b *Backend) DecideApproval(ctx context.Context, as governance.Account, d governance.ApprovalDecision) (governance.BackendApproval, error) {
	a := d.Approval
	refuse := func(err error, msg string) (governance.BackendApproval, error) {
		return a, governance.Permanent(&governance.Problem{Err: err, Message: msg})
	}
	switch {
	case d.ForwardTo.Email != "":
		return refuse(governance.ErrNotAllowed, "Microsoft Entra has no way to hand an approval to someone else, so it is still yours to approve or deny; "+
			"its approvers are set in the access package's policy")
	case as == nil:
		return refuse(governance.ErrNotAllowed, "Microsoft Entra takes approval decisions only from the approver's own account; connect yours with `connect entra`")
	case !strings.EqualFold(as.Identity().Email, d.By.Email):
		return refuse(governance.ErrNotAllowed, fmt.Sprintf("accessbot may decide in Microsoft Entra only as you, and the account given is %s's", as.Identity().Email))
	}
	reqID, k, err := splitApprovalID(a.ID)
	if err != nil {
		return a, governance.Permanent(err)
	}
	stages, err := b.stages(ctx, as, reqID)
	var ge *msgraph.Error
	switch {
	case errors.As(err, &ge) && ge.Status == http.StatusForbidden:
		return refuse(errors.Join(governance.ErrNotApprover, ge), fmt.Sprintf("Microsoft Entra does not count you among the approvers of %s, so it took no decision from you", a.Item.Name))
	case errors.Is(err, governance.ErrNotFound):
		return refuse(errors.Join(governance.ErrNotPending, err), "Microsoft Entra no longer waits for this approval (the request was withdrawn or ended)")
	case err != nil:
		return a, err
	case k > len(stages):
		return refuse(governance.ErrNotPending, fmt.Sprintf("stage %d of this request has not started in Microsoft Entra yet", k))
	}
	st := stages[k-1]
	switch {
	case st.Status == "Completed":
		return b.alreadyDecided(ctx, a, st)
	case !st.AssignedToMe:
		return refuse(governance.ErrNotApprover, fmt.Sprintf("Microsoft Entra does not count you among the approvers of stage %d of %s, so it took no decision from you", k, a.Item.Name))
	case a.CommentRequired && strings.TrimSpace(d.Comment) == "" && !d.Approve:
		return refuse(governance.ErrDenyReasonRequired, "The access package's policy needs a reason for every decision; deny it again with one")
	case a.CommentRequired && strings.TrimSpace(d.Comment) == "":
		return refuse(governance.ErrJustificationRequired, "The access package's policy needs a reason for every decision, approvals too, "+
			"and the card's Approve carries none; approve it in My Access, where Entra asks for the reason")
	}
	body := stageDecision{ReviewResult: "Deny", Justification: strings.TrimSpace(d.Comment)}
	if d.Approve {
		body.ReviewResult = "Approve"
	}
	err = b.asPerson(ctx, as).Do(ctx, http.MethodPatch, approvalsPath(reqID)+"/stages/"+url.PathEscape(st.ID), nil, body, nil)
	switch {
	case errors.As(err, &ge) && ge.Status == http.StatusConflict:
		again, rerr := b.stages(ctx, as, reqID)
		if rerr == nil && k <= len(again) && again[k-1].Status == "Completed" {
			return b.alreadyDecided(ctx, a, again[k-1])
		}
		return refuse(errors.Join(governance.ErrAlreadyDecided, ge), "Another approver of this stage decided it in Microsoft Entra first")
	case errors.As(err, &ge) && ge.Status == http.StatusForbidden:
		return refuse(errors.Join(governance.ErrNotApprover, ge), fmt.Sprintf("Microsoft Entra refused your decision on %s: it does not count you among this stage's approvers", a.Item.Name))
	case err != nil:
		return a, delegatedError(err)
	}
	a.Status, a.DecidedBy, a.Decision, a.At = governance.ApprovalRejected, d.By, body.Justification, b.clock.Now()
	if d.Approve {
		a.Status = governance.ApprovalApproved
	}
	return a, nil
}

// alreadyDecided is the refusal of a decision of a stage someone decided first, naming them.
func (b *Backend) alreadyDecided(ctx context.Context, a governance.BackendApproval, st approvalStage) (governance.BackendApproval, error) {
	done, err := b.reviewed(ctx, a, st)
	if err != nil {
		return a, err
	}
	how := "denied"
	if done.Status == governance.ApprovalApproved {
		how = "approved"
	}
	who := cmpOr(done.DecidedBy.Display(), "another approver")
	return a, governance.Permanent(&governance.Problem{Err: governance.ErrAlreadyDecided,
		Message: fmt.Sprintf("This stage was already %s by %s in Microsoft Entra", how, who)})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

var markerRE = regexp.MustCompile(`\s*\(accessbot request ([A-Za-z0-9-]+)\)\s*$`)

// splitMarker is a justification without accessbot's marker, and the request id the
// marker names ("" when there is none).
func splitMarker(j string) (comment, ours string) {
	if m := markerRE.FindStringSubmatchIndex(j); m != nil {
		return strings.TrimSpace(j[:m[0]]), j[m[2]:m[3]]
	}
	return strings.TrimSpace(j), ""
}

func parseTime(v string) time.Time {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

var isoDurationRE = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// maxDuration bounds a believable Edm.Duration; a longer one is read as none.
const maxDuration = 10 * 365 * 24 * time.Hour

// isoDuration reads an Edm.Duration of days, hours, minutes and seconds ("P14D",
// "PT12H"); zero when it is none, or beyond ten years.
func isoDuration(v string) time.Duration {
	m := isoDurationRE.FindStringSubmatch(v)
	if m == nil {
		return 0
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > int64(maxDuration/unit) {
			return 0
		}
		if d += time.Duration(n) * unit; d > maxDuration {
			return 0
		}
	}
	return d
}

// subjectPerson is a request's requestor as a person.
func (b *Backend) subjectPerson(s *subject) governance.Person {
	if s == nil {
		return governance.Person{}
	}
	return governance.Person{Email: strings.ToLower(firstOf(s.Email, s.PrincipalName)), Name: s.DisplayName}
}

var _ governance.GroupFinder = (*Backend)(nil)

// MembersOf is the members of the Entra group with display name name, for approval stages
// that name group:<name> where accessbot's configuration defines no such group
// (GET /groups?$filter=displayName eq '…', then its members; application permission
// GroupMember.Read.All).
func (b *Backend) MembersOf(ctx context.Context, name string) ([]governance.Person, bool, error) {
	var found struct {
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	q := url.Values{"$filter": {"displayName eq '" + strings.ReplaceAll(name, "'", "''") + "'"}, "$select": {"id,displayName"}}
	if err := b.api.Do(ctx, http.MethodGet, "/groups", q, nil, &found); err != nil {
		return nil, false, err
	}
	if len(found.Value) == 0 {
		return nil, false, nil
	}
	members, err := msgraph.All[msgraph.User](ctx, b.api, "/groups/"+url.PathEscape(found.Value[0].ID)+"/members",
		url.Values{"$select": {msgraph.UserSelect}}, 0)
	if err != nil {
		return nil, false, err
	}
	var out []governance.Person
	for _, u := range members {
		if p := (governance.Person{Email: strings.ToLower(firstOf(u.Mail, u.UserPrincipalName)), Name: u.DisplayName}); p.Email != "" {
			out = append(out, p)
		}
	}
	return out, true, nil
}
