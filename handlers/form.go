package handlers

import (
	"net/url"
	"strings"
)

// form is a verified application/x-www-form-urlencoded body, read as url.ParseQuery reads
// it (a key's first value, unescaped) but without a map of every field: a slash command
// comes with a dozen fields, each read once. Its fields are cut from the body in one pass;
// a value is unescaped when it is read.
type form []formField

// formField is a field as it stands in the body; its key is unescaped already.
type formField struct{ key, value string }

// maxPlainFields is how many fields a form may have for parseForm to judge it alone; more
// are judged by url.ParseQuery, whose own limit (GODEBUG urlmaxqueryparams) is higher.
const maxPlainFields = 1000

// parseForm accepts body when url.ParseQuery does, and refuses it with ParseQuery's error
// when it does not (a semicolon between fields, a bad %-escape, too many fields).
func parseForm(body []byte) (form, error) {
	s := string(body)
	if !plainForm(s) {
		if _, err := url.ParseQuery(s); err != nil {
			return nil, err
		}
	}
	f := make(form, 0, strings.Count(s, "&")+1)
	for s != "" {
		var field string
		field, s, _ = strings.Cut(s, "&")
		if field == "" {
			continue
		}
		k, v, _ := strings.Cut(field, "=")
		k, _ = url.QueryUnescape(k) // checked above; the key itself when it has no % or +
		f = append(f, formField{k, v})
	}
	return f, nil
}

// plainForm reports that url.ParseQuery surely accepts s: no semicolon, every % followed
// by two hex digits, and not too many fields.
func plainForm(s string) bool {
	if strings.IndexByte(s, ';') >= 0 || strings.Count(s, "&") >= maxPlainFields {
		return false
	}
	for i := strings.IndexByte(s, '%'); i >= 0; i = strings.IndexByte(s, '%') {
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return false
		}
		s = s[i+3:]
	}
	return true
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// Get is the first value of key, unescaped; "" when there is none.
func (f form) Get(key string) string {
	for _, field := range f {
		if field.key == key {
			v, _ := url.QueryUnescape(field.value) // checked by parseForm
			return v
		}
	}
	return ""
}
