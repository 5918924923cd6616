package iscfake

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"
)

// issueToken is POST /oauth/token: the client-credentials grant, with the credentials
// in the form (body or query) or in HTTP Basic auth.
func (s *Server) issueToken(r *http.Request, body []byte) reply {
	r.Body = io.NopCloser(bytes.NewReader(body)) // read once already, for the call record
	if err := parseForm(r); err != nil {
		return oauthError(http.StatusBadRequest, "invalid_request", err.Error())
	}
	switch gt := r.Form.Get("grant_type"); gt {
	case "client_credentials":
	case "authorization_code":
		return s.exchangeCode(r)
	case "refresh_token":
		return s.refreshGrant(r)
	case "":
		return oauthError(http.StatusBadRequest, "invalid_request", "Missing grant type")
	default:
		return oauthError(http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type: "+gt)
	}
	id, secret := clientCredentials(r)
	if id != s.opts.ClientID || secret != s.opts.ClientSecret {
		return oauthError(http.StatusUnauthorized, "invalid_client", "Bad credentials")
	}
	token := newID() + newID()
	s.tokens[token] = session{exp: s.now().Add(s.opts.TokenTTL), identityID: ServiceIdentityID, service: true}
	s.tokensIssued++
	return reply{status: http.StatusOK, token: token, body: map[string]any{
		"access_token": token,
		"token_type":   "bearer",
		"expires_in":   int(s.opts.TokenTTL / time.Second),
		"scope":        "sp:scopes:all",
		"tenant_id":    "2c9180a46faadee4016fb4e018c20639",
		"pod":          "stg01-useast1",
		"strong_auth":  true,
		"org":          "fake-tenant",
		"identity_id":  ServiceIdentityID,
		"user_id":      "svc",
		"jti":          newID(),
	}}
}

func parseForm(r *http.Request) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		return r.ParseMultipartForm(maxBody)
	}
	return r.ParseForm()
}

// clientCredentials reads the client id and secret from the form, else from Basic auth
// (whose parts the OAuth2 spec has URL-encoded).
func clientCredentials(r *http.Request) (id, secret string) {
	id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
	if id != "" || secret != "" {
		return id, secret
	}
	u, p, ok := r.BasicAuth()
	if !ok {
		return "", ""
	}
	if v, err := url.QueryUnescape(u); err == nil {
		u = v
	}
	if v, err := url.QueryUnescape(p); err == nil {
		p = v
	}
	return u, p
}

func oauthError(status int, code, description string) reply {
	return reply{status: status, body: map[string]string{"error": code, "error_description": description}}
}
