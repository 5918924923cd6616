// Package redistest gives tests a real Redis: the one named by REDIS_URL, or a
// redis-server it starts on a free port for the test binary. Tests get their own key
// prefix and never flush anything, so a Redis shared with other work is safe.
package redistest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

var (
	once    sync.Once
	addr    string
	url     string
	server  *exec.Cmd
	dir     string
	initErr error
)

// Main runs the package's tests and stops the redis-server it started, if any. Use it
// as: func TestMain(m *testing.M) { redistest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if server != nil {
		_ = server.Process.Kill()
		_ = server.Wait()
	}
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

func start() {
	if url = os.Getenv("REDIS_URL"); url != "" {
		return
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		initErr = fmt.Errorf("redis-server is not installed: run .ci/test (it installs it) or `apt-get install redis-server`, or set REDIS_URL")
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		initErr = err
		return
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, err = os.MkdirTemp("", "accessbot-redis-")
	if err != nil {
		initErr = err
		return
	}
	server = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--protected-mode", "no")
	out, err := server.StdoutPipe()
	if err != nil {
		initErr = err
		return
	}
	if err := server.Start(); err != nil {
		initErr = fmt.Errorf("start redis-server: %w", err)
		return
	}
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ready := make(chan struct{})
	go func() { // redis-server says when it accepts connections; keep draining its output after
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), "Ready to accept connections") {
				close(ready)
				signalled = true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		initErr = fmt.Errorf("redis-server on %s was not ready within 10s", addr)
	}
}

// Client returns a client to the test Redis. It fails the test, never skips it, when no
// Redis can be had.
func Client(t testing.TB) goredis.UniversalClient {
	t.Helper()
	once.Do(start)
	if initErr != nil {
		t.Fatal(initErr)
	}
	var c *goredis.Client
	if url != "" {
		opts, err := goredis.ParseURL(url)
		if err != nil {
			t.Fatalf("REDIS_URL: %v", err)
		}
		c = goredis.NewClient(opts)
	} else {
		c = goredis.NewClient(&goredis.Options{Addr: addr, PoolSize: 64})
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// Prefix returns a key prefix no other test uses.
func Prefix(t testing.TB) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := unsafe.ReplaceAllString(t.Name(), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	return "t:" + name + ":" + hex.EncodeToString(b)
}
