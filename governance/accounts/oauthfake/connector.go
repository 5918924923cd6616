package oauthfake

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/accessbot/accessbot/governance"
)

// Connector is a governance.Connector over the fake: its sign-in, and whose account a
// token is, read from the userinfo endpoint (and identity_id from the token response).
type Connector struct {
	Server *Server
	Client Client
	PKCE   bool
}

var _ governance.Connector = (*Connector)(nil)

// SignIn says how to sign in at the fake.
func (c *Connector) SignIn(context.Context) (governance.SignIn, error) {
	return governance.SignIn{AuthURL: c.Server.AuthURL(), TokenURL: c.Server.TokenURL(), ClientID: c.Client.ID,
		ClientSecret: c.Client.Secret, Scopes: []string{"openid", "email"}, PKCE: c.PKCE}, nil
}

// WhoIs asks the fake's userinfo endpoint whose token it is.
func (c *Connector) WhoIs(ctx context.Context, accessToken string, extra func(string) any) (governance.Identity, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Server.UserinfoURL(), nil)
	if err != nil {
		return governance.Identity{}, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return governance.Identity{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return governance.Identity{}, fmt.Errorf("userinfo answered %d", resp.StatusCode)
	}
	var u struct{ Sub, Email, Name string }
	if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
		return governance.Identity{}, err
	}
	if id, _ := extra("identity_id").(string); id != u.Sub {
		return governance.Identity{}, fmt.Errorf("the token response's identity_id %q is not userinfo's %q", id, u.Sub)
	}
	return governance.Identity{ID: u.Sub, Email: u.Email, Name: u.Name}, nil
}
