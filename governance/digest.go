package governance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Digest sends each approver who has requests waiting a list of them, with working
// buttons. Run from a cron schedule: every replica runs it, and each approver's digest for
// this tick (the current minute) is claimed once, so it goes out once. It returns how many
// digests this replica sent.
func (s *Service) Digest(ctx context.Context) (int, error) {
	tick := s.clock.Now().UTC().Format("2006-01-02T15:04")
	sent := 0
	var errs []error
	for _, p := range s.knownApprovers() {
		pending, err := s.PendingFor(ctx, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("pending for %s: %w", p.Email, err))
			continue
		}
		if len(pending) == 0 {
			continue
		}
		first, err := s.store.ClaimOnce(ctx, "digest:"+tick+":"+p.Email, 24*time.Hour)
		if err != nil || !first {
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := s.notifier.Digest(ctx, p, pending); err != nil {
			// A digest is a summary of what the cards already say: logged, not retried.
			s.log.WarnContext(ctx, "digest not delivered", "to", p.Email, "err", err)
			errs = append(errs, err)
			continue
		}
		sent++
	}
	return sent, errors.Join(errs...)
}

// knownApprovers are the people who can have requests waiting for them: the catalog's
// approvers and the fallback approver. (Admins decide escalated requests from the alert.)
func (s *Service) knownApprovers() []Person {
	var out []Person
	add := func(p Person) {
		p.Email = strings.ToLower(p.Email)
		if p.Email != "" && !slices.ContainsFunc(out, p.Is) {
			out = append(out, p)
		}
	}
	for _, it := range s.catalog.Items() {
		for _, a := range it.Approvers {
			add(a)
		}
		for _, st := range it.Stages {
			for _, a := range st.Approvers {
				if ms, ok := s.groups.members(a.Group); ok && a.Kind == ApproverGroup {
					for _, m := range ms {
						add(m)
					}
				}
			}
		}
	}
	add(Person{Email: s.schedule.FallbackApprover})
	return out
}
