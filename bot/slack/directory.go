package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/accessbot/accessbot/bot/voice"
	"github.com/accessbot/accessbot/governance"
)

// UserCache remembers Slack users, so users.info and users.lookupByEmail are asked once a
// day per person rather than on every click. accessbot's Redis store implements it;
// platform is always Platform here.
type UserCache interface {
	ChatUser(ctx context.Context, platform, id string) (governance.ChatUser, bool, error)
	ChatUserByEmail(ctx context.Context, platform, email string) (governance.ChatUser, bool, error)
	SaveChatUser(ctx context.Context, u governance.ChatUser, ttl time.Duration) error
}

// CacheTTL bounds how long a changed e-mail address or name can go unnoticed.
const CacheTTL = 24 * time.Hour

// ErrNoEmail means Slack did not tell a user's e-mail address.
var ErrNoEmail = errors.New("slack user has no visible e-mail address")

// Directory maps Slack users to people (by e-mail) and back. The acting person of every
// command and click is found here from the user id of the signed payload.
type Directory struct {
	api    API
	cache  UserCache
	near   *nearCache // in front of cache: the same people act again and again
	dev    *devPeople // development mode; nil otherwise
	log    *slog.Logger
	guests Guests

	wsMu sync.Mutex
	ws   Workspaces // what is served; learned from auth.test on first need when none is configured
}

// nearTTL is how long this process trusts what it read from the shared cache; a change in
// Slack reaches every replica within CacheTTL + nearTTL.
const nearTTL = time.Minute

// nearCache is a small in-process cache of chat users by id and by e-mail; each hit
// saves a Redis round trip on a command or a delivery. It forgets everything when full.
type nearCache struct {
	mu  sync.Mutex
	m   map[nearKey]nearEntry
	max int
}

// nearKey is what nearCache keeps a user under: their user id, or their e-mail address.
type nearKey struct {
	email bool
	s     string
}

func idKey(id string) nearKey { return nearKey{s: id} }

func emailKey(email string) nearKey { return nearKey{email: true, s: email} }

type nearEntry struct {
	u  governance.ChatUser
	at time.Time
}

func (c *nearCache) get(key nearKey) (governance.ChatUser, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || time.Since(e.at) > nearTTL {
		return governance.ChatUser{}, false
	}
	return e.u, true
}

func (c *nearCache) put(u governance.ChatUser) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	now := time.Now()
	c.m[idKey(u.ID)] = nearEntry{u, now}
	c.m[emailKey(u.Email)] = nearEntry{u, now}
}

// DirectoryOption tunes a Directory.
type DirectoryOption func(*Directory)

// WithDirectoryLogger sets where cache failures are logged; default slog.Default().
func WithDirectoryLogger(l *slog.Logger) DirectoryOption { return func(d *Directory) { d.log = l } }

// WithWorkspaces names the workspaces and org served. Without it (or with nothing named)
// a Directory over Slack serves the bot token's workspace, which it asks auth.test for
// on first need; a development Directory serves every workspace.
func WithWorkspaces(w Workspaces) DirectoryOption { return func(d *Directory) { d.ws = w } }

// WithGuests says what Slack's guests may do; default GuestsRequest.
func WithGuests(g Guests) DirectoryOption {
	return func(d *Directory) {
		if g != "" {
			d.guests = g
		}
	}
}

// NewDirectory looks people up in Slack (users.info, users.lookupByEmail), caching what
// it learns in cache for CacheTTL.
func NewDirectory(api API, cache UserCache, opts ...DirectoryOption) *Directory {
	d := &Directory{api: api, cache: cache, near: &nearCache{m: map[nearKey]nearEntry{}, max: 20000}, log: slog.Default(),
		guests: GuestsRequest}
	for _, o := range opts {
		o(d)
	}
	return d
}

