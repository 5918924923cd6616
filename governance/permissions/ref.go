package permissions

import (
	"fmt"
	"regexp"
	"strings"
)

// Cloud is the kind of authorization system a permission is asked in, written as
// Permissions Management's authorizationSystemType enum writes it.
type Cloud string

// The clouds Permissions Management grants permissions in.
const (
	AWS   Cloud = "aws"
	Azure Cloud = "azure"
	GCP   Cloud = "gcp"
)

// Kind is what a ref asks for: managed policies (AWS), roles (Azure, GCP) or single
// actions (all three).
type Kind string

// The kinds of permission a ref names.
const (
	KindPolicy  Kind = "policy"
	KindRole    Kind = "role"
	KindActions Kind = "actions"
)

// Ref is a parsed catalog ref: which permissions to ask for, in which authorization
// system, and for which resource.
type Ref struct {
	Cloud Cloud
	// System is the authorization system's id: the AWS account id, the Azure
	// subscription id or the GCP project id (authorizationSystemId).
	System string
	Kind   Kind
	// IDs are the policy ARNs, the role ids or the actions asked for, in order.
	IDs []string
	// Resource is where Azure and GCP permissions apply (resourceId): an Azure scope
	// inside the subscription, or the GCP project. Empty for AWS.
	Resource string
	// AssignToRole is the AWS role the permissions are attached to (assignToRoleId): the
	// role the requester's SAML session assumes. Empty for Azure and GCP.
	AssignToRole string
}

// String writes the ref in the form ParseRef reads.
func (r Ref) String() string {
	s := string(r.Cloud) + ":" + r.System + ":" + string(r.Kind) + ":" + strings.Join(r.IDs, ",")
	switch {
	case r.AssignToRole != "":
		s += "@" + r.AssignToRole
	case r.Resource != "":
		s += "@" + r.Resource
	}
	return s
}

// refForms is the ref grammar, quoted in every ParseRef error.
const refForms = "aws:<accountId>:policy:<policyArn>[,<policyArn>…]@<roleArn>, aws:<accountId>:actions:<action>[,<action>…]@<roleArn>, " +
	"azure:<subscriptionId>:role:<roleDefinitionId>[,…]@<scope>, azure:<subscriptionId>:actions:<action>[,…]@<scope>, " +
	"gcp:<projectId>:role:<role>[,…][@<projectId>] or gcp:<projectId>:actions:<permission>[,…][@<projectId>]"

var (
	awsAccount   = regexp.MustCompile(`^[0-9]{12}$`)
	guid         = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	gcpProject   = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	awsPolicyARN = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::([0-9]{12}|aws):policy/[\x21-\x7e]+$`)
	awsRoleARN   = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[\x21-\x7e]+$`)
	awsAction    = regexp.MustCompile(`^[A-Za-z0-9-]+:[A-Za-z0-9*?:_-]+$`)
	azureAction  = regexp.MustCompile(`^[A-Za-z0-9.*_-]+(/[A-Za-z0-9.*_-]+)+$`)
	azureScope   = regexp.MustCompile(`^/subscriptions/([0-9a-fA-F-]{36})(/[^\s@,]+)?$`)
	gcpRole      = regexp.MustCompile(`^(roles|projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/roles|organizations/[0-9]+/roles)/[A-Za-z0-9_.]+$`)
	gcpAction    = regexp.MustCompile(`^[A-Za-z0-9_-]+([.:][A-Za-z0-9_*-]+)+$`)
)

