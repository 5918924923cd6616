package slack

import (
	"bytes"
	"io"
	"net/http"
)

// inProcess is an http.RoundTripper that answers with a handler function, in-process. It
// records the answer itself rather than with httptest, which the server must not link.
type inProcess func(http.ResponseWriter, *http.Request)

// RoundTrip runs the handler on r and returns what it wrote.
func (p inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := &recorder{header: http.Header{}}
	p(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &http.Response{Status: http.StatusText(rec.status), StatusCode: rec.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rec.header, Body: io.NopCloser(&rec.body), ContentLength: int64(rec.body.Len()), Request: r}, nil
}

// recorder is the http.ResponseWriter of an in-process round trip.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}
