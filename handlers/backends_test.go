package handlers_test

import (
	"testing"

	slackbot "github.com/accessbot/accessbot/bot/slack"
	"github.com/accessbot/accessbot/governance"
)

// newBackendWorld is a world whose catalog is catalog, with backend besides the built-in
// one, on clock: the clock the backend and its fake share.
func newBackendWorld(t *testing.T, catalog string, clock *governance.ManualClock, backend governance.Backend) *world {
	w := newWorldWith(t, catalog, []governance.Backend{backend})
	w.clock = clock
	w.start()
	return w
}

// aliceApproves delivers what is queued, has Alice click Approve on request id in Slack, and
// delivers what follows.
func (w *world) aliceApproves(id string) {
	w.drain()
	w.click("UALICE", slackbot.ActionApprove, id)
	w.drain()
}
