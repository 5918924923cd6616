package permissions_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance/permissions"
)

func TestParseRef_ReadsEachCloudsForms(t *testing.T) {
	tests := []struct {
		ref  string
		want permissions.Ref
	}{
		{"aws:" + awsAccount + ":policy:" + awsPolicy + "@" + awsRole,
			permissions.Ref{Cloud: permissions.AWS, System: awsAccount, Kind: permissions.KindPolicy, IDs: []string{awsPolicy}, AssignToRole: awsRole}},
		{" AWS:" + awsAccount + ":Policy:" + awsPolicy + ",arn:aws:iam::aws:policy/ReadOnlyAccess,arn:aws:iam::956987887735:policy/team/a,b@c@" + awsRole + " ",
			permissions.Ref{Cloud: permissions.AWS, System: awsAccount, Kind: permissions.KindPolicy,
				IDs: []string{awsPolicy, "arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::956987887735:policy/team/a,b@c"}, AssignToRole: awsRole}},
		{"aws:" + awsAccount + ":actions:s3:GetObject,s3:List*@" + awsRole,
			permissions.Ref{Cloud: permissions.AWS, System: awsAccount, Kind: permissions.KindActions, IDs: []string{"s3:GetObject", "s3:List*"}, AssignToRole: awsRole}},
		{"azure:" + strings.ToUpper(azureSub) + ":role:" + strings.ToUpper(azureRole1) + "@/subscriptions/" + azureSub + "/resourceGroups/payroll",
			permissions.Ref{Cloud: permissions.Azure, System: azureSub, Kind: permissions.KindRole, IDs: []string{azureRole1},
				Resource: "/subscriptions/" + azureSub + "/resourceGroups/payroll"}},
		{"azure:" + azureSub + ":actions:Microsoft.Storage/storageAccounts/read@/subscriptions/" + azureSub,
			permissions.Ref{Cloud: permissions.Azure, System: azureSub, Kind: permissions.KindActions,
				IDs: []string{"Microsoft.Storage/storageAccounts/read"}, Resource: "/subscriptions/" + azureSub}},
		{"gcp:" + gcpProject + ":role:roles/dialogflow.aamAdmin,projects/" + gcpProject + "/roles/custom.viewer",
			permissions.Ref{Cloud: permissions.GCP, System: gcpProject, Kind: permissions.KindRole,
				IDs: []string{"roles/dialogflow.aamAdmin", "projects/" + gcpProject + "/roles/custom.viewer"}, Resource: gcpProject}},
		{"gcp:" + gcpProject + ":actions:aiplatform:dataitems,storage.buckets.get@other-project-42",
			permissions.Ref{Cloud: permissions.GCP, System: gcpProject, Kind: permissions.KindActions,
				IDs: []string{"aiplatform:dataitems", "storage.buckets.get"}, Resource: "other-project-42"}},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := permissions.ParseRef(tt.ref)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			again, err := permissions.ParseRef(got.String())
			require.NoError(t, err)
			assert.Equal(t, got, again, "String writes what ParseRef reads")
		})
	}
}

