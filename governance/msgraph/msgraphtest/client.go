package msgraphtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Do sends one call to a fake Graph as a test client would: method and path below
// baseURL, with token as the bearer token (none when empty) and body as JSON (none when
// empty). It returns the status and the JSON answer (nil when there is none).
func Do(baseURL, token, method, path, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, baseURL+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	var out map[string]any
	if err == nil && len(data) > 0 {
		if err = json.Unmarshal(data, &out); err != nil {
			err = fmt.Errorf("%w: %s", err, data)
		}
	}
	return resp.StatusCode, out, err
}
