package iscfake

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// filterField says which operators a filterable field allows, and whether its text
// compares case-insensitively.
type filterField struct {
	ops  []string
	fold bool
}

// cond is one "field op value" term of a filters expression.
type cond struct {
	field, op string
	values    []string
	fold      bool
}

// operators are the filter operators ISC knows (lower case only).
var operators = []string{"eq", "ne", "gt", "ge", "lt", "le", "in", "co", "sw", "ca", "pr", "isnull"}

// parseFilters reads a filters expression of terms joined by "and" and checks every
// term against the fields allowed. Empty means no conditions.
func parseFilters(expr string, allowed map[string]filterField) ([]cond, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	p := &filterParser{src: expr}
	var conds []cond
	for {
		c, err := p.cond()
		if err != nil {
			return nil, fmt.Errorf("filters %q: %w", expr, err)
		}
		spec, ok := allowed[c.field]
		if !ok || !slices.Contains(spec.ops, c.op) {
			return nil, fmt.Errorf("filters %q: filtering on %s with %s is not supported", expr, c.field, c.op)
		}
		c.fold = spec.fold
		conds = append(conds, c)
		tok, err := p.next()
		switch {
		case err != nil:
			return nil, fmt.Errorf("filters %q: %w", expr, err)
		case tok.kind == tokEOF:
			return conds, nil
		case tok.kind != tokWord || tok.text != "and":
			return nil, fmt.Errorf("filters %q: unsupported syntax at %q (this fake supports terms joined by and)", expr, tok.text)
		}
	}
}

// matchAll reports whether every condition holds for the values get reads.
func matchAll(conds []cond, get func(field string) string) bool {
	for _, c := range conds {
		if !c.matches(get(c.field)) {
			return false
		}
	}
	return true
}

func (c cond) matches(v string) bool {
	want := c.values
	if c.fold {
		v = strings.ToLower(v)
		want = make([]string, len(c.values))
		for i, w := range c.values {
			want[i] = strings.ToLower(w)
		}
	}
	switch c.op {
	case "eq", "in":
		return slices.Contains(want, v)
	case "ne":
		return !slices.Contains(want, v)
	case "sw":
		return len(want) > 0 && strings.HasPrefix(v, want[0])
	case "gt", "ge", "lt", "le":
		if len(want) == 0 {
			return false
		}
		n := compareValues(v, want[0])
		return (c.op == "gt" && n > 0) || (c.op == "ge" && n >= 0) || (c.op == "lt" && n < 0) || (c.op == "le" && n <= 0)
	}
	return false
}

// compareValues compares two date-times as instants (ISC writes milliseconds, a client
// may not), anything else as text.
func compareValues(a, b string) int {
	ta, errA := time.Parse(time.RFC3339Nano, a)
	tb, errB := time.Parse(time.RFC3339Nano, b)
	if errA == nil && errB == nil {
		return ta.Compare(tb)
	}
	return strings.Compare(a, b)
}

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokWord
	tokString
	tokPunct
)

type token struct {
	kind tokenKind
	text string
}

type filterParser struct {
	src string
	pos int
}

// cond reads "field op value" or "field in (v, …)".
func (p *filterParser) cond() (cond, error) {
	field, err := p.expect(tokWord, "a field name")
	if err != nil {
		return cond{}, err
	}
	op, err := p.expect(tokWord, "an operator")
	if err != nil {
		return cond{}, err
	}
	if !slices.Contains(operators, op) {
		return cond{}, fmt.Errorf("%q is not an operator (operators are lower case: %s)", op, strings.Join(operators, " "))
	}
	c := cond{field: field, op: op}
	switch op {
	case "pr", "isnull":
		return c, nil
	case "in":
		c.values, err = p.list()
	default:
		var v string
		v, err = p.value()
		c.values = []string{v}
	}
	return c, err
}

// list reads ("a", "b", …).
func (p *filterParser) list() ([]string, error) {
	if _, err := p.expectPunct("("); err != nil {
		return nil, err
	}
	var out []string
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		tok, err := p.next()
		if err != nil {
			return nil, err
		}
		if tok.kind == tokPunct && tok.text == ")" {
			return out, nil
		}
		if tok.kind != tokPunct || tok.text != "," {
			return nil, fmt.Errorf("expected , or ) but found %q", tok.text)
		}
	}
}

// value reads a quoted string or a bare word (a number or boolean).
func (p *filterParser) value() (string, error) {
	tok, err := p.next()
	if err != nil {
		return "", err
	}
	if tok.kind != tokString && tok.kind != tokWord {
		return "", fmt.Errorf("expected a value but found %q", tok.text)
	}
	return tok.text, nil
}

func (p *filterParser) expect(kind tokenKind, what string) (string, error) {
	tok, err := p.next()
	if err != nil {
		return "", err
	}
	if tok.kind != kind {
		return "", fmt.Errorf("expected %s but found %q", what, tok.text)
	}
	return tok.text, nil
}

func (p *filterParser) expectPunct(text string) (string, error) {
	tok, err := p.next()
	if err != nil {
		return "", err
	}
	if tok.kind != tokPunct || tok.text != text {
		return "", fmt.Errorf("expected %s but found %q", text, tok.text)
	}
	return text, nil
}

// next reads the next token.
func (p *filterParser) next() (token, error) {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
	if p.pos >= len(p.src) {
		return token{kind: tokEOF}, nil
	}
	switch c := p.src[p.pos]; {
	case c == '"':
		return p.str()
	case c == '(' || c == ')' || c == ',':
		p.pos++
		return token{kind: tokPunct, text: string(c)}, nil
	case isWordByte(c):
		start := p.pos
		for p.pos < len(p.src) && isWordByte(p.src[p.pos]) {
			p.pos++
		}
		return token{kind: tokWord, text: p.src[start:p.pos]}, nil
	default:
		return token{}, fmt.Errorf("unexpected %q", c)
	}
}

// str reads a double-quoted string with backslash escapes.
func (p *filterParser) str() (token, error) {
	var sb strings.Builder
	for p.pos++; p.pos < len(p.src); p.pos++ {
		switch c := p.src[p.pos]; c {
		case '\\':
			p.pos++
			if p.pos < len(p.src) {
				sb.WriteByte(p.src[p.pos])
			}
		case '"':
			p.pos++
			return token{kind: tokString, text: sb.String()}, nil
		default:
			sb.WriteByte(c)
		}
	}
	return token{}, errors.New("unterminated string")
}

func isWordByte(c byte) bool {
	return c == '_' || c == '.' || c == '-' || c == ':' || c == '+' ||
		('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}
