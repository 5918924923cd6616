package governance

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExplainPattern_SaysSimpleTicketPatternsInWords(t *testing.T) {
	for p, want := range map[string]string{
		`^(INC|CHG)-[0-9]+`: "starting with INC- or CHG- and a number, e.g. INC-1234",
		`JIRA-\d+`:          "containing JIRA- and a number, e.g. JIRA-1234",
		`^[A-Z]+-[0-9]{3,}`: "at the very start of the reason",
		`#[0-9]+`:           "anywhere in the reason",
	} {
		assert.Equal(t, want, explainPattern(p), p)
	}
}
