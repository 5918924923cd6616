package backendtest

import (
	"net/http"

	"github.com/accessbot/accessbot/governance/msgraph/msgraphtest"
)

// GraphContract is the part of a contract that the Graph client the Microsoft backends
// share (governance/msgraph) fixes for each of them, against a fake built on msgraphtest:
// service is how the backend names itself, submit the fake's match for its submitting
// call, list that of the collection it reads before submitting (its duplicate check), and
// stranger the e-mail of someone the fake's directory does not have. The backend adds its
// item, what its 403s say and what its credentials are.
func GraphContract(service, submit, list, stranger string) Contract {
	return Contract{
		Submit: submit,
		Transient: []Fault{{Call: submit, Status: http.StatusInternalServerError},
			{Call: "GET /users", Status: http.StatusBadGateway},
			{Call: list, Status: http.StatusServiceUnavailable, RetryAfter: "1.5"}},
		GiveUp:     service + " " + submit + ": 500 generalException",
		Hidden:     "Injected failure",
		Logged:     `message="Injected failure (HTTP 400)."`,
		TrackingID: msgraphtest.RequestID, TrackingKey: "request_id",
		Permanent: []Refusal{
			{Call: submit, Status: http.StatusBadRequest, Failure: service + " refused the request (HTTP 400), so nothing was changed there. " +
				"Ask your access admins to check the item's set-up in " + service + " and in accessbot's catalog, quoting Microsoft request id a1b2c3d4-"},
			{Call: submit, Status: http.StatusNotFound, Failure: service + " no longer has it (HTTP 404)"},
		},
		Stranger: stranger,
		NoIdentity: "Entra has no user whose e-mail or sign-in name is " + stranger + ", so " + service + " cannot grant you anything; " +
			"ask your access admins to check that your chat e-mail matches your Entra account",
	}
}
