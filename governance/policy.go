package governance

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ApproverKind is what an approver entry of a stage names.
type ApproverKind string

// The approver kinds a stage may list (docs/configuration.md, "Approval stages").
const (
	ApproverPerson  ApproverKind = "person"  // an e-mail address
	ApproverGroup   ApproverKind = "group"   // group:<name>, a group of the configuration
	ApproverManager ApproverKind = "manager" // the requester's manager
	ApproverOwner   ApproverKind = "owner"   // the item's owner
)

// Approver is one entry of a stage's approvers as the configuration writes it.
type Approver struct {
	Kind   ApproverKind
	Person Person // ApproverPerson
	Group  string // ApproverGroup
}

// String is the entry as the configuration writes it.
func (a Approver) String() string {
	switch a.Kind {
	case ApproverPerson:
		return a.Person.Email
	case ApproverGroup:
		return "group:" + a.Group
	}
	return string(a.Kind)
}

// ParseApprover reads one approver entry: an e-mail address ("Alice <alice@example.com>"),
// "manager", "owner" or "group:<name>".
func ParseApprover(s string) (Approver, error) {
	t := strings.TrimSpace(s)
	switch low := strings.ToLower(t); {
	case low == "manager":
		return Approver{Kind: ApproverManager}, nil
	case low == "owner":
		return Approver{Kind: ApproverOwner}, nil
	case strings.HasPrefix(low, "group:"):
		name := strings.TrimSpace(t[len("group:"):])
		if name == "" {
			return Approver{}, fmt.Errorf("%q names no group; write group:<name> with a group defined under groups", s)
		}
		return Approver{Kind: ApproverGroup, Group: name}, nil
	case low == "requester" || low == "self":
		return Approver{}, fmt.Errorf("%q cannot approve: nobody may approve their own request; name someone else", s)
	case !strings.Contains(t, "@"):
		return Approver{}, fmt.Errorf("%q is not an approver kind; write an e-mail address, manager, owner or group:<name>", s)
	}
	p, err := ParsePerson(t)
	if err != nil {
		return Approver{}, err
	}
	return Approver{Kind: ApproverPerson, Person: p}, nil
}

// StagePolicy is one stage of an item's approval: who may approve, and how many different
// people of them must.
type StagePolicy struct {
	Name      string
	Approvers []Approver
	Required  int // default 1
}

// Groups are the groups of people the configuration defines, by name.
type Groups map[string][]Person

// members lists group name's people; ok is false when no such group is defined.
func (g Groups) members(name string) ([]Person, bool) {
	for n, ps := range g {
		if strings.EqualFold(n, name) {
			return ps, true
		}
	}
	return nil, false
}

// OwnerFinder is what a Backend may also offer: who owns an item of its catalog.
type OwnerFinder interface {
	Owner(ctx context.Context, item ItemRef) (owner Person, ok bool, err error)
}

// GroupFinder is what a Backend may also offer: the members of one of its own groups, by
// name (SailPoint's governance groups), for group:<name> approvers the configuration does
// not define.
type GroupFinder interface {
	MembersOf(ctx context.Context, name string) (members []Person, ok bool, err error)
}

// PolicyOptions is what checking a catalog's approvals needs to know beyond the catalog.
type PolicyOptions struct {
	Groups Groups
	// Managers: the configuration lists managers, so any item may name the manager.
	Managers bool
	// ManagerBackends are the backends (by name) that can tell a person's manager.
	ManagerBackends []string
	// Owners are the backends (by name) that can tell an item's owner.
	Owners []string
	// GroupBackends are the backends (by name) whose own groups group:<name> may name.
	GroupBackends []string
	// PagerDuty: PagerDuty is configured, for on-call auto-approval rules.
	PagerDuty bool
}

