// Package clitest helps tests drive a command the way a person does, through its run
// function: an output a test can wait on, an environment, a config file, and a server
// run in the background. Only tests import it.
package clitest

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Run is a command's whole program, as its main calls it.
type Run func(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error

// Output collects what a command prints and lets a test wait for a line, without sleeping.
type Output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

// NewOutput returns an empty output.
func NewOutput() *Output { return &Output{changed: make(chan struct{}, 1)} }

// Write appends p and wakes a waiting test.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	select {
	case o.changed <- struct{}{}:
	default:
	}
	return o.buf.Write(p)
}

// String is everything printed so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// Changed receives after something was printed.
func (o *Output) Changed() <-chan struct{} { return o.changed }

// WaitFor returns the first match of re in the output, failing after timeout.
func (o *Output) WaitFor(t *testing.T, re string, timeout time.Duration) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(timeout)
	for {
		if m := rx.FindStringSubmatch(o.String()); m != nil {
			return m
		}
		select {
		case <-o.changed:
		case <-deadline:
			t.Fatalf("no %q in output within %s:\n%s", re, timeout, o.String())
		}
	}
}

// Env is an environment holding only vars.
func Env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// WriteConfig writes a config file with body and returns its path.
func WriteConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "accessbot.yaml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

// Server is a command serving in the background.
type Server struct {
	Addr string       // http://host:port, from its "listening on" line
	Out  *Output      // what it printed
	Done <-chan error // what run returned, once it has
	Stop func()       // ends it as SIGTERM does
}

// Serve runs run(args) in the background until the test ends or Stop is called, and waits
// until it listens.
func Serve(t *testing.T, run Run, args []string, getenv func(string) string) *Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	out := NewOutput()
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, getenv, out) }()
	addr := out.WaitFor(t, `listening on (http://[0-9.:]+)`, 10*time.Second)[1]
	return &Server{Addr: addr, Out: out, Done: done, Stop: cancel}
}

// HelpPrintsTheUsage checks that `name help`, `name -h` and `name --help` print usage and
// succeed.
func HelpPrintsTheUsage(t *testing.T, run Run, name, usage string) {
	t.Helper()
	for _, arg := range []string{"help", "-h", "--help"} {
		t.Run(arg, func(t *testing.T) {
			out := NewOutput()
			require.NoError(t, run(context.Background(), []string{name, arg}, Env(nil), out))
			assert.Equal(t, usage, out.String())
		})
	}
}

// UsageListsTheDocCommentsCommands checks that the doc comment of the command's main.go
// (in the test's folder) and its usage list the same commands, in the same order.
func UsageListsTheDocCommentsCommands(t *testing.T, name, usage string) {
	t.Helper()
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	commands := func(text, prefix string) []string {
		var names []string
		for _, m := range regexp.MustCompile(`(?m)^`+prefix+regexp.QuoteMeta(name)+` (\[?[a-z]+)`).FindAllStringSubmatch(text, -1) {
			if cmd := strings.TrimPrefix(m[1], "["); !slices.Contains(names, cmd) {
				names = append(names, cmd)
			}
		}
		return names
	}
	doc := commands(string(src), `//\t`)
	require.NotEmpty(t, doc, "main.go's doc comment lists the commands")
	assert.Equal(t, doc, commands(usage, `  `))
}
