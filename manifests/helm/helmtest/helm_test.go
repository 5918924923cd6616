// Package helmtest lints and renders the Helm chart in manifests/helm/accessbot with the
// real Helm, built from the Go module proxy at the version this module's go.mod names
// (a tool of its own module, so the bot's go.mod does not carry Helm and Kubernetes), and
// checks the objects it renders: the probes, a non-root pod with a read-only root
// filesystem, every secret the bot reads wired from the operator's Secret, the metrics
// port kept off the public Service. It also keeps manifests/kubernetes/accessbot.yaml the
// chart's own rendering, so the plain manifests cannot drift from it.
package helmtest

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

const (
	chart = "../accessbot"
	repo  = "../../.."
	plain = "../../kubernetes/accessbot.yaml"
	// plainValues are the values the plain manifests are rendered with.
	plainValues = "../../kubernetes/values.yaml"
)

var update = flag.Bool("update", false, "rewrite manifests/kubernetes/accessbot.yaml from the chart")

// helm runs the Helm this module pins (go tool helm: built once, then cached by Go).
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"tool", "helm"}, args...)...)
	// Helm keeps nothing between runs here: its home directories live in the test's temp dir.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home+"/cache", "HELM_CONFIG_HOME="+home+"/config",
		"HELM_DATA_HOME="+home+"/data")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	if err != nil {
		err = errors.New(err.Error() + ": " + stderr.String() + out.String())
	}
	return out.String(), err
}

// render runs helm template with the given extra arguments and returns the objects by
// kind and name ("Deployment/accessbot").
func render(t *testing.T, args ...string) map[string]map[string]any {
	t.Helper()
	out, err := helm(t, append([]string{"template", "accessbot", chart, "--namespace", "access"}, args...)...)
	require.NoError(t, err)
	return objects(t, out)
}

func objects(t *testing.T, manifest string) map[string]map[string]any {
	t.Helper()
	objs := map[string]map[string]any{}
	dec := yaml.NewDecoder(strings.NewReader(manifest))
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if d == nil {
			continue
		}
		name := dig(t, d, "metadata", "name").(string)
		objs[d["kind"].(string)+"/"+name] = d
	}
	return objs
}

// dig walks nested maps and lists: dig(d, "spec", "template", "spec", "containers", 0).
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			require.True(t, ok, "no map at %v in %v", p, path)
			v = m[k]
		case int:
			l, ok := v.([]any)
			require.True(t, ok && len(l) > k, "no list item %d in %v", k, path)
			v = l[k]
		}
	}
	return v
}

func TestChart_LintsStrictly(t *testing.T) {
	for name, args := range map[string][]string{
		"defaults":       nil,
		"every optional": {"--set", "ingress.enabled=true", "--set", "metrics.serviceMonitor.enabled=true"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := helm(t, append([]string{"lint", "--strict", chart}, args...)...)
			require.NoError(t, err)
			assert.Contains(t, out, "0 chart(s) failed")
		})
	}
}

