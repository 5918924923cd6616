package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/accessbot/accessbot/governance"
	"github.com/accessbot/accessbot/governance/entra"
	"github.com/accessbot/accessbot/governance/permissions"
	"github.com/accessbot/accessbot/governance/sailpoint"
)

// Each backend's settings, through the interface accessbot composes them by: without
// credentials they say which to set; with them they pass; they check their catalog items,
// listing every problem of an item at once.
func TestBackendSettings_SayWhatIsMissingAndCheckTheirItems(t *testing.T) {
	tests := []struct {
		name     string
		settings interface {
			backend
			FromEnv(governance.Env)
		}
		env      map[string]string
		missing  string
		good     governance.Item
		bad      governance.Item
		problems int // of the bad item
		search   bool
	}{
		{"sailpoint", &sailpoint.Settings{},
			map[string]string{"SAILPOINT_BASE_URL": "https://acme.api.identitynow.com", "SAILPOINT_CLIENT_ID": "id", "SAILPOINT_CLIENT_SECRET": "secret"},
			"set sailpoint.baseURL (or SAILPOINT_BASE_URL) and SAILPOINT_CLIENT_ID and SAILPOINT_CLIENT_SECRET",
			governance.Item{Ref: "ROLE:2c918086749d78830174a1a40e121518"}, governance.Item{Ref: "TEAM:x"}, 1, true},
		{"entra", &entra.Settings{},
			map[string]string{"AZURE_TENANT_ID": "contoso.onmicrosoft.com", "ENTRA_CLIENT_ID": "id", "ENTRA_CLIENT_SECRET": "secret"},
			"set AZURE_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET",
			governance.Item{Ref: "0b3c4d5e-1111-2222-3333-444455556666/0b3c4d5e-1111-2222-3333-444455556667"},
			governance.Item{Ref: "0b3c4d5e-1111-2222-3333-444455556666"}, 1, true},
		{"permissions", &permissions.Settings{},
			map[string]string{"AZURE_TENANT_ID": "contoso.onmicrosoft.com", "PERMISSIONS_CLIENT_ID": "id", "PERMISSIONS_REFRESH_TOKEN": "rt"},
			permissions.DefaultCredentials,
			governance.Item{Ref: "gcp:acme-prod:role:roles/viewer", DefaultDuration: time.Hour},
			governance.Item{Ref: "gcp:acme-prod"}, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.settings.Check()
			if assert.Len(t, errs, 1) {
				assert.ErrorContains(t, errs[0], "the catalog uses the "+tt.name+" backend")
				assert.ErrorContains(t, errs[0], tt.missing)
			}
			tt.settings.FromEnv(governance.Env{Get: func(n string) string { return tt.env[n] }, Secret: func(n string) string { return tt.env[n] }})
			assert.Empty(t, tt.settings.Check())

			assert.Empty(t, tt.settings.CheckItem(tt.good))
			assert.Len(t, tt.settings.CheckItem(tt.bad), tt.problems)
			assert.Equal(t, tt.search, len(tt.settings.CheckItem(governance.Item{Search: true, DefaultDuration: time.Hour})) == 0,
				"an item standing for a search")
		})
	}
}
