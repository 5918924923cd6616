package slack

import "io"

// Workspace is the earlier name of the development-mode Slack.
//
// Deprecated: use NewTranscript; tests use the slackfake package. Kept until
// cmd/accessbot moves over.
type Workspace struct{ w io.Writer }

// NewWorkspace returns a Workspace that writes nothing.
//
// Deprecated: use NewTranscript.
func NewWorkspace() *Workspace { return &Workspace{w: io.Discard} }

// WithTranscript makes the workspace write what people would read to w.
//
// Deprecated: use NewTranscript.
func (ws *Workspace) WithTranscript(w io.Writer) *Workspace {
	ws.w = w
	return ws
}

// Client returns the workspace as an API.
//
// Deprecated: use NewTranscript.
func (ws *Workspace) Client() API { return NewTranscript(ws.w, nil) }
