package redis

import (
	"context"
	"slices"
	"strconv"

	goredis "github.com/redis/go-redis/v9"
)

// scriptArgs are the keys and arguments of one script run, each appended to one buffer
// of its list (keys or ARGV) and cut from one string when the run is made. A transition
// passes some thirty of them on every command: built as strings and boxed in []any one by
// one, with go-redis's Eval boxing each key again, they cost two or three allocations
// each; here a list costs a few. What Redis receives is the same: go-redis writes a
// number and the string of its digits alike.
type scriptArgs struct{ keys, argv argList }

// argList is one list of arguments: their bytes one after the other, and where each ends.
type argList struct {
	b    []byte
	ends []int
}

func newArgList(n, size int) argList {
	return argList{b: make([]byte, 0, size), ends: make([]int, 0, n)}
}

// push records the argument just appended: b is l.b with it at the end.
func (l *argList) push(b []byte) {
	l.b = b
	l.ends = append(l.ends, len(b))
}

func (l *argList) str(s string) { l.push(append(l.b, s...)) }
func (l *argList) int(n int64)  { l.push(strconv.AppendInt(l.b, n, 10)) }

// flag is "1" for true and "0" for false, as the scripts read flags.
func (l *argList) flag(v bool) {
	if v {
		l.str("1")
	} else {
		l.str("0")
	}
}

// strings cuts the arguments from one string.
func (l *argList) strings() []string {
	all := string(l.b)
	out := make([]string, len(l.ends))
	start := 0
	for i, end := range l.ends {
		out[i] = all[start:end]
		start = end
	}
	return out
}

// run runs sc with keys and argv as goredis.Script.Run does: EVALSHA, and EVAL when the
// server does not hold the script yet. The command's arguments point into keys and argv
// (go-redis writes a *string as the string), so nothing is boxed or copied. With again
// (the scripts that write a request) a last argument says whether the command is sent
// again (sentAgain).
func (s *Store) run(ctx context.Context, sc *script, keys, argv []string, again *sentAgain) *goredis.Cmd {
	args := make([]any, 3, 4+len(keys)+len(argv))
	args[0], args[1], args[2] = "evalsha", &sc.sha, len(keys) // &sc.sha: a string would be boxed
	for i := range keys {
		args = append(args, &keys[i])
	}
	for i := range argv {
		args = append(args, &argv[i])
	}
	if again != nil {
		args = append(args, again)
	}
	cmd := goredis.NewCmd(ctx, args...)
	cmd.SetFirstKeyPos(3)
	if err := s.rdb.Process(ctx, cmd); goredis.HasErrorPrefix(err, "NOSCRIPT") {
		if again != nil && again.sent == 1 {
			again.sent = 0 // refused once, and never run: EVAL is its first sending
		}
		args = slices.Clone(args) // the refused command keeps its own
		args[0], args[1] = "eval", &sc.src
		cmd = goredis.NewCmd(ctx, args...)
		cmd.SetFirstKeyPos(3)
		_ = s.rdb.Process(ctx, cmd)
	}
	return cmd
}

// pipeCmds are the commands of one pipeline, their arguments built in one argList as a
// script's are: queued, each command costs go-redis its Cmd and nothing more. The outbox
// pass sends three commands for every card it saves (SaveMessageRef, AckWithCards).
type pipeCmds struct {
	args  argList
	names []string
	first []int // the index in args of each command's first argument
}

func newPipeCmds(cmds, args, size int) *pipeCmds {
	return &pipeCmds{args: newArgList(args, size), names: make([]string, 0, cmds), first: make([]int, 0, cmds)}
}

// cmd starts a command; its arguments are appended to p.args after it.
func (p *pipeCmds) cmd(name string) int {
	p.names = append(p.names, name)
	p.first = append(p.first, len(p.args.ends))
	return len(p.names) - 1
}

// queue queues the commands on pipe, in the order they were made.
func (p *pipeCmds) queue(ctx context.Context, pipe goredis.Pipeliner) []*goredis.Cmd {
	strs := p.args.strings()
	all := make([]any, 0, len(p.names)+len(strs)) // every command's name and arguments, one after the other
	cmds := make([]*goredis.Cmd, len(p.names))
	for i := range p.names {
		end := len(strs)
		if i+1 < len(p.first) {
			end = p.first[i+1]
		}
		start := len(all)
		all = append(all, &p.names[i]) // a pointer, as the arguments: a string would be boxed
		for j := p.first[i]; j < end; j++ {
			all = append(all, &strs[j])
		}
		cmds[i] = goredis.NewCmd(ctx, all[start:len(all):len(all)]...)
		_ = pipe.Process(ctx, cmds[i])
	}
	return cmds
}

// sentAgain is the last argument of the scripts that write a request (apply.lua,
// reservecreate.lua): "0" the first time go-redis writes the command, "1" when it writes
// it again. go-redis sends a command again on a new connection when the first one's
// answer was lost with its connection, and the script may have run; only then does a
// script take the very write it would make, found stored, for its own first run's.
type sentAgain struct{ sent int }

var sentFirst, sentLater = []byte("0"), []byte("1")

// MarshalBinary is what go-redis writes for the argument, once per sending.
func (a *sentAgain) MarshalBinary() ([]byte, error) {
	a.sent++
	if a.sent == 1 {
		return sentFirst, nil
	}
	return sentLater, nil
}

// String is what the argument was last sent as, for logs and tests.
func (a *sentAgain) String() string {
	if a.sent > 1 {
		return "1"
	}
	return "0"
}
