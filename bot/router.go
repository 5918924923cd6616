// Package bot joins the chat platforms into the one Notifier the governance service
// sees: each person is told on the platform that reaches them, and a card is updated on
// the platform it was sent on. The platforms themselves live in bot/slack and bot/teams.
package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/accessbot/accessbot/governance"
)

// Reacher is a platform that reaches only some people (Teams: those who installed the
// bot), and says whether it reaches one.
type Reacher interface {
	governance.Notifier
	Name() string
	Reaches(ctx context.Context, p governance.Person) (bool, error)
}

// Router is a governance.Notifier over several platforms. A person is told on the first
// preferred platform that reaches them, else on the fallback platform (which reaches
// everyone it can look up by e-mail: Slack). Admin alerts go to the first platform with
// an admin channel, preferred ones first.
type Router struct {
	preferred []Reacher
	fallback  governance.Notifier
	byName    map[string]governance.Notifier
}

var (
	_ governance.Notifier        = (*Router)(nil)
	_ governance.HomePublisher   = (*Router)(nil)
	_ governance.HomeIgnorer     = (*Router)(nil)
	_ governance.ChannelNotifier = (*Router)(nil)
)

// NewRouter routes to preferred platforms first and to fallback (named fallbackName, may be
// nil) otherwise.
func NewRouter(fallbackName string, fallback governance.Notifier, preferred ...Reacher) *Router {
	r := &Router{preferred: preferred, fallback: fallback, byName: map[string]governance.Notifier{}}
	if fallback != nil {
		r.byName[fallbackName] = fallback
	}
	for _, p := range preferred {
		r.byName[p.Name()] = p
	}
	return r
}

// For returns the platform that reaches p.
func (r *Router) For(ctx context.Context, p governance.Person) (governance.Notifier, error) {
	for _, pl := range r.preferred {
		ok, err := pl.Reaches(ctx, p)
		if err != nil {
			return nil, err
		}
		if ok {
			return pl, nil
		}
	}
	if r.fallback == nil {
		return nil, governance.Permanent(fmt.Errorf("no chat platform reaches %s: they need to open a chat with accessbot first", p.Email))
	}
	return r.fallback, nil
}

// SendApprovalCard sends the card where the approver is.
func (r *Router) SendApprovalCard(ctx context.Context, to governance.Person, req *governance.Request) (governance.MessageRef, error) {
	n, err := r.For(ctx, to)
	if err != nil {
		return governance.MessageRef{}, err
	}
	return n.SendApprovalCard(ctx, to, req)
}

// UpdateApprovalCard updates a card on the platform it was sent on.
func (r *Router) UpdateApprovalCard(ctx context.Context, ref governance.MessageRef, req *governance.Request) error {
	n, ok := r.byName[ref.Platform]
	if !ok {
		return governance.Permanent(fmt.Errorf("card %s was sent on %q, which is not configured", ref.ID, ref.Platform))
	}
	return n.UpdateApprovalCard(ctx, ref, req)
}

// Notify tells the person where they are.
func (r *Router) Notify(ctx context.Context, to governance.Person, x governance.Notice) error {
	n, err := r.For(ctx, to)
	if err != nil {
		return err
	}
	return n.Notify(ctx, to, x)
}

// AlertAdmins alerts on the first platform with an admin channel.
func (r *Router) AlertAdmins(ctx context.Context, req *governance.Request) (governance.MessageRef, bool, error) {
	for _, p := range r.preferred {
		if ref, ok, err := p.AlertAdmins(ctx, req); ok || err != nil {
			return ref, ok, err
		}
	}
	if r.fallback == nil {
		return governance.MessageRef{}, false, nil
	}
	return r.fallback.AlertAdmins(ctx, req)
}

// Digest sends the digest where the approver is.
func (r *Router) Digest(ctx context.Context, to governance.Person, pending []*governance.Request) error {
	n, err := r.For(ctx, to)
	if err != nil {
		return err
	}
	return n.Digest(ctx, to, pending)
}

// TimeZone asks the platform that reaches the person.
func (r *Router) TimeZone(ctx context.Context, to governance.Person) (*time.Location, error) {
	n, err := r.For(ctx, to)
	if err != nil {
		return nil, err
	}
	return n.TimeZone(ctx, to)
}

var _ governance.AccountNotifier = (*Router)(nil)

// AccountConnected tells the person where they are; a platform that cannot tell it
// (no such message) is skipped for the fallback.
func (r *Router) AccountConnected(ctx context.Context, to governance.Person, backend string, as governance.Identity) error {
	n, err := r.For(ctx, to)
	if err != nil {
		return err
	}
	an, ok := n.(governance.AccountNotifier)
	if !ok {
		return fmt.Errorf("the chat platform that reaches %s cannot tell about connected accounts", to.Email)
	}
	return an.AccountConnected(ctx, to, backend, as)
}

// PublishHome draws the person's home view on every platform that shows one (Slack's App
// Home), wherever they hear otherwise: a home is where they look, not where they are told.
func (r *Router) PublishHome(ctx context.Context, to governance.Person, h governance.Home) error {
	var errs []error
	for _, n := range r.byName {
		if hp, ok := n.(governance.HomePublisher); ok {
			errs = append(errs, hp.PublishHome(ctx, to, h))
		}
	}
	return errors.Join(errs...)
}

// SendChannelCard posts the card to an approval channel on the platform its name says
// ("slack:C…", "teams:19:…").
func (r *Router) SendChannelCard(ctx context.Context, channel string, req *governance.Request) (governance.MessageRef, error) {
	platform, _, _ := strings.Cut(channel, ":")
	cn, ok := r.byName[platform].(governance.ChannelNotifier)
	if !ok {
		return governance.MessageRef{}, governance.Permanent(fmt.Errorf("approval channel %s of %s is on %q, which is not configured",
			channel, req.Item.ID, platform))
	}
	return cn.SendChannelCard(ctx, channel, req)
}

// ChannelNote records a notice in the thread of a channel card, on its platform.
func (r *Router) ChannelNote(ctx context.Context, ref governance.MessageRef, n governance.Notice) error {
	cn, ok := r.byName[ref.Platform].(governance.ChannelNotifier)
	if !ok {
		return governance.Permanent(fmt.Errorf("card %s was sent on %q, which is not configured", ref.ID, ref.Platform))
	}
	return cn.ChannelNote(ctx, ref, n)
}

// IgnoresHome reports whether every platform that shows home views knows, without asking
// anyone, that the person does not watch theirs now.
func (r *Router) IgnoresHome(to governance.Person) bool {
	for _, n := range r.byName {
		if _, ok := n.(governance.HomePublisher); !ok {
			continue
		}
		if hi, ok := n.(governance.HomeIgnorer); !ok || !hi.IgnoresHome(to) {
			return false
		}
	}
	return true
}

// Watches reports whether the person opened their home view lately on any platform.
func (r *Router) Watches(ctx context.Context, to governance.Person) (bool, error) {
	for _, n := range r.byName {
		if hp, ok := n.(governance.HomePublisher); ok {
			if w, err := hp.Watches(ctx, to); err != nil || w {
				return w, err
			}
		}
	}
	return false, nil
}
