package governance

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// CommandKind is what a chat command asks for.
type CommandKind string

// The commands people give, in Slack after /access and in Teams as plain text.
const (
	CommandForm     CommandKind = "form"     // nothing typed: open the request form
	CommandRequest  CommandKind = "request"  // request <item> [for <duration>] [for <someone>] [because <reason>]
	CommandStatus   CommandKind = "status"   // my requests
	CommandPending  CommandKind = "pending"  // requests waiting for my decision
	CommandCancel   CommandKind = "cancel"   // cancel <id>
	CommandSchedule CommandKind = "schedule" // schedule <id>: planned reminders, escalations, timeout, expiry
	CommandRevoke   CommandKind = "revoke"   // revoke <item|id> [from <e-mail>]: end active access now
	CommandExtend   CommandKind = "extend"   // extend <id> [for <duration>]: ask for more time
	CommandHelp     CommandKind = "help"
	// Connected accounts (governance/accounts): connect <backend> hands out a one-time
	// sign-in link, disconnect <backend> forgets the account, connections lists them.
	CommandConnect     CommandKind = "connect"
	CommandDisconnect  CommandKind = "disconnect"
	CommandConnections CommandKind = "connections"
)

// Command is a parsed chat command.
type Command struct {
	Kind     CommandKind
	Item     string        // CommandRequest, CommandRevoke: the item (or, to revoke, request id) as typed
	Holder   string        // CommandRevoke: whose access, when not the sender's own
	Duration time.Duration // CommandRequest: 0 means the item's default; CommandExtend: 0 means as long again
	Reason   string        // CommandRequest
	For      string        // CommandRequest: whom the access is for, when not the sender (an e-mail, or the platform's mention)
	ID       string        // CommandCancel, CommandSchedule, CommandExtend: the request id, normalised ("AR-7")
	Backend  string        // CommandConnect, CommandDisconnect: the backend, lower case
}

// MaxReasonLength bounds a justification or deny reason.
const MaxReasonLength = 1000

var (
	spaces = regexp.MustCompile(`\s+`)
	idRe   = regexp.MustCompile(`(?i)^(?:ar-?)?(\d{1,12})$`)
)

// ParseCommand reads the text of a command: "request prod-db for 8h because incident 4711",
// "status", "pending", "cancel AR-7", "help", or nothing (open the form).
func ParseCommand(text string) (Command, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Command{Kind: CommandForm}, nil
	}
	verb, rest, _ := strings.Cut(text, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(verb) {
	case "help", "-h", "--help", "?":
		return Command{Kind: CommandHelp}, nil
	case "status", "mine", "list":
		return Command{Kind: CommandStatus}, nil
	case "pending", "approvals", "inbox":
		return Command{Kind: CommandPending}, nil
	case "cancel":
		id, err := ParseRequestID(rest)
		if err != nil {
			return Command{}, err
		}
		return Command{Kind: CommandCancel, ID: id}, nil
	case "schedule", "plan":
		id, err := ParseRequestID(rest)
		if err != nil {
			return Command{}, err
		}
		return Command{Kind: CommandSchedule, ID: id}, nil
	case "request", "req", "get":
		return parseRequest(rest)
	case "extend", "renew":
		return parseExtend(rest)
	case "revoke", "remove", "drop":
		return parseRevoke(rest)
	case "connections", "accounts":
		return Command{Kind: CommandConnections}, nil
	case "connect", "disconnect":
		kind := CommandKind(strings.ToLower(verb))
		backend := strings.ToLower(rest)
		if backend == "" || strings.ContainsAny(backend, " \t") {
			return Command{}, problem(ErrBadCommand, "", fmt.Sprintf("Say which system: `%s sailpoint`, for example; `connections` lists the accounts you connected.", kind))
		}
		return Command{Kind: kind, Backend: backend}, nil
	}
	return Command{}, problem(ErrBadCommand, "",
		fmt.Sprintf("I don't know the command %q. Try `request <item> for 8h because <reason>`, `status`, `pending`, `cancel <id>`, `extend <id>`, `revoke <item>`, `schedule <id>`, `connect <system>`, `connections` or `help`.", verb))
}

