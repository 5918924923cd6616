package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	slackapi "github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/accessbot/accessbot/cmd/internal/app"
	"github.com/accessbot/accessbot/cmd/internal/clitest"
)

func TestManifestSlack_PointsAtTheURLWithExactlyTheScopesTheCodeUses(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, manifest([]string{"slack", "--url", "https://bot.corp.example/"}, &out))

	var m slackapi.Manifest
	dec := yaml.NewDecoder(bytes.NewReader(out.Bytes()))
	dec.KnownFields(true) // a typo in the manifest would fail here
	require.NoError(t, dec.Decode(&m))

	require.Len(t, m.Features.SlashCommands, 1)
	assert.Equal(t, "/access", m.Features.SlashCommands[0].Command)
	assert.Equal(t, "https://bot.corp.example/slack/commands", m.Features.SlashCommands[0].Url)
	assert.Equal(t, "https://bot.corp.example/slack/interactions", m.Settings.Interactivity.RequestUrl)
	assert.True(t, m.Features.AppHome.HomeTabEnabled, "the Home tab")
	require.NotNil(t, m.Settings.EventSubscriptions)
	assert.Equal(t, "https://bot.corp.example/slack/events", m.Settings.EventSubscriptions.RequestUrl)
	assert.Equal(t, []string{"app_home_opened"}, m.Settings.EventSubscriptions.BotEvents)
	assert.NotContains(t, out.String(), "example.com")
	assert.NotContains(t, out.String(), "after replacing", "nothing is left to replace by hand")

	// commands: /access; chat:write: cards, notices, chat.update; im:write:
	// conversations.open; users:read: users.info (name, tz); users:read.email: e-mails.
	want := []string{"chat:write", "commands", "im:write", "users:read", "users:read.email"}
	got := slices.Clone(m.OAuthConfig.Scopes.Bot)
	slices.Sort(got)
	assert.Equal(t, want, got)
}

func TestManifestSlack_SocketModeHasNoURLsAndTheSameScopes(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, manifest([]string{"slack", "--socket-mode"}, &out))
	var m slackapi.Manifest
	dec := yaml.NewDecoder(bytes.NewReader(out.Bytes()))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&m))

	assert.True(t, m.Settings.SocketModeEnabled)
	assert.True(t, m.Features.AppHome.HomeTabEnabled)
	require.NotNil(t, m.Settings.EventSubscriptions)
	assert.Empty(t, m.Settings.EventSubscriptions.RequestUrl, "events come over the socket")
	assert.Equal(t, []string{"app_home_opened"}, m.Settings.EventSubscriptions.BotEvents)
	require.Len(t, m.Features.SlashCommands, 1)
	assert.Equal(t, "/access", m.Features.SlashCommands[0].Command)
	assert.Empty(t, m.Features.SlashCommands[0].Url, "Slack sends the command over the socket")
	assert.True(t, m.Settings.Interactivity.IsEnabled)
	assert.Empty(t, m.Settings.Interactivity.RequestUrl)
	assert.NotContains(t, out.String(), "https://", "no URL at all")
	assert.Equal(t, []string{"commands", "chat:write", "im:write", "users:read", "users:read.email"}, m.OAuthConfig.Scopes.Bot,
		"the bot's scopes are the HTTP app's")
	assert.Contains(t, out.String(), "connections:write", "the header says how to make the app-level token, which a manifest cannot ask for")

	err := manifest([]string{"slack", "--socket-mode", "--url", "https://bot.corp.example"}, &out)
	assert.ErrorContains(t, err, "give one or the other")
}

func TestManifestSlack_BadURLSaysWhatToGive(t *testing.T) {
	for _, args := range [][]string{{"slack"}, {"slack", "--url", "http://bot.example"}, {"slack", "--url", "bot.example"}, {"teams"}} {
		err := manifest(args, &bytes.Buffer{})
		require.Error(t, err, args)
		assert.Contains(t, err.Error(), "https://bot.example.com")
	}
}

