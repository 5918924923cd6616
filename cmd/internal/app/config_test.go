package app

import (
	"crypto/tls"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/cmd/internal/clitest"
	"github.com/accessbot/accessbot/governance"
	redisstore "github.com/accessbot/accessbot/governance/redis"
)

func TestLoadConfig_NoConfigRunsOnEmbeddedDefaults(t *testing.T) {
	c, err := LoadConfig("", clitest.Env(nil))
	require.NoError(t, err)
	assert.True(t, c.Slack.DevMode())
	assert.True(t, c.sample)
	assert.Equal(t, slackbot.DevSigningSecret, c.Slack.SigningSecret)
	assert.Equal(t, "127.0.0.1:8080", c.Listen)
	assert.Contains(t, c.Redis.Describe(), "embedded")
	assert.Len(t, c.catalog.Items(), 4)
	assert.Equal(t, 9*time.Hour, c.hours.Start, "working hours default to 09:00-18:00")
}

// The development signing secret is public, and a development bot takes any Slack user id
// as a person: it is used only by a bot with no effect beyond this machine. Anywhere else
// a missing SLACK_SIGNING_SECRET stops accessbot with what to set, except that a
// Teams-only bot leaves Slack off, and a Socket Mode bot /slack/*.
func TestLoadConfig_TheDevelopmentSecretOnlyForAWhollyLocalBot(t *testing.T) {
	const webhook = "builtin:\n  webhookURL: https://fulfil.internal.example.com/accessbot\n"
	const sailpointItem = "catalog:\n  - id: payroll\n    name: Payroll\n    backend: sailpoint\n    ref: ROLE:2c9180835d2e5168015d32f890ca1581\n" +
		"    approvers: [alice@example.com]\n    defaultDuration: 8h\n"
	teamsVars := map[string]string{"TEAMS_APP_ID": "6e9d5a3c-5c49-4b8e-9d2b-1f0e8b1f2a3c", "TEAMS_APP_PASSWORD": "pw",
		"TEAMS_TENANT_IDS": "0b3c4d5e-1111-2222-3333-444455556666"}
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		want    string   // the secret Slack requests are checked with
		refused []string // or why accessbot refuses to start
	}{
		{"loopback, embedded store, no Slack, no Teams, built-in backend", "", nil, slackbot.DevSigningSecret, nil},
		{"listening beyond this machine", "", map[string]string{"ACCESSBOT_LISTEN": "0.0.0.0:8080"}, "",
			[]string{"SLACK_SIGNING_SECRET is not set", "listens on 0.0.0.0:8080"}},
		{"the review's case: any address, a fulfilment webhook", webhook,
			map[string]string{"ACCESSBOT_LISTEN": "0.0.0.0:8080", "BUILTIN_WEBHOOK_SECRET": "s"}, "",
			[]string{"listens on 0.0.0.0:8080", "calls a fulfilment webhook", "set SLACK_SIGNING_SECRET"}},
		{"a fulfilment webhook on loopback", webhook, map[string]string{"BUILTIN_WEBHOOK_SECRET": "s"}, "", []string{"calls a fulfilment webhook"}},
		{"a real Redis", "", map[string]string{"REDIS_URL": "redis://redis.internal:6379/0"}, "", []string{"uses a real Redis"}},
		{"a governance backend", sailpointItem, map[string]string{"SAILPOINT_BASE_URL": "https://acme.api.identitynow.com",
			"SAILPOINT_CLIENT_ID": "id", "SAILPOINT_CLIENT_SECRET": "secret"}, "", []string{"grants through sailpoint"}},
		{"Teams only: Slack stays off", "", teamsVars, "", nil},
		{"Socket Mode: /slack/* stays off", "", map[string]string{"ACCESSBOT_LISTEN": "0.0.0.0:8080", "REDIS_URL": "redis://redis.internal:6379/0",
			"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1-A1-1-abc"}, "", nil},
		{"a bot token alone still needs the secret", "", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, "",
			[]string{"SLACK_SIGNING_SECRET is not set", "or set SLACK_APP_TOKEN"}},
		{"a secret of one's own", webhook, map[string]string{"ACCESSBOT_LISTEN": "0.0.0.0:8080", "BUILTIN_WEBHOOK_SECRET": "s",
			"SLACK_SIGNING_SECRET": "mine"}, "mine", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(t, tt.file, tt.env)
			if tt.refused != nil {
				require.Error(t, err)
				for _, want := range tt.refused {
					assert.ErrorContains(t, err, want)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.Slack.SigningSecret)
			if tt.want == "" {
				assert.Regexp(t, `/slack/\* (refuses every request|off)`, c.Slack.Describe())
			}
		})
	}
}

