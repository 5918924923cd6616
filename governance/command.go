package governance

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
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
	spaces    = regexp.MustCompile(`\s+`)
	becauseRe = regexp.MustCompile(`(?i)(?:^|\s)because(?:\s+|$)`)
	forRe     = regexp.MustCompile(`(?i)\s+for\s+(\d.*)$`)
	fromRe    = regexp.MustCompile(`(?i)\s+from\s+(\S+)$`)
	idRe      = regexp.MustCompile(`(?i)^(?:ar-?)?(\d{1,12})$`)
)

// forWhoRe is "for <someone>" at the end: a Slack mention (<@U123|bob>), @name, or an e-mail.
var forWhoRe = regexp.MustCompile(`(?i)\s+for\s+(<@[^>\s]+>|@\S+|[^\s@<>]+@[^\s@<>]+)$`)

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
	if loc := becauseRe.FindStringIndex(rest); loc != nil {
		c.Reason = strings.TrimSpace(rest[loc[1]:])
		rest = strings.TrimSpace(rest[:loc[0]])
		if c.Reason == "" {
			return Command{}, problem(ErrJustificationRequired, "reason", "You wrote `because` but no reason after it; say why you need the access.")
		}
	}
	// Whom it is for ("for bob@example.com", "for @bob") and for how long ("for 8h", or
	// spelled out, "for 2 hours"), in either order.
	for range 2 {
		if m := forWhoRe.FindStringSubmatchIndex(rest); m != nil && c.For == "" {
			c.For = rest[m[2]:m[3]]
			rest = strings.TrimSpace(rest[:m[0]])
			continue
		}
		if m := lastMatch(forRe, rest); m != nil && c.Duration == 0 {
			d, err := ParseDuration(rest[m[2]:m[3]])
			if err != nil {
				return Command{}, err
			}
			c.Duration = d
			rest = strings.TrimSpace(rest[:m[0]])
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

// lastMatch is re's rightmost match in s (each tried from a word boundary), or nil.
func lastMatch(re *regexp.Regexp, s string) []int {
	var last []int
	for from := 0; from < len(s); {
		m := re.FindStringSubmatchIndex(s[from:])
		if m == nil {
			break
		}
		for i := range m {
			if m[i] >= 0 {
				m[i] += from
			}
		}
		last = m
		from = m[0] + 1
	}
	return last
}

// parseExtend reads "AR-7" or "AR-7 for 4h".
func parseExtend(rest string) (Command, error) {
	c := Command{Kind: CommandExtend}
	if m := lastMatch(forRe, rest); m != nil {
		d, err := ParseDuration(rest[m[2]:m[3]])
		if err != nil {
			return Command{}, err
		}
		c.Duration = d
		rest = rest[:m[0]]
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
	if m := fromRe.FindStringSubmatchIndex(rest); m != nil {
		c.Holder = rest[m[2]:m[3]]
		rest = strings.TrimSpace(rest[:m[0]])
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
