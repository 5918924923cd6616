package sailpoint_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/sailpoint"
)

func TestSettings_CheckNamesWhatIsMissing(t *testing.T) {
	errs := (&sailpoint.Settings{}).Check()
	assert.Len(t, errs, 1)
	assert.ErrorContains(t, errs[0], "set sailpoint.baseURL (or SAILPOINT_BASE_URL) and SAILPOINT_CLIENT_ID and SAILPOINT_CLIENT_SECRET")

	vars := map[string]string{"SAILPOINT_BASE_URL": "https://acme.api.identitynow.com", "SAILPOINT_CLIENT_ID": "id", "SAILPOINT_CLIENT_SECRET": "secret"}
	s := sailpoint.Settings{BaseURL: "https://from-file.api.identitynow.com"}
	s.FromEnv(governance.Env{Get: func(n string) string { return vars[n] }, Secret: func(n string) string { return vars[n] }})
	assert.Equal(t, "https://acme.api.identitynow.com", s.BaseURL, "SAILPOINT_BASE_URL wins over the file")
	assert.Empty(t, s.Check())
}

func TestSettings_CheckItem_RefNamesWhatIsRequestedUnlessASearch(t *testing.T) {
	var s sailpoint.Settings
	assert.Empty(t, s.CheckItem(governance.Item{Ref: "ROLE:2c918086749d78830174a1a40e121518"}))
	assert.Len(t, s.CheckItem(governance.Item{Ref: "TEAM:x"}), 1)
	assert.Empty(t, s.CheckItem(governance.Item{Search: true}))
}
