package governance

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Item is something people can request, with the policy that governs it.
type Item struct {
	ID                    string
	Name                  string
	Description           string
	Backend               string // the Backend that grants it
	Ref                   string // the backend's own id for it
	Approvers             []Person
	DefaultDuration       time.Duration // 0: no end
	MaxDuration           time.Duration // 0: no limit
	JustificationRequired bool
	// Search makes the item a policy for anything its backend offers rather than one
	// thing: a request naming something not in the catalog is looked up in the backend
	// (Backend.SearchCatalog) and, once found, governed by this item's approvers and limits.
	Search bool
	// Approvals says who decides: ApprovalsAccessbot ("" too: the Approvers above) or
	// ApprovalsBackend (the backend's own approval policy; Approvers, if any, are not
	// asked, so that a catalog can switch a whole backend over and back).
	Approvals string
	// Channel is an approval channel: the approval card goes there once, and any of the
	// approvers decides there; "slack:C0123ABCD" (a Slack channel id) or
	// "teams:19:…@thread.tacv2" (a Teams channel id). Empty: direct messages only.
	Channel string
	// ChannelOnly sends the card to the channel instead of to each approver directly.
	ChannelOnly bool

	// Stages is the approval, decided in order (docs/configuration.md, "Approval stages");
	// an item built with Approvers alone is one stage of them, any one of whom approves.
	// Approvers (above) then lists the people the stages name by e-mail.
	Stages []StagePolicy
	// Owner is the item's owner, for the owner approver kind; else its backend's.
	Owner Person
	// RequireTicket, when set, is a pattern the reason must contain (a ticket id).
	RequireTicket *regexp.Regexp
	// AutoApprove are the rules that approve a request at once, never silently.
	AutoApprove []AutoRule
}

// BackendDecides reports whether the backend's own approval policy decides the item.
func (it Item) BackendDecides() bool { return it.Approvals == ApprovalsBackend }

// ChannelPlatforms are the platforms an approval channel may be on, as its prefix.
var ChannelPlatforms = []string{"slack", "teams"}

// Snapshot is the part of the item a request keeps.
func (it Item) Snapshot() ItemRef {
	return ItemRef{ID: it.ID, Name: it.Name, Backend: it.Backend, Ref: it.Ref, Channel: it.Channel, ChannelOnly: it.ChannelOnly}
}

// Catalog is the set of requestable items.
type Catalog struct {
	items []Item
	// byName finds an item (not a search template) by its id or name in lower case, the
	// first in catalog order, when every id and name is ASCII (then lower case is exactly
	// strings.EqualFold); nil otherwise. Every command looks its item up.
	byName map[string]int
	// searchable are the search templates, in catalog order.
	searchable []Item
}

