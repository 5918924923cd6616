package slack

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// Workspaces are the Slack workspaces and the Enterprise org accessbot serves: a command,
// a click or a person from anywhere else is refused before anyone is looked up.
type Workspaces struct {
	Teams      []string // workspace ids (T…)
	Enterprise string   // an Enterprise org id (E…): every workspace in it
}

// IsZero reports whether nothing is named.
func (w Workspaces) IsZero() bool { return len(w.Teams) == 0 && w.Enterprise == "" }

// Includes reports whether id, a workspace (T…) or an org (E…) as Slack writes either in
// a payload's user.team_id, is served.
func (w Workspaces) Includes(id string) bool {
	return id != "" && (slices.Contains(w.Teams, id) || id == w.Enterprise)
}

// Serves reports whether a request from workspace team, in org enterprise ("" outside
// Enterprise Grid), is accessbot's to answer: the workspace is listed, or the org is.
func (w Workspaces) Serves(team, enterprise string) bool {
	return w.Includes(team) || (enterprise != "" && enterprise == w.Enterprise)
}

// String names what is served, for logs and `doctor`.
func (w Workspaces) String() string {
	var parts []string
	if len(w.Teams) > 0 {
		parts = append(parts, "workspace "+strings.Join(w.Teams, ", "))
	}
	if w.Enterprise != "" {
		parts = append(parts, "every workspace of org "+w.Enterprise)
	}
	if len(parts) == 0 {
		return "no workspace"
	}
	return strings.Join(parts, " and ")
}

// member reports whether the Slack user u belongs to a served workspace or org, by what
// users.info says of them: their team_id, and on Enterprise Grid their org and workspaces.
func (w Workspaces) member(u *slackapi.User) (home string, ok bool) {
	if u.IsStranger { // Slack's word for a user of another workspace (Slack Connect)
		return "", false
	}
	if w.Includes(u.TeamID) {
		return u.TeamID, true
	}
	if e := u.Enterprise.EnterpriseID; e != "" && e == w.Enterprise {
		return e, true
	}
	for _, t := range u.Enterprise.Teams {
		if w.Includes(t) {
			return t, true
		}
	}
	return "", false
}

// Guests says what Slack's guests (is_restricted, is_ultra_restricted) may do.
type Guests string

const (
	// GuestsRequest, the default: guests may ask for access and manage their own requests,
	// never approve, deny or act as an admin, whatever the configuration names them.
	GuestsRequest Guests = "request"
	// GuestsRefuse: guests cannot use accessbot at all.
	GuestsRefuse Guests = "refuse"
)

func (g Guests) describe() string {
	if g == GuestsRefuse {
		return "guests refused"
	}
	return "guests may ask, never decide"
}

// Conditions under which a Slack user is refused, for callers and logs.
var (
	ErrOtherWorkspace = errors.New("slack request from a workspace accessbot does not serve")
	ErrExternalUser   = errors.New("slack user from another workspace or org (Slack Connect)")
	ErrDeactivated    = errors.New("slack user is deactivated")
	ErrBotUser        = errors.New("slack user is a bot or an app")
	ErrGuest          = errors.New("slack user is a guest")
)

// refusal is the Problem a person is shown when Slack's answer about them rules them out.
func refusal(err error, userID string) *governance.Problem {
	msg := map[error]string{
		ErrExternalUser: voice.SlackExternalUser,
		ErrDeactivated:  voice.SlackDeactivated,
		ErrBotUser:      voice.SlackBotUser,
		ErrGuest:        voice.SlackGuestRefused,
	}[err]
	return &governance.Problem{Err: fmt.Errorf("%w: %s", err, userID), Message: msg}
}

// GuestCannotDecide is the refusal of a decision (Approve, Deny, the deny form) by a
// person Slack lists as a guest.
func GuestCannotDecide(userID string) error {
	return &governance.Problem{Err: fmt.Errorf("%w: %s may not decide", ErrGuest, userID), Message: voice.SlackGuestCannotDecide}
}

// authTester is the part of the Web API that says whose the bot token is.
type authTester interface {
	AuthTestContext(ctx context.Context) (*slackapi.AuthTestResponse, error)
}

// tokenWorkspaces is what auth.test says the bot token belongs to: its workspace, or for
// an org-wide install (no workspace of its own) its org.
func tokenWorkspaces(ctx context.Context, api authTester) (Workspaces, error) {
	who, err := api.AuthTestContext(ctx)
	if err != nil {
		return Workspaces{}, fmt.Errorf("auth.test (to learn the bot token's workspace): %w", err)
	}
	switch {
	case who.TeamID != "":
		return Workspaces{Teams: []string{who.TeamID}}, nil
	case who.EnterpriseID != "":
		return Workspaces{Enterprise: who.EnterpriseID}, nil
	}
	return Workspaces{}, errors.New("auth.test named no workspace for the bot token; set slack.teams")
}
