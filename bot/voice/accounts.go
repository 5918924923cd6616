package voice

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// What accessbot says about connected accounts, in chat and on the pages of the connect
// flow (the handlers render a Page as HTML).

// ConnectLink hands out the one-time link that connects the person's account at backend.
func ConnectLink(backend, link string, expires time.Time) Message {
	name := BackendName(backend)
	return Message{Body: []Paragraph{
		para(IconUnlock, "Connect your ", backendSpan(backend), " account: ", Span{Kind: Link, URL: link, Text: "sign in to " + name},
			". The link is only for you and works once, until ", date(expires), "."),
		para(IconNone, "Sign in as yourself: accessbot connects only the account whose e-mail is yours, and then acts in ",
			backendSpan(backend), " as you (deciding approvals you are asked for, for example)."),
	}, Summary: line("Connect your ", backendSpan(backend), " account")}
}

// ConnectFirst answers a click accessbot can carry out only as the person: why not yet,
// and their connect link.
func ConnectFirst(why string, backend, link string, expires time.Time) Message {
	m := ConnectLink(backend, link, expires)
	m.Body = append([]Paragraph{{Icon: IconInfo, Text: problemText(why)}}, m.Body...)
	m.Summary = line("Connect your ", backendSpan(backend), " account first")
	return m
}

// AccountConnected tells the person in chat that their account is connected.
func AccountConnected(backend string, as governance.Identity) Message {
	who := as.Email
	if as.Name != "" {
		who = as.Name + " (" + as.Email + ")"
	}
	return Message{Body: []Paragraph{para(IconApproved, "Your ", backendSpan(backend), " account is connected as ", user(who, maxList),
		". ", cmd("connections"), " lists your accounts; ", cmd("disconnect "+backend), " forgets this one.")},
		Summary: line("Your ", backendSpan(backend), " account is connected")}
}

// Disconnected acknowledges `disconnect`; was is false when there was nothing to forget.
func Disconnected(backend string, was bool) Message {
	if !was {
		return say(IconInfo, "You have no connected ", backendSpan(backend), " account, so there was nothing to disconnect. ",
			cmd("connections"), " lists yours.")
	}
	return say(IconLock, "Your ", backendSpan(backend), " account is disconnected: accessbot forgot its tokens and no longer acts there as you. ",
		"To connect it again: ", cmd("connect "+backend), ".")
}

// Connections lists the accounts the person connected, and says how to connect one
// (can: the backends whose accounts can be connected) or forget one.
func Connections(cs []governance.Connection, can []string) Message {
	m := Message{Title: "Your connected accounts"}
	if len(cs) == 0 {
		m.Body = []Paragraph{para(IconInfo, "You have connected no account yet.")}
	}
	for _, c := range cs {
		as := line(user(c.As.Email, maxList))
		if c.As.Email == "" {
			as = line(emph("unknown — connect it again"))
		}
		m.Rows = append(m.Rows, Message{Body: []Paragraph{para(IconNone, "• ", strong(BackendName(c.Backend)), " as ", as, ", since ", date(c.Since))}})
	}
	m.Compact = true
	var t Text
	for i, b := range can {
		if i > 0 {
			t = line(t, " or ")
		}
		t = line(t, cmd("connect "+b))
	}
	if len(can) > 0 {
		m.Context = line("Connect an account: ", t, ". Forget one: ", cmd("disconnect <system>"), ".")
	}
	return m
}

// NotConnectable is the refusal of `connect` (or `disconnect`) for a backend whose
// accounts cannot be connected here, naming those that can.
func NotConnectable(backend string, can []string) string {
	if len(can) == 0 {
		return fmt.Sprintf("No account can be connected here: %q is not a system whose accounts this accessbot connects, and none is configured.", backend)
	}
	list := make([]string, len(can))
	for i, b := range can {
		list[i] = "`connect " + b + "`"
	}
	return fmt.Sprintf("%q is not a system whose accounts can be connected here; you can use %s.", backend, strings.Join(list, " or "))
}

