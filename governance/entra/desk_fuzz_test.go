package entra_test

import (
	"strings"
	"testing"

	"github.com/accessbot/accessbot/governance/entra"
)

// FuzzIsoDuration: any durationBeforeEscalation Graph answers is read as a duration that is
// never negative, or as none; it never panics.
func FuzzIsoDuration(f *testing.F) {
	for _, s := range []string{"P14D", "PT12H", "P1DT2H30M", "PT0S", "", "P", "PT", "-P1D", "P99999999999999999999D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d := entra.IsoDuration(s); d < 0 {
			t.Fatalf("%q read as %v", s, d)
		}
	})
}

// FuzzSplitMarker: a justification anyone may write in My Access yields accessbot's
// request id only from a marker at its end, and the comment never contains that marker.
func FuzzSplitMarker(f *testing.F) {
	for _, s := range []string{"quarter close (accessbot request AR-7)", "no marker", "(accessbot request AR-1) then more", "", "(accessbot request )"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		comment, ours := entra.SplitMarker(s)
		if ours != "" && strings.Contains(comment, "(accessbot request "+ours+")") && !strings.Contains(s[:len(s)-1], "(accessbot request "+ours+")") {
			t.Fatalf("%q: the marker stayed in the comment %q", s, comment)
		}
		if ours != "" && !strings.HasSuffix(strings.TrimSpace(s), "(accessbot request "+ours+")") {
			t.Fatalf("%q: %q taken from a marker not at the end", s, ours)
		}
	})
}