// CheckPolicies checks every item's approval stages against the groups and what can tell
// managers and owners: each stage must be decidable by somebody other than the requester.
// Every problem is reported, each naming its item and stage.
func CheckPolicies(c *Catalog, o PolicyOptions) []error {
	var errs []error
	for _, it := range c.items {
		errs = append(errs, checkAutoRules(it, o)...)
		for i, st := range it.Stages {
			where := fmt.Sprintf("catalog item %s, approval stage %d (%s)", it.ID, i+1, st.Name)
			var people []Person
			dynamic, open := 0, false
			for _, a := range st.Approvers {
				switch a.Kind {
				case ApproverPerson:
					people = appendPerson(people, a.Person)
				case ApproverGroup:
					ms, ok := o.Groups.members(a.Group)
					switch {
					case !ok && slices.Contains(o.GroupBackends, it.Backend):
						open = true // the backend's group, whose members are read when a request is made
					case !ok:
						errs = append(errs, fmt.Errorf("%s: group:%s is not defined; add it under groups, or fix the name", where, a.Group))
					case len(ms) == 0:
						errs = append(errs, fmt.Errorf("%s: group:%s has no members; add its people under groups", where, a.Group))
					}
					for _, m := range ms {
						people = appendPerson(people, m)
					}
				case ApproverManager:
					dynamic++
					if !o.Managers && !slices.Contains(o.ManagerBackends, it.Backend) {
						errs = append(errs, fmt.Errorf("%s: manager, but nothing can tell accessbot who a requester's manager is; "+
							"backend %s does not know managers; list them under managers (or in managersFile)", where, it.Backend))
					}
				case ApproverOwner:
					dynamic++
					if it.Owner.Email == "" && !slices.Contains(o.Owners, it.Backend) {
						errs = append(errs, fmt.Errorf("%s: owner, but backend %s does not tell item owners; set owner: on the item", where, it.Backend))
					}
				}
			}
			possible := len(people) + dynamic
			switch {
			case st.Required < 1:
				errs = append(errs, fmt.Errorf("%s: required is %d; it must be 1 or more", where, st.Required))
			case st.Required > possible && !open:
				errs = append(errs, fmt.Errorf("%s: required is %d, but only %d different people can approve it; lower required or add approvers",
					where, st.Required, possible))
			case dynamic == 0 && len(people) == 1 && len(it.Stages) > 1 && onlyApproverElsewhere(it, i, people[0]):
				// A one-person stage whose person is the only approver of another stage too:
				// whoever asks, one of the two stages could be decided only by them.
				errs = append(errs, fmt.Errorf("%s: %s is the only approver of this stage and of another, and nobody decides twice: "+
					"once they approved one stage, the other could only be decided by them again (and when they ask, by the requester); "+
					"add a second approver to one of the stages", where, people[0].Email))
			}
		}
	}
	return errs
}

// onlyApproverElsewhere reports whether p is the only approver of a stage of it other
// than stage skip, and that stage names nobody else who could decide.
func onlyApproverElsewhere(it Item, skip int, p Person) bool {
	for j, st := range it.Stages {
		if j == skip || len(st.Approvers) != 1 {
			continue
		}
		if a := st.Approvers[0]; a.Kind == ApproverPerson && a.Person.Is(p) {
			return true
		}
	}
	return false
}

func appendPerson(ps []Person, p Person) []Person {
	p.Email = strings.ToLower(p.Email)
	if p.Email == "" || slices.ContainsFunc(ps, p.Is) {
		return ps
	}
	return append(ps, p)
}

// Stage is one stage of a request's approval, resolved to people when the request was made.
type Stage struct {
	Name      string   `json:"name,omitempty"`
	Approvers []Person `json:"approvers"`
	Required  int      `json:"required"`
}

// resolveStages turns item's approval stages into the people who may decide each for
// requester: e-mails as written, groups by their members, the requester's manager and the
// item's owner as the backend (or the configuration) tells. The requester, and whoever
// asked on their behalf, are never among them. A stage that fewer people than it requires could decide is refused, saying why.
func (s *Service) resolveStages(ctx context.Context, item Item, requester Person, askedBy *Person) ([]Stage, error) {
	out := make([]Stage, 0, len(item.Stages))
	for i, sp := range item.Stages {
		st := Stage{Name: sp.Name, Required: max(sp.Required, 1)}
		self, unknown := false, ""
		add := func(p Person) {
			if p.Is(requester) || (askedBy != nil && p.Is(*askedBy)) {
				self = true
				return
			}
			st.Approvers = appendPerson(st.Approvers, p)
		}
		for _, a := range sp.Approvers {
			switch a.Kind {
			case ApproverPerson:
				add(a.Person)
			case ApproverGroup:
				ms, ok := s.groups.members(a.Group)
				if gf, backend := s.backends[item.Backend].(GroupFinder); !ok && backend {
					var err error
					if err = s.call(item.Backend, "group", func() (err error) {
						ms, ok, err = gf.MembersOf(ctx, a.Group)
						return err
					}); err != nil {
						return nil, err
					}
					if !ok {
						unknown = fmt.Sprintf("%s has no group called %s", BackendTitle(item.Backend), a.Group)
					}
				}
				for _, m := range ms {
					add(m)
				}
			case ApproverManager:
				m, ok, err := s.managerOf(ctx, item.Backend, requester.Email)
				if err != nil {
					return nil, err
				}
				if ok {
					add(m)
				} else {
					unknown = "accessbot does not know your manager"
				}
			case ApproverOwner:
				o, ok, err := s.ownerOf(ctx, item)
				if err != nil {
					return nil, err
				}
				if ok {
					add(o)
				} else {
					unknown = "accessbot does not know the owner of " + item.Name
				}
			}
		}
		if len(st.Approvers) < st.Required {
			return nil, stageUndecidable(item, i, st, self, unknown)
		}
		out = append(out, st)
	}
	return out, nil
}

