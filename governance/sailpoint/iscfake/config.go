package iscfake

import (
	"encoding/json"
	"mime"
	"net/http"
	"slices"
)

func (s *Server) getConfig(*http.Request, []byte) reply {
	return reply{status: http.StatusOK, body: slices.Clone(s.config)}
}

func (s *Server) putConfig(r *http.Request, body []byte) reply {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return problem(http.StatusUnsupportedMediaType, "Content-Type must be application/json.")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return badRequest("The request body must be an AccessRequestConfig object.")
	}
	s.config = slices.Clone(body)
	return reply{status: http.StatusOK, body: slices.Clone(s.config)}
}