func TestChart_DeploymentIsSafeToRun(t *testing.T) {
	objs := render(t)
	dep := objs["Deployment/accessbot"]
	require.NotNil(t, dep, "rendered: %v", keys(objs))
	assert.GreaterOrEqual(t, dig(t, dep, "spec", "replicas"), 2, "replicas are safe: the outbox and due claims hand each task to one")
	pod := dig(t, dep, "spec", "template", "spec")
	c := dig(t, pod, "containers", 0)
	assert.Equal(t, "/healthz", dig(t, c, "livenessProbe", "httpGet", "path"))
	assert.Equal(t, "http", dig(t, c, "livenessProbe", "httpGet", "port"))
	assert.Equal(t, "/readyz", dig(t, c, "readinessProbe", "httpGet", "path"))
	assert.Equal(t, true, dig(t, pod, "securityContext", "runAsNonRoot"))
	assert.NotEqual(t, 0, dig(t, pod, "securityContext", "runAsUser"))
	assert.Equal(t, true, dig(t, c, "securityContext", "readOnlyRootFilesystem"))
	assert.Equal(t, false, dig(t, c, "securityContext", "allowPrivilegeEscalation"))
	assert.Equal(t, []any{"ALL"}, dig(t, c, "securityContext", "capabilities", "drop"))
	assert.Equal(t, false, dig(t, pod, "automountServiceAccountToken"))
	assert.NotNil(t, dig(t, c, "resources", "requests", "memory"))
	assert.NotNil(t, dig(t, c, "resources", "limits", "memory"))
	assert.Equal(t, 5, dig(t, c, "lifecycle", "preStop", "sleep", "seconds"))
	assert.Greater(t, dig(t, pod, "terminationGracePeriodSeconds"), 5+25, "longer than preStop plus the bot's shutdownGrace")
	assert.Equal(t, []any{"serve", "-config", "/etc/accessbot/accessbot.yaml"}, dig(t, c, "args"))
	assert.Equal(t, "/etc/accessbot", dig(t, c, "volumeMounts", 0, "mountPath"))
	assert.Equal(t, "accessbot", dig(t, pod, "volumes", 0, "configMap", "name"))

	env := map[string]any{}
	for _, e := range dig(t, c, "env").([]any) {
		env[e.(map[string]any)["name"].(string)] = e
	}
	assert.Equal(t, ":8080", dig(t, env["ACCESSBOT_LISTEN"], "value"))
	assert.Equal(t, ":9090", dig(t, env["ACCESSBOT_METRICS_LISTEN"], "value"))
	ports := dig(t, c, "ports").([]any)
	assert.Equal(t, "metrics", dig(t, ports, 1, "name"))
	assert.Equal(t, 9090, dig(t, ports, 1, "containerPort"))
	assert.Equal(t, "9090", dig(t, dep, "spec", "template", "metadata", "annotations", "prometheus.io/port"))
	assert.NotEmpty(t, dig(t, dep, "spec", "template", "metadata", "annotations", "checksum/config"), "a config change rolls the pods")

	svc := objs["Service/accessbot"]
	for _, p := range dig(t, svc, "spec", "ports").([]any) {
		assert.Equal(t, "http", p.(map[string]any)["targetPort"], "the public Service exposes no metrics")
	}
	assert.Equal(t, 1, dig(t, objs["PodDisruptionBudget/accessbot"], "spec", "minAvailable"))
	assert.Equal(t, dig(t, dep, "spec", "selector", "matchLabels"), dig(t, objs["PodDisruptionBudget/accessbot"], "spec", "selector", "matchLabels"))
	assert.Contains(t, dig(t, objs["ConfigMap/accessbot"], "data", "accessbot.yaml"), "catalog:")
	for _, k := range []string{"Ingress/accessbot", "ServiceMonitor/accessbot", "Service/accessbot-metrics"} {
		assert.NotContains(t, objs, k, "off unless asked for")
	}
}

// secretsTheBotReads are the environment variables accessbot reads as secrets, found in its
// source: env.Secret("NAME"), secret("NAME") and the Graph settings' ReadEnv(env, "PREFIX"),
// and REDIS_URL, which carries Redis's password.
func secretsTheBotReads(t *testing.T) []string {
	t.Helper()
	direct := regexp.MustCompile(`(?:\.Secret|\bsecret)\("([A-Z][A-Z0-9_]+)"\)`)
	prefixed := regexp.MustCompile(`ReadEnv\(env, "([A-Z]+)"\)`)
	names := map[string]bool{"REDIS_URL": true}
	err := filepath.WalkDir(repo, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "helm" || strings.HasPrefix(d.Name(), ".")) && path != repo {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range direct.FindAllSubmatch(src, -1) {
			names[string(m[1])] = true
		}
		for _, m := range prefixed.FindAllSubmatch(src, -1) {
			names[string(m[1])+"_CLIENT_ID"], names[string(m[1])+"_CLIENT_SECRET"] = true, true
		}
		return nil
	})
	require.NoError(t, err)
	return keys(names)
}

func TestChart_WiresEverySecretTheBotReadsFromTheExistingSecret(t *testing.T) {
	reads := secretsTheBotReads(t)
	require.Contains(t, reads, "SLACK_BOT_TOKEN", "the source scan finds the bot's secrets")
	require.Contains(t, reads, "ENTRA_CLIENT_SECRET", "the source scan expands the Graph settings' prefixes")

	objs := render(t, "--set", "existingSecret=bot-tokens")
	c := dig(t, objs["Deployment/accessbot"], "spec", "template", "spec", "containers", 0)
	wired := map[string]bool{}
	for _, e := range dig(t, c, "env").([]any) {
		from, _ := e.(map[string]any)["valueFrom"].(map[string]any)
		ref, ok := from["secretKeyRef"].(map[string]any)
		if !ok {
			continue
		}
		name := e.(map[string]any)["name"].(string)
		wired[name] = true
		assert.Equal(t, "bot-tokens", ref["name"], name)
		assert.Equal(t, name, ref["key"], "%s comes from the key of the same name", name)
		assert.Equal(t, true, ref["optional"], "%s: the Secret holds only what the operator uses", name)
	}
	for _, name := range reads {
		assert.True(t, wired[name], "the bot reads %s, which the chart does not wire from the Secret", name)
	}
	envDoc, err := os.ReadFile(filepath.Join(repo, "docs", "configuration.md"))
	require.NoError(t, err)
	for name := range wired {
		assert.Contains(t, string(envDoc), "`"+name+"`", "the chart wires %s, which docs/configuration.md does not describe", name)
	}
}

