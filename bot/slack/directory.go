package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/accessbot/accessbot/governance"
)

// Platform is the name accessbot uses for Slack in message references and caches.
const Platform = "slack"

// UserCache remembers Slack users, so users.info and users.lookupByEmail are asked once a
// day per person rather than on every click. accessbot's Store implements it.
type UserCache interface {
	ChatUser(ctx context.Context, platform, id string) (governance.ChatUser, bool, error)
	ChatUserByEmail(ctx context.Context, platform, email string) (governance.ChatUser, bool, error)
	SaveChatUser(ctx context.Context, u governance.ChatUser, ttl time.Duration) error
}

// cacheTTL bounds how long a changed e-mail or name can go unnoticed.
const cacheTTL = 24 * time.Hour

// ErrNoEmail means Slack did not tell a user's e-mail address.
var ErrNoEmail = errors.New("slack user has no visible e-mail")

// Directory maps Slack users to people (by e-mail) and back.
type Directory struct {
	api   API
	cache UserCache
	dev   map[string]string // development mode: user id → e-mail; nil otherwise
}

// NewDirectory looks people up in Slack, caching what it learns.
func NewDirectory(api API, cache UserCache) *Directory { return &Directory{api: api, cache: cache} }

// NewDevDirectory needs no Slack: user id U123 is users[U123] if given, else
// u123@example.com, and the reverse for e-mails. For development and the demo only.
func NewDevDirectory(users map[string]string) *Directory {
	m := map[string]string{}
	for id, email := range users {
		m[strings.ToUpper(id)] = strings.ToLower(email)
	}
	return &Directory{dev: m}
}

// Person returns the person behind a Slack user id (taken from a signed payload).
func (d *Directory) Person(ctx context.Context, userID string) (governance.Person, error) {
	if d.dev != nil {
		id := strings.ToUpper(userID)
		email, ok := d.dev[id]
		if !ok {
			email = strings.ToLower(id) + "@example.com"
		}
		return governance.Person{Email: email, Name: devName(id)}, nil
	}
	if u, ok, err := d.cache.ChatUser(ctx, Platform, userID); err == nil && ok {
		return governance.Person{Email: u.Email, Name: u.Name}, nil
	}
	info, err := d.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		return governance.Person{}, fmt.Errorf("users.info %s: %w", userID, err)
	}
	u, err := chatUser(info)
	if err != nil {
		return governance.Person{}, err
	}
	_ = d.cache.SaveChatUser(ctx, u, cacheTTL) // a cache write failure only costs a lookup
	return governance.Person{Email: u.Email, Name: u.Name}, nil
}

// UserID returns the Slack user id of the person with this e-mail address.
func (d *Directory) UserID(ctx context.Context, email string) (string, error) {
	email = strings.ToLower(email)
	if d.dev != nil {
		for id, e := range d.dev {
			if e == email {
				return id, nil
			}
		}
		local, _, _ := strings.Cut(email, "@")
		return strings.ToUpper(local), nil
	}
	if u, ok, err := d.cache.ChatUserByEmail(ctx, Platform, email); err == nil && ok {
		return u.ID, nil
	}
	info, err := d.api.GetUserByEmailContext(ctx, email)
	if err != nil {
		return "", fmt.Errorf("users.lookupByEmail %s: %w", email, classify(err))
	}
	u, err := chatUser(info)
	if err != nil {
		return "", governance.Permanent(err)
	}
	_ = d.cache.SaveChatUser(ctx, u, cacheTTL)
	return u.ID, nil
}

func chatUser(info *slackapi.User) (governance.ChatUser, error) {
	email := strings.ToLower(info.Profile.Email)
	if email == "" {
		return governance.ChatUser{}, &governance.Problem{Err: ErrNoEmail, Message: "Slack does not tell me your e-mail address, so I cannot tell who you are. " +
			"Ask your Slack admin to give accessbot the users:read.email scope (bots and guests without e-mail cannot use accessbot)."}
	}
	name := info.RealName
	if name == "" {
		name = info.Profile.DisplayName
	}
	return governance.ChatUser{Platform: Platform, ID: info.ID, Email: email, Name: name, TimeZone: info.TZ}, nil
}

func devName(id string) string {
	if id == "" {
		return id
	}
	return id[:1] + strings.ToLower(id[1:])
}