func parseRequest(rest string) (Command, error) {
	c := Command{Kind: CommandRequest}
	if at, after, ok := because(rest); ok {
		c.Reason = strings.TrimSpace(rest[after:])
		rest = strings.TrimSpace(rest[:at])
		if c.Reason == "" {
			return Command{}, problem(ErrJustificationRequired, "reason", "You wrote `because` but no reason after it; say why you need the access.")
		}
	}
	// Whom it is for ("for bob@example.com", "for @bob") and for how long ("for 8h", or
	// spelled out, "for 2 hours"), in either order.
	for range 2 {
		if at, who, ok := forWhom(rest); ok && c.For == "" {
			c.For = rest[who:]
			rest = strings.TrimSpace(rest[:at])
			continue
		}
		if at, long, ok := forHowLong(rest); ok && c.Duration == 0 {
			d, err := ParseDuration(rest[long:])
			if err != nil {
				return Command{}, err
			}
			c.Duration = d
			rest = strings.TrimSpace(rest[:at])
		}
	}
	c.Item = oneSpaced(strings.TrimSpace(rest))
	if c.Item == "" {
		return Command{}, problem(ErrUnknownItem, "item", "Say what you need: `request <item> for 8h because <reason>`. `help` lists the catalog.")
	}
	if err := checkReason(c.Reason); err != nil {
		return Command{}, err
	}
	return c, nil
}

// oneSpaced is s with each run of white space (\s) made one space; s itself when it has
// none to change, as an item's name mostly has not.
func oneSpaced(s string) string {
	if !strings.ContainsAny(s, "\t\n\f\r") && !strings.Contains(s, "  ") {
		return s
	}
	return spaces.ReplaceAllString(s, " ")
}

// The words of a command are read by hand, not by regular expressions: a command is parsed
// for every request, and these few scans cost a tenth of the expressions they replace.
// White space between words is ASCII's (\s in Go's regexp: tab, newline, form feed,
// carriage return, space); a keyword matches as strings.EqualFold does ("BECAUSE", and
// "becauſe" with the long s).

// because finds the first "because" that starts the text or follows white space and ends
// it or is followed by white space: the text before is rest[:at], the reason rest[after:].
func because(rest string) (at, after int, ok bool) {
	for i := 0; i < len(rest); i++ {
		if i > 0 && !isSpace(rest[i-1]) {
			continue
		}
		n, ok := keyword(rest[i:], "because")
		if !ok || (i+n < len(rest) && !isSpace(rest[i+n])) {
			continue
		}
		return max(i-1, 0), i + n, true
	}
	return 0, 0, false
}

// forWhom finds "for <someone>" ending the text: white space, "for", white space, and a
// last word that is a Slack mention (<@U123|bob>), @name, or name@domain. The text before
// is rest[:at], the someone rest[who:].
func forWhom(rest string) (at, who int, ok bool) {
	who = lastWord(rest)
	if !someone(rest[who:]) {
		return 0, 0, false
	}
	at, ok = wordBefore(rest, who, "for")
	return at, who, ok
}

// someone is a mention (<@U123>, <@U123|bob>), @name, or an address with one @ and no
// angle brackets, all without white space (the caller's word).
func someone(w string) bool {
	switch {
	case strings.HasPrefix(w, "<@"):
		return len(w) > 3 && w[len(w)-1] == '>' && !strings.ContainsRune(w[2:len(w)-1], '>')
	case strings.HasPrefix(w, "@"):
		return len(w) > 1
	}
	local, domain, found := strings.Cut(w, "@")
	return found && local != "" && domain != "" && !strings.ContainsAny(local, "<>") && !strings.ContainsAny(domain, "@<>")
}

// forHowLong finds the last "for <duration>": white space, "for", white space, and a digit
// that starts the rest of the text, on its last line. The text before is rest[:at], the
// duration rest[long:].
func forHowLong(rest string) (at, long int, ok bool) {
	last := strings.LastIndexByte(rest, '\n') + 1
	for i := len(rest) - 1; i >= max(last, 1); i-- {
		if !isDigit(rest[i]) || !isSpace(rest[i-1]) {
			continue
		}
		if at, ok := wordBefore(rest, i, "for"); ok {
			return at, i, true
		}
	}
	return 0, 0, false
}

// fromWhom finds "from <holder>" ending the text: white space, "from", white space, and a
// last word. The text before is rest[:at], the holder rest[who:].
func fromWhom(rest string) (at, who int, ok bool) {
	who = lastWord(rest)
	if who == len(rest) {
		return 0, 0, false
	}
	at, ok = wordBefore(rest, who, "from")
	return at, who, ok
}

