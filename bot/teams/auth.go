package teams

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/infracloudio/msbotbuilder-go/connector/auth"
	"github.com/infracloudio/msbotbuilder-go/schema"
)

// The Bot Framework's public cloud: where its signing keys are published and who issues
// the tokens the channel sends.
const (
	DefaultMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
	DefaultIssuer      = "https://api.botframework.com"
)

// ValidatorOptions configure a Validator.
type ValidatorOptions struct {
	AppID       string // the bot's Microsoft app id: the audience every token must name
	MetadataURL string // OpenID metadata; default DefaultMetadataURL (sovereign clouds differ)
	Issuer      string // default DefaultIssuer
	// Leeway is the clock skew allowed on exp and nbf (default 5 minutes, as the official SDK).
	Leeway time.Duration
	// RefreshEvery is how long metadata and keys are kept (default 24 h); a token signed by
	// an unknown key refreshes them sooner, at most once per MinRefresh (default 5 minutes).
	RefreshEvery, MinRefresh time.Duration
	HTTPClient               *http.Client // default: 10 s timeout
	Now                      func() time.Time
}

// Validator checks the Bot Framework JWT on every activity the channel sends: a key from
// the published set, RS256/384/512, issuer, audience = app id, an expiry (required), and
// the serviceUrl claim equal to the activity's serviceUrl. It caches the keys and never
// panics on a token, however malformed. It implements msbotbuilder-go's auth.TokenValidator.
type Validator struct {
	o ValidatorOptions

	mu      sync.Mutex // guards keys, fetched and tried; held while fetching (single flight)
	keys    map[string]signingKey
	fetched time.Time // when keys were last fetched successfully
	tried   time.Time // when a fetch was last attempted
}

type signingKey struct {
	key          *rsa.PublicKey
	endorsements []string
}

var _ auth.TokenValidator = (*Validator)(nil)

// NewValidator returns a validator for the bot with app id o.AppID.
func NewValidator(o ValidatorOptions) *Validator {
	if o.MetadataURL == "" {
		o.MetadataURL = DefaultMetadataURL
	}
	if o.Issuer == "" {
		o.Issuer = DefaultIssuer
	}
	if o.Leeway == 0 {
		o.Leeway = 5 * time.Minute
	}
	if o.RefreshEvery == 0 {
		o.RefreshEvery = 24 * time.Hour
	}
	if o.MinRefresh == 0 {
		o.MinRefresh = 5 * time.Minute
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Validator{o: o}
}

// ErrUnauthorized is wrapped by every refusal of a token.
var ErrUnauthorized = errors.New("teams: request not authorised")

var bearer = regexp.MustCompile(`^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$`)

// AuthenticateRequest validates the Authorization header of an activity. The credential
// provider and channel service arguments of the interface are not used: the validator
// was built with the app id and the cloud's metadata URL.
func (v *Validator) AuthenticateRequest(ctx context.Context, act schema.Activity, header string, _ auth.CredentialProvider, _ string) (auth.ClaimsIdentity, error) {
	m := bearer.FindStringSubmatch(strings.TrimSpace(header))
	if m == nil {
		return nil, fmt.Errorf("%w: no bearer token", ErrUnauthorized)
	}
	var endorsements []string
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256", "RS384", "RS512"}), jwt.WithoutClaimsValidation())
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(m[1], claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, err := v.key(ctx, kid)
		if err != nil {
			return nil, err
		}
		endorsements = k.endorsements
		return k.key, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnauthorized, err)
	}
	if err := v.check(claims, act, endorsements); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnauthorized, err)
	}
	return identity(claims), nil
}

