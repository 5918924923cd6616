package redis

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// luaFiles are the Lua scripts; each file starts with the keys, arguments and return
// value it takes.
//
//go:embed *.lua
var luaFiles embed.FS

// newScript is the script made of the embedded files named names, in order: a script that
// shares functions with others (streamtasks.lua) starts with the file that holds them,
// since a Redis script cannot call another. The files are part of the binary, so a
// missing one is a mistake in this package, found by any test that loads it.
func newScript(names ...string) *script {
	var src strings.Builder
	for _, name := range names {
		b, err := luaFiles.ReadFile(name)
		if err != nil {
			panic(fmt.Sprintf("redis: embedded script %s: %v", name, err))
		}
		src.Write(b)
		src.WriteByte('\n')
	}
	sc := goredis.NewScript(src.String())
	return &script{Script: sc, src: src.String(), sha: sc.Hash()}
}

// script is a Lua script with its source, which Store.run sends when a server does not
// hold the script yet, and its SHA-1.
type script struct {
	*goredis.Script
	src, sha string
}

var (
	applyScript         = newScript("streamtasks.lua", "apply.lua")
	reserveScript       = newScript("reserve.lua", "reserveid.lua")
	reserveCreateScript = newScript("streamtasks.lua", "reserve.lua", "reservecreate.lua", "apply.lua")
	claimTasksScript    = newScript("streamtasks.lua", "claimtasks.lua")
	retryScript         = newScript("retry.lua")
	promoteScript       = newScript("promote.lua")
	claimDueScript      = newScript("claimdue.lua")
	swapAccountScript   = newScript("swapaccount.lua")
	purgeScript         = newScript("purge.lua")
	paceScript          = newScript("pace.lua")
	trimAuditScript     = newScript("trimaudit.lua")
)

// scriptCall is one run of a script: its keys and arguments.
type scriptCall struct {
	keys []string
	args []any
}

// evalEach runs script once per call, all in one pipeline. A pipeline cannot fall back
// from EVALSHA to EVAL command by command, so the calls that met a server (or Cluster
// node) without the script cached are sent again with EVAL in a second pipeline; a
// NOSCRIPT reply means the script did not run, so that is safe. Each command carries its
// own result or error.
func (s *Store) evalEach(ctx context.Context, script *script, calls []scriptCall) []*goredis.Cmd {
	cmds := make([]*goredis.Cmd, len(calls))
	pipe := s.rdb.Pipeline()
	for i, c := range calls {
		cmds[i] = script.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx) // errors are read per command below and by the caller
	var missing []int
	for i, c := range cmds {
		if goredis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		pipe = s.rdb.Pipeline()
		for _, i := range missing {
			cmds[i] = script.Eval(ctx, pipe, calls[i].keys, calls[i].args...)
		}
		_, _ = pipe.Exec(ctx)
	}
	return cmds
}

// gather collects up to max items from the shards with script, in rounds of one pipeline
// each. call builds the run that asks one shard for up to quota items; take consumes its
// reply and says how many items it held. Each round splits what is still wanted over the
// shards that may hold more, those not asked yet first, beginning at a shard that rotates
// from call to call so that no shard is favoured. A shard that gives fewer items than it
// was asked for has no more. When max is at least the number of shards, an idle store
// costs one round trip and a busy one rarely more than two.
//
// only, when not nil, limits gather to those shards. It returns the shards that may hold
// more items when max was reached (all that were asked, on an error).
func (s *Store) gather(ctx context.Context, max int, script *script, only []int,
	call func(shard, quota int) scriptCall, take func(shard int, reply []any) (int, error)) (more []int, err error) {
	open := only
	if open == nil {
		open = make([]int, s.k.shards)
		first := int(s.rotate.Add(1) % uint32(s.k.shards))
		for i := range open {
			open[i] = (first + i) % s.k.shards
		}
	}
	for want := max; want > 0 && len(open) > 0; {
		asked := open[:min(want, len(open))]
		next := slices.Clone(open[len(asked):])
		quotas := make([]int, len(asked))
		calls := make([]scriptCall, len(asked))
		for j, shard := range asked {
			quotas[j] = want / len(asked)
			if j < want%len(asked) {
				quotas[j]++
			}
			calls[j] = call(shard, quotas[j])
		}
		for j, cmd := range s.evalEach(ctx, script, calls) {
			reply, err := cmd.Slice()
			if err != nil && !errors.Is(err, goredis.Nil) {
				return open, err
			}
			n, err := take(asked[j], reply)
			if err != nil {
				return open, err
			}
			want -= n
			if n >= quotas[j] {
				next = append(next, asked[j])
			}
		}
		open = next
	}
	return open, nil
}
