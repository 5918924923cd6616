package voice

import (
	"fmt"

	"github.com/accessbot/accessbot/governance"
)

// The names of form inputs. They equal governance.Problem.Field values, so a validation
// error lands on the input at fault.
const (
	InputItem      = "item"
	InputDuration  = "duration"
	InputReason    = "reason"
	InputForwardTo = "forward_to"
)

// Input is one field of a form.
type Input struct {
	Name        string // InputItem, InputDuration or InputReason
	Label       string
	Hint        string // under the field
	Placeholder string // inside the empty field
	Optional    bool
	Multiline   bool
	MaxLength   int      // 0: no limit
	Choices     []Choice // a choice of these where there are any, else typed
	Missing     string   // what a required field left empty says
}

// Choice is one answer of a choice input.
type Choice struct{ Value, Title string }

// Form asks a person for something: a Slack modal, a Teams card with inputs.
type Form struct {
	Title, Submit, Close string
	Intro                Text // above the inputs
	Inputs               []Input
}

// RequestForm asks for access: the item (a choice of the catalog's fixed items; typed
// where there are none), an optional duration and an optional reason.
func RequestForm(items []governance.Item) Form {
	what := Input{Name: InputItem, Label: "Item", Placeholder: "Choose what you need", Missing: "Choose what you need."}
	for _, it := range items {
		if !it.Search {
			what.Choices = append(what.Choices, Choice{Value: it.ID, Title: it.Name})
		}
	}
	if len(what.Choices) == 0 {
		what.Placeholder, what.Missing = "The item's id or name (help lists them)", "Name what you need."
	}
	return Form{Title: "Request access", Submit: "Request", Close: "Cancel", Inputs: []Input{
		what,
		{Name: InputDuration, Label: "Duration", Hint: "30m, 8h, 7d or 1d12h", Placeholder: "e.g. 8h — empty means the item's default", Optional: true},
		{Name: InputReason, Label: "Reason", Placeholder: "Why do you need it? Some items require a reason.", Optional: true,
			Multiline: true, MaxLength: governance.MaxReasonLength},
	}}
}

// FormShows says that a form's list holds only shown of the catalog's total items.
func FormShows(shown, total int) Text {
	return line(fmt.Sprintf("The list shows %d of the %d items; ask for any other with ", shown, total), cmd("request <id>"),
		" (", cmd("help"), " lists them).")
}

// DenyForm asks an approver why they deny r.
func DenyForm(r *governance.Request) Form {
	return Form{Title: "Deny " + r.ID, Submit: "Deny", Close: "Back",
		Intro: line(person(r.Requester), " asks for ", item(r), ", ", duration(r), ".\n", strong("Their reason"), "\n", quote(r.Reason, maxDetail)),
		Inputs: []Input{{Name: InputReason, Label: "Reason for denying", Placeholder: "Tell the requester why, and what to do instead",
			Multiline: true, MaxLength: governance.MaxReasonLength}}}
}

// ReasonBox is the reason input beside Approve and Deny, where a platform asks for the
// reason on the card itself (Teams).
func ReasonBox() Input {
	return Input{Name: InputReason, Label: "Your reason", Placeholder: "Required to deny: tell the requester why", Optional: true,
		Multiline: true, MaxLength: governance.MaxReasonLength}
}
