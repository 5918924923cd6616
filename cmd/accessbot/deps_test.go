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

// TestPackages_FollowTheImportArrows holds the arrows of docs/design.md ("Packages") for
// the code that ships: governance imports nothing of ours; a governance adapter imports
// governance and the shared Graph client; bot/* imports governance and the one voice;
// handlers imports governance, bot/* and its metrics; scheduler imports governance; only
// cmd wires everything. Fakes and test helpers, which ship in no binary, are left out.
func TestPackages_FollowTheImportArrows(t *testing.T) {
	const mod = "github.com/accessbot/accessbot/"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", mod+"...").Output()
	require.NoError(t, err, "go list")
	may := func(from, to string) bool {
		switch {
		case strings.HasPrefix(from, "cmd/"):
			return true
		case from == "governance", from == "manifests":
			return false
		case from == "governance/msgraph":
			return to == "governance"
		case strings.HasPrefix(from, "governance/"):
			return to == "governance" || to == "governance/msgraph"
		case from == "bot", strings.HasPrefix(from, "bot/"):
			return to == "governance" || to == "bot/voice"
		case from == "handlers", strings.HasPrefix(from, "handlers/"):
			return to == "governance" || strings.HasPrefix(to, "bot/") || to == "handlers/metrics"
		case from == "scheduler":
			return to == "governance"
		}
		return false
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		from := strings.TrimPrefix(fields[0], mod)
		if helper(from) {
			continue
		}
		checked++
		for _, imp := range fields[1:] {
			if to, ours := strings.CutPrefix(imp, mod); ours {
				assert.True(t, may(from, to), "%s imports %s, against the arrows of docs/design.md", from, to)
			}
		}
	}
	assert.Greater(t, checked, 15, "the packages were listed")
}

// helper says whether a package is a fake or a test helper, which ships in no binary.
func helper(pkg string) bool {
	name := pkg[strings.LastIndex(pkg, "/")+1:]
	return strings.HasSuffix(name, "fake") || strings.HasSuffix(name, "test")
}