// NewDevDirectory needs no Slack, for development and the demo only. users maps a user id
// to an e-mail address or to "Name <e-mail>"; an id not in it, such as U123ALICE, is
// u123alice@example.com, named by its id. An e-mail maps back to the id in users, or else
// to the upper-cased local part (alice@example.com → ALICE).
func NewDevDirectory(users map[string]string, opts ...DirectoryOption) *Directory {
	d := &Directory{dev: newDevPeople(users), log: slog.Default(), guests: GuestsRequest}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Workspaces is what the Directory serves: as configured, or else the bot token's
// workspace (auth.test, asked once it succeeds). A development Directory with nothing
// configured answers the zero Workspaces, and serves every workspace.
func (d *Directory) Workspaces(ctx context.Context) (Workspaces, error) {
	d.wsMu.Lock()
	defer d.wsMu.Unlock()
	if !d.ws.IsZero() || d.dev != nil {
		return d.ws, nil
	}
	ws, err := tokenWorkspaces(ctx, d.api)
	if err != nil {
		return Workspaces{}, err
	}
	d.log.InfoContext(ctx, "slack: serving the bot token's workspace (set slack.teams to name it)", "workspaces", ws.String())
	d.ws = ws
	return ws, nil
}

// Admit returns nil when a signed request is accessbot's to answer: it comes from a served
// workspace (team, in org enterprise), and its user (userTeam, the user.team_id of an
// interaction payload, "" when the payload has none) is of a served workspace or of that
// org. Otherwise it returns the refusal to show (a *governance.Problem wrapping
// ErrOtherWorkspace or ErrExternalUser); nobody is looked up. When the token's workspace
// cannot be learned the error says why, and the request is refused, never served by default.
func (d *Directory) Admit(ctx context.Context, team, enterprise, userTeam string) error {
	ws, err := d.Workspaces(ctx)
	switch {
	case err != nil:
		return err
	case d.dev != nil && ws.IsZero():
		return nil
	case !ws.Serves(team, enterprise):
		return &governance.Problem{Err: fmt.Errorf("%w: team %q, enterprise %q", ErrOtherWorkspace, team, enterprise),
			Message: voice.SlackOtherWorkspace}
	// On Enterprise Grid user.team_id is the org's id (E…), which is the payload's own.
	case userTeam != "" && !ws.Includes(userTeam) && userTeam != enterprise:
		return &governance.Problem{Err: fmt.Errorf("%w: user of team %q", ErrExternalUser, userTeam),
			Message: voice.SlackExternalUser}
	}
	return nil
}

// Actor returns the person acting behind a Slack user id taken from a signed payload:
// refused when Slack says they are of another workspace or org (Slack Connect),
// deactivated, a bot or an app, or a guest where guests are refused; a guest otherwise
// acts with Actor.Guest set.
func (d *Directory) Actor(ctx context.Context, userID string) (governance.Actor, error) {
	u, err := d.user(ctx, userID, true)
	if err != nil {
		return governance.Actor{}, err
	}
	if u.Guest && d.guests == GuestsRefuse {
		return governance.Actor{}, refusal(ErrGuest, userID)
	}
	return governance.Actor{Person: governance.Person{Email: u.Email, Name: u.Name}, Platform: Platform, ChatID: userID,
		Guest: u.Guest}, nil
}

// Person returns the person a Slack user id names, such as the holder in "revoke vpn from
// @bob": refused when they are of another workspace or org, whose e-mail address is not
// this organisation's to vouch for; a deactivated person is still named.
func (d *Directory) Person(ctx context.Context, userID string) (governance.Person, error) {
	u, err := d.user(ctx, userID, false)
	return governance.Person{Email: u.Email, Name: u.Name}, err
}

// user finds the Slack user behind userID: from the caches when they are of a served
// workspace, else from users.info. Bots and apps are refused; a deactivated user is
// refused when acting and never cached.
func (d *Directory) user(ctx context.Context, userID string, acting bool) (governance.ChatUser, error) {
	if userID == "" {
		return governance.ChatUser{}, errors.New("the Slack payload names no user")
	}
	if d.dev != nil {
		p := d.dev.person(userID)
		return governance.ChatUser{Platform: Platform, ID: userID, Email: p.Email, Name: p.Name}, nil
	}
	ws, err := d.Workspaces(ctx)
	if err != nil {
		return governance.ChatUser{}, err
	}
	if u, ok := d.cached(ctx, ws, idKey(userID), d.cache.ChatUser); ok {
		return u, nil
	}
	info, err := d.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		return governance.ChatUser{}, userLookupError(userID, err)
	}
	u, err := fromSlack(info, ws)
	switch {
	case err != nil:
		return governance.ChatUser{}, err
	case info.Deleted && acting:
		return governance.ChatUser{}, refusal(ErrDeactivated, userID)
	case info.Deleted: // named, not remembered: the cache would let them act
		return u, nil
	}
	d.save(ctx, u)
	return u, nil
}

