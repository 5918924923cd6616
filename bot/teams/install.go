package teams

import (
	"context"
	"strings"

	"github.com/accessbot/accessbot/governance"
)

// Apps installs accessbot's Teams app in a person's personal scope and names the
// personal chat the installation makes. Microsoft Graph does it: governance/msgraph's
// TeamsApps implements it, and cmd wires the two (see docs/teams.md, "Reaching people
// who never wrote to the bot").
type Apps interface {
	// Install makes sure the app is installed for the person with this e-mail, and returns
	// the id of their personal chat with it and their display name.
	Install(ctx context.Context, email string) (chatID, name string, err error)
	// CatalogID is the app's id in the organisation's app catalog.
	CatalogID(ctx context.Context) (string, error)
}

// Installer reaches people who never wrote to the bot in Teams, where a bot cannot
// message anyone it has no conversation with: it has accessbot installed in their
// personal scope (Apps) and takes the personal chat that the installation makes as the
// conversation to reach them in.
type Installer struct {
	apps       Apps
	serviceURL string // the Bot Connector's serviceUrl for the tenant
	tenant     string
}

// InstallerOptions configure an Installer.
type InstallerOptions struct {
	// ServiceURL is the Bot Connector serviceUrl of the tenant's region, used until an
	// activity from the person gives theirs.
	ServiceURL string
	// Tenant is the Entra tenant the people are installed in.
	Tenant string
}

// NewInstaller returns an installer over apps.
func NewInstaller(apps Apps, o InstallerOptions) *Installer {
	return &Installer{apps: apps, serviceURL: o.ServiceURL, tenant: o.Tenant}
}

// Install makes sure accessbot is installed in Teams for the person with this e-mail,
// and returns the personal chat to reach them in, and who they are.
func (i *Installer) Install(ctx context.Context, email string) (Conversation, governance.ChatUser, error) {
	chat, name, err := i.apps.Install(ctx, email)
	if err != nil {
		return Conversation{}, governance.ChatUser{}, err
	}
	conv := Conversation{ServiceURL: i.serviceURL, ID: chat, TenantID: i.tenant}
	who := governance.ChatUser{Platform: Platform, Email: strings.ToLower(email), Name: name, Org: strings.ToLower(i.tenant),
		Reach: encodeConversation(conv)}
	return conv, who, nil
}