// check is every claim rule, on claims whose signature is already verified.
func (v *Validator) check(c jwt.MapClaims, act schema.Activity, endorsements []string) error {
	now := v.o.Now()
	exp, ok := number(c["exp"])
	if !ok {
		return errors.New("token has no expiry")
	}
	if now.After(time.Unix(exp, 0).Add(v.o.Leeway)) {
		return errors.New("token expired")
	}
	if nbf, ok := number(c["nbf"]); ok && now.Add(v.o.Leeway).Before(time.Unix(nbf, 0)) {
		return errors.New("token not valid yet")
	}
	if iss, _ := c["iss"].(string); iss != v.o.Issuer {
		return fmt.Errorf("issuer %q is not %s", iss, v.o.Issuer)
	}
	if v.o.AppID == "" || !slices.Contains(strings_(c["aud"]), v.o.AppID) {
		return errors.New("token is for another bot (audience)")
	}
	// Exactly equal, as Microsoft's SDKs compare them: not case-folded, not trimmed.
	if su, _ := c["serviceurl"].(string); su == "" || su != act.ServiceURL {
		return errors.New("serviceUrl does not match the token's serviceurl claim")
	}
	if len(endorsements) > 0 && act.ChannelID != "" && !slices.Contains(endorsements, act.ChannelID) {
		return fmt.Errorf("signing key is not endorsed for channel %q", act.ChannelID)
	}
	return nil
}

// number reads a NumericDate claim.
func number(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// strings_ reads a claim that may be one string or an array of them (aud).
func strings_(v any) []string {
	switch s := v.(type) {
	case string:
		return []string{s}
	case []any:
		var out []string
		for _, e := range s {
			if str, ok := e.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

// key returns the signing key kid, fetching the key set when it is stale or does not know
// kid (at most once per MinRefresh, so unknown kids cannot make us hammer the endpoint).
func (v *Validator) key(ctx context.Context, kid string) (signingKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.o.Now()
	k, ok := v.keys[kid]
	if ok && now.Sub(v.fetched) <= v.o.RefreshEvery {
		return k, nil
	}
	wait := v.o.MinRefresh
	if v.keys == nil {
		wait = 5 * time.Second // nothing to serve yet: try again soon, but not on every request
	}
	if !v.tried.IsZero() && now.Sub(v.tried) < wait {
		if ok {
			return k, nil
		}
		return signingKey{}, fmt.Errorf("unknown signing key %q", kid)
	}
	v.tried = now
	keys, err := v.fetch(ctx)
	if err != nil {
		if ok { // keep serving known keys while the endpoint is down
			return k, nil
		}
		return signingKey{}, fmt.Errorf("fetch Bot Framework signing keys: %w", err)
	}
	v.keys, v.fetched = keys, now
	if k, ok = keys[kid]; !ok {
		return signingKey{}, fmt.Errorf("unknown signing key %q", kid)
	}
	return k, nil
}

func (v *Validator) fetch(ctx context.Context) (map[string]signingKey, error) {
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := v.getJSON(ctx, v.o.MetadataURL, &meta); err != nil {
		return nil, err
	}
	if meta.JWKSURI == "" {
		return nil, errors.New("OpenID metadata has no jwks_uri")
	}
	var set struct {
		Keys []struct {
			Kty          string   `json:"kty"`
			Kid          string   `json:"kid"`
			N            string   `json:"n"`
			E            string   `json:"e"`
			Endorsements []string `json:"endorsements"`
		} `json:"keys"`
	}
	if err := v.getJSON(ctx, meta.JWKSURI, &set); err != nil {
		return nil, err
	}
	keys := map[string]signingKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) > 4 || len(n) < 128 {
			continue
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		if exp < 3 {
			continue
		}
		keys[k.Kid] = signingKey{key: &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, endorsements: k.Endorsements}
	}
	if len(keys) == 0 {
		return nil, errors.New("the key set has no usable RSA key")
	}
	return keys, nil
}

func (v *Validator) getJSON(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := v.o.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
}

// claimsIdentity is the library's ClaimsIdentity over validated claims, without its panics.
type claimsIdentity map[string]any

func identity(c jwt.MapClaims) auth.ClaimsIdentity { return claimsIdentity(c) }

func (c claimsIdentity) GetClaimValue(name string) string {
	s, _ := c[name].(string)
	return s
}

func (c claimsIdentity) IsAuthenticated() bool { return true }