// docs decodes every YAML document of a manifest file.
func docs(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []map[string]any
	for {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			require.ErrorIs(t, err, io.EOF)
			return out
		}
		out = append(out, d)
	}
}

// dig walks nested maps and lists: dig(d, "spec", "template", "spec", "containers", 0).
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			require.True(t, ok, "no map at %v", p)
			v = m[k]
		case int:
			l, ok := v.([]any)
			require.True(t, ok && len(l) > k, "no list item %d", k)
			v = l[k]
		}
	}
	return v
}

// TestKubernetesManifests_CarryWhatProductionNeeds reads the plain manifests, which are the
// Helm chart rendered (manifests/helm/helmtest keeps them so), and runs their config
// through accessbot's own validation.
func TestKubernetesManifests_CarryWhatProductionNeeds(t *testing.T) {
	byKind := map[string]map[string]any{}
	for _, d := range docs(t, "../../manifests/kubernetes/accessbot.yaml") {
		byKind[d["kind"].(string)] = d
	}
	for _, kind := range []string{"ConfigMap", "Deployment", "Service", "PodDisruptionBudget"} {
		require.Contains(t, byKind, kind)
	}
	dep := byKind["Deployment"]
	assert.GreaterOrEqual(t, dig(t, dep, "spec", "replicas"), 2)
	c := dig(t, dep, "spec", "template", "spec", "containers", 0)
	assert.Equal(t, "/healthz", dig(t, c, "livenessProbe", "httpGet", "path"))
	assert.Equal(t, "/readyz", dig(t, c, "readinessProbe", "httpGet", "path"))
	assert.NotNil(t, dig(t, c, "resources", "requests", "memory"))
	assert.NotNil(t, dig(t, c, "resources", "limits", "memory"))
	assert.Equal(t, true, dig(t, dep, "spec", "template", "spec", "securityContext", "runAsNonRoot"))
	assert.Equal(t, true, dig(t, c, "securityContext", "readOnlyRootFilesystem"))
	assert.Equal(t, false, dig(t, c, "securityContext", "allowPrivilegeEscalation"))
	for i, name := range []string{"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "REDIS_URL"} {
		assert.Equal(t, name, dig(t, c, "env", i, "name"))
		assert.NotNil(t, dig(t, c, "env", i, "valueFrom", "secretKeyRef"), "%s comes from a Secret", name)
	}

	// The ConfigMap's config, with the container's environment, passes accessbot's own validation.
	file := filepath.Join(t.TempDir(), "accessbot.yaml")
	require.NoError(t, os.WriteFile(file, []byte(dig(t, byKind["ConfigMap"], "data", "accessbot.yaml").(string)), 0o600))
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "REDIS_URL": "redis://r:6379/0"}
	for _, e := range dig(t, c, "env").([]any) {
		if v, ok := e.(map[string]any)["value"].(string); ok {
			env[e.(map[string]any)["name"].(string)] = v
		}
	}
	cfg, err := app.LoadConfig(file, clitest.Env(env))
	require.NoError(t, err)
	assert.Equal(t, ":8080", cfg.Listen)
	// Metrics on a port of their own, which Prometheus scrapes and the Service does not expose.
	assert.Equal(t, ":9090", cfg.Metrics.Listen)
	assert.Equal(t, "9090", dig(t, dep, "spec", "template", "metadata", "annotations", "prometheus.io/port"))
	assert.Equal(t, "metrics", dig(t, c, "ports", 1, "name"))
	for _, p := range dig(t, byKind["Service"], "spec", "ports").([]any) {
		assert.NotEqual(t, "metrics", p.(map[string]any)["targetPort"], "the Service exposes no metrics")
	}

	redis := docs(t, "../../manifests/kubernetes/redis.yaml")[0]
	assert.Contains(t, dig(t, redis, "spec", "template", "spec", "containers", 0, "args"), "--appendonly")
	compose := docs(t, "../../manifests/compose.yaml")[0]
	assert.Contains(t, dig(t, compose, "services", "redis", "command"), "--appendonly")
	assert.Equal(t, "redis://redis:6379/0", dig(t, compose, "services", "accessbot", "environment", "REDIS_URL"))
}