// SawHome records that the Slack user userID opened accessbot's Home tab now. Their
// record is read from Slack afresh as it is kept, so that keeping it longer never keeps a
// changed e-mail address longer than CacheTTL.
func (d *Directory) SawHome(ctx context.Context, userID string) error {
	if d.dev != nil {
		return nil
	}
	ws, err := d.Workspaces(ctx)
	if err != nil {
		return err
	}
	info, err := d.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		return userLookupError(userID, err)
	}
	u, err := fromSlack(info, ws)
	if err != nil || info.Deleted {
		return err
	}
	u.HomeSeen = time.Now()
	d.save(ctx, u)
	return nil
}

// HomeSeen is when the person with this e-mail last opened accessbot's Home tab, as far
// as their kept record says; zero when it does not (or Slack does not know them).
func (d *Directory) HomeSeen(ctx context.Context, email string) (time.Time, error) {
	if d.dev != nil {
		return time.Time{}, nil
	}
	u, err := d.byEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if governance.IsPermanent(err) {
		return time.Time{}, nil
	}
	return u.HomeSeen, err
}

// ignoresHome reports whether the person with this e-mail surely has not opened
// accessbot's Home tab within HomeWatch (at now), from the in-process cache alone: HomeSeen
// would read the same record there. False when the record is not cached, or is of a
// workspace not served (HomeSeen would look further).
func (d *Directory) ignoresHome(email string, now time.Time) bool {
	if d.dev != nil {
		return true // development mode draws no Home tab (HomeSeen is always zero)
	}
	d.wsMu.Lock()
	ws := d.ws
	d.wsMu.Unlock()
	u, ok := d.near.get(emailKey(strings.ToLower(strings.TrimSpace(email))))
	return ok && !ws.IsZero() && ws.Includes(u.Org) && (u.HomeSeen.IsZero() || now.Sub(u.HomeSeen) >= HomeWatch)
}

// UserID returns the Slack user id of the person with this e-mail address. Errors that
// no retry can fix (nobody in Slack has the address) are governance.Permanent.
func (d *Directory) UserID(ctx context.Context, email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if d.dev != nil {
		return d.dev.id(email), nil
	}
	u, err := d.byEmail(ctx, email)
	return u.ID, err
}

// TimeZone is the time zone Slack shows the person with this e-mail in; nil when Slack
// does not say (or in development mode).
func (d *Directory) TimeZone(ctx context.Context, email string) (*time.Location, error) {
	if d.dev != nil {
		return nil, nil
	}
	u, err := d.byEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if err != nil || u.TimeZone == "" {
		return nil, err
	}
	loc, err := time.LoadLocation(u.TimeZone)
	if err != nil {
		return nil, nil // a zone this machine does not know: fall back to the default
	}
	return loc, nil
}

// byEmail finds a Slack user by e-mail, from the cache or users.lookupByEmail.
func (d *Directory) byEmail(ctx context.Context, email string) (governance.ChatUser, error) {
	ws, err := d.Workspaces(ctx)
	if err != nil {
		return governance.ChatUser{}, err
	}
	if u, ok := d.cached(ctx, ws, emailKey(email), d.cache.ChatUserByEmail); ok {
		return u, nil
	}
	info, err := d.api.GetUserByEmailContext(ctx, email)
	if err != nil {
		return governance.ChatUser{}, fmt.Errorf("users.lookupByEmail %s: %w", email, classify(err))
	}
	// Someone of another workspace or org with this address is not the person the
	// configuration names: they get no card and no notice.
	u, err := fromSlack(info, ws)
	if err == nil && info.Deleted {
		err = refusal(ErrDeactivated, info.ID)
	}
	if err != nil {
		return governance.ChatUser{}, governance.Permanent(fmt.Errorf("users.lookupByEmail %s: %w", email, err))
	}
	d.save(ctx, u)
	return u, nil
}

// readCache is how the shared cache is read by id or by e-mail (UserCache.ChatUser,
// UserCache.ChatUserByEmail).
type readCache func(ctx context.Context, platform, key string) (governance.ChatUser, bool, error)

// cached is the user this process keeps under key, or else the one read from the shared
// cache, when they belong to a workspace in ws; ok is false when Slack must be asked. A
// record from before workspaces were checked (no Org), or of a workspace no longer served,
// is asked about again.
func (d *Directory) cached(ctx context.Context, ws Workspaces, key nearKey, read readCache) (governance.ChatUser, bool) {
	if u, ok := d.near.get(key); ok && ws.Includes(u.Org) {
		return u, true // a person who acts again: nothing allocated, nothing asked
	}
	return d.shared(ctx, ws, key, read)
}