// wordBefore reports whether the white space that ends at end (at least one character)
// follows word, itself after white space; at is where that white space starts.
func wordBefore(rest string, end int, word string) (at int, ok bool) {
	s := end
	for s > 0 && isSpace(rest[s-1]) {
		s--
	}
	if s == end {
		return 0, false
	}
	w := s
	for w > 0 && !isSpace(rest[w-1]) {
		w--
	}
	if w == 0 || !strings.EqualFold(rest[w:s], word) {
		return 0, false
	}
	for w > 0 && isSpace(rest[w-1]) {
		w--
	}
	return w, true
}

// keyword reports whether s starts with word as strings.EqualFold compares, and how many
// bytes of s it takes.
func keyword(s, word string) (int, bool) {
	n := 0
	for _, want := range word {
		if n >= len(s) {
			return 0, false
		}
		r, size := utf8.DecodeRuneInString(s[n:])
		if !sameLetter(r, want) {
			return 0, false
		}
		n += size
	}
	return n, true
}

// sameLetter is r == want up to case, by Unicode's simple folding (as strings.EqualFold).
func sameLetter(r, want rune) bool {
	for f := want; ; {
		if f == r {
			return true
		}
		if f = unicode.SimpleFold(f); f == want {
			return false
		}
	}
}

// lastWord is where the text's last word starts: after its last white space.
func lastWord(s string) int {
	i := len(s)
	for i > 0 && !isSpace(s[i-1]) {
		i--
	}
	return i
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r' }

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// parseExtend reads "AR-7" or "AR-7 for 4h".
func parseExtend(rest string) (Command, error) {
	c := Command{Kind: CommandExtend}
	if at, long, ok := forHowLong(rest); ok {
		d, err := ParseDuration(rest[long:])
		if err != nil {
			return Command{}, err
		}
		c.Duration = d
		rest = rest[:at]
	}
	if strings.TrimSpace(rest) == "" {
		return Command{}, problem(ErrBadCommand, "", "Say which access to extend: `extend AR-7`, or `extend AR-7 for 4h` (`status` lists your requests).")
	}
	id, err := ParseRequestID(rest)
	if err != nil {
		return Command{}, err
	}
	c.ID = id
	return c, nil
}

func parseRevoke(rest string) (Command, error) {
	c := Command{Kind: CommandRevoke}
	if at, who, ok := fromWhom(rest); ok {
		c.Holder = rest[who:]
		rest = strings.TrimSpace(rest[:at])
	}
	c.Item = oneSpaced(strings.TrimSpace(rest))
	if c.Item == "" {
		return Command{}, problem(ErrBadCommand, "item", "Say what to revoke: `revoke <item>`, `revoke <item> from <e-mail>` (a direct report's) or `revoke AR-7`.")
	}
	return c, nil
}

// ParseFor reads whom a request is for, as typed: an e-mail address (a chat platform's
// mention is turned into one before). Empty: the sender.
func ParseFor(s string) (Person, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Person{}, nil
	}
	if strings.HasPrefix(s, "@") || strings.HasPrefix(s, "<") {
		return Person{}, problem(ErrBadCommand, "for", fmt.Sprintf(
			"I can't tell who %q is; write their e-mail address: `request <item> for bob@example.com because <reason>`.", s))
	}
	p, err := ParsePerson(s)
	if err != nil {
		return Person{}, problem(ErrBadCommand, "for", fmt.Sprintf("%q is not an e-mail address; write whom it is for like bob@example.com.", s))
	}
	return p, nil
}

// ParseRequestID normalises a request id as people type it ("AR-7", "ar7", "7") to "AR-7".
func ParseRequestID(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", problem(ErrBadCommand, "", "Say which request: ids look like AR-7 (`status` lists yours).")
	}
	m := idRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", problem(ErrBadCommand, "", fmt.Sprintf("%q is not a request id; ids look like AR-7 (see `status`).", s))
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	return "AR-" + strconv.FormatUint(n, 10), nil
}

// checkReason bounds a justification or deny reason, in characters as forms count them.
func checkReason(reason string) error {
	if n := utf8.RuneCountInString(reason); n > MaxReasonLength {
		return problem(ErrReasonTooLong, "reason", fmt.Sprintf("The reason is %d characters long; keep it under %d.", n, MaxReasonLength))
	}
	return nil
}
