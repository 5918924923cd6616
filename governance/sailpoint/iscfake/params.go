package iscfake

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

func checkParams(q url.Values, allowed ...string) error {
	for k := range q {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("query parameter %q is not supported", k)
		}
	}
	return nil
}

// listQuery is what a collection GET asks for besides its own parameters: a page, filters
// and sorters.
type listQuery struct {
	paging
	conds []cond
	keys  []sortKey
}

// parseList reads paging (limit at most maxLimit), filters of the allowed fields and
// sorters of the sortable ones, in the order ISC checks them.
func parseList(q url.Values, filters map[string]filterField, sortable ...string) (listQuery, error) {
	var l listQuery
	var err error
	if l.paging, err = parsePaging(q, maxLimit); err != nil {
		return l, err
	}
	if l.conds, err = parseFilters(q.Get("filters"), filters); err != nil {
		return l, err
	}
	l.keys, err = parseSorters(q.Get("sorters"), sortable...)
	return l, err
}

type paging struct {
	limit, offset int
	count         bool
}

// parsePaging reads limit (1..max, default max), offset (≥ 0) and count.
func parsePaging(q url.Values, maxLimit int) (paging, error) {
	p := paging{limit: maxLimit}
	var err error
	if v := q.Get("limit"); q.Has("limit") {
		if p.limit, err = strconv.Atoi(v); err != nil || p.limit < 1 || p.limit > maxLimit {
			return p, fmt.Errorf("limit %q must be an integer from 1 to %d", v, maxLimit)
		}
	}
	if v := q.Get("offset"); q.Has("offset") {
		if p.offset, err = strconv.Atoi(v); err != nil || p.offset < 0 {
			return p, fmt.Errorf("offset %q must be an integer of 0 or more", v)
		}
	}
	if v := q.Get("count"); q.Has("count") {
		if p.count, err = strconv.ParseBool(v); err != nil {
			return p, fmt.Errorf("count %q must be true or false", v)
		}
	}
	return p, nil
}

func pageOf[T any](list []T, p paging) []T {
	if p.offset >= len(list) {
		return []T{}
	}
	return list[p.offset:min(p.offset+p.limit, len(list))]
}

// listReply is a 200 with a JSON array, and X-Total-Count if count was asked for.
func listReply[T any](page []T, total int, p paging) reply {
	rep := reply{status: http.StatusOK, body: page}
	if p.count {
		rep.header = map[string]string{"X-Total-Count": strconv.Itoa(total)}
	}
	return rep
}

type sortKey struct {
	field string
	desc  bool
}

// parseSorters reads "a,-b"; empty means none.
func parseSorters(v string, allowed ...string) ([]sortKey, error) {
	if v == "" {
		return nil, nil
	}
	var keys []sortKey
	for _, part := range strings.Split(v, ",") {
		k := sortKey{field: strings.TrimSpace(part)}
		if rest, ok := strings.CutPrefix(k.field, "-"); ok {
			k.field, k.desc = rest, true
		}
		if !slices.Contains(allowed, k.field) {
			return nil, fmt.Errorf("sorting by %q is not supported; supported: %s", k.field, strings.Join(allowed, ", "))
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// sortBy sorts list stably by the keys, reading fields with get.
func sortBy[T any](list []T, keys []sortKey, get func(T, string) string) {
	if len(keys) == 0 {
		return
	}
	slices.SortStableFunc(list, func(a, b T) int {
		for _, k := range keys {
			if c := strings.Compare(get(a, k.field), get(b, k.field)); c != 0 {
				if k.desc {
					return -c
				}
				return c
			}
		}
		return 0
	})
}