// shared is the user read from the shared cache under key, as cached says; a failed read
// only costs that lookup, and is logged with whom it was about.
func (d *Directory) shared(ctx context.Context, ws Workspaces, key nearKey, read readCache) (governance.ChatUser, bool) {
	u, ok, err := read(ctx, Platform, key.s)
	if err != nil {
		who := "user"
		if key.email {
			who = "email"
		}
		d.log.WarnContext(ctx, "slack user cache read failed; asking Slack", who, key.s, "err", err)
		return governance.ChatUser{}, false
	}
	if !ok || !ws.Includes(u.Org) {
		return governance.ChatUser{}, false
	}
	d.near.put(u)
	return u, true
}

// save caches u; a failed write costs only a lookup next time, so it is logged, not returned.
func (d *Directory) save(ctx context.Context, u governance.ChatUser) {
	d.near.put(u)
	if err := d.cache.SaveChatUser(ctx, u, CacheTTL); err != nil {
		d.log.WarnContext(ctx, "slack user cache write failed", "user", u.ID, "err", err)
	}
}

// userLookupError explains a failed users.info: a person acting in Slack is told what is
// wrong when it is something an admin can fix.
func userLookupError(userID string, err error) error {
	switch slackError(err) {
	case "missing_scope":
		return &governance.Problem{Err: err, Message: voice.SlackNoScope}
	case "user_not_found":
		return &governance.Problem{Err: err, Message: voice.SlackUnknownUser(userID)}
	}
	return fmt.Errorf("users.info %s: %w", userID, classify(err))
}

// fromSlack is the Slack user info as a ChatUser, provided they are a person of a served
// workspace or org: Org is where they were found, Guest what Slack says of them.
func fromSlack(info *slackapi.User, ws Workspaces) (governance.ChatUser, error) {
	home, ok := ws.member(info)
	switch {
	case !ok:
		return governance.ChatUser{}, refusal(ErrExternalUser, info.ID)
	case info.IsBot || info.IsAppUser:
		return governance.ChatUser{}, refusal(ErrBotUser, info.ID)
	}
	u, err := chatUser(info)
	if err != nil {
		return u, err
	}
	u.Org, u.Guest = home, info.IsRestricted || info.IsUltraRestricted
	return u, nil
}

func chatUser(info *slackapi.User) (governance.ChatUser, error) {
	email := strings.ToLower(strings.TrimSpace(info.Profile.Email))
	if email == "" {
		return governance.ChatUser{}, &governance.Problem{Err: ErrNoEmail, Message: voice.SlackNoEmail}
	}
	name := info.RealName
	if name == "" {
		name = info.Profile.RealName
	}
	if name == "" {
		name = info.Profile.DisplayName
	}
	return governance.ChatUser{Platform: Platform, ID: info.ID, Email: email, Name: name, TimeZone: info.TZ}, nil
}

// devPeople is the development mode's idea of who is who, shared by the dev Directory and
// the Transcript so both tell the same story.
type devPeople struct {
	byID    map[string]governance.Person
	byEmail map[string]string
}

// newDevPeople reads users (id → "e-mail" or "Name <e-mail>"); a value that is neither is
// taken as the e-mail address as written, since development mode sends nothing to it.
func newDevPeople(users map[string]string) *devPeople {
	p := &devPeople{byID: map[string]governance.Person{}, byEmail: map[string]string{}}
	for id, v := range users {
		person, err := governance.ParsePerson(v)
		if err != nil {
			person = governance.Person{Email: strings.ToLower(strings.TrimSpace(v))}
		}
		id = strings.ToUpper(strings.TrimSpace(id))
		if person.Name == "" {
			person.Name = id
		}
		p.byID[id] = person
		p.byEmail[person.Email] = id
	}
	return p
}

func (p *devPeople) person(id string) governance.Person {
	id = strings.ToUpper(id)
	if person, ok := p.byID[id]; ok {
		return person
	}
	return governance.Person{Email: strings.ToLower(id) + "@example.com", Name: id}
}

func (p *devPeople) id(email string) string {
	email = strings.ToLower(email)
	if id, ok := p.byEmail[email]; ok {
		return id
	}
	local, _, _ := strings.Cut(email, "@")
	return strings.ToUpper(local)
}
