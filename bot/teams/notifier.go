// Package teams is accessbot in Microsoft Teams: it validates what the Bot Framework
// sends (Validator), calls the Bot Connector (Connector), keeps the conversation
// references people reach the bot from (Directory), renders Adaptive Cards, and tells
// people things (Notifier). It uses msbotbuilder-go for its schema types, request parsing
// and client interfaces, and replaces the library's token validator and connector client,
// which cannot carry this flow (see docs/teams.md).
package teams

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// Platform is the platform name in message references and chat users.
const Platform = "teams"

// UserStore keeps Teams users and the conversations they reach the bot from; accessbot's
// Store implements it.
type UserStore interface {
	ChatUser(ctx context.Context, platform, id string) (governance.ChatUser, bool, error)
	ChatUserByEmail(ctx context.Context, platform, email string) (governance.ChatUser, bool, error)
	SaveChatUser(ctx context.Context, u governance.ChatUser, ttl time.Duration) error
}

// Directory knows who a Teams user is (by e-mail, from their member record in the Bot
// Connector, read again a day after it was read and at once when an activity contradicts
// it) and how to reach them (the personal conversation they last used), from
// authenticated activities of the organisation's own Entra tenants only: a multi-tenant
// bot can be messaged from any tenant, and there the e-mail a member record carries is
// whatever that tenant's admins set.
type Directory struct {
	conn    *Connector
	store   UserStore
	tenants []string // lower case
	clock   governance.Clock
	log     *slog.Logger
}

// MemberMaxAge is how long a member record read from the Bot Connector is believed: a
// person's e-mail can change (a new name, a new domain), and it is what they are in
// accessbot.
const MemberMaxAge = 24 * time.Hour

// DirectoryOption configures a Directory.
type DirectoryOption func(*Directory)

// WithClock sets the clock member records are dated by; default governance.SystemClock.
func WithClock(c governance.Clock) DirectoryOption { return func(d *Directory) { d.clock = c } }

// WithDirectoryLogger sets where a changed e-mail is logged; default slog.Default().
func WithDirectoryLogger(l *slog.Logger) DirectoryOption { return func(d *Directory) { d.log = l } }