// redis.addrs is a Redis Cluster, also when it is one configuration endpoint (managed
// clusters give one), or Sentinel with a master name; with a user, password and TLS.
func TestLoadConfig_RedisAddrsAreAClusterOrSentinel(t *testing.T) {
	load := func(t *testing.T, yaml string, vars map[string]string) *Config {
		c, err := LoadConfig(clitest.WriteConfig(t, yaml), clitest.Env(vars))
		require.NoError(t, err)
		return c
	}
	c := load(t, "redis:\n  addrs: [clustercfg.example.cache.amazonaws.com:6379]\n  username: bot\n  tls: true\n",
		map[string]string{"SLACK_SIGNING_SECRET": "test-secret", "REDIS_PASSWORD": "pw"})
	client := goredis.NewUniversalClient(c.Redis.UniversalOptions())
	defer client.Close()
	cluster, ok := client.(*goredis.ClusterClient)
	require.True(t, ok, "one configuration endpoint is a cluster, not a plain server: %T", client)
	o := cluster.Options()
	assert.Equal(t, "bot", o.Username)
	assert.Equal(t, "pw", o.Password)
	require.NotNil(t, o.TLSConfig)
	assert.Equal(t, uint16(tls.VersionTLS12), o.TLSConfig.MinVersion)
	assert.Contains(t, c.Redis.Describe(), "cluster (TLS)")
	assert.NotContains(t, c.Redis.Describe(), "pw")

	c = load(t, "redis:\n  addrs: [sentinel-0:26379, sentinel-1:26379]\n  masterName: mymaster\n",
		map[string]string{"SLACK_SIGNING_SECRET": "test-secret", "REDIS_PASSWORD": "pw", "REDIS_SENTINEL_PASSWORD": "spw"})
	o2 := c.Redis.UniversalOptions()
	assert.False(t, o2.IsClusterMode)
	assert.Equal(t, "spw", o2.SentinelPassword)
	sentinel := goredis.NewUniversalClient(o2)
	defer sentinel.Close()
	_, isCluster := sentinel.(*goredis.ClusterClient)
	assert.False(t, isCluster, "Sentinel")

	for _, bad := range []struct {
		yaml string
		vars map[string]string
		says string
	}{
		{"redis:\n  tls: true\n", map[string]string{"SLACK_SIGNING_SECRET": "test-secret", "REDIS_URL": "redis://h:6379/0"}, "put them in the URL"},
		{"", map[string]string{"SLACK_SIGNING_SECRET": "test-secret", "REDIS_URL": "redis://h:6379/0", "REDIS_PASSWORD": "pw"}, "put them in the URL"},
		{"redis:\n  masterName: mymaster\n", nil, "masterName needs addrs"},
	} {
		_, err := LoadConfig(clitest.WriteConfig(t, bad.yaml), clitest.Env(bad.vars))
		assert.ErrorContains(t, err, bad.says, bad.yaml)
	}
}

func TestLoadConfig_ListenAddress_EnvironmentThenFileThenPORT(t *testing.T) {
	file := clitest.WriteConfig(t, "listen: \":9090\"\n")
	for _, tt := range []struct {
		path string
		vars map[string]string
		want string
	}{
		{"", nil, "127.0.0.1:8080"},
		{"", map[string]string{"SLACK_SIGNING_SECRET": "test-secret", "PORT": "5000"}, ":5000"},
		{file, map[string]string{"SLACK_SIGNING_SECRET": "test-secret", "PORT": "8080"}, ":9090"}, // the image's PORT does not hide the file
		{file, map[string]string{"SLACK_SIGNING_SECRET": "test-secret", "PORT": "8080", "ACCESSBOT_LISTEN": "127.0.0.1:7000"}, "127.0.0.1:7000"},
	} {
		c, err := LoadConfig(tt.path, clitest.Env(tt.vars))
		require.NoError(t, err)
		assert.Equal(t, tt.want, c.Listen, "%s %v", tt.path, tt.vars)
	}
}