// stageUndecidable refuses a request whose stage i fewer people could decide than it requires.
func stageUndecidable(item Item, i int, st Stage, self bool, unknown string) *Problem {
	stage := ""
	if len(item.Stages) > 1 {
		stage = fmt.Sprintf(" (stage %d of %d, %s)", i+1, len(item.Stages), st.Name)
	}
	switch {
	case self && len(st.Approvers) == 0:
		return problem(ErrNoApprover, "item", fmt.Sprintf(
			"You are the only approver of %s%s, and nobody may approve their own request; ask an admin to add another approver.", item.Name, stage))
	case self:
		return problem(ErrNoApprover, "item", fmt.Sprintf(
			"%s needs %d approvals%s, and without you only %d people can give them, since nobody may approve their own request; ask an admin to add another approver.",
			item.Name, st.Required, stage, len(st.Approvers)))
	case unknown != "":
		return problem(ErrNoApprover, "item", fmt.Sprintf(
			"%s cannot be approved%s: %s; ask an admin to add it (managers, or the item's owner).", item.Name, stage, unknown))
	}
	return problem(ErrNoApprover, "item", fmt.Sprintf(
		"%s needs %d approvals%s, but only %d people can give them; ask an admin to add approvers.", item.Name, st.Required, stage, len(st.Approvers)))
}

// managerOf is email's manager: from the item's backend where it knows managers, else
// from the configuration's managers.
func (s *Service) managerOf(ctx context.Context, backend, email string) (Person, bool, error) {
	if mf, ok := s.backends[backend].(ManagerFinder); ok {
		var m Person
		var found bool
		err := s.call(backend, "manager", func() (err error) {
			m, found, err = mf.Manager(ctx, email)
			return err
		})
		if err != nil {
			return Person{}, false, fmt.Errorf("look up the manager of %s in %s: %w", email, backend, err)
		}
		if found {
			m.Email = strings.ToLower(m.Email)
			return m, true, nil
		}
	}
	m, ok := s.managers[strings.ToLower(email)]
	return m, ok, nil
}

// ownerOf is item's owner: the catalog's owner of the item, else its backend's.
func (s *Service) ownerOf(ctx context.Context, item Item) (Person, bool, error) {
	if item.Owner.Email != "" {
		return item.Owner, true, nil
	}
	of, ok := s.backends[item.Backend].(OwnerFinder)
	if !ok {
		return Person{}, false, nil
	}
	var o Person
	var found bool
	err := s.call(item.Backend, "owner", func() (err error) {
		o, found, err = of.Owner(ctx, item.Snapshot())
		return err
	})
	if err != nil {
		return Person{}, false, fmt.Errorf("look up the owner of %s in %s: %w", item.ID, item.Backend, err)
	}
	o.Email = strings.ToLower(o.Email)
	return o, found && o.Email != "", nil
}

// checkTicket applies item's ticket rule to a reason: it must contain a match of the
// item's pattern, and the refusal explains the pattern.
func checkTicket(item Item, reason string, d string) error {
	if item.RequireTicket == nil || item.RequireTicket.MatchString(reason) {
		return nil
	}
	return problem(ErrJustificationRequired, "reason", fmt.Sprintf(
		"%s needs a ticket in the reason: it must contain text matching `%s` (%s). Add it: `request %s for %s because <ticket> <why>`.",
		item.Name, item.RequireTicket.String(), explainPattern(item.RequireTicket.String()), item.ID, d))
}

// explainPattern says in words what a simple ticket pattern asks for, such as
// "^(INC|CHG)-[0-9]+" → "starting with INC- or CHG- and a number".
func explainPattern(p string) string {
	start := strings.HasPrefix(p, "^")
	body := strings.TrimPrefix(p, "^")
	if m := ticketShape.FindStringSubmatch(body); m != nil {
		prefixes := strings.Split(strings.Trim(m[1], "()"), "|")
		for i, x := range prefixes {
			prefixes[i] = x + m[2]
		}
		ex := prefixes[0] + "1234"
		how := "containing "
		if start {
			how = "starting with "
		}
		return how + joinOr(prefixes) + " and a number, e.g. " + ex
	}
	if start {
		return "at the very start of the reason"
	}
	return "anywhere in the reason"
}

// ticketShape is a ticket pattern explainPattern can say in words: prefixes, an optional
// dash, a number ("(INC|CHG)-[0-9]+", "JIRA-\d+").
var ticketShape = regexp.MustCompile(`^(\([A-Za-z|]+\)|[A-Za-z]+)(-?)(?:\[0-9\]|\\d)[+*]?$`)

// joinOr is "a, b or c".
func joinOr(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

// errNoStages is NewCatalog's refusal of an item nobody could approve.
var errNoStages = errors.New("no approvers; list at least one under approvers, or approval stages")
