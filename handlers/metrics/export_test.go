package metrics

import "github.com/prometheus/client_golang/prometheus"

// Gatherer exposes m's registry to the tests, which read the metric families it holds.
func Gatherer(m *Registry) prometheus.Gatherer { return m.reg }