func TestParseRef_BadRefsSayWhatIsWrong(t *testing.T) {
	tests := []struct {
		ref, want string
	}{
		{"", "it needs four parts separated by colons"},
		{"aws:" + awsAccount + ":policy", "it needs four parts separated by colons"},
		{"oci:tenancy:role:x", `the cloud "oci" is not aws, azure or gcp`},
		{"aws:12345:policy:" + awsPolicy + "@" + awsRole, `"12345" is not an AWS account id (12 digits)`},
		{"aws:" + awsAccount + ":policy:" + awsPolicy, "an AWS ref ends with @<roleArn>"},
		{"aws:" + awsAccount + ":policy:" + awsPolicy + "@arn:aws:aim::956987887735:role/saml-user", `"arn:aws:aim::956987887735:role/saml-user" is not an IAM role ARN`},
		{"aws:" + awsAccount + ":role:" + awsPolicy + "@" + awsRole, `aws refs ask for policy or actions, not "role"`},
		{"aws:" + awsAccount + ":policy:AddUserToGroup@" + awsRole, `"AddUserToGroup" is not an IAM policy ARN`},
		{"aws:" + awsAccount + ":policy:@" + awsRole, "it names no policies"},
		{"aws:" + awsAccount + ":actions:s3:GetObject,,s3:PutObject@" + awsRole, "item 2 of the list is empty"},
		{"aws:" + awsAccount + ":actions:s3:GetObject,s3:GetObject@" + awsRole, `"s3:GetObject" is listed twice`},
		{"aws:" + awsAccount + ":actions:GetObject@" + awsRole, `"GetObject" is not an AWS action (<service>:<Action>)`},
		{"azure:subscription:role:" + azureRole1 + "@/subscriptions/" + azureSub, `"subscription" is not an Azure subscription id (a GUID)`},
		{"azure:" + azureSub + ":role:" + azureRole1, "an Azure ref ends with @<scope>"},
		{"azure:" + azureSub + ":role:" + azureRole1 + "@", "nothing follows the @"},
		{"azure:" + azureSub + ":role:Owner@/subscriptions/" + azureSub, `"Owner" is not an Azure role definition id (a GUID)`},
		{"azure:" + azureSub + ":role:" + azureRole1 + "@resourceGroups/payroll", `the scope "resourceGroups/payroll" is not an Azure resource id`},
		{"azure:" + azureSub + ":role:" + azureRole1 + "@/subscriptions/" + azureRole2, `is not in subscription ` + azureSub},
		{"azure:" + azureSub + ":policy:" + azureRole1 + "@/subscriptions/" + azureSub, `azure refs ask for role or actions, not "policy"`},
		{"azure:" + azureSub + ":actions:read@/subscriptions/" + azureSub, `"read" is not an Azure action`},
		{"gcp:Carbide:role:roles/viewer", `"Carbide" is not a GCP project id`},
		{"gcp:" + gcpProject + ":role:viewer", `"viewer" is not a GCP role`},
		{"gcp:" + gcpProject + ":actions:storage buckets@" + gcpProject, `"storage buckets" is not a GCP permission`},
		{"gcp:" + gcpProject + ":role:roles/viewer@Other_Project", `"Other_Project" is not a GCP project id`},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			_, err := permissions.ParseRef(tt.ref)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "write it as one of aws:<accountId>:policy:<policyArn>")
		})
	}
}

func FuzzParseRef(f *testing.F) {
	f.Add("aws:" + awsAccount + ":policy:" + awsPolicy + "@" + awsRole)
	f.Add("azure:" + azureSub + ":role:" + azureRole1 + "@/subscriptions/" + azureSub)
	f.Add("gcp:" + gcpProject + ":actions:aiplatform:dataitems")
	f.Add("aws:" + awsAccount + ":policy:arn:aws:iam::aws:policy/a,b,arn:aws:iam::aws:policy/c@" + awsRole)
	f.Fuzz(func(t *testing.T, ref string) {
		r, err := permissions.ParseRef(ref)
		if err != nil {
			return
		}
		if len(r.IDs) == 0 || r.System == "" || (r.Cloud == permissions.AWS) == (r.AssignToRole == "") || (r.Cloud != permissions.AWS) == (r.Resource == "") {
			t.Fatalf("ParseRef(%q) = %+v", ref, r)
		}
		for _, id := range r.IDs {
			if id == "" || strings.ContainsAny(id, " \t\n") {
				t.Fatalf("ParseRef(%q) gave item %q", ref, id)
			}
		}
		again, err := permissions.ParseRef(r.String())
		if err != nil {
			t.Fatalf("ParseRef(%q).String() = %q, which does not parse: %v", ref, r.String(), err)
		}
		if again.String() != r.String() {
			t.Fatalf("ParseRef(%q) round trip: %q then %q", ref, r.String(), again.String())
		}
	})
}