// NewCatalog checks items and returns them as a catalog. Every problem found is reported,
// each naming the item it is in.
func NewCatalog(items []Item) (*Catalog, error) {
	items = slices.Clone(items)
	var errs []error
	seen := map[string]bool{}
	for i, it := range items {
		where := fmt.Sprintf("catalog item %d (%s)", i+1, it.ID)
		switch {
		case it.ID == "":
			errs = append(errs, fmt.Errorf("catalog item %d: id is empty; give every item a short id such as prod-db-read", i+1))
		case strings.ContainsAny(it.ID, " \t\n"):
			errs = append(errs, fmt.Errorf("%s: id must not contain spaces; use dashes", where))
		case seen[strings.ToLower(it.ID)]:
			errs = append(errs, fmt.Errorf("%s: id is used twice; ids must be unique", where))
		}
		seen[strings.ToLower(it.ID)] = true
		if it.Name == "" {
			errs = append(errs, fmt.Errorf("%s: name is empty; give it a name people recognise", where))
		}
		if it.Backend == "" {
			errs = append(errs, fmt.Errorf("%s: backend is empty; set it to builtin, sailpoint, entra or permissions", where))
		}
		switch {
		case it.Approvals != "" && it.Approvals != ApprovalsAccessbot && it.Approvals != ApprovalsBackend:
			errs = append(errs, fmt.Errorf("%s: approvals is %q; write accessbot (accessbot's approvers decide) or backend (the backend's own approval policy decides)", where, it.Approvals))
		case it.BackendDecides() && it.Backend == "builtin":
			errs = append(errs, fmt.Errorf("%s: approvals: backend needs a backend with approvals of its own (sailpoint); the built-in backend has none", where))
		}
		if !it.BackendDecides() {
			if len(it.Stages) == 0 && len(it.Approvers) > 0 {
				st := StagePolicy{Required: 1}
				for _, p := range it.Approvers {
					st.Approvers = append(st.Approvers, Approver{Kind: ApproverPerson, Person: p})
				}
				items[i].Stages = []StagePolicy{st}
			}
			if len(items[i].Stages) == 0 {
				errs = append(errs, fmt.Errorf("%s: %w", where, errNoStages))
			}
			items[i].Stages = slices.Clone(items[i].Stages)
			for j := range items[i].Stages {
				st := &items[i].Stages[j]
				if st.Name == "" {
					st.Name = fmt.Sprintf("stage %d", j+1)
				}
				if st.Required == 0 {
					st.Required = 1
				}
				if len(st.Approvers) == 0 {
					errs = append(errs, fmt.Errorf("%s: approval stage %d (%s) has no approvers; list at least one", where, j+1, st.Name))
				}
			}
		}
		if it.MaxDuration > 0 && it.DefaultDuration > it.MaxDuration {
			errs = append(errs, fmt.Errorf("%s: defaultDuration %s is longer than maxDuration %s",
				where, FormatDuration(it.DefaultDuration), FormatDuration(it.MaxDuration)))
		}
		if platform, id, _ := strings.Cut(it.Channel, ":"); it.Channel != "" && (!slices.Contains(ChannelPlatforms, platform) || id == "") {
			errs = append(errs, fmt.Errorf("%s: approvalChannel %q: write slack:<channel id> (C…) or teams:<channel id> (19:…@thread.tacv2)", where, it.Channel))
		}
		if it.ChannelOnly && it.Channel == "" {
			errs = append(errs, fmt.Errorf("%s: directMessages: false needs an approvalChannel, or nobody gets the card", where))
		}
		if it.MaxDuration > 0 && it.DefaultDuration == 0 {
			errs = append(errs, fmt.Errorf("%s: maxDuration is set but defaultDuration is not; set defaultDuration too", where))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return newIndexed(items), nil
}

// Items lists the catalog in file order.
func (c *Catalog) Items() []Item { return slices.Clone(c.items) }

// Backends lists the backends the catalog's items name.
func (c *Catalog) Backends() []string {
	var out []string
	for _, it := range c.items {
		if !slices.Contains(out, it.Backend) {
			out = append(out, it.Backend)
		}
	}
	return out
}

// newIndexed is a catalog of items, checked already, with its indexes.
func newIndexed(items []Item) *Catalog {
	c := &Catalog{items: items, byName: make(map[string]int, 2*len(items))}
	for i := range items {
		it := &items[i]
		if it.Search {
			c.searchable = append(c.searchable, *it)
			continue
		}
		if !isASCII(it.ID) || !isASCII(it.Name) {
			c.byName = nil
			continue
		}
		for _, k := range []string{strings.ToLower(it.ID), strings.ToLower(it.Name)} {
			if _, ok := c.byName[k]; !ok && c.byName != nil {
				c.byName[k] = i
			}
		}
	}
	return c
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Lookup finds an item by id or by name, ignoring case. When nothing matches, the error
// is a *Problem naming the closest items.
func (c *Catalog) Lookup(q string) (Item, error) {
	q = strings.TrimSpace(q)
	if c.byName != nil && isASCII(q) {
		if i, ok := c.byName[strings.ToLower(q)]; ok {
			return c.items[i], nil
		}
	} else {
		for i := range c.items {
			if it := &c.items[i]; !it.Search && (strings.EqualFold(it.ID, q) || strings.EqualFold(it.Name, q)) {
				return *it, nil
			}
		}
	}
	msg := fmt.Sprintf("There is no catalog item %q.", q)
	if s := c.Suggest(q, 3); len(s) > 0 {
		names := make([]string, len(s))
		for i, it := range s {
			names[i] = "`" + it.ID + "` (" + it.Name + ")"
		}
		msg += " Did you mean " + strings.Join(names, ", ") + "?"
	} else {
		msg += " Type `help` to see what can be requested."
	}
	return Item{}, problem(ErrUnknownItem, "item", msg)
}

// ByRef finds the item that names ref in backend; ok is false when none does.
func (c *Catalog) ByRef(backend, ref string) (Item, bool) {
	for _, it := range c.items {
		if it.Backend == backend && strings.EqualFold(it.Ref, ref) && !it.Search {
			return it, true
		}
	}
	return Item{}, false
}

// Searchable lists the items that stand for whatever their backend finds (Item.Search).
func (c *Catalog) Searchable() []Item { return slices.Clone(c.searchable) }

// Suggest returns up to n items whose id or name is closest to q.
func (c *Catalog) Suggest(q string, n int) []Item {
	q = strings.ToLower(q)
	type scored struct {
		it    Item
		score int
	}
	var all []scored
	for _, it := range c.items {
		if it.Search {
			continue
		}
		id, name := strings.ToLower(it.ID), strings.ToLower(it.Name)
		s := min(editDistance(q, id), editDistance(q, name))
		if q != "" && (strings.Contains(id, q) || strings.Contains(name, q) || strings.Contains(q, id)) {
			s = 0
		}
		if s <= max(3, len(q)/2) {
			all = append(all, scored{it, s})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].score < all[j].score })
	out := make([]Item, 0, n)
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, all[i].it)
	}
	return out
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// catalogFile is the YAML form of a catalog.
type catalogFile struct {
	Items []itemFile `yaml:"items"`
}

type itemFile struct {
	ID                    string   `yaml:"id"`
	Name                  string   `yaml:"name"`
	Description           string   `yaml:"description"`
	Backend               string   `yaml:"backend"`
	Ref                   string   `yaml:"ref"`
	Approvers             []string `yaml:"approvers"`
	DefaultDuration       string   `yaml:"defaultDuration"`
	MaxDuration           string   `yaml:"maxDuration"`
	JustificationRequired bool     `yaml:"justificationRequired"`
	Search                bool     `yaml:"search"`
	Approvals             string   `yaml:"approvals"`
	ApprovalChannel       string   `yaml:"approvalChannel"`
	DirectMessages        *bool    `yaml:"directMessages"` // default true
	RequireTicket         string   `yaml:"requireTicket"`
	Owner                 string   `yaml:"owner"`
	Approval              *struct {
		Stages []stageFile `yaml:"stages"`
	} `yaml:"approval"`
	AutoApprove []autoRuleFile `yaml:"autoApprove"`
}

type autoRuleFile struct {
	PagerDuty *struct {
		Schedules          []string `yaml:"schedules"`
		EscalationPolicies []string `yaml:"escalationPolicies"`
	} `yaml:"pagerduty"`
	Group       string `yaml:"group"`
	MaxDuration string `yaml:"maxDuration"`
}

type stageFile struct {
	Name      string   `yaml:"name"`
	Approvers []string `yaml:"approvers"`
	Required  int      `yaml:"required"`
}

// ParseCatalog reads a catalog from YAML:
//
//	items:
//	  - id: prod-db-read
//	    name: Production database (read-only)
//	    backend: builtin
//	    approvers: ["Alice <alice@example.com>"]
//	    defaultDuration: 8h
//	    maxDuration: 7d
//	    justificationRequired: true
//	  - id: sailpoint
//	    name: Anything requestable in SailPoint
//	    backend: sailpoint
//	    search: true          # unknown names are looked up in the backend
//	    approvers: ["Bob <bob@example.com>"]
//	    approvalChannel: slack:C0123ABCD   # the card also goes there once
//	    directMessages: false              # and only there
//
// Unknown keys are errors, so a typo does not silently drop a rule.
func ParseCatalog(data []byte, opts ...CatalogOption) (*Catalog, error) {
	var f catalogFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	for _, o := range opts {
		o(&f)
	}
	return f.catalog()
}

// CatalogOption changes how a catalog file is read.
type CatalogOption func(*catalogFile)

// BackendApprovals makes mode (ApprovalsAccessbot or ApprovalsBackend) the approvals of
// every item of backend that does not say its own: a whole backend decides one way.
func BackendApprovals(backend, mode string) CatalogOption {
	return func(f *catalogFile) {
		for i := range f.Items {
			if f.Items[i].Backend == backend && f.Items[i].Approvals == "" && (mode == ApprovalsAccessbot || mode == ApprovalsBackend) {
				f.Items[i].Approvals = mode
			}
		}
	}
}

// CatalogFromYAML converts an already decoded YAML node (a catalog embedded in a larger
// config file) into a catalog.
func CatalogFromYAML(n *yaml.Node, opts ...CatalogOption) (*Catalog, error) {
	var items []itemFile
	if err := n.Decode(&items); err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	f := catalogFile{Items: items}
	for _, o := range opts {
		o(&f)
	}
	return f.catalog()
}

// catalog converts and checks the file's items, reporting every mistake at once.
func (f catalogFile) catalog() (*Catalog, error) {
	items, err := f.items()
	if len(items) == 0 {
		return nil, err
	}
	c, cerr := NewCatalog(items)
	if err := errors.Join(err, cerr); err != nil {
		return nil, err
	}
	return c, nil
}

func (f catalogFile) items() ([]Item, error) {
	if len(f.Items) == 0 {
		return nil, errors.New("the catalog has no items; add at least one under items:")
	}
	var errs []error
	items := make([]Item, 0, len(f.Items))
	for i, in := range f.Items {
		where := fmt.Sprintf("catalog item %d (%s)", i+1, in.ID)
		it := Item{ID: in.ID, Name: in.Name, Description: in.Description, Backend: in.Backend,
			Ref: in.Ref, JustificationRequired: in.JustificationRequired, Search: in.Search,
			Approvals: strings.ToLower(strings.TrimSpace(in.Approvals)),
			Channel:   strings.TrimSpace(in.ApprovalChannel), ChannelOnly: in.DirectMessages != nil && !*in.DirectMessages}
		if it.Ref == "" {
			it.Ref = it.ID
		}
		errs = append(errs, in.approval(where, &it)...)
		for _, d := range []struct {
			name string
			in   string
			out  *time.Duration
		}{{"defaultDuration", in.DefaultDuration, &it.DefaultDuration}, {"maxDuration", in.MaxDuration, &it.MaxDuration}} {
			if d.in == "" {
				continue
			}
			v, err := ParseDuration(d.in)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", where, d.name, err))
				continue
			}
			*d.out = v
		}
		items = append(items, it)
	}
	return items, errors.Join(errs...)
}

