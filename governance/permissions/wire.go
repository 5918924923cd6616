package permissions

import (
	"strconv"
	"strings"
	"time"
)

// The Graph beta bodies accessbot sends and reads, named as the Permissions Management
// reference names them (api-reference/beta: permissionsmanagement-post-
// scheduledpermissionsrequests, scheduledPermissionsRequest, permissionsRequestChange).
// accessbot sends the canonical form: "#"-prefixed @odata.type values and the lower-case
// authorizationSystemType enum, where the documentation's examples vary.

// OData types of the permission definitions, their actions and the identity sources.
const (
	typeAWS          = "#microsoft.graph.awsPermissionsDefinition"
	typeAzure        = "#microsoft.graph.singleResourceAzurePermissionsDefinition"
	typeGCP          = "#microsoft.graph.singleResourceGcpPermissionsDefinition"
	typeAWSPolicy    = "#microsoft.graph.awsPolicyPermissionsDefinitionAction"
	typeAWSActions   = "#microsoft.graph.awsActionsPermissionsDefinitionAction"
	typeAzureRole    = "#microsoft.graph.azureRolePermissionsDefinitionAction"
	typeAzureActions = "#microsoft.graph.azureActionPermissionsDefinitionAction"
	typeGCPRole      = "#microsoft.graph.gcpRolePermissionsDefinitionAction"
	typeGCPActions   = "#microsoft.graph.gcpActionPermissionsDefinitionAction"
	typeSAMLSource   = "#microsoft.graph.samlIdentitySource"
	typeEDSource     = "#microsoft.graph.edIdentitySource"
)

// newRequest is the body of POST …/permissionsManagement/scheduledPermissionsRequests.
type newRequest struct {
	RequestedPermissions permissionsDefinition `json:"requestedPermissions"`
	Justification        string                `json:"justification"`
	Notes                string                `json:"notes"`
	ScheduleInfo         requestSchedule       `json:"scheduleInfo"`
	TicketInfo           ticketInfo            `json:"ticketInfo"`
}

// permissionsDefinition is awsPermissionsDefinition, singleResourceAzurePermissionsDefinition
// or singleResourceGcpPermissionsDefinition; only the last two have a resourceId.
type permissionsDefinition struct {
	ODataType               string              `json:"@odata.type"`
	AuthorizationSystemInfo authorizationSystem `json:"authorizationSystemInfo"`
	ActionInfo              actionInfo          `json:"actionInfo"`
	IdentityInfo            identityInfo        `json:"identityInfo"`
	ResourceID              string              `json:"resourceId,omitempty"`
}

// authorizationSystem is permissionsDefinitionAuthorizationSystem.
type authorizationSystem struct {
	ID   string `json:"authorizationSystemId"`
	Type string `json:"authorizationSystemType"`
}

// actionInfo is one of the six *PermissionsDefinitionAction types; each uses only its own
// fields, the others stay out of the JSON.
type actionInfo struct {
	ODataType      string         `json:"@odata.type"`
	Policies       []idRef        `json:"policies,omitempty"`
	Statements     []awsStatement `json:"statements,omitempty"`
	Roles          []idRef        `json:"roles,omitempty"`
	Actions        []string       `json:"actions,omitempty"`
	AssignToRoleID string         `json:"assignToRoleId,omitempty"`
}

type idRef struct {
	ID string `json:"id"`
}

// awsStatement is awsStatement, without the optional condition.
type awsStatement struct {
	StatementID  string   `json:"statementId"`
	Actions      []string `json:"actions"`
	NotActions   []string `json:"notActions"`
	Resources    []string `json:"resources"`
	NotResources []string `json:"notResources"`
	Effect       string   `json:"effect"`
}

// identityInfo is permissionsDefinitionAuthorizationSystemIdentity.
type identityInfo struct {
	ExternalID   string     `json:"externalId"`
	Source       odataTyped `json:"source"`
	IdentityType string     `json:"identityType"`
}

type odataTyped struct {
	ODataType string `json:"@odata.type"`
}

// requestSchedule is requestSchedule with only an expiration: the permissions start
// when they are granted and last the duration.
type requestSchedule struct {
	Expiration expiration `json:"expiration"`
}

// expiration is expirationPattern as the examples send it: a duration alone.
type expiration struct {
	Duration string `json:"duration"`
}

// ticketInfo is ticketInfo with the submitter and approver the examples send.
type ticketInfo struct {
	TicketNumber              string `json:"ticketNumber"`
	TicketSystem              string `json:"ticketSystem"`
	TicketSubmitterIdentityID string `json:"ticketSubmitterIdentityId,omitempty"`
	TicketApproverIdentityID  string `json:"ticketApproverIdentityId,omitempty"`
}

// scheduledRequest is the part of a created scheduledPermissionsRequest accessbot reads.
type scheduledRequest struct {
	ID              string `json:"id"`
	StatusDetail    string `json:"statusDetail"`
	CreatedDateTime string `json:"createdDateTime"`
}

// change is permissionsRequestChange. The documentation's example answers with the
// misspelt activeOccurenceStatus, so that spelling is read too.
type change struct {
	ID                     string `json:"id"`
	ModificationDateTime   string `json:"modificationDateTime"`
	PermissionsRequestID   string `json:"permissionsRequestId"`
	StatusDetail           string `json:"statusDetail"`
	ActiveOccurrenceStatus string `json:"activeOccurrenceStatus"`
	ActiveOccurenceStatus  string `json:"activeOccurenceStatus"`
	TicketID               string `json:"ticketId"`
}

// FormatDuration writes d as an ISO 8601 duration, as expirationPattern.duration takes
// it: days, hours, minutes and seconds, each only when not zero ("PT1H", "P1DT2H",
// "PT1H30M", "P7D"). A day is 24 hours. Fractions of a second are rounded up, so the
// permissions never end before d; d of zero or less is "PT0S".
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	secs := int64((d + time.Second - 1) / time.Second)
	days, secs := secs/86400, secs%86400
	h, secs := secs/3600, secs%3600
	m, s := secs/60, secs%60
	var sb strings.Builder
	sb.WriteByte('P')
	if days > 0 {
		sb.WriteString(strconv.FormatInt(days, 10) + "D")
	}
	if h+m+s > 0 {
		sb.WriteByte('T')
		for _, part := range []struct {
			n    int64
			unit string
		}{{h, "H"}, {m, "M"}, {s, "S"}} {
			if part.n > 0 {
				sb.WriteString(strconv.FormatInt(part.n, 10) + part.unit)
			}
		}
	}
	return sb.String()
}
