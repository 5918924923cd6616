// Package governance is accessbot's centre: access requests, their lifecycle, the
// approval policy, the commands people give, and the ports the rest of the program
// plugs into (Store, Backend, Notifier, Clock).
//
// It must not know about chat platforms, HTTP, or Redis: no chat SDK, no router and no
// database client is imported here. Adapters live in sibling packages (governance/redis,
// governance/builtin, bot/slack, …) and depend on this one, never the other way round.
package governance
