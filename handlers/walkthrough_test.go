package handlers_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/accessbot/accessbot/governance"
)

// A walk-through as a new user would make it, through /access, checking what people are
// told against what happened (issue "What people were told was not what happened").
func TestWalkThrough_WhatPeopleAreToldIsWhatHappened(t *testing.T) {
	w := newWorld(t)

	// A duration written out is a duration; one that is not says what is wrong with it.
	assert.Contains(t, w.ask("UCAROL", "request prod-db for 2 fortnights because INC-1"), `"2 fortnights" is not a duration`)
	assert.Contains(t, w.ask("UCAROL", "request prod-db for 2 hours because INC-1"), "Request AR-1 for Production database `prod-db`, 2h")

	// A second ask for the same access is refused, saying what to do.
	assert.Contains(t, w.ask("UCAROL", "request prod-db for 1h because INC-1"), "You already asked for Production database: AR-1 is waiting for approval")

	// Cancel of active access points at revoke; extend asks for more, and says so plainly.
	w.approve("UALICE", "AR-1")
	assert.Contains(t, w.ask("UCAROL", "cancel AR-1"), "AR-1 is active, so there is nothing left to cancel; to give the access up, revoke it: `/access revoke AR-1`.")
	assert.Contains(t, w.ask("UCAROL", "extend AR-1 for 1h"), "You asked to extend AR-1 by 1h, until")
	w.approve("UALICE", "AR-2")
	assert.Contains(t, w.ask("UCAROL", "schedule AR-2"), "access ends", "an extension's schedule is its end")
	assert.NotContains(t, w.ask("UCAROL", "schedule AR-2"), "warning")

	// Revoking extended access ends it all, and every view agrees.
	assert.Contains(t, w.ask("UCAROL", "revoke prod-db"), "Your access to Production database `prod-db` (request AR-1) is revoked; the access system is removing it now.")
	assert.Equal(t, governance.StateRevoked, w.state("AR-1"))
	assert.Equal(t, governance.StateRevoked, w.state("AR-2"))
	status := w.ask("UCAROL", "status")
	assert.NotContains(t, status, "active")
	assert.Contains(t, w.ask("UCAROL", "revoke AR-2"), "AR-1 is revoked now, so there is nothing to revoke.", "the extension stands for the access it extends")

	// Revoking something that does not exist says so.
	assert.Contains(t, w.ask("UCAROL", "revoke nonexistent"), `There is no item "nonexistent"`)
	assert.Contains(t, w.ask("UCAROL", "cancel"), "Say which request: ids look like AR-7")
}