func TestManifestTeams_WritesAnUploadablePackage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "app.zip")
	var log bytes.Buffer
	const app = "7E1D4B1A-5C0E-4B8E-9D3C-1F2A3B4C5D6E"
	require.NoError(t, manifest([]string{"teams", "--app-id", app, "--url", "https://bot.corp.example/", "-o", out}, &log))
	assert.Contains(t, log.String(), "https://bot.corp.example/teams/messages")

	zr, err := zip.OpenReader(out)
	require.NoError(t, err)
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		files[f.Name], err = io.ReadAll(rc)
		require.NoError(t, err)
		rc.Close()
	}
	require.Len(t, files, 3)

	var m struct {
		ManifestVersion string `json:"manifestVersion"`
		ID              string `json:"id"`
		Developer       struct{ Name, WebsiteURL, PrivacyURL, TermsOfUseURL string }
		Name            struct{ Short, Full string }
		Description     struct{ Short, Full string }
		Icons           struct{ Outline, Color string }
		AccentColor     string `json:"accentColor"`
		Bots            []struct {
			BotID        string   `json:"botId"`
			Scopes       []string `json:"scopes"`
			CommandLists []struct {
				Scopes   []string `json:"scopes"`
				Commands []struct{ Title, Description string }
			} `json:"commandLists"`
		} `json:"bots"`
		ValidDomains       []string `json:"validDomains"`
		WebApplicationInfo struct {
			ID       string `json:"id"`
			Resource string `json:"resource"`
		} `json:"webApplicationInfo"`
	}
	require.NoError(t, json.Unmarshal(files["manifest.json"], &m))
	assert.Equal(t, "1.29", m.ManifestVersion)
	assert.Equal(t, strings.ToLower(app), m.ID)
	require.Len(t, m.Bots, 1)
	assert.Equal(t, strings.ToLower(app), m.Bots[0].BotID)
	assert.Equal(t, []string{"personal", "team", "groupChat"}, m.Bots[0].Scopes)
	assert.Equal(t, []string{"bot.corp.example"}, m.ValidDomains)
	// Graph installs only an app whose manifest names its app registration (teams.install).
	assert.Equal(t, strings.ToLower(app), m.WebApplicationInfo.ID)
	assert.Equal(t, "api://bot.corp.example/"+strings.ToLower(app), m.WebApplicationInfo.Resource)
	assert.Equal(t, "https://bot.corp.example/privacy", m.Developer.PrivacyURL)
	assert.NotContains(t, string(files["manifest.json"]), "example.com\"")
	// The schema's limits (MicrosoftTeams.schema.json v1.29).
	assert.LessOrEqual(t, len(m.Name.Short), 30)
	assert.LessOrEqual(t, len(m.Name.Full), 100)
	assert.LessOrEqual(t, len(m.Description.Short), 80)
	assert.LessOrEqual(t, len(m.Developer.Name), 32)
	assert.Regexp(t, `^#[0-9A-Fa-f]{6}$`, m.AccentColor)
	cmds := m.Bots[0].CommandLists[0].Commands
	assert.LessOrEqual(t, len(cmds), 12)
	for _, c := range cmds {
		assert.LessOrEqual(t, len(c.Title), 32)
	}
	for name, size := range map[string]int{"color.png": 192, "outline.png": 32} {
		img, err := png.Decode(bytes.NewReader(files[name]))
		require.NoError(t, err, name)
		assert.Equal(t, image.Rect(0, 0, size, size), img.Bounds(), name)
	}
}

func TestManifestTeams_BadArgumentsSayWhatToGive(t *testing.T) {
	err := manifest([]string{"teams", "--app-id", "bot", "--url", "http://bot.example.com", "-o", filepath.Join(t.TempDir(), "x.zip")}, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a GUID like")
	assert.Contains(t, err.Error(), "Teams only calls https")
}
