package sailpoint

// The ISC v3 bodies accessbot sends and reads, named as in SailPoint's OpenAPI spec
// (sailpoint-oss/api-specs, idn/v3/schemas). Only the fields accessbot uses are here;
// answers may carry more, which are ignored.

// accessRequest is AccessRequest, the body of POST /v3/access-requests.
type accessRequest struct {
	RequestedFor   []string          `json:"requestedFor"`
	RequestType    string            `json:"requestType"`
	RequestedItems []accessItem      `json:"requestedItems"`
	ClientMetadata map[string]string `json:"clientMetadata,omitempty"`
}

// accessItem is AccessRequestItem.
type accessItem struct {
	Type           string            `json:"type"`
	ID             string            `json:"id"`
	Comment        string            `json:"comment,omitempty"`
	ClientMetadata map[string]string `json:"clientMetadata,omitempty"`
	RemoveDate     string            `json:"removeDate,omitempty"`
}

// accessRequestResponse is AccessRequestResponse, the 202 answer to a submission.
type accessRequestResponse struct {
	NewRequests      []requestSummary `json:"newRequests"`
	ExistingRequests []requestSummary `json:"existingRequests"`
}

type requestSummary struct {
	RequestedFor     string   `json:"requestedFor"`
	AccessRequestIDs []string `json:"accessRequestIds"`
}

// cancelRequest is CancelAccessRequest.
type cancelRequest struct {
	AccountActivityID string `json:"accountActivityId"`
	Comment           string `json:"comment"`
}

// Request types.
const (
	grantAccess  = "GRANT_ACCESS"
	revokeAccess = "REVOKE_ACCESS"
)

// itemStatus is RequestedItemStatus, one row of GET /v3/access-request-status. Its id is
// the access request's (missing on older requests), never the requested item's, which the
// row names only by name and type; accessbot does not read it.
type itemStatus struct {
	Name                    string            `json:"name"`
	Type                    string            `json:"type"`
	State                   string            `json:"state"`
	RequestType             string            `json:"requestType"`
	AccessRequestID         string            `json:"accessRequestId"` // the account activity id
	RequestedFor            *ref              `json:"requestedFor"`
	Created                 string            `json:"created"`
	ApprovalDetails         []approvalDetail  `json:"approvalDetails"`
	ApprovalIDs             []string          `json:"approvalIds"`
	AccessRequestPhases     []phase           `json:"accessRequestPhases"`
	ErrorMessages           [][]message       `json:"errorMessages"`
	CancelledRequestDetails *cancelledDetails `json:"cancelledRequestDetails"`
	ClientMetadata          map[string]string `json:"clientMetadata"`
	Cancelable              bool              `json:"cancelable"`
}

type approvalDetail struct {
	ApprovalID   string `json:"approvalId"`
	Scheme       string `json:"scheme"`
	Status       string `json:"status"`
	CurrentOwner *ref   `json:"currentOwner"`
	Comment      string `json:"comment"`
}

type phase struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Result string `json:"result"`
}

type message struct {
	Text string `json:"text"`
}

type cancelledDetails struct {
	Comment string `json:"comment"`
	Owner   *ref   `json:"owner"`
}

type ref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// publicIdentity is PublicIdentity, from GET /v3/public-identities.
type publicIdentity struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Email         string `json:"email"`
	IdentityState string `json:"identityState"`
	Manager       *ref   `json:"manager"`
}

// requestableObject is RequestableObject, from GET /v3/requestable-objects.
type requestableObject struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	Type              string `json:"type"`
	RequestStatus     string `json:"requestStatus"`
	IdentityRequestID string `json:"identityRequestId"`
	OwnerRef          *ref   `json:"ownerRef"`
}

// searchBody is the part of POST /v3/search accessbot uses.
type searchBody struct {
	Indices []string    `json:"indices"`
	Query   searchQuery `json:"query"`
}

type searchQuery struct {
	Query string `json:"query"`
}

// identityDocument is the part of a search hit in the identities index accessbot reads.
type identityDocument struct {
	ID     string `json:"id"`
	Access []struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"access"`
}

// Config is the part of AccessRequestConfig operators compare accessbot's schedule with.
type Config struct {
	ApprovalsMustBeExternal bool `json:"approvalsMustBeExternal"`
	AutoApprovalEnabled     bool `json:"autoApprovalEnabled"`
	ReauthorizationEnabled  bool `json:"reauthorizationEnabled"`
	Reminders               *struct {
		DaysUntilEscalation  *int `json:"daysUntilEscalation"`
		DaysBetweenReminders *int `json:"daysBetweenReminders"`
		MaxReminders         *int `json:"maxReminders"`
		FallbackApproverRef  *struct {
			ID    string `json:"id"`
			Name  string `json:"name"`
			Email string `json:"email"`
		} `json:"fallbackApproverRef"`
	} `json:"approvalReminderAndEscalationConfig"`
	EntitlementRequestConfig *struct {
		AllowEntitlementRequest     bool   `json:"allowEntitlementRequest"`
		RequestCommentsRequired     bool   `json:"requestCommentsRequired"`
		DeniedCommentsRequired      bool   `json:"deniedCommentsRequired"`
		GrantRequestApprovalSchemes string `json:"grantRequestApprovalSchemes"`
	} `json:"entitlementRequestConfig"`
}
