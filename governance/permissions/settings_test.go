package permissions_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/permissions"
)

func TestSettings_CheckNamesWhatIsMissing(t *testing.T) {
	errs := (&permissions.Settings{}).Check()
	assert.Len(t, errs, 1)
	assert.ErrorContains(t, errs[0], "the catalog uses the permissions backend")
	assert.ErrorContains(t, errs[0], permissions.DefaultCredentials)

	vars := map[string]string{"AZURE_TENANT_ID": "contoso.onmicrosoft.com", "PERMISSIONS_CLIENT_ID": "id", "PERMISSIONS_REFRESH_TOKEN": "rt"}
	var s permissions.Settings
	s.FromEnv(governance.Env{Get: func(n string) string { return vars[n] }, Secret: func(n string) string { return vars[n] }})
	assert.Empty(t, s.Check())
}

func TestSettings_CheckItem_ListsABadRefAndAMissingDurationAtOnce(t *testing.T) {
	var s permissions.Settings
	errs := s.CheckItem(governance.Item{Ref: "gcp:acme-prod"})
	assert.Len(t, errs, 2)
	assert.ErrorContains(t, errs[1], "set defaultDuration")
	assert.Empty(t, s.CheckItem(governance.Item{Ref: "gcp:acme-prod:role:roles/viewer", DefaultDuration: time.Hour}))
}