func TestChart_RefusesToRenderWithoutASecret(t *testing.T) {
	_, err := helm(t, "template", "accessbot", chart, "--set", "existingSecret=")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "existingSecret must name the Secret holding accessbot's tokens")
}

func TestChart_OptionalIngressAndServiceMonitor(t *testing.T) {
	objs := render(t, "--set", "ingress.enabled=true", "--set", "ingress.host=bot.corp.example",
		"--set", "ingress.className=nginx", "--set", "metrics.serviceMonitor.enabled=true",
		"--set", "metrics.serviceMonitor.labels.release=prom")
	ing := objs["Ingress/accessbot"]
	require.NotNil(t, ing, "rendered: %v", keys(objs))
	assert.Equal(t, "nginx", dig(t, ing, "spec", "ingressClassName"))
	rule := dig(t, ing, "spec", "rules", 0)
	assert.Equal(t, "bot.corp.example", dig(t, rule, "host"))
	var paths []string
	for _, p := range dig(t, rule, "http", "paths").([]any) {
		paths = append(paths, dig(t, p, "path").(string))
		assert.Equal(t, "accessbot", dig(t, p, "backend", "service", "name"))
		assert.Equal(t, "http", dig(t, p, "backend", "service", "port", "name"))
	}
	assert.Equal(t, []string{"/slack", "/teams", "/connect", "/oauth"}, paths, "only what Slack, Teams and the connect pages need is routed from outside")

	sm := objs["ServiceMonitor/accessbot"]
	require.NotNil(t, sm)
	assert.Equal(t, "prom", dig(t, sm, "metadata", "labels", "release"))
	assert.Equal(t, "metrics", dig(t, sm, "spec", "endpoints", 0, "port"))
	assert.Equal(t, "/metrics", dig(t, sm, "spec", "endpoints", 0, "path"))
	ms := objs["Service/accessbot-metrics"]
	require.NotNil(t, ms)
	assert.Equal(t, "metrics", dig(t, ms, "spec", "ports", 0, "name"))
	for k, v := range dig(t, sm, "spec", "selector", "matchLabels").(map[string]any) {
		assert.Equal(t, v, dig(t, ms, "metadata", "labels", k), "the ServiceMonitor selects the metrics Service (%s)", k)
	}
	for k := range dig(t, sm, "spec", "selector", "matchLabels").(map[string]any) {
		if k == "app.kubernetes.io/component" {
			assert.Nil(t, dig(t, objs["Service/accessbot"], "metadata", "labels", k), "and not the public one")
		}
	}
}

func TestChart_MetricsOff(t *testing.T) {
	objs := render(t, "--set", "metrics.enabled=false")
	c := dig(t, objs["Deployment/accessbot"], "spec", "template", "spec", "containers", 0)
	assert.Len(t, dig(t, c, "ports"), 1)
	for _, e := range dig(t, c, "env").([]any) {
		if e.(map[string]any)["name"] == "ACCESSBOT_METRICS_LISTEN" {
			assert.Equal(t, "off", e.(map[string]any)["value"])
		}
	}
	assert.Nil(t, dig(t, objs["Deployment/accessbot"], "spec", "template", "metadata", "annotations", "prometheus.io/scrape"))
}

// TestPlainManifests_AreTheChartRendered keeps manifests/kubernetes/accessbot.yaml what the
// chart renders with manifests/kubernetes/values.yaml; `go test -run PlainManifests -update`
// rewrites it after a change to the chart.
func TestPlainManifests_AreTheChartRendered(t *testing.T) {
	out, err := helm(t, "template", "accessbot", chart, "--values", plainValues)
	require.NoError(t, err)
	want := plainHeader + out
	if *update {
		require.NoError(t, os.WriteFile(plain, []byte(want), 0o644))
	}
	got, err := os.ReadFile(plain)
	require.NoError(t, err)
	assert.Equal(t, want, string(got), "manifests/kubernetes/accessbot.yaml is not the chart's rendering; run "+
		"`go test -run PlainManifests -update` in manifests/helm/helmtest")
}

const plainHeader = `# accessbot on Kubernetes without Helm: the chart manifests/helm/accessbot rendered with
# manifests/kubernetes/values.yaml (helm template accessbot manifests/helm/accessbot
# --values manifests/kubernetes/values.yaml). Do not edit: change the chart or the values,
# then run ` + "`go test -run PlainManifests -update`" + ` in manifests/helm/helmtest.
# Create the Secret first (see docs/operations.md):
#   kubectl create secret generic accessbot \
#     --from-literal=SLACK_BOT_TOKEN=xoxb-… --from-literal=SLACK_SIGNING_SECRET=… \
#     --from-literal=REDIS_URL=redis://accessbot-redis:6379/0
`

func keys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return slices.Clip(ks)
}
