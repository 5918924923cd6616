package governance

import (
	"context"
	"time"
)

// Clock tells the time. Tests and the demo move a ManualClock by hand; nothing sleeps.
type Clock interface {
	Now() time.Time
}

// Store persists requests and everything that must change with them. Each Create and
// Update is one atomic step: the request, its indexes, its due entries, its outbox tasks
// and its audit records are written together or not at all.
type Store interface {
	RequestStore
	OutboxStore
	DueStore
	RetentionStore
	DeskStore
	AccountStore
	Ping(ctx context.Context) error
}

// DeskStore remembers, between polls, which approvals a backend had pending, so that the
// next poll sees which of them were decided elsewhere meanwhile.
type DeskStore interface {
	// DeskSeen returns what the last poll of backend saw pending: approval id → request id.
	DeskSeen(ctx context.Context, backend string) (map[string]string, error)
	// SetDeskSeen replaces it.
	SetDeskSeen(ctx context.Context, backend string, seen map[string]string) error
}

// AccountStore keeps people's connected accounts as governance/accounts sealed them: the
// store never holds a token in the clear. Connected accounts are kept until their owner
// disconnects or the provider refuses the grant; request retention does not touch them.
type AccountStore interface {
	// SealedAccount returns the sealed account of email at backend; ok is false when none.
	SealedAccount(ctx context.Context, backend, email string) (sealed []byte, ok bool, err error)
	// SealedAccounts returns every sealed account of email, by backend.
	SealedAccounts(ctx context.Context, email string) (map[string][]byte, error)
	// SwapAccount replaces the sealed account of email at backend with next (nil: removes
	// it), provided what is stored is still prev (nil: whatever is stored), in one atomic
	// step; swapped is false, and nothing changes, when it is not.
	SwapAccount(ctx context.Context, backend, email string, prev, next []byte) (swapped bool, err error)
}

// RetentionStore forgets what is no longer needed, so that storage does not grow for ever.
type RetentionStore interface {
	// Purge removes a finished request and everything kept for it: its card references,
	// its grant record, its index entries and its due entries. A request that is not
	// finished, or that changed since it was read, is left alone (purged is false).
	Purge(ctx context.Context, id string) (purged bool, err error)
	// TrimAudit removes audit records older than before, at most about limit per shard a
	// call, and says how many it removed.
	TrimAudit(ctx context.Context, before time.Time, limit int) (int64, error)
}

