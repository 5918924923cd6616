package governance

import "time"

// Observer hears what the service does, for metrics. Its methods must be quick and safe
// for concurrent use; the service never waits on anything else for them.
type Observer interface {
	// Transitioned is called after a change of r is stored, once per audit record.
	Transitioned(r *Request, a AuditRecord)
	// BackendCalled is called after each call to a governance backend.
	BackendCalled(backend, op string, took time.Duration, err error)
	// Delivered is called after each attempt to deliver an outbox task.
	Delivered(kind TaskKind, took time.Duration, err error)
}

type noObserver struct{}

func (noObserver) Transitioned(*Request, AuditRecord)                 {}
func (noObserver) BackendCalled(string, string, time.Duration, error) {}
func (noObserver) Delivered(TaskKind, time.Duration, error)           {}

// call runs a backend operation and reports it to the observer.
func (s *Service) call(backend, op string, f func() error) error {
	start := time.Now()
	err := f()
	s.obs.BackendCalled(backend, op, time.Since(start), err)
	return err
}
