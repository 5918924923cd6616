package entra

import (
	"strings"
	"time"
)

// The Graph v1.0 bodies accessbot sends and reads, named as in the v1.0 metadata
// (microsoftgraph/msgraph-metadata, schemas/v1.0-Prod.csdl). Only the fields accessbot
// uses are here; answers carry more, which are ignored.

// accessPackage is accessPackage, with its assignmentPolicies when expanded.
type accessPackage struct {
	ID                 string             `json:"id"`
	DisplayName        string             `json:"displayName"`
	Description        string             `json:"description"`
	IsHidden           bool               `json:"isHidden"`
	AssignmentPolicies []assignmentPolicy `json:"assignmentPolicies"`
}

// assignmentPolicy is accessPackageAssignmentPolicy.
type assignmentPolicy struct {
	ID                      string            `json:"id"`
	DisplayName             string            `json:"displayName"`
	AllowedTargetScope      string            `json:"allowedTargetScope"`
	RequestApprovalSettings *approvalSettings `json:"requestApprovalSettings"`
}

// approvalSettings is accessPackageAssignmentApprovalSettings.
type approvalSettings struct {
	IsApprovalRequiredForAdd         bool            `json:"isApprovalRequiredForAdd"`
	IsRequestorJustificationRequired bool            `json:"isRequestorJustificationRequired"`
	Stages                           []stageSettings `json:"stages"`
}

// stageSettings is accessPackageApprovalStage: who decides one stage of a policy.
type stageSettings struct {
	DurationBeforeEscalation        string       `json:"durationBeforeEscalation"`
	IsApproverJustificationRequired bool         `json:"isApproverJustificationRequired"`
	IsEscalationEnabled             bool         `json:"isEscalationEnabled"`
	PrimaryApprovers                []subjectSet `json:"primaryApprovers"`
	FallbackPrimaryApprovers        []subjectSet `json:"fallbackPrimaryApprovers"`
	EscalationApprovers             []subjectSet `json:"escalationApprovers"`
	FallbackEscalationApprovers     []subjectSet `json:"fallbackEscalationApprovers"`
}

// subjectSet is one of the subjectSet kinds (its @odata.type), with the fields of those
// accessbot resolves: singleUser, groupMembers, requestorManager.
type subjectSet struct {
	Type         string `json:"@odata.type"`
	UserID       string `json:"userId"`
	GroupID      string `json:"groupId"`
	ManagerLevel int    `json:"managerLevel"`
	Description  string `json:"description"`
}

// kind is the subject set's type without its namespace ("singleUser").
func (s subjectSet) kind() string { return strings.TrimPrefix(s.Type, "#microsoft.graph.") }

// approvalStage is one stage of an approval (Graph's approvalStage), readable only with an
// approver's delegated token.
type approvalStage struct {
	ID               string    `json:"id"`
	DisplayName      string    `json:"displayName"`
	Status           string    `json:"status"`       // InProgress, Initializing, Completed, Expired
	ReviewResult     string    `json:"reviewResult"` // NotReviewed, Approved, Denied
	Justification    string    `json:"justification"`
	ReviewedDateTime string    `json:"reviewedDateTime"`
	ReviewedBy       *identity `json:"reviewedBy"`
	AssignedToMe     bool      `json:"assignedToMe"`
}

// identity is Graph's identity: who, by object id.
type identity struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// stageDecision is the body of PATCH …/accessPackageAssignmentApprovals/{id}/stages/{id}.
type stageDecision struct {
	ReviewResult  string `json:"reviewResult"` // Approve or Deny
	Justification string `json:"justification"`
}

// directPolicy is the policy accessbot assigns the package under: one for direct
// assignment by admins (allowedTargetScope notSpecified), else the first.
func (p accessPackage) directPolicy() string {
	for _, pol := range p.AssignmentPolicies {
		if pol.AllowedTargetScope == "notSpecified" {
			return pol.ID
		}
	}
	if len(p.AssignmentPolicies) > 0 {
		return p.AssignmentPolicies[0].ID
	}
	return ""
}

// assignmentRequest is accessPackageAssignmentRequest, with its navigations when expanded.
type assignmentRequest struct {
	ID              string         `json:"id"`
	RequestType     string         `json:"requestType"`
	State           string         `json:"state"`
	Status          string         `json:"status"`
	CreatedDateTime string         `json:"createdDateTime"`
	Justification   string         `json:"justification"`
	Schedule        *schedule      `json:"schedule"`
	Assignment      *assignment    `json:"assignment"`
	Requestor       *subject       `json:"requestor"`
	AccessPackage   *accessPackage `json:"accessPackage"`
	// RequestState is the older name of state, with PascalCase values, which some of
	// Graph's own examples still answer with; it is read only when state is missing.
	RequestState string `json:"requestState"`
	// Answers are the requestor's answers to the policy's questions.
	Answers []struct {
		DisplayValue     string `json:"displayValue"`
		AnsweredQuestion *struct {
			Text string `json:"text"`
		} `json:"answeredQuestion"`
	} `json:"answers"`
}

// state is the request's accessPackageRequestState.
func (r assignmentRequest) state() string {
	if r.State != "" || r.RequestState == "" {
		return r.State
	}
	return strings.ToLower(r.RequestState[:1]) + r.RequestState[1:]
}

// assignment is accessPackageAssignment.
type assignment struct {
	ID            string         `json:"id"`
	State         string         `json:"state"`
	Status        string         `json:"status"`
	Schedule      *schedule      `json:"schedule"`
	Target        *subject       `json:"target"`
	AccessPackage *accessPackage `json:"accessPackage"`
}

// subject is accessPackageSubject; objectId is the user's object id.
type subject struct {
	ID            string `json:"id"`
	ObjectID      string `json:"objectId"`
	DisplayName   string `json:"displayName"`
	Email         string `json:"email"`
	PrincipalName string `json:"principalName"`
}

// schedule is entitlementManagementSchedule.
type schedule struct {
	StartDateTime string      `json:"startDateTime,omitempty"`
	Expiration    *expiration `json:"expiration,omitempty"`
}

// expiration is expirationPattern.
type expiration struct {
	Type        string `json:"type"`
	EndDateTime string `json:"endDateTime,omitempty"`
}

// end is when the schedule ends; zero when it does not.
func (s *schedule) end() time.Time {
	if s == nil || s.Expiration == nil || s.Expiration.Type != "afterDateTime" {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339, s.Expiration.EndDateTime)
	return t.UTC()
}

// newRequest is the body of POST /identityGovernance/entitlementManagement/assignmentRequests.
type newRequest struct {
	RequestType   string        `json:"requestType"`
	Assignment    assignmentRef `json:"assignment"`
	Justification string        `json:"justification,omitempty"`
	Schedule      *schedule     `json:"schedule,omitempty"`
}

// assignmentRef is what a new request says about its assignment: for adminAdd the target,
// policy and package (which v1.0's metadata does not declare, but the documentation and
// the service use); for adminUpdate and adminRemove the existing assignment's id.
type assignmentRef struct {
	ID                 string `json:"id,omitempty"`
	TargetID           string `json:"targetId,omitempty"`
	AssignmentPolicyID string `json:"assignmentPolicyId,omitempty"`
	AccessPackageID    string `json:"accessPackageId,omitempty"`
}

// Request types accessbot creates.
const (
	adminAdd    = "adminAdd"
	adminUpdate = "adminUpdate"
	adminRemove = "adminRemove"
	userAdd     = "userAdd"
)
