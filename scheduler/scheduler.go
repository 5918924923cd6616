// Package scheduler drives accessbot's time-based work with robfig/cron: the sweep that
// sends reminders, escalates, times out undecided requests and warns before access ends.
// What each due item means lives in governance; this package decides when to look.
//
// It imports governance only.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// Sweeper is the part of governance.Service the scheduler drives.
type Sweeper interface {
	Sweep(ctx context.Context, limit int, lease time.Duration) (int, error)
}

// Digester sends the daily digest of pending approvals; governance.Service is one.
type Digester interface {
	Digest(ctx context.Context) (int, error)
}

// ApprovalSyncer follows the approvals of backends whose own policy decides;
// governance.Service is one.
type ApprovalSyncer interface {
	SyncApprovals(ctx context.Context) error
}

// Observer hears about every sweep, for metrics.
type Observer interface {
	Swept(took time.Duration, items int, err error)
}

// Config says when and how much to sweep.
type Config struct {
	// Sweep is the cron spec of the sweep (robfig/cron syntax with optional seconds, or
	// descriptors such as "@every 1m"). Default "@every 1m".
	Sweep string `yaml:"sweep"`
	// Batch is how many due items one claim takes. Default 500.
	Batch int `yaml:"batch"`
	// Lease is how long claimed items stay out of other sweepers' reach; if this sweeper
	// dies, they are due again after it. Default 5m.
	Lease time.Duration `yaml:"lease"`
	// Digest is the cron spec of the digest of pending approvals sent to each approver,
	// e.g. "CRON_TZ=Europe/Berlin 0 9 * * 1-5"; empty: no digest.
	Digest string `yaml:"digest"`
	// Approvals is the cron spec of the poll of the approvals of backends whose own
	// policy decides (items with approvals: backend): a decision made in the backend shows
	// on the cards within one interval. Default "@every 30s".
	Approvals string `yaml:"approvals"`
}

var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Check validates the configuration and fills in defaults, saying what is wrong.
func (c *Config) Check() error {
	if c.Sweep == "" {
		c.Sweep = "@every 1m"
	}
	if c.Batch == 0 {
		c.Batch = 500
	}
	if c.Approvals == "" {
		c.Approvals = "@every 30s"
	}
	if c.Lease == 0 {
		c.Lease = 5 * time.Minute
	}
	var errs []error
	if _, err := parser.Parse(c.Sweep); err != nil {
		errs = append(errs, fmt.Errorf("scheduler sweep %q is not a cron spec (write e.g. \"@every 1m\" or \"*/5 * * * *\"): %w", c.Sweep, err))
	}
	if _, err := parser.Parse(c.Approvals); err != nil {
		errs = append(errs, fmt.Errorf("scheduler approvals %q is not a cron spec (write e.g. \"@every 30s\"): %w", c.Approvals, err))
	}
	if c.Digest != "" {
		if _, err := parser.Parse(c.Digest); err != nil {
			errs = append(errs, fmt.Errorf("scheduler digest %q is not a cron spec (write e.g. \"CRON_TZ=Europe/Berlin 0 9 * * 1-5\"): %w", c.Digest, err))
		}
	}
	if c.Batch < 1 || c.Batch > 10000 {
		errs = append(errs, fmt.Errorf("scheduler batch is %d; use 1 to 10000", c.Batch))
	}
	if c.Lease < 10*time.Second {
		errs = append(errs, fmt.Errorf("scheduler lease is %s; use at least 10s, longer than one sweep takes", c.Lease))
	}
	return errors.Join(errs...)
}

// Scheduler runs the sweep on its cron spec.
type Scheduler struct {
	svc  Sweeper
	cfg  Config
	log  *slog.Logger
	obs  Observer
	cron *cron.Cron
	mu   sync.Mutex
	// stopping ends a sweep after its current batch, once Stop is called.
	stopping atomic.Bool
}

// New returns a scheduler; cfg is checked (and defaulted) first.
func New(svc Sweeper, cfg Config, log *slog.Logger, obs Observer) (*Scheduler, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	return &Scheduler{svc: svc, cfg: cfg, log: log, obs: obs}, nil
}

// SweepNow sweeps until nothing more is due and returns how many items it handled. Cron
// calls it; tests and the CLI may too.
func (s *Scheduler) SweepNow(ctx context.Context) (int, error) {
	s.mu.Lock() // one sweep at a time in this process; other replicas are kept apart by the claims
	defer s.mu.Unlock()
	start := time.Now()
	total := 0
	var err error
	for ctx.Err() == nil && !s.stopping.Load() {
		var n int
		n, err = s.svc.Sweep(ctx, s.cfg.Batch, s.cfg.Lease)
		total += n
		if err != nil || n == 0 {
			break
		}
	}
	took := time.Since(start)
	if s.obs != nil {
		s.obs.Swept(took, total, err)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "sweep failed", "items", total, "took", took, "err", err)
	} else if total > 0 {
		s.log.InfoContext(ctx, "sweep done", "items", total, "took", took)
	}
	return total, err
}

// DigestNow sends the digest; cron calls it on the digest spec.
func (s *Scheduler) DigestNow(ctx context.Context, d Digester) (int, error) {
	n, err := d.Digest(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "digest incomplete", "sent", n, "err", err)
	} else {
		s.log.InfoContext(ctx, "digest sent", "sent", n)
	}
	return n, err
}

// SyncApprovalsNow polls the backends' approvals once; cron calls it on its spec.
func (s *Scheduler) SyncApprovalsNow(ctx context.Context, a ApprovalSyncer) {
	if err := a.SyncApprovals(ctx); err != nil {
		s.log.ErrorContext(ctx, "approvals not synced", "err", err)
	}
}

// Start runs the sweep on its spec until ctx ends; Stop waits for a running sweep.
func (s *Scheduler) Start(ctx context.Context) {
	s.cron = cron.New(cron.WithParser(parser), cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
	_, _ = s.cron.AddFunc(s.cfg.Sweep, func() { _, _ = s.SweepNow(ctx) }) // checked in New
	if a, ok := s.svc.(ApprovalSyncer); ok {
		_, _ = s.cron.AddFunc(s.cfg.Approvals, func() { s.SyncApprovalsNow(ctx, a) })
	}
	if d, ok := s.svc.(Digester); ok && s.cfg.Digest != "" {
		_, _ = s.cron.AddFunc(s.cfg.Digest, func() { _, _ = s.DigestNow(ctx, d) })
	}
	s.cron.Start()
}

// Stop stops the cron, lets a sweep in progress finish the batch it is on (not every
// batch still due: another replica, or this one after a restart, takes those), and waits
// for it.
func (s *Scheduler) Stop() {
	s.stopping.Store(true)
	if s.cron != nil {
		<-s.cron.Stop().Done()
	}
}