// ConnectInPersonalChat: a connect command sent in a Teams channel or group chat, where
// the link would be seen by others, from someone the bot cannot reach in a personal chat.
const ConnectInPersonalChat = "A sign-in link is only for you, so I send it in our personal chat: open a chat with accessbot and send the command there."

// SentToPersonalChat: the answer to a connect command went to the person's personal chat.
func SentToPersonalChat() Message {
	return say(IconInfo, "I answered you in our personal chat: a sign-in link is only for you.")
}

// Page is a page of the connect flow as the browser shows it: a title, what happened,
// and what to do next. OK pages succeeded.
type Page struct {
	OK    bool
	Title string
	Lead  string
	Next  string
}

// PageConnected is the page of a sign-in that connected the account.
func PageConnected(backend string, as governance.Identity) Page {
	return Page{OK: true, Title: "Connected", Lead: fmt.Sprintf("Connected as %s at %s — you can close this tab.", as.Email, BackendName(backend)),
		Next: "accessbot has told you in chat too. To disconnect, send accessbot: disconnect " + backend}
}

// PageRefused is the page of a connect flow that did not connect the account, saying why
// and what to do: err is one of governance's connect-flow errors (anything else is
// accessbot's own failure, with ref, the reference under which the detail was logged);
// chat is the chat user's e-mail and as the e-mail signed in as, where known.
func PageRefused(err error, backend, chat, as, ref string) Page {
	name := BackendName(backend)
	again := "Ask accessbot in chat for a new link: connect " + backend
	p := Page{Title: "Not connected", Next: again}
	switch {
	case errors.Is(err, governance.ErrWrongAccount):
		p.Lead = fmt.Sprintf("You signed in to %s as %s, but you asked in chat as %s: accessbot connects only your own account.", name, as, chat)
		p.Next = fmt.Sprintf("Sign out of %s (or use a private window), then %s and sign in as %s.", name, strings.ToLower(again[:1])+again[1:], chat)
	case errors.Is(err, governance.ErrLinkExpired):
		p.Lead = "This link has expired: a connect link works for 10 minutes, and the sign-in must be finished within 10 minutes of opening it."
	case errors.Is(err, governance.ErrLinkUsed):
		p.Lead = "This link was used already: each connect link works once, so that nobody else can use one you opened."
	case errors.Is(err, governance.ErrSignInUsed):
		p.Lead = "This sign-in was completed already; it cannot be used a second time."
		p.Next = "If your account is connected, accessbot told you in chat (connections lists your accounts). Otherwise: " + strings.ToLower(again[:1]) + again[1:]
	case errors.Is(err, governance.ErrOtherBrowser):
		p.Lead = "This sign-in came back to another browser than the one that opened the link (or cookies are blocked for accessbot), so it was not accepted."
		p.Next = "Open a new link and finish the sign-in in the same browser. " + again
	case errors.Is(err, governance.ErrSignInDenied):
		p.Lead = fmt.Sprintf("%s did not sign you in (the sign-in was cancelled or refused), so nothing was connected.", name)
	case errors.Is(err, governance.ErrSignInFailed):
		p.Lead = fmt.Sprintf("%s's answer to the sign-in could not be used, so nothing was connected.", name)
		p.Next = again + ". If it fails again, tell your accessbot admins the time you tried."
	case errors.Is(err, governance.ErrLinkInvalid):
		p.Lead = "This link is not one accessbot made, or it was cut short when it was copied."
	default:
		p.Lead = "Something went wrong on our side, so nothing was connected."
		p.Next = "Try again in a minute: " + strings.ToLower(again[:1]) + again[1:] + "."
		if ref != "" {
			p.Next += " (ref " + ref + ")"
		}
	}
	return p
}

// PageNotFound is the page of a connect or callback address for a backend whose accounts
// cannot be connected.
func PageNotFound(backend string) Page {
	return Page{Title: "Not connected", Lead: fmt.Sprintf("%q is not a system whose accounts accessbot connects.", backend),
		Next: "Send accessbot connections in chat to see which can be connected."}
}
