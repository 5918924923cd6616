package teams

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/governance"
)

// fakeApps is Apps with one person's personal chat, or a refusal.
type fakeApps struct {
	chat, name, catalog string
	err                 error
}

func (f fakeApps) Install(context.Context, string) (string, string, error) {
	return f.chat, f.name, f.err
}
func (f fakeApps) CatalogID(context.Context) (string, error) { return f.catalog, f.err }

func TestInstaller_ThePersonalChatIsTheConversationToReachThemIn(t *testing.T) {
	inst := NewInstaller(fakeApps{chat: "19:aad-bob_app@unq.gbl.spaces", name: "Bob"},
		InstallerOptions{ServiceURL: "https://smba.trafficmanager.net/teams/", Tenant: "Tenant-1"})
	conv, who, err := inst.Install(context.Background(), "Bob@Example.com")
	require.NoError(t, err)
	want := Conversation{ServiceURL: "https://smba.trafficmanager.net/teams/", ID: "19:aad-bob_app@unq.gbl.spaces", TenantID: "Tenant-1"}
	assert.Equal(t, want, conv)
	assert.Equal(t, governance.ChatUser{Platform: Platform, Email: "bob@example.com", Name: "Bob", Org: "tenant-1",
		Reach: encodeConversation(want)}, who)
}

func TestInstaller_ARefusalIsPassedOnAsItIs(t *testing.T) {
	refused := governance.Permanent(errors.New("no consent"))
	_, _, err := NewInstaller(fakeApps{err: refused}, InstallerOptions{Tenant: "tenant-1"}).Install(context.Background(), "bob@example.com")
	assert.ErrorIs(t, err, refused)
	assert.True(t, governance.IsPermanent(err))
}
