package entra

// Unexported parsers of what Graph answers, for the fuzz tests.
var (
	IsoDuration = isoDuration
	SplitMarker = splitMarker
)