func TestLoadConfig_ConnectedAccountsSettings(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "token-key")
	require.NoError(t, os.WriteFile(keyFile, []byte("k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"), 0o600))
	path := clitest.WriteConfig(t, "publicURL: https://accessbot.example.com\n")
	c, err := LoadConfig(path, clitest.Env(map[string]string{"ACCESSBOT_TOKEN_KEY_FILE": keyFile}))
	require.NoError(t, err)
	assert.Equal(t, "https://accessbot.example.com", c.Accounts.PublicURL)
	k, err := c.Accounts.Keyring()
	require.NoError(t, err)
	assert.Equal(t, "k1", k.SealingKey())
	assert.Empty(t, c.connecting(), "no backend of this build connects accounts unless it implements governance.Connector")

	c, err = LoadConfig(path, clitest.Env(map[string]string{"ACCESSBOT_PUBLIC_URL": "http://127.0.0.1:8080"}))
	require.NoError(t, err, "the environment wins, and plain http is fine on loopback")
	assert.Equal(t, "http://127.0.0.1:8080", c.Accounts.PublicURL)
}

func TestLoadConfig_SecretsFromEnvironmentAndFiles(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "signing")
	require.NoError(t, os.WriteFile(secretFile, []byte("from-file\n"), 0o600))
	c, err := LoadConfig("", clitest.Env(map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET_FILE": secretFile,
		"REDIS_URL": "redis://:hunter2@redis.internal:6379/2", "PORT": "9000",
	}))
	require.NoError(t, err)
	assert.False(t, c.Slack.DevMode())
	assert.Equal(t, "from-file", c.Slack.SigningSecret)
	assert.Equal(t, ":9000", c.Listen)
	assert.NotContains(t, c.Redis.Describe(), "hunter2", "the Redis password is never shown")

	urlFile := filepath.Join(t.TempDir(), "redis-url")
	require.NoError(t, os.WriteFile(urlFile, []byte("redis://:hunter2@redis.internal:6379/3\n"), 0o600))
	c, err = LoadConfig("", clitest.Env(map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "REDIS_URL_FILE": urlFile}))
	require.NoError(t, err)
	assert.Equal(t, "redis://:hunter2@redis.internal:6379/3", c.Redis.URL, "REDIS_URL holds the password, so it may come from a file")
}

func TestLoadConfig_ReadsFileWithCatalogAndSchedule(t *testing.T) {
	p := clitest.WriteConfig(t, `
listen: ":8081"
approval:
  daysUntilEscalation: 3
  daysBetweenReminders: 1
  maxReminders: 3
  fallbackApprover: "Sec <sec@example.com>"
  requestExpiryDays: 14
  expiryNotices: [24h, 30m]
catalog:
  - id: db
    name: Database
    backend: builtin
    approvers: [alice@example.com]
    defaultDuration: 8h
`)
	c, err := LoadConfig(p, clitest.Env(map[string]string{"SLACK_SIGNING_SECRET": "test-secret"}))
	require.NoError(t, err)
	assert.False(t, c.sample)
	assert.Equal(t, 3, c.schedule.MaxReminders)
	assert.Equal(t, "sec@example.com", c.schedule.FallbackApprover)
	require.Len(t, c.schedule.ExpiryNotices, 2)
	_, err = c.catalog.Lookup("db")
	assert.NoError(t, err)
}

// stagedConfig is a configuration with the db-owners group (two people), Carol's manager,
// and an item db of two stages, manager and owners, whose approvers are as given.
func stagedConfig(stage1, stage2 string) string {
	return "groups:\n  db-owners: [dave@example.com, erin@example.com]\nmanagers:\n  carol@example.com: alice@example.com\n" +
		"catalog:\n  - id: db\n    name: DB\n    backend: builtin\n    approval:\n      stages:\n" +
		"        - name: manager\n          " + stage1 + "\n        - name: owners\n          " + stage2 + "\n"
}

func TestLoadConfig_ApprovalStagesGroupsAndManagers(t *testing.T) {
	dir := t.TempDir()
	managers := filepath.Join(dir, "managers.yaml")
	require.NoError(t, os.WriteFile(managers, []byte("erin@example.com: Dave <dave@example.com>\n"), 0o600))
	c, err := LoadConfig(clitest.WriteConfig(t, stagedConfig("approvers: [manager]", "approvers: [bob@example.com, group:db-owners]\n          required: 2")+
		"managersFile: "+managers+"\n"), clitest.Env(nil))
	require.NoError(t, err)
	it := c.catalog.Items()[0]
	require.Len(t, it.Stages, 2)
	assert.Equal(t, "owners", it.Stages[1].Name)
	assert.Equal(t, 2, it.Stages[1].Required)
	assert.Equal(t, governance.Groups{"db-owners": {{Email: "dave@example.com"}, {Email: "erin@example.com"}}}, c.groups)
	assert.Equal(t, map[string]governance.Person{"carol@example.com": {Email: "alice@example.com"},
		"erin@example.com": {Email: "dave@example.com", Name: "Dave"}}, c.managers, "inline managers and managersFile together")
}

