// Package redistest gives tests a real Redis: the one named by REDIS_URL, or a
// redis-server it starts on a free port, once per test binary. Cluster gives a Redis
// Cluster the same way. Each test takes its own key prefix (Prefix) and nothing is ever
// flushed, so a Redis shared with other work is safe.
//
// A package that uses it runs its tests through Main, which stops the servers:
//
//	func TestMain(m *testing.M) { redistest.Main(m) }
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// server is a redis-server this package started.
type server struct {
	once   sync.Once
	addr   string
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// The servers of this test binary; Main stops them.
var standalone, cluster server

// Main runs the package's tests, stops the redis-servers it started and exits.
func Main(m *testing.M) {
	code := m.Run()
	standalone.stop()
	cluster.stop()
	os.Exit(code)
}

// Client returns a client to a real Redis: REDIS_URL's, or a redis-server started for
// this test binary. With REDISTEST_CLIENT=cluster it is Cluster's instead, so a whole
// suite runs against a Redis Cluster (.ci/test does that with a three-master cluster).
// It fails the test, never skips it, when no Redis can be had.
func Client(t testing.TB) goredis.UniversalClient {
	t.Helper()
	if os.Getenv("REDISTEST_CLIENT") == "cluster" {
		return Cluster(t)
	}
	return Server(t)
}

// Server returns a client to a real Redis that is one server, as Client does without
// REDISTEST_CLIENT=cluster: for tests of what only a Redis of one server does.
func Server(t testing.TB) *goredis.Client {
	t.Helper()
	var c *goredis.Client
	if url := os.Getenv("REDIS_URL"); url != "" {
		opts, err := goredis.ParseURL(url)
		if err != nil {
			t.Fatalf("REDIS_URL: %v", err)
		}
		opts.Protocol = 2 // as accessbot speaks it
		c = goredis.NewClient(opts)
	} else {
		standalone.once.Do(func() { standalone.start(false) })
		if standalone.err != nil {
			t.Fatal(standalone.err)
		}
		c = goredis.NewClient(&goredis.Options{Addr: standalone.addr, PoolSize: 64, Protocol: 2})
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Cluster returns a client to a real Redis Cluster: the nodes listed in
// REDIS_CLUSTER_ADDRS (host:port,host:port…), or a one-node cluster started for this test
// binary that serves every slot. Redis refuses a command or script whose keys are not on
// one slot even on one node, so this is where a key layout proves it is Cluster-ready.
func Cluster(t testing.TB) goredis.UniversalClient {
	t.Helper()
	addrs := strings.Split(os.Getenv("REDIS_CLUSTER_ADDRS"), ",")
	if addrs[0] == "" {
		cluster.once.Do(func() { cluster.start(true) })
		if cluster.err != nil {
			t.Fatal(cluster.err)
		}
		addrs = []string{cluster.addr}
	}
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs, PoolSize: 64, Protocol: 2})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// Prefix returns a key prefix no other test uses: "t:<test name>:<random>".
func Prefix(t testing.TB) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := unsafe.ReplaceAllString(t.Name(), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	return "t:" + name + ":" + hex.EncodeToString(b)
}

// start runs redis-server on a free port and waits until it answers; a port taken
// between choosing and binding it is survived by trying another.
func (s *server) start(asCluster bool) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		s.err = errors.New("redis-server is not installed: install it (`apt-get install redis-server`, or run .ci/test, " +
			"which does) or set REDIS_URL (and REDIS_CLUSTER_ADDRS for the cluster tests)")
		return
	}
	if s.dir, err = os.MkdirTemp("", "accessbot-redis-"); err != nil {
		s.err = err
		return
	}
	for range 3 {
		if s.err = s.run(bin, asCluster); s.err == nil {
			return
		}
	}
}

func (s *server) run(bin string, asCluster bool) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logfile := filepath.Join(s.dir, "redis-"+strconv.Itoa(port)+".log")
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", logfile, "--protected-mode", "no"}
	if asCluster {
		// The bus port is chosen too: the default, port+10000, can lie past 65535 or be held
		// by another process's outgoing connection, which a listening probe cannot see.
		busPort, err := freePort()
		if err != nil {
			return err
		}
		args = append(args, "--cluster-enabled", "yes", "--cluster-announce-ip", "127.0.0.1",
			"--cluster-port", strconv.Itoa(busPort),
			"--cluster-config-file", filepath.Join(s.dir, "nodes-"+strconv.Itoa(port)+".conf"))
	}
	s.cmd = exec.Command(bin, args...)
	dieWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.exited = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.exited) }()

	c := goredis.NewClient(&goredis.Options{Addr: s.addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	ready := func(ctx context.Context) bool { return c.Ping(ctx).Err() == nil }
	if asCluster {
		ready = func(ctx context.Context) bool {
			info, err := c.ClusterInfo(ctx).Result()
			if err != nil {
				return false
			}
			if strings.Contains(info, "cluster_slots_assigned:0\r") {
				_ = c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err()
			}
			return strings.Contains(info, "cluster_state:ok")
		}
	}
	if err := s.await(ready); err != nil {
		log, _ := os.ReadFile(logfile)
		return fmt.Errorf("redis-server on %s: %w\n%s", s.addr, err, tail(string(log), 20))
	}
	return nil
}

// await polls ready until it holds, the server exits, or 10 seconds pass. It waits for a
// process to come up, not for time to pass in a test.
func (s *server) await(ready func(context.Context) bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if ready(ctx) {
			return nil
		}
		select {
		case <-s.exited:
			return errors.New("exited before it was ready")
		case <-ctx.Done():
			s.kill()
			return errors.New("not ready within 10s")
		case <-tick.C:
		}
	}
}

func (s *server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *server) stop() {
	s.kill()
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
