package msgraph

import "github.com/accessbot/accessbot/governance"

// Settings are what the Microsoft backends configure alike: where Graph and the identity
// platform are, how fast to call Graph, and accessbot's app registration (the tenant from
// AZURE_TENANT_ID, the client id and secret from the backend's own variables). Each
// backend embeds them in its settings block (`entra:`, `permissions:`).
type Settings struct {
	GraphURL     string  `yaml:"graphURL"` // Graph's root; default: the backend's (national clouds differ)
	LoginURL     string  `yaml:"loginURL"` // default https://login.microsoftonline.com
	Rate         float64 `yaml:"rate"`     // Graph calls per second; default 10
	Burst        int     `yaml:"burst"`
	TenantID     string  `yaml:"-"` // AZURE_TENANT_ID
	ClientID     string  `yaml:"-"` // <PREFIX>_CLIENT_ID
	ClientSecret string  `yaml:"-"` // <PREFIX>_CLIENT_SECRET
}

// ReadEnv reads the tenant, and the app registration's client id and secret from the
// variables named with prefix (ENTRA: ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET).
func (s *Settings) ReadEnv(env governance.Env, prefix string) {
	s.TenantID = env.Get("AZURE_TENANT_ID")
	s.ClientID = env.Secret(prefix + "_CLIENT_ID")
	s.ClientSecret = env.Secret(prefix + "_CLIENT_SECRET")
}
