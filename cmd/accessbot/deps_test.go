package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServerBinary_LinksNoDevelopmentTools keeps the production binary free of what
// development and tests need: the testing package, httptest and every fake.
func TestServerBinary_LinksNoDevelopmentTools(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err, "go list -deps")
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/accessbot/accessbot/cmd/internal/app", "the list is the server's")
	forbidden := []string{"testing", "net/http/httptest", "github.com/stretchr/testify",
		"slackfake", "teamsfake", "iscfake", "graphfake", "pmfake", "oauthfake", "msgraphtest", "redistest", "governancetest", "chromedp",
		"github.com/accessbot/accessbot/cmd/internal/slackclient"}
	for _, dep := range deps {
		name := dep[strings.LastIndex(dep, "/")+1:]
		for _, bad := range forbidden {
			assert.False(t, dep == bad || name == bad || strings.HasPrefix(dep, bad+"/"), "the server binary links %s", dep)
		}
	}
}