// DueStore finds due work through the sorted due-time index, never by scanning requests.
type DueStore interface {
	// ClaimDue returns at most limit due-index members due at or before now and, in the
	// same atomic step, moves each to now+lease, so no other sweeper takes it meanwhile. The
	// transition that handles a member sets its next time or removes it; if the sweeper
	// dies first, the member is due again when the lease ends.
	ClaimDue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]string, error)
	// ClaimOnce reports whether the caller is the first to claim key within ttl.
	ClaimOnce(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Reserved is what CreateReserved did: Request created with Effects, or nothing created,
// and why (Bound or Other).
type Reserved struct {
	Request *Request
	Effects Effects
	Created bool
	Bound   string
	Other   string
}

// RequestStore holds requests, their indexes and their message references.
type RequestStore interface {
	// ReserveID returns the request id bound to key, binding a new one on first use, so
	// a retried command maps to the request it created; an empty key always gives a new id.
	// open names the one request a person may have open for an item ("" for none): when
	// another request (other) holds it, nothing is bound and other is returned for the
	// caller to look at; replace is a request the caller found finished, whose hold on
	// open is taken over.
	ReserveID(ctx context.Context, key, open, replace string) (id, other string, err error)
	// Create stores r (whose ID came from ReserveID) with its effects. created is false,
	// and nothing is written, when a request with that id already exists.
	Create(ctx context.Context, r *Request, fx Effects) (created bool, err error)
	// CreateReserved creates the request build makes for a fresh id, bound to key and open
	// as ReserveID binds a new id, in as few round trips as the store can (one on a Redis
	// that is one server). Nothing is created when key is bound to a request already (a
	// retried ask: Bound names it; on a store that binds and creates in two steps, a
	// request bound by an attempt that stopped in between is created under that id now)
	// or when the person's request Other for the item may still be open (replace as for
	// ReserveID).
	CreateReserved(ctx context.Context, key, open, replace string, build func(id string) (*Request, Effects)) (Reserved, error)
	// Get returns the request, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id string) (*Request, error)
	// Update replaces the stored request with r and applies fx, provided the stored
	// version is still prevVersion (r.Version must be prevVersion+1); ErrConflict otherwise.
	Update(ctx context.Context, r *Request, prevVersion int64, fx Effects) error
	// ListByRequester returns the newest requests made by email, newest first.
	ListByRequester(ctx context.Context, email string, limit int) ([]*Request, error)
	// ListPendingFor returns pending requests that email may decide, oldest first.
	ListPendingFor(ctx context.Context, email string, limit int) ([]*Request, error)
	// SaveMessageRef remembers a card sent for a request, so it can be updated later, and
	// says the request's version as stored at that moment (0 when it is gone), so that a
	// card drawn from an older version can be redrawn.
	SaveMessageRef(ctx context.Context, requestID string, ref MessageRef) (version int64, err error)
	// MessageRefs lists the cards sent for a request.
	MessageRefs(ctx context.Context, requestID string) ([]MessageRef, error)
	// Snapshots returns the requests with these ids, each with the cards sent for it, in
	// one round trip; a request that does not exist is left out.
	Snapshots(ctx context.Context, ids []string) (map[string]Snapshot, error)
}

// Snapshot is a request as stored, with the cards sent for it.
type Snapshot struct {
	Request *Request
	Cards   []MessageRef
}

// OutboxStore is the queue of work that follows a transition. A task is delivered at
// least once: a task claimed by a worker that dies is claimed again by another.
type OutboxStore interface {
	// ClaimTasks returns up to max tasks for consumer. ClaimEverywhere looks at the whole
	// outbox and takes over tasks another consumer claimed but did not finish in time;
	// ClaimWoken looks only where this process enqueued tasks since it last looked there.
	ClaimTasks(ctx context.Context, consumer string, max int, scope ClaimScope) ([]Task, error)
	// AckTask marks tasks done.
	AckTask(ctx context.Context, ts ...Task) error
	// AckWithCards saves cards (as SaveMessageRef does) and marks ts done, in one round
	// trip. versions[i] is the version of cards[i]'s request as stored then (0 when it is
	// gone), so that a card drawn from an older version can be redrawn.
	AckWithCards(ctx context.Context, cards []SentCard, ts ...Task) (versions []int64, err error)
	// FirstDelivery reports whether this is the first time t is about to be sent, and
	// remembers that it is (until well after another consumer could have reclaimed it):
	// a task delivered again because the consumer that sent it stopped before its
	// acknowledgement is then not sent twice.
	FirstDelivery(ctx context.Context, t Task) (bool, error)
	// RetryTask marks t done and schedules a copy with Attempt+1 for at.
	RetryTask(ctx context.Context, t Task, at time.Time) error
	// PromoteRetries moves retries due at or before now back into the queue.
	PromoteRetries(ctx context.Context, now time.Time) (int, error)
}

// SentCard is a card a task sent, saved when the task is acknowledged.
type SentCard struct {
	Request *Request // as the card was drawn from it
	Ref     MessageRef
}

// ClaimScope says where ClaimTasks looks for tasks.
type ClaimScope int

const (
	// ClaimEverywhere looks at the whole outbox: tasks other processes enqueued, retries
	// that came due, and tasks a consumer that stopped left unfinished.
	ClaimEverywhere ClaimScope = iota
	// ClaimWoken looks only where this process enqueued tasks since it last looked there:
	// the cheap pass that follows a Wake, which under load is most passes.
	ClaimWoken
	// ClaimHanded takes only the tasks this process's own transitions claimed for it as
	// they enqueued them, and asks the store nothing: a pass takes those its deliveries
	// made (a submission recorded, and the notice that it was) before it ends.
	ClaimHanded
	// ClaimLast is ClaimHanded for a dispatcher that is stopping: once it has taken all,
	// the store stops claiming tasks for this process as they are enqueued, and leaves
	// them in the outbox for whoever claims next.
	ClaimLast
)

// Effects are what a transition changes besides the request itself.
type Effects struct {
	Tasks []Task               // outbox entries to enqueue
	Due   map[string]time.Time // due-index members to add or move
	Undue []string             // due-index members to remove
	Audit []AuditRecord        // audit trail records to append
}

// TaskKind is the kind of an outbox task.
type TaskKind string

// The outbox task kinds.
const (
	TaskSendCard    TaskKind = "card"   // send an approval card to To
	TaskUpdateCards TaskKind = "update" // update every card sent for the request
	TaskNotify      TaskKind = "notify" // tell To something (Notice)
	TaskSubmit      TaskKind = "submit" // submit the approved grant to the backend
	TaskAdminAlert  TaskKind = "alert"  // alert the admins of an escalation (To: "admins#<n>", in stage k > 1 "admins#<k>.<n>")
	TaskRevoke      TaskKind = "revoke" // end the grant in the backend
	TaskHome        TaskKind = "home"   // redraw To's home view (HomePublisher)
	TaskChannelCard TaskKind = "chcard" // send the approval card to the item's approval channel (ChannelNotifier)
	TaskChannelNote TaskKind = "chnote" // record a reminder or an escalation (Notice) in the channel card's thread
)

// Task is one unit of outbox work.
type Task struct {
	ID        string     `json:"-"` // set by the store
	Kind      TaskKind   `json:"kind"`
	RequestID string     `json:"req"`
	To        string     `json:"to,omitempty"`     // recipient e-mail
	Notice    NoticeKind `json:"notice,omitempty"` // for TaskNotify
	// N numbers a reminder or an expiry warning among those of its request, so that one
	// held for working hours is dropped when a later one supersedes it.
	N       int `json:"n,omitempty"`
	Attempt int `json:"attempt,omitempty"`
	// Marked says the store set the task's delivery marker as it handed the task over
	// (the script that enqueued it claimed it for this process): this is its first
	// delivery, and FirstDelivery need not be asked.
	Marked bool `json:"-"`
}

// AuditRecord is one entry of the audit trail: who did what, when, from where.
type AuditRecord struct {
	At        time.Time `json:"at"`
	RequestID string    `json:"request"`
	Event     Event     `json:"event"`
	From      State     `json:"from,omitempty"`
	To        State     `json:"to"`
	Actor     string    `json:"actor"` // e-mail, or "accessbot" for the system
	Platform  string    `json:"platform,omitempty"`
	ChatID    string    `json:"chatId,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// MessageRef points at a message already sent, so that it can be updated in place.
type MessageRef struct {
	Platform  string `json:"platform"`
	Recipient string `json:"recipient"` // e-mail
	Channel   string `json:"channel"`
	ID        string `json:"id"` // Slack ts, Teams activity id
}

// ChatUser maps a chat platform's user to a person.
type ChatUser struct {
	Platform string `json:"platform"`
	ID       string `json:"id"`
	Email    string `json:"email"`
	Name     string `json:"name,omitempty"`
	TimeZone string `json:"tz,omitempty"` // IANA name, when the platform tells it
	// Org is the organisation the platform said the person belongs to when they were
	// looked up (Teams: the member's Entra tenant id); empty where it does not matter.
	Org string `json:"org,omitempty"`
	// Reach is how the platform reaches the person unprompted, in its own terms (Teams:
	// the personal conversation's reference); empty where an e-mail is enough (Slack).
	Reach string `json:"reach,omitempty"`
	// Guest: the platform lists the person as a guest of the organisation (Slack's
	// is_restricted or is_ultra_restricted).
	Guest bool `json:"guest,omitempty"`
	// Checked is when the platform's record of the person (their e-mail above all) was
	// last read; zero where it was never kept, or does not matter.
	Checked time.Time `json:"checked,omitzero"`
	// HomeSeen is when the person last opened the platform's home view (Slack's Home
	// tab); zero: not while this record was kept.
	HomeSeen time.Time `json:"homeSeen,omitzero"`
}

// Identity is a person as a governance backend knows them.
type Identity struct {
	ID    string
	Email string
	Name  string
}

// Grant is what a backend is asked to give.
type Grant struct {
	RequestID  string
	Item       ItemRef
	Requester  Person
	Identity   Identity
	Reason     string
	ApprovedBy Person
	Start      time.Time
	End        time.Time // zero: no end
	// RevokedBy, for Revoke: who ended the access early; empty when it reached its end.
	RevokedBy Person
	// BackendDecides: the backend's own approval policy decides the grant (approvals:
	// backend): nobody approved it yet, and ApprovedBy is empty.
	BackendDecides bool
	// Extension, for Extend: the id of the request that asks for the extension (RequestID
	// is the grant's), by which a backend recognises its own earlier extension on a retry.
	Extension string
	// As is the requester's connected account, for a backend that submits as the
	// requester (SubmitsAsRequester); nil otherwise.
	As Account
}

// Backend is one identity-governance system.
type Backend interface {
	// Name is the backend's name as used in the catalog ("builtin", "sailpoint", …).
	Name() string
	// LookupIdentity finds the backend's identity for a person: by e-mail, or by what
	// else the platform told about them (Person.EntraID) where the backend can use it.
	LookupIdentity(ctx context.Context, p Person) (Identity, error)
	// SearchCatalog lists requestable things matching query.
	SearchCatalog(ctx context.Context, query string) ([]ItemRef, error)
	// Submit asks for the grant. It must be idempotent in g.RequestID.
	Submit(ctx context.Context, g Grant) (Submission, error)
	// Status reads the backend's view of an earlier submission; the service asks again,
	// less and less often, while the answer's State is StateSubmitted.
	Status(ctx context.Context, s Submission) (Submission, error)
	// Extend moves the end of an active grant. A backend that moves it at once answers
	// StateActive; one that makes the extension a request of its own, with its own
	// approvals, answers StateSubmitted with that request's ExternalID: the service then
	// follows it with Status like a grant, and moves the grant's end only once it is active.
	Extend(ctx context.Context, g Grant, end time.Time) (Submission, error)
	// Revoke ends an active grant.
	Revoke(ctx context.Context, g Grant) error
	// Cancel withdraws a submission that has not completed. A backend that can no longer
	// withdraw it says why with a *Problem.
	Cancel(ctx context.Context, s Submission) error
}

// NoticeKind is what a notice tells its recipient.
type NoticeKind string

// The notices.
const (
	NoticeReceived  NoticeKind = "received"  // requester: your request went to the approvers
	NoticeApproved  NoticeKind = "approved"  // requester: approved, being granted
	NoticeDenied    NoticeKind = "denied"    // requester: denied, with the reason
	NoticeSubmitted NoticeKind = "submitted" // requester: the backend is working on it
	NoticeActive    NoticeKind = "active"    // requester: access is active (until …)
	NoticeFailed    NoticeKind = "failed"    // requester: the grant failed, and why
	NoticeCancelled NoticeKind = "cancelled" // requester: cancelled
	NoticeReminder  NoticeKind = "reminder"  // approver: still waiting for your decision
	NoticeEscalated NoticeKind = "escalated" // requester: your request went to someone else too
	NoticeTimedOut  NoticeKind = "timed_out" // requester: nobody decided in time
	NoticeExpiring  NoticeKind = "expiring"  // requester: your access ends soon
	NoticeEnded     NoticeKind = "ended"     // requester: your access has ended
	NoticeWaiting   NoticeKind = "waiting"   // requester: the backend waits for something (Submission.Waiting)
	NoticeRevoked   NoticeKind = "revoked"   // requester: someone else revoked your access (RevokedBy)
	NoticeNextStage NoticeKind = "stage"     // requester: a stage is approved, the next one's approvers have it
	NoticeStep      NoticeKind = "step"      // requester: one of the backend's approvals was decided (Request.Desk)
	NoticeConnect   NoticeKind = "connect"   // requester: connect your account, so that the backend is asked as you
)

// NoticeAskedForYou tells the requester that someone (RequestedBy) asked for the access
// for them, and that they may cancel it.
const NoticeAskedForYou NoticeKind = "asked_for_you"

// Notice is a message to one person about a request.
type Notice struct {
	Kind    NoticeKind
	Request *Request
	Card    *MessageRef // a reminder: the recipient's approval card, to link to
}

// Notifier tells people things. The service never knows which platform a person is on.
type Notifier interface {
	// SendApprovalCard sends r's approval card to an approver and says where it went.
	SendApprovalCard(ctx context.Context, to Person, r *Request) (MessageRef, error)
	// UpdateApprovalCard redraws a card already sent, e.g. to show the decision.
	UpdateApprovalCard(ctx context.Context, ref MessageRef, r *Request) error
	// Notify sends a notice to a person.
	Notify(ctx context.Context, to Person, n Notice) error
	// AlertAdmins tells the admins that r escalated, with working buttons. ok is false when
	// no admin channel is configured.
	AlertAdmins(ctx context.Context, r *Request) (ref MessageRef, ok bool, err error)
	// Digest tells an approver which requests wait for their decision, with working buttons.
	Digest(ctx context.Context, to Person, pending []*Request) error
	// TimeZone is the person's time zone where the platform tells it; nil otherwise.
	TimeZone(ctx context.Context, to Person) (*time.Location, error)
}