// approval reads the item's approval: stages under approval, or approvers alone (one
// stage, any one of them approves); its owner; and its ticket rule.
func (in itemFile) approval(where string, it *Item) []error {
	var errs []error
	stages := []stageFile{{Approvers: in.Approvers, Required: 1}}
	switch {
	case in.Approval != nil && len(in.Approvers) > 0:
		errs = append(errs, fmt.Errorf("%s: set either approvers or approval stages, not both", where))
	case in.Approval != nil:
		stages = in.Approval.Stages
		if len(stages) == 0 {
			errs = append(errs, fmt.Errorf("%s: approval has no stages; list them under approval: stages:", where))
		}
	}
	for j, sf := range stages {
		st := StagePolicy{Name: sf.Name, Required: sf.Required}
		for _, a := range sf.Approvers {
			ap, err := ParseApprover(a)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: approval stage %d: approver %w", where, j+1, err))
				continue
			}
			st.Approvers = append(st.Approvers, ap)
			if ap.Kind == ApproverPerson && !slices.ContainsFunc(it.Approvers, ap.Person.Is) {
				it.Approvers = append(it.Approvers, ap.Person)
			}
		}
		if in.Approval != nil || len(sf.Approvers) > 0 {
			it.Stages = append(it.Stages, st)
		}
	}
	if in.Owner != "" {
		p, err := ParsePerson(in.Owner)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: owner %w", where, err))
		}
		it.Owner = p
	}
	for j, a := range in.AutoApprove {
		rule := AutoRule{Group: a.Group}
		if a.PagerDuty != nil {
			rule.OnCall = OnCallTarget{Schedules: a.PagerDuty.Schedules, EscalationPolicies: a.PagerDuty.EscalationPolicies}
		}
		if a.MaxDuration != "" {
			d, err := ParseDuration(a.MaxDuration)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: autoApprove rule %d: maxDuration: %w", where, j+1, err))
			}
			rule.MaxDuration = d
		}
		it.AutoApprove = append(it.AutoApprove, rule)
	}
	if in.RequireTicket != "" {
		re, err := regexp.Compile(in.RequireTicket)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: requireTicket %q is not a regular expression (%v); write one such as '^(INC|CHG)-[0-9]+'", where, in.RequireTicket, err))
		}
		it.RequireTicket = re
	}
	return errs
}
