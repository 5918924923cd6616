package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/accessbot/accessbot/governance"
	redisstore "github.com/accessbot/accessbot/governance/redis"
)

// ExportAudit writes the audit trail (every transition: who, what, when, from where) as
// JSON lines, oldest first, streaming: memory does not grow with the trail
// (`accessbot audit export [--since T] [--until T] [-config FILE]`).
func ExportAudit(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return errors.New("usage: accessbot audit export [--since 2026-11-01] [--until 2026-12-01T00:00:00Z] [-config FILE]")
	}
	var sinceFlag, untilFlag *string
	cfg, err := configFlags("audit export", args[1:], getenv, stdout, func(fs *flag.FlagSet) {
		sinceFlag = fs.String("since", "", "first time included (RFC 3339 or YYYY-MM-DD, UTC)")
		untilFlag = fs.String("until", "", "first time excluded (RFC 3339 or YYYY-MM-DD, UTC)")
	})
	if err != nil {
		return err
	}
	since, err := parseTime("--since", *sinceFlag)
	if err != nil {
		return err
	}
	until, err := parseTime("--until", *untilFlag)
	if err != nil {
		return err
	}
	if !since.IsZero() && !until.IsZero() && !until.After(since) {
		return fmt.Errorf("--until (%s) must be after --since (%s)", until.Format(time.RFC3339), since.Format(time.RFC3339))
	}
	if !cfg.Redis.Configured() {
		return errors.New("audit export reads the trail from Redis: set REDIS_URL (or redis.addrs) to the bot's Redis; the embedded store keeps nothing")
	}
	client, _, closeRedis, err := openRedis(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeRedis()
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	err = redisstore.New(client, redisstore.Options{Prefix: cfg.Redis.Prefix}).Audit(ctx, since, until, func(a governance.AuditRecord) error {
		return enc.Encode(a)
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q: write a time as 2026-11-01 or 2026-11-01T09:00:00Z", name, s)
}