// NewDirectory returns a directory over store for the people of tenants (Entra tenant
// ids); with none, it knows nobody.
func NewDirectory(conn *Connector, store UserStore, tenants []string, opts ...DirectoryOption) *Directory {
	d := &Directory{conn: conn, store: store, clock: governance.SystemClock{}, log: slog.Default()}
	for _, t := range tenants {
		d.tenants = append(d.tenants, strings.ToLower(strings.TrimSpace(t)))
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

// ErrTenant refuses an activity or a member from an Entra tenant accessbot does not serve.
var ErrTenant = errors.New("teams: not a tenant accessbot serves")

// Tenant is the Entra tenant an activity comes from: channelData.tenant.id and
// conversation.tenantId, which Teams sets on every activity. An activity that names
// neither, or two different ones, has none.
func Tenant(act schema.Activity) string {
	var fromChannel string
	if t, ok := act.ChannelData["tenant"].(map[string]any); ok {
		fromChannel, _ = t["id"].(string)
	}
	fromConv := act.Conversation.TenantID
	switch {
	case fromChannel == "":
		return fromConv
	case fromConv == "" || strings.EqualFold(fromChannel, fromConv):
		return fromChannel
	}
	return ""
}

func (d *Directory) serves(tenant string) bool {
	return tenant != "" && slices.Contains(d.tenants, strings.ToLower(tenant))
}

// CheckTenant reports whether an authenticated activity comes from a tenant accessbot
// serves; nothing else about an activity from any other may be believed or answered.
func (d *Directory) CheckTenant(act schema.Activity) error {
	if t := Tenant(act); !d.serves(t) {
		return fmt.Errorf("%w: %q", ErrTenant, t)
	}
	return nil
}

// Remember returns the person who sent an authenticated activity, and records the
// conversation as the way to reach them when it is their personal chat with the bot. Their
// member record (their e-mail) is read the first time, again once it is MemberMaxAge old,
// and at once when the activity contradicts it (see stale). It believes only activities
// and member records of the tenants it serves.
func (d *Directory) Remember(ctx context.Context, act schema.Activity) (governance.Person, error) {
	if err := d.CheckTenant(act); err != nil {
		return governance.Person{}, err
	}
	u, found, err := d.store.ChatUser(ctx, Platform, act.From.ID)
	if err != nil {
		return governance.Person{}, err
	}
	conv := Conversation{ServiceURL: act.ServiceURL, ID: act.Conversation.ID, TenantID: Tenant(act)}
	now := d.clock.Now()
	why := d.stale(u, found, act, now)
	changed := why != ""
	if changed {
		fresh, err := d.read(ctx, conv, act)
		if err != nil {
			return governance.Person{}, err
		}
		if found && u.Email != "" && u.Email != fresh.Email {
			d.moved(ctx, u, fresh.Email, why)
		}
		// The way to reach them and their time zone are theirs still.
		fresh.Reach, fresh.TimeZone, fresh.Checked = u.Reach, u.TimeZone, now
		u = fresh
	}
	if act.Conversation.ConversationType == "personal" || (act.Conversation.ConversationType == "" && !act.Conversation.IsGroup) {
		if reach := encodeConversation(conv); reach != u.Reach { // the serviceUrl "is stable but can change"
			u.Reach, changed = reach, true
		}
	}
	if tz := act.LocalTimezone; tz != "" && tz != u.TimeZone {
		if _, err := time.LoadLocation(tz); err == nil {
			u.TimeZone, changed = tz, true
		}
	}
	if changed {
		if err := d.store.SaveChatUser(ctx, u, 0); err != nil {
			return governance.Person{}, err
		}
	}
	// The object id comes with every authenticated activity; Entra backends use it.
	return governance.Person{Email: u.Email, Name: u.Name, EntraID: act.From.AadObjectID}, nil
}

// contradictedAfter is how old a record must be before an activity contradicting it has
// it read again, so that something Teams says differently in activities and in member
// records (a name's spelling, the tenant of a guest) costs a lookup a minute at most, not
// one an activity.
const contradictedAfter = time.Minute

// stale says why the member record u (found or not) must be read again before the
// activity is believed, or "" when it need not be: it was never read, it has no e-mail or
// no tenant served (a record made before tenants were checked), it is MemberMaxAge old,
// or the activity contradicts it (another tenant, another name: a person renamed may well
// have a new address).
func (d *Directory) stale(u governance.ChatUser, found bool, act schema.Activity, now time.Time) string {
	age := now.Sub(u.Checked)
	switch {
	case !found:
		return "first seen"
	case u.Email == "" || !d.serves(u.Org):
		return "no e-mail of a tenant served"
	case age >= MemberMaxAge:
		return "read more than a day ago"
	case age < contradictedAfter:
		return ""
	case !strings.EqualFold(Tenant(act), u.Org):
		return "the activity names another tenant"
	case act.From.Name != "" && u.Name != "" && !strings.EqualFold(strings.TrimSpace(act.From.Name), strings.TrimSpace(u.Name)):
		return "the activity names them otherwise"
	}
	return ""
}

// read reads the member record of the activity's sender: who they are in the tenants
// served.
func (d *Directory) read(ctx context.Context, conv Conversation, act schema.Activity) (governance.ChatUser, error) {
	unknown := &governance.Problem{Err: governance.ErrNotFound, Message: voice.TeamsNoEmail}
	m, err := d.conn.Member(ctx, conv, act.From.ID)
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return governance.ChatUser{}, unknown
	}
	if err != nil {
		return governance.ChatUser{}, fmt.Errorf("look up Teams user %s: %w", act.From.ID, err)
	}
	if m.TenantID != "" && !d.serves(m.TenantID) { // an external member of a shared chat or channel
		return governance.ChatUser{}, &governance.Problem{Err: fmt.Errorf("%w: member of %q", ErrTenant, m.TenantID),
			Message: voice.TeamsOtherTenant}
	}
	// The e-mail first: it is the name a person has in Slack and in the catalog's
	// approver lists, and, in the tenants served, our own admins set both it and the UPN.
	email := m.Email
	if email == "" {
		email = m.UserPrincipalName
	}
	if email == "" || !strings.Contains(email, "@") {
		return governance.ChatUser{}, unknown
	}
	u := governance.ChatUser{Platform: Platform, ID: act.From.ID, Email: strings.ToLower(email), Name: m.Name,
		Org: strings.ToLower(cmp.Or(m.TenantID, Tenant(act)))}
	if u.Name == "" {
		u.Name = act.From.Name
	}
	return u, nil
}

// moved records that the Teams user u is now at e-mail to: their old address no longer
// reaches them (unless it names someone else by now), and the change is logged.
func (d *Directory) moved(ctx context.Context, u governance.ChatUser, to, why string) {
	d.log.InfoContext(ctx, "teams member's e-mail changed", "teams_user", u.ID, "from", u.Email, "to", to, "why", why)
	old, ok, err := d.store.ChatUserByEmail(ctx, Platform, u.Email)
	if err == nil && ok && old.ID == u.ID {
		// A record of the address with nobody behind it: Reach finds no conversation.
		err = d.store.SaveChatUser(ctx, governance.ChatUser{Platform: Platform, Email: u.Email}, 0)
	}
	if err != nil {
		d.log.WarnContext(ctx, "teams member's old e-mail still reaches them", "teams_user", u.ID, "email", u.Email, "err", err)
	}
}

// Reach is the personal conversation to reach a person in, if they have talked to the bot
// from a tenant it serves. (A conversation in any other tenant can only have been recorded
// before tenants were checked; it is not used.)
func (d *Directory) Reach(ctx context.Context, email string) (Conversation, governance.ChatUser, bool, error) {
	u, ok, err := d.store.ChatUserByEmail(ctx, Platform, strings.ToLower(email))
	if err != nil || !ok || u.Reach == "" {
		return Conversation{}, u, false, err
	}
	conv, err := decodeConversation(u.Reach)
	if err != nil || !d.serves(conv.TenantID) {
		return Conversation{}, u, false, err
	}
	return conv, u, true, nil
}

func encodeConversation(c Conversation) string {
	b, _ := json.Marshal(c)
	return string(b)
}

func decodeConversation(s string) (Conversation, error) {
	var c Conversation
	if err := json.Unmarshal([]byte(s), &c); err != nil || c.ID == "" || c.ServiceURL == "" {
		return Conversation{}, fmt.Errorf("teams: bad stored conversation %q", s)
	}
	return c, nil
}

// Notifier tells people in Teams: cards to approvers, notices to requesters, alerts to
// the admins' channel. It reaches only people who have installed or messaged the bot
// (Teams cannot message someone by e-mail); Reaches says who they are.
type Notifier struct {
	conn  *Connector
	dir   *Directory
	admin *Conversation
	log   *slog.Logger
}

var _ governance.Notifier = (*Notifier)(nil)

// NewNotifier returns a notifier. admin, if not nil, is the channel escalations go to.
func NewNotifier(conn *Connector, dir *Directory, admin *Conversation, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{conn: conn, dir: dir, admin: admin, log: log}
}

// Name is the platform's name.
func (n *Notifier) Name() string { return Platform }

// Reaches reports whether the person can be messaged in Teams.
func (n *Notifier) Reaches(ctx context.Context, p governance.Person) (bool, error) {
	_, _, ok, err := n.dir.Reach(ctx, p.Email)
	return ok, err
}

// ErrUnreachable is the error for a person who never talked to the bot in Teams.
var ErrUnreachable = errors.New("teams: the person has not installed accessbot in Teams")

func (n *Notifier) send(ctx context.Context, to governance.Person, c Card, summary string) (Conversation, string, error) {
	conv, _, ok, err := n.dir.Reach(ctx, to.Email)
	if err != nil {
		return conv, "", err
	}
	if !ok {
		return conv, "", governance.Permanent(fmt.Errorf("%w: %s", ErrUnreachable, to.Email))
	}
	id, err := n.conn.Send(ctx, conv, Activity(c, summary))
	return conv, id, err
}

// Activity is a message carrying one card; summary is what notifications show, cut at
// 150 characters so that the activity keeps within MaxActivityBytes.
func Activity(c Card, summary string) schema.Activity {
	if r := []rune(summary); len(r) > maxSummary {
		summary = string(r[:maxSummary-1]) + "…"
	}
	return schema.Activity{Type: schema.Message, Summary: summary,
		Attachments: []schema.Attachment{{ContentType: ContentType, Content: c}}}
}

// SendApprovalCard sends r's card to an approver's personal chat.
func (n *Notifier) SendApprovalCard(ctx context.Context, to governance.Person, r *governance.Request) (governance.MessageRef, error) {
	m := voice.CardFor(r, to)
	conv, id, err := n.send(ctx, to, Render(m), Summary(m))
	if err != nil {
		return governance.MessageRef{}, err
	}
	return governance.MessageRef{Platform: Platform, Recipient: to.Email, Channel: encodeConversation(conv), ID: id}, nil
}

// UpdateApprovalCard redraws a card already sent, in place.
func (n *Notifier) UpdateApprovalCard(ctx context.Context, ref governance.MessageRef, r *governance.Request) error {
	conv, err := decodeConversation(ref.Channel)
	if err != nil {
		return governance.Permanent(err)
	}
	m := voice.CardFor(r, governance.Person{Email: ref.Recipient})
	if strings.HasPrefix(ref.Recipient, "admins#") {
		m = voice.AdminAlert(r)
	}
	return n.conn.Update(ctx, conv, ref.ID, Activity(Render(m), Summary(m)))
}

// Notify sends a notice.
func (n *Notifier) Notify(ctx context.Context, to governance.Person, x governance.Notice) error {
	m := voice.Notice(x)
	_, _, err := n.send(ctx, to, Render(m), Summary(m))
	return err
}

// AlertAdmins posts the escalated request, with its buttons, to the admins' channel.
func (n *Notifier) AlertAdmins(ctx context.Context, r *governance.Request) (governance.MessageRef, bool, error) {
	if n.admin == nil {
		return governance.MessageRef{}, false, nil
	}
	m := voice.AdminAlert(r)
	id, err := n.conn.Send(ctx, *n.admin, Activity(Render(m), Summary(m)))
	if err != nil {
		return governance.MessageRef{}, true, err
	}
	return governance.MessageRef{Platform: Platform, Channel: encodeConversation(*n.admin), ID: id}, true, nil
}

// Digest lists what waits for an approver's decision.
func (n *Notifier) Digest(ctx context.Context, to governance.Person, pending []*governance.Request) error {
	m := voice.Digest(pending)
	_, _, err := n.send(ctx, to, Render(m), Summary(m))
	return err
}

// TimeZone is the time zone the person's Teams client last reported.
func (n *Notifier) TimeZone(ctx context.Context, to governance.Person) (*time.Location, error) {
	_, u, _, err := n.dir.Reach(ctx, to.Email)
	if err != nil || u.TimeZone == "" {
		return nil, err
	}
	loc, err := time.LoadLocation(u.TimeZone)
	if err != nil {
		return nil, nil
	}
	return loc, nil
}

// AccountConnected tells a person in their personal chat that their account at backend is connected.
func (n *Notifier) AccountConnected(ctx context.Context, to governance.Person, backend string, as governance.Identity) error {
	m := voice.AccountConnected(backend, as)
	_, _, err := n.send(ctx, to, Render(m), Summary(m))
	return err
}