const sailpointItem = "catalog:\n  - id: x\n    name: X\n    backend: sailpoint\n    ref: ROLE:2c918086749d78830174a1a40e121518\n    approvers: [a@example.com]\n"

func TestLoadConfig_BadInputSaysExactlyWhatIsWrong(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		want []string
	}{
		{"unknown key", "listne: :80\n", nil, []string{"listne"}},
		{"bad listen", "listen: 8080\n", nil, []string{"host:port"}},
		{"token without signing secret", "", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, []string{"SLACK_SIGNING_SECRET is not set"}},
		{"user token instead of bot token", "", map[string]string{"SLACK_BOT_TOKEN": "xoxp-1", "SLACK_SIGNING_SECRET": "s"}, []string{"xoxb-"}},
		{"dev secret in production", "", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": slackbot.DevSigningSecret}, []string{"development secret"}},
		{"bad redis url", "", map[string]string{"REDIS_URL": "localhost:6379"}, []string{"redis://host:6379/0"}},
		{"too many reminders", "approval:\n  maxReminders: 21\n", nil, []string{"between 0 and 20"}},
		{"timeout before escalation", "approval:\n  daysUntilEscalation: 5\n  requestExpiryDays: 2\n", nil, []string{"time out before"}},
		{"bad fallback approver", "approval:\n  fallbackApprover: security\n", nil, []string{"fallbackApprover"}},
		{"bad duration", "outbox:\n  poll: soon\n", nil, []string{"not a duration"}},
		{"every bad approval value at once", "approval:\n  daysUntilEscalation: -1\n  daysBetweenReminders: -1\n  maxReminders: 21\n  requestExpiryDays: -1\n", nil,
			[]string{"daysUntilEscalation must be 0 or more", "daysBetweenReminders must be 0 or more", "between 0 and 20", "requestExpiryDays must be 0 or more"}},
		{"outbox and shutdown timings that would break it", "outbox:\n  poll: -1s\n  reclaimAfter: -5m\n  maxAttempts: -1\nshutdownGrace: -1s\n", nil,
			[]string{"outbox poll is -1s; use a duration from 1ms to 1m,", "outbox reclaimAfter is -5m0s", "outbox maxAttempts is -1", "shutdownGrace is -1s"}},
		{"a shutdown grace too short to deliver anything", "shutdownGrace: 10ms\n", nil, []string{"shutdownGrace is 10ms; use a duration from 1s"}},
		{"retention shorter than a day, or longer than ten years", "retention:\n  finished: 1h\n  audit: 4000d\n", nil,
			[]string{"retention finished is 1h; use a duration from 1d to 3650d, such as 90d", "retention audit is 4000d; use a duration from 1d to 3650d"}},
		{"negative sync", "sync:\n  first: -1m\n", nil, []string{"sync first and max must be positive"}},
		{"sync first after max", "sync:\n  first: 1h\n  max: 30m\n", nil, []string{"sync first (1h0m0s) is after sync max (30m0s)"}},
		{"webhook timeout too long", "builtin:\n  timeout: 2m\n", nil, []string{"builtin timeout 2m0s: use a duration between 1ms and 1m"}},
		{"webhook without secret", "builtin:\n  webhookURL: https://f.example.com\n", nil, []string{"BUILTIN_WEBHOOK_SECRET"}},
		{"an unknown sailpoint approvals mode", "sailpoint:\n  approvals: chat\n" + sailpointItem,
			map[string]string{"SAILPOINT_BASE_URL": "https://acme.api.identitynow.com", "SAILPOINT_CLIENT_ID": "id", "SAILPOINT_CLIENT_SECRET": "s"},
			[]string{`sailpoint.approvals "chat" should be accessbot or backend`}},
		{"sailpoint approvals: backend with nobody to decide as", "sailpoint:\n  approvals: backend\n" + sailpointItem,
			map[string]string{"SAILPOINT_BASE_URL": "https://acme.api.identitynow.com", "SAILPOINT_CLIENT_ID": "id", "SAILPOINT_CLIENT_SECRET": "s"},
			[]string{"set sailpoint.connect.clientId (or SAILPOINT_CONNECT_CLIENT_ID)", "or set sailpoint.approveAs: service"}},
		{"sailpoint approveAs without approvals: backend", "sailpoint:\n  approveAs: service\n" + sailpointItem,
			map[string]string{"SAILPOINT_BASE_URL": "https://acme.api.identitynow.com", "SAILPOINT_CLIENT_ID": "id", "SAILPOINT_CLIENT_SECRET": "s"},
			[]string{"sailpoint.approveAs applies only to sailpoint.approvals: backend"}},
		{"a bad sailpoint approveAs", "sailpoint:\n  approvals: backend\n  approveAs: admin\n" + sailpointItem,
			map[string]string{"SAILPOINT_BASE_URL": "https://acme.api.identitynow.com", "SAILPOINT_CLIENT_ID": "id", "SAILPOINT_CLIENT_SECRET": "s"},
			[]string{`approveAs "admin" should be connected or service`}},
		{"unavailable backend", "catalog:\n  - id: x\n    name: X\n    backend: okta\n    approvers: [a@example.com]\n", nil, []string{"not available in this build; use builtin, sailpoint, entra or permissions"}},
		{"teams app id not a GUID", "", map[string]string{"TEAMS_APP_ID": "accessbot", "TEAMS_APP_PASSWORD": "p"}, []string{"is not a Microsoft app id (a GUID"}},
		{"teams without password", "", map[string]string{"TEAMS_APP_ID": "7e1d4b1a-5c0e-4b8e-9d3c-1f2a3b4c5d6e"}, []string{"TEAMS_APP_PASSWORD is not set"}},
		{"teams admin channel half set", "teams:\n  adminChannel:\n    conversationID: 19:abc@thread.tacv2\n",
			map[string]string{"TEAMS_APP_ID": "7e1d4b1a-5c0e-4b8e-9d3c-1f2a3b4c5d6e", "TEAMS_APP_PASSWORD": "p"}, []string{"set both serviceURL and conversationID"}},
		{"teams password without app id", "", map[string]string{"TEAMS_APP_PASSWORD": "p"}, []string{"set TEAMS_APP_ID"}},
		{"teams without tenants", "", map[string]string{"TEAMS_APP_ID": "7e1d4b1a-5c0e-4b8e-9d3c-1f2a3b4c5d6e", "TEAMS_APP_PASSWORD": "p"},
			[]string{"teams: set teams.tenants (or TEAMS_TENANT_IDS) to your organisation's Entra tenant id (Azure portal → Microsoft Entra ID → Overview → Tenant ID)"}},
		{"teams tenant by name", "teams:\n  tenants: [contoso.onmicrosoft.com]\n", map[string]string{"TEAMS_APP_ID": "7e1d4b1a-5c0e-4b8e-9d3c-1f2a3b4c5d6e", "TEAMS_APP_PASSWORD": "p"},
			[]string{`teams tenant "contoso.onmicrosoft.com" is not an Entra tenant id (a GUID`}},
		{"entra without credentials", "catalog:\n  - id: x\n    name: X\n    backend: entra\n    ref: 0b3c4d5e-1111-2222-3333-444455556666/0b3c4d5e-1111-2222-3333-444455556667\n    approvers: [a@example.com]\n", nil,
			[]string{"set AZURE_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET"}},
		{"entra ref without policy", "catalog:\n  - id: x\n    name: X\n    backend: entra\n    ref: 0b3c4d5e-1111-2222-3333-444455556666\n    approvers: [a@example.com]\n",
			map[string]string{"AZURE_TENANT_ID": "t", "ENTRA_CLIENT_ID": "c", "ENTRA_CLIENT_SECRET": "s"}, []string{"should be <accessPackageId>/<assignmentPolicyId>"}},
		{"entra approvals: backend without the connect app", "catalog:\n  - id: x\n    name: X\n    backend: entra\n    ref: 0b3c4d5e-1111-2222-3333-444455556666/0b3c4d5e-1111-2222-3333-444455556667\n    approvals: backend\n",
			map[string]string{"AZURE_TENANT_ID": "t", "ENTRA_CLIENT_ID": "c", "ENTRA_CLIENT_SECRET": "s"}, []string{"set entra.connect.clientId (or ENTRA_CONNECT_CLIENT_ID) and ENTRA_CONNECT_CLIENT_SECRET"}},
		{"permissions without credentials", "catalog:\n  - id: x\n    name: X\n    backend: permissions\n    ref: gcp:acme-prod:role:roles/viewer\n    defaultDuration: 1h\n    approvers: [a@example.com]\n", nil,
			[]string{"the catalog uses the permissions backend", "client id is needed", "refresh token", "PERMISSIONS_REFRESH_TOKEN"}},
		{"permissions bad ref and no duration", "catalog:\n  - id: x\n    name: X\n    backend: permissions\n    ref: gcp:acme-prod\n    approvers: [a@example.com]\n",
			map[string]string{"AZURE_TENANT_ID": "t", "PERMISSIONS_CLIENT_ID": "c", "PERMISSIONS_REFRESH_TOKEN": "r"},
			[]string{"catalog item x: ", "set defaultDuration"}},
		{"permissions graph URL without scheme", "permissions:\n  graphURL: graph.microsoft.com/beta\ncatalog:\n  - id: x\n    name: X\n    backend: permissions\n    ref: gcp:acme-prod:role:roles/viewer\n    defaultDuration: 1h\n    approvers: [a@example.com]\n",
			map[string]string{"AZURE_TENANT_ID": "t", "PERMISSIONS_CLIENT_ID": "c", "PERMISSIONS_REFRESH_TOKEN": "r"}, []string{`base URL "graph.microsoft.com/beta" is not a URL like https://graph.microsoft.com/v1.0 (or /beta)`}},
		{"sailpoint without credentials", "catalog:\n  - id: x\n    name: X\n    backend: sailpoint\n    ref: ROLE:2c91\n    approvers: [a@example.com]\n", nil,
			[]string{"set sailpoint.baseURL (or SAILPOINT_BASE_URL) and SAILPOINT_CLIENT_ID and SAILPOINT_CLIENT_SECRET"}},
		{"sailpoint ref without type", "catalog:\n  - id: x\n    name: X\n    backend: sailpoint\n    ref: 2c91\n    approvers: [a@example.com]\n",
			map[string]string{"SAILPOINT_BASE_URL": "https://acme.api.identitynow.com", "SAILPOINT_CLIENT_ID": "i", "SAILPOINT_CLIENT_SECRET": "s"},
			[]string{"catalog item x: sailpoint ref \"2c91\" should be ACCESS_PROFILE:<id>, ROLE:<id> or ENTITLEMENT:<id>"}},
		{"sailpoint base URL without scheme", "sailpoint:\n  baseURL: acme.api.identitynow.com\ncatalog:\n  - id: x\n    name: X\n    backend: sailpoint\n    ref: ROLE:2c91\n    approvers: [a@example.com]\n",
			map[string]string{"SAILPOINT_CLIENT_ID": "i", "SAILPOINT_CLIENT_SECRET": "s"}, []string{"https://<tenant>.api.identitynow.com"}},
		{"sailpoint base URL with another path", "sailpoint:\n  baseURL: https://acme.api.identitynow.com/beta\ncatalog:\n  - id: x\n    name: X\n    backend: sailpoint\n    ref: ROLE:2c91\n    approvers: [a@example.com]\n",
			map[string]string{"SAILPOINT_CLIENT_ID": "i", "SAILPOINT_CLIENT_SECRET": "s"},
			[]string{`base URL "https://acme.api.identitynow.com/beta" should be the tenant's API host with no other path`, "https://<tenant>.api.identitynow.com (a trailing /v3 is allowed)"}},
		{"several mistakes at once", "listen: nope\napproval:\n  maxReminders: 99\nlog:\n  level: loud\n", nil,
			[]string{"host:port", "between 0 and 20", "log level"}},
		{"bad working hours", "workingHours:\n  window: 9-5\n", nil, []string{"09:00-18:00"}},
		{"bad working day", "workingHours:\n  days: [funday]\n", nil, []string{"mon, tue"}},
		{"bad zone", "workingHours:\n  zone: Mars/Olympus\n", nil, []string{"Europe/Berlin"}},
		{"bad sweep spec", "scheduler:\n  sweep: sometimes\n", nil, []string{"not a cron spec"}},
		{"bad admin", "admins: [root]\n", nil, []string{"admins"}},
		{"missing catalog file", "catalogFile: /nonexistent/catalog.yaml\n", nil, []string{"catalogFile"}},
		{"an unknown approver kind", stagedConfig("approvers: [manager]", "approvers: [teamlead, group:db-owners]"), nil,
			[]string{`catalog item 1 (db): approval stage 2: approver "teamlead" is not an approver kind; write an e-mail address, manager, owner or group:<name>`}},
		{"the requester as approver", stagedConfig("approvers: [requester]", "approvers: [bob@example.com]"), nil,
			[]string{`approver "requester" cannot approve: nobody may approve their own request`}},
		{"required above the people who could approve", stagedConfig("approvers: [manager]", "approvers: [bob@example.com, group:db-owners]\n          required: 4"), nil,
			[]string{"catalog item db, approval stage 2 (owners): required is 4, but only 3 different people can approve it; lower required or add approvers"}},
		{"an undefined group", stagedConfig("approvers: [group:dba]", "approvers: [bob@example.com]"), nil,
			[]string{"catalog item db, approval stage 1 (manager): group:dba is not defined; add it under groups"}},
		{"manager where nothing knows managers", "catalog:\n  - id: db\n    name: DB\n    backend: builtin\n    approval:\n      stages:\n        - approvers: [manager]\n", nil,
			[]string{"catalog item db, approval stage 1 (stage 1): manager, but nothing can tell accessbot who a requester's manager is; backend builtin does not know managers; list them under managers"}},
		{"owner of an item nobody owns", stagedConfig("approvers: [owner]", "approvers: [bob@example.com]"), nil,
			[]string{"catalog item db, approval stage 1 (manager): owner, but backend builtin does not tell item owners; set owner: on the item"}},
		{"a stage only its one approver, who also decides another, could decide", stagedConfig("approvers: [bob@example.com]", "approvers: [bob@example.com]"), nil,
			[]string{"catalog item db, approval stage 2 (owners): bob@example.com is the only approver of this stage and of another, and nobody decides twice"}},
		{"a manager of themselves", "managers:\n  carol@example.com: carol@example.com\n", nil, []string{"managers: carol@example.com is named their own manager"}},
		{"both approvers and stages", "catalog:\n  - id: db\n    name: DB\n    backend: builtin\n    approvers: [bob@example.com]\n    approval:\n      stages:\n        - approvers: [alice@example.com]\n", nil,
			[]string{"set either approvers or approval stages, not both"}},
		{"an auto-approval group not defined, and PagerDuty without a key", "catalog:\n  - id: db\n    name: DB\n    backend: builtin\n    approvers: [bob@example.com]\n" +
			"    autoApprove:\n      - group: sre\n      - pagerduty:\n          schedules: [PSCHED1]\n        maxDuration: 4h\n      - maxDuration: 1h\n", nil,
			[]string{"catalog item db, autoApprove rule 1: group sre is not defined", "catalog item db, autoApprove rule 2: pagerduty, but PagerDuty is not configured; set PAGERDUTY_API_KEY",
				"catalog item db, autoApprove rule 3: names nothing"}},
		{"a ticket pattern that is not one", "catalog:\n  - id: db\n    name: DB\n    backend: builtin\n    approvers: [bob@example.com]\n    requireTicket: '(INC'\n", nil,
			[]string{`requireTicket "(INC" is not a regular expression`}},
		{"a token key that is not one", "", map[string]string{"ACCESSBOT_TOKEN_KEY": "k1:c2hvcnQ="},
			[]string{`ACCESSBOT_TOKEN_KEY key "k1" is not base64 of 32 bytes; make one with: openssl rand -base64 32`}},
		{"a public URL in the clear", "publicURL: http://accessbot.example.com\n", nil, []string{"use https; sign-in codes and cookies must not cross the network in the clear"}},
		{"a public URL that is not one", "", map[string]string{"ACCESSBOT_PUBLIC_URL": "accessbot.example.com"},
			[]string{`publicURL "accessbot.example.com": write the address people's browsers reach accessbot at`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(t, tt.file, tt.env)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLoadConfig_TeamsServesTheTenantsListedOrTheOrganisationsOwn(t *testing.T) {
	const (
		app   = "7e1d4b1a-5c0e-4b8e-9d3c-1f2a3b4c5d6e"
		ours  = "11111111-2222-3333-4444-555555555555"
		other = "66666666-7777-8888-9999-000000000000"
	)
	tests := []struct {
		name string
		file string
		env  map[string]string
		want []string
	}{
		{"listed in the file", "teams:\n  tenants: [" + ours + ", " + other + "]\n", nil, []string{ours, other}},
		{"the environment wins", "teams:\n  tenants: [" + ours + "]\n", map[string]string{"TEAMS_TENANT_IDS": other + ", " + ours}, []string{other, ours}},
		{"a single-tenant bot's token URL", "teams:\n  tokenURL: https://login.microsoftonline.com/" + ours + "/oauth2/v2.0/token\n", nil, []string{ours}},
		{"accessbot's Entra tenant", "", map[string]string{"AZURE_TENANT_ID": ours}, []string{ours}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"TEAMS_APP_ID": app, "TEAMS_APP_PASSWORD": "p"}
			for k, v := range tt.env {
				vars[k] = v
			}
			c, err := loadConfig(t, tt.file, vars)
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.Teams.Tenants)
		})
	}
}

func TestLoadConfig_MissingFileSaysHowToFixIt(t *testing.T) {
	_, err := LoadConfig("/nonexistent/accessbot.yaml", clitest.Env(nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ACCESSBOT_CONFIG")
}

// Every replica paces SailPoint's calls within one budget per client_id: the composition
// root hands the SailPoint backend the store's shared limiter.
func TestAssemble_SailPointSharesItsRateLimitThroughTheStore(t *testing.T) {
	cfg := clitest.WriteConfig(t, "catalog:\n  - id: x\n    name: X\n    backend: sailpoint\n    ref: ROLE:2c918086749d78830174a1a40e121518\n    approvers: [a@example.com]\n")
	c, err := LoadConfig(cfg, clitest.Env(map[string]string{"SLACK_SIGNING_SECRET": "s", "SAILPOINT_BASE_URL": "https://acme.api.identitynow.com",
		"SAILPOINT_CLIENT_ID": "pat-id", "SAILPOINT_CLIENT_SECRET": "pat-secret"}))
	require.NoError(t, err)
	store := redisstore.New(goredis.NewClient(&goredis.Options{Addr: miniredis.RunT(t).Addr()}), redisstore.Options{})
	_, err = Assemble(c, store, io.Discard, governance.SystemClock{}, slog.New(slog.DiscardHandler), "test", nil)
	require.NoError(t, err)
	assert.NotNil(t, c.SailPoint.Limiter, "the backend is opened with the shared limiter")
}

func TestLoadConfig_ApprovalChannelsNeedTheirPlatform(t *testing.T) {
	const items = "catalog:\n" +
		"  - id: payroll\n    name: Payroll\n    backend: builtin\n    approvers: [alice@example.com]\n    approvalChannel: slack:CAPPROVE\n" +
		"  - id: wiki\n    name: Wiki\n    backend: builtin\n    approvers: [alice@example.com]\n    approvalChannel: \"teams:19:abc@thread.tacv2\"\n"
	teamsOnly := map[string]string{"TEAMS_APP_ID": "6e9d5a3c-5c49-4b8e-9d2b-1f0e8b1f2a3c", "TEAMS_APP_PASSWORD": "pw",
		"TEAMS_TENANT_IDS": "0b3c4d5e-1111-2222-3333-444455556666"}
	_, err := LoadConfig(clitest.WriteConfig(t, items), clitest.Env(teamsOnly))
	require.Error(t, err)
	assert.ErrorContains(t, err, "catalog item payroll: approvalChannel slack:CAPPROVE is a Slack channel, and Slack is not configured")
	assert.ErrorContains(t, err, "catalog item wiki: approvalChannel teams:19:abc@thread.tacv2 is a Teams channel: serve Teams (TEAMS_APP_ID) and set teams.channelServiceURL")

	both := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
	for k, v := range teamsOnly {
		both[k] = v
	}
	_, err = LoadConfig(clitest.WriteConfig(t, items+"teams:\n  channelServiceURL: https://smba.trafficmanager.net/emea/\n"), clitest.Env(both))
	assert.NoError(t, err)
}

// loadConfig is LoadConfig of a config file holding file (no file when empty), with env as
// the environment.
func loadConfig(t *testing.T, file string, env map[string]string) (*Config, error) {
	t.Helper()
	path := ""
	if file != "" {
		path = clitest.WriteConfig(t, file)
	}
	return LoadConfig(path, clitest.Env(env))
}

// The banner names every item of the sample catalog, as config check counts them.
func TestBanner_NamesEverySampleItem(t *testing.T) {
	c, err := LoadConfig("", clitest.Env(nil))
	require.NoError(t, err)
	var out strings.Builder
	banner(&out, c, true, "127.0.0.1:8080")
	for _, it := range c.catalog.Items() {
		assert.Contains(t, out.String(), it.ID, "the banner's sample catalog leaves out %s", it.ID)
	}
}