// ParseRef reads a catalog ref of the permissions backend: the cloud, the
// authorization system's id, what is asked for, and where it applies.
//
//	aws:<accountId>:policy:<policyArn>[,<policyArn>…]@<roleArn>
//	aws:<accountId>:actions:<action>[,<action>…]@<roleArn>
//	azure:<subscriptionId>:role:<roleDefinitionId>[,<roleDefinitionId>…]@<scope>
//	azure:<subscriptionId>:actions:<action>[,<action>…]@<scope>
//	gcp:<projectId>:role:<role>[,<role>…][@<projectId>]
//	gcp:<projectId>:actions:<permission>[,<permission>…][@<projectId>]
//
// For AWS, <roleArn> is the role the permissions are attached to (the role the
// requester's SAML session assumes); for Azure, <scope> is a resource id inside the
// subscription (the subscription itself: /subscriptions/<subscriptionId>); for GCP the
// project defaults to the authorization system's. The cloud is read in any case and
// written lower-case, as the service's enum is.
func ParseRef(ref string) (Ref, error) {
	in := strings.TrimSpace(ref)
	bad := func(format string, args ...any) (Ref, error) {
		return Ref{}, fmt.Errorf("permissions ref %q: %s; write it as one of %s", ref, fmt.Sprintf(format, args...), refForms)
	}
	parts := strings.SplitN(in, ":", 4)
	if len(parts) < 4 {
		return bad("it needs four parts separated by colons: cloud, authorization system id, policy/role/actions, and what is asked for")
	}
	r := Ref{Cloud: Cloud(strings.ToLower(parts[0])), System: parts[1], Kind: Kind(strings.ToLower(parts[2]))}
	list := parts[3]
	switch r.Cloud {
	case AWS:
		if !awsAccount.MatchString(r.System) {
			return bad("%q is not an AWS account id (12 digits)", r.System)
		}
		i := strings.LastIndex(list, "@arn:")
		if i < 0 {
			return bad("an AWS ref ends with @<roleArn>, the role the permissions are attached to (assignToRoleId)")
		}
		list, r.AssignToRole = list[:i], list[i+1:]
		if !awsRoleARN.MatchString(r.AssignToRole) {
			return bad("%q is not an IAM role ARN (arn:aws:iam::<accountId>:role/<name>)", r.AssignToRole)
		}
	case Azure, GCP:
		var scoped bool
		list, r.Resource, scoped = strings.Cut(list, "@")
		if scoped && r.Resource == "" {
			return bad("nothing follows the @")
		}
	default:
		return bad("the cloud %q is not aws, azure or gcp", parts[0])
	}
	var err error
	if r.IDs, err = splitList(r, list); err != nil {
		return bad("%v", err)
	}
	switch r.Cloud {
	case Azure:
		if !guid.MatchString(r.System) {
			return bad("%q is not an Azure subscription id (a GUID)", r.System)
		}
		r.System = strings.ToLower(r.System)
		m := azureScope.FindStringSubmatch(r.Resource)
		switch {
		case r.Resource == "":
			return bad("an Azure ref ends with @<scope>, the resource the permissions apply to, such as /subscriptions/%s", r.System)
		case m == nil:
			return bad("the scope %q is not an Azure resource id (/subscriptions/<subscriptionId>[/…])", r.Resource)
		case !strings.EqualFold(m[1], r.System):
			return bad("the scope %q is not in subscription %s", r.Resource, r.System)
		}
	case GCP:
		if !gcpProject.MatchString(r.System) {
			return bad("%q is not a GCP project id (6 to 30 lower-case letters, digits and hyphens)", r.System)
		}
		if r.Resource == "" {
			r.Resource = r.System
		}
		if !gcpProject.MatchString(r.Resource) {
			return bad("%q is not a GCP project id", r.Resource)
		}
	}
	return r, nil
}

// splitList reads the comma-separated policies, roles or actions of r's kind. AWS policy
// names may hold commas, so there a comma starts a new item only before "arn:".
func splitList(r Ref, list string) ([]string, error) {
	var kinds map[Kind]*regexp.Regexp
	var what string
	switch r.Cloud {
	case AWS:
		kinds, what = map[Kind]*regexp.Regexp{KindPolicy: awsPolicyARN, KindActions: awsAction}, "policy or actions"
	case Azure:
		kinds, what = map[Kind]*regexp.Regexp{KindRole: guid, KindActions: azureAction}, "role or actions"
	case GCP:
		kinds, what = map[Kind]*regexp.Regexp{KindRole: gcpRole, KindActions: gcpAction}, "role or actions"
	}
	valid, ok := kinds[r.Kind]
	if !ok {
		return nil, fmt.Errorf("%s refs ask for %s, not %q", r.Cloud, what, r.Kind)
	}
	if strings.TrimSpace(list) == "" {
		return nil, fmt.Errorf("it names no %s", plural(r.Kind))
	}
	var items []string
	for _, it := range strings.Split(list, ",") {
		if r.Kind == KindPolicy && len(items) > 0 && !strings.HasPrefix(it, "arn:") {
			items[len(items)-1] += "," + it
			continue
		}
		items = append(items, it)
	}
	seen := map[string]bool{}
	for i, it := range items {
		switch {
		case it == "":
			return nil, fmt.Errorf("item %d of the list is empty", i+1)
		case !valid.MatchString(it):
			return nil, fmt.Errorf("%q is not %s", it, describe(r.Cloud, r.Kind))
		case seen[strings.ToLower(it)]:
			return nil, fmt.Errorf("%q is listed twice", it)
		}
		seen[strings.ToLower(it)] = true
		if r.Cloud == Azure && r.Kind == KindRole {
			items[i] = strings.ToLower(it)
		}
	}
	return items, nil
}

func plural(k Kind) string {
	switch k {
	case KindPolicy:
		return "policies"
	case KindRole:
		return "roles"
	}
	return "actions"
}

func describe(c Cloud, k Kind) string {
	switch {
	case c == AWS && k == KindPolicy:
		return "an IAM policy ARN (arn:aws:iam::<accountId>:policy/<name>)"
	case c == AWS:
		return "an AWS action (<service>:<Action>)"
	case c == Azure && k == KindRole:
		return "an Azure role definition id (a GUID)"
	case c == Azure:
		return "an Azure action (<Provider>/<resourceType>/<operation>)"
	case k == KindRole:
		return "a GCP role (roles/<name>, projects/<id>/roles/<name> or organizations/<id>/roles/<name>)"
	}
	return "a GCP permission (<service>.<resource>.<verb>)"
}
