package msgraph

import "github.com/accessbot/accessbot/governance"

// Settings are what the Microsoft backends configure alike: where Graph and the identity
// platform are, how fast to call Graph, and the tenant (AZURE_TENANT_ID). Each backend
// embeds them in its own settings block (`entra:`, `permissions:`) with its credentials.
type Settings struct {
	GraphURL string  `yaml:"graphURL"` // Graph's root; default: the backend's (national clouds differ)
	LoginURL string  `yaml:"loginURL"` // default https://login.microsoftonline.com
	Rate     float64 `yaml:"rate"`     // Graph calls per second; default 10
	Burst    int     `yaml:"burst"`
	TenantID string  `yaml:"-"` // AZURE_TENANT_ID: accessbot's app registration's directory
}

// FromEnv reads the tenant from the environment.
func (s *Settings) FromEnv(env governance.Env) { s.TenantID = env.Get("AZURE_TENANT_ID") }
