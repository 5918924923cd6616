package entra_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/entra"
)

func TestSettings_CheckNamesWhatIsMissing(t *testing.T) {
	errs := (&entra.Settings{}).Check()
	assert.Len(t, errs, 1)
	assert.ErrorContains(t, errs[0], "set AZURE_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET")

	vars := map[string]string{"AZURE_TENANT_ID": "contoso.onmicrosoft.com", "ENTRA_CLIENT_ID": "id", "ENTRA_CLIENT_SECRET": "secret"}
	var s entra.Settings
	s.FromEnv(governance.Env{Get: func(n string) string { return vars[n] }, Secret: func(n string) string { return vars[n] }})
	assert.Empty(t, s.Check())
	s.Rate = -1
	assert.Len(t, s.Check(), 1, "the backend's own checks")
}

func TestSettings_CheckItem_RefNamesAPackageAndPolicyUnlessASearch(t *testing.T) {
	var s entra.Settings
	assert.Empty(t, s.CheckItem(governance.Item{Ref: "0b3c4d5e-1111-2222-3333-444455556666/0b3c4d5e-1111-2222-3333-444455556667"}))
	assert.Len(t, s.CheckItem(governance.Item{Ref: "0b3c4d5e-1111-2222-3333-444455556666"}), 1)
	assert.Empty(t, s.CheckItem(governance.Item{Search: true}))
}
