package governance

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// searchLimit bounds how many backend matches a person is shown to choose from.
const searchLimit = 5

// resolveItem finds what a request names: a catalog item, or else something a searchable
// item's backend offers under that name (Item.Search), governed by that item's policy.
func (s *Service) resolveItem(ctx context.Context, q string) (Item, error) {
	item, err := s.catalog.Lookup(q)
	templates := s.catalog.Searchable()
	if err == nil || !errors.Is(err, ErrUnknownItem) || len(templates) == 0 {
		return item, err
	}
	q = strings.TrimSpace(q)
	var found []Item
	for _, t := range templates {
		b, ok := s.backends[t.Backend]
		if !ok {
			continue
		}
		var refs []ItemRef
		serr := s.call(b.Name(), "search", func() (err error) {
			refs, err = b.SearchCatalog(ctx, q)
			return err
		})
		if serr != nil {
			s.log.WarnContext(ctx, "backend search failed", "backend", b.Name(), "query", q, "err", serr)
			return Item{}, problem(ErrUnknownItem, "item", fmt.Sprintf(
				"%q is not in the catalog, and %s could not be searched just now; try again in a minute, or type `help` for the catalog.", q, b.Name()))
		}
		for _, ref := range refs {
			it := t
			it.ID, it.Name, it.Ref, it.Search = ref.ID, ref.Name, ref.Ref, false
			it.Description = t.Name
			if strings.EqualFold(ref.Name, q) || strings.EqualFold(ref.ID, q) {
				return it, nil // an exact match wins over any partial one
			}
			found = append(found, it)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		names := make([]string, 0, searchLimit)
		for i, it := range found {
			if i == searchLimit {
				names = append(names, fmt.Sprintf("and %d more", len(found)-searchLimit))
				break
			}
			names = append(names, "`"+it.Name+"`")
		}
		return Item{}, problem(ErrUnknownItem, "item", fmt.Sprintf(
			"Several things match %q: %s. Ask again with the full name.", q, strings.Join(names, ", ")))
	}
	return Item{}, err
}
