package iscfake

import (
	"encoding/json"
)

// AccessRequest is ISC's AccessRequest, the body of POST /v3/access-requests.
type AccessRequest struct {
	RequestedFor   []string            `json:"requestedFor"`
	RequestType    string              `json:"requestType,omitempty"`
	RequestedItems []AccessRequestItem `json:"requestedItems"`
	ClientMetadata map[string]string   `json:"clientMetadata,omitempty"`
}

// AccessRequestItem is ISC's AccessRequestItem.
type AccessRequestItem struct {
	Type           string            `json:"type"`
	ID             string            `json:"id"`
	Comment        string            `json:"comment,omitempty"`
	ClientMetadata map[string]string `json:"clientMetadata,omitempty"`
	StartDate      string            `json:"startDate,omitempty"`
	RemoveDate     string            `json:"removeDate,omitempty"`
	AssignmentID   string            `json:"assignmentId,omitempty"`
	NativeIdentity string            `json:"nativeIdentity,omitempty"`
}

// CancelAccessRequest is ISC's CancelAccessRequest, the body of
// POST /v3/access-requests/cancel.
type CancelAccessRequest struct {
	AccountActivityID string `json:"accountActivityId"`
	Comment           string `json:"comment"`
}

// AccessRequestResponse is ISC's answer to a submission.
type AccessRequestResponse struct {
	NewRequests      []RequestSummary `json:"newRequests"`
	ExistingRequests []RequestSummary `json:"existingRequests"`
}

// RequestSummary is one identity's part of an AccessRequestResponse.
type RequestSummary struct {
	RequestedFor          string        `json:"requestedFor"`
	RequestedItemsDetails []ItemDetails `json:"requestedItemsDetails"`
	AttributesHash        int32         `json:"attributesHash"`
	AccessRequestIDs      []string      `json:"accessRequestIds"`
}

// ItemDetails names a requested item in a RequestSummary.
type ItemDetails struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Ref is a reference to an ISC object, e.g. {type: IDENTITY, id, name}.
type Ref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Comment is ISC's CommentDto.
type Comment struct {
	Comment string `json:"comment"`
	Created string `json:"created"`
	Author  *Ref   `json:"author"`
}

// ErrorMessage is ISC's ErrorMessageDto.
type ErrorMessage struct {
	Locale       string `json:"locale"`
	LocaleOrigin string `json:"localeOrigin"`
	Text         string `json:"text"`
}

// ApprovalStatus is ISC's ApprovalStatusDto, one approval of a requested item.
type ApprovalStatus struct {
	ApprovalID    string         `json:"approvalId"`
	Forwarded     bool           `json:"forwarded"`
	OriginalOwner *Ref           `json:"originalOwner"`
	CurrentOwner  *Ref           `json:"currentOwner"`
	Modified      string         `json:"modified"`
	Status        string         `json:"status"`
	Scheme        string         `json:"scheme"`
	ErrorMessages []ErrorMessage `json:"errorMessages"`
	Comment       string         `json:"comment"`
	RemoveDate    *string        `json:"removeDate"`
}

// Phase is ISC's AccessRequestPhases, one phase a request went through.
type Phase struct {
	Started        string  `json:"started"`
	Finished       *string `json:"finished"`
	Name           string  `json:"name"`
	State          string  `json:"state"`
	Result         *string `json:"result"`
	PhaseReference string  `json:"phaseReference"`
}

// CancelledRequestDetails says who cancelled a request, when and why.
type CancelledRequestDetails struct {
	Comment  string `json:"comment"`
	Owner    *Ref   `json:"owner"`
	Modified string `json:"modified"`
}

// RequestedItemStatus is ISC's RequestedItemStatus, one row of
// GET /v3/access-request-status: one requested item of one access request. As the spec
// describes it, ID is the id of the access request (absent on requests made before ISC
// added it, see Options.RowsWithoutID), AccessRequestID is the account activity id (the
// id the create answer's accessRequestIds and cancel's accountActivityId carry), and the
// row does not name the requested object's id: the item shows only as Name and Type
// (ItemID tells tests which it is).
type RequestedItemStatus struct {
	itemID string // the requested object's id, which ISC does not list

	ID                        string                   `json:"id,omitempty"`
	Name                      string                   `json:"name"`
	Type                      string                   `json:"type"`
	Description               string                   `json:"description"`
	State                     string                   `json:"state"`
	ApprovalDetails           []ApprovalStatus         `json:"approvalDetails"`
	ApprovalIDs               []string                 `json:"approvalIds"`
	ManualWorkItemDetails     json.RawMessage          `json:"manualWorkItemDetails"`
	AccountActivityItemID     string                   `json:"accountActivityItemId"`
	RequestType               string                   `json:"requestType"`
	Modified                  string                   `json:"modified"`
	Created                   string                   `json:"created"`
	Requester                 *Ref                     `json:"requester"`
	RequestedFor              *Ref                     `json:"requestedFor"`
	RequesterComment          *Comment                 `json:"requesterComment"`
	SodViolationContext       json.RawMessage          `json:"sodViolationContext"`
	ProvisioningDetails       json.RawMessage          `json:"provisioningDetails"`
	PreApprovalTriggerDetails json.RawMessage          `json:"preApprovalTriggerDetails"`
	AccessRequestPhases       []Phase                  `json:"accessRequestPhases"`
	StartDate                 *string                  `json:"startDate"`
	RemoveDate                *string                  `json:"removeDate"`
	Cancelable                bool                     `json:"cancelable"`
	AccessRequestID           string                   `json:"accessRequestId"`
	ClientMetadata            map[string]string        `json:"clientMetadata"`
	CancelledRequestDetails   *CancelledRequestDetails `json:"cancelledRequestDetails"`
	ErrorMessages             [][]ErrorMessage         `json:"errorMessages"`
}

// ItemID is the id of the requested object the row stands for, which ISC's row does not carry.
func (r RequestedItemStatus) ItemID() string { return r.itemID }

// ErrorResponse is ISC's ErrorResponseDto, the body of 400, 403, 404 and 500 answers.
type ErrorResponse struct {
	DetailCode string         `json:"detailCode"`
	TrackingID string         `json:"trackingId"`
	Messages   []ErrorMessage `json:"messages"`
	Causes     []ErrorMessage `json:"causes"`
}
