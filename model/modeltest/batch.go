package modeltest

import (
	"context"
	"math"
	"time"
)

// Limits of the Batch API (notes §5), the defaults of BatchOptions.
const (
	DefaultMaxFileLines = 50_000
	DefaultMaxFileBytes = 500 << 20
	DefaultMaxLineBytes = 6 << 20
	// DefaultBatchStep is how long a batch validates and finalizes unless
	// BatchOptions says otherwise: short, so that tests run fast, but not
	// zero, so that the states can be seen.
	DefaultBatchStep = 50 * time.Millisecond
)

// BatchOptions configures the Files and Batches API of a simulator. The
// zero value is a fast service with the real limits.
//
// A batch's state is a function of the simulator's clock, not of how
// often it is asked about: it validates for ValidateTime, answers LinesPerSecond lines,
// finalizes for FinalizeTime and then is completed, whether or not anybody
// polls in between.
type BatchOptions struct {
	// ValidateTime is how long a new batch stays "validating" and
	// FinalizeTime how long it stays "finalizing" (and "cancelling" after
	// a cancel). Zero means DefaultBatchStep; a negative value means no
	// time at all.
	ValidateTime, FinalizeTime time.Duration

	// LinesPerSecond is the pace at which a batch answers its lines, in
	// input order, while "in_progress". Zero answers every line the moment
	// validation ends.
	LinesPerSecond float64

	// CompletionWindow, when positive, replaces the requested
	// completion_window ("24h" … "336h") for timing, so that a test can
	// make a batch expire in milliseconds. The batch object still shows
	// the requested window.
	CompletionWindow time.Duration

	// MaxFileLines is the most request lines a batch input may have
	// (default DefaultMaxFileLines), MaxFileBytes the largest file an
	// upload may carry (DefaultMaxFileBytes) and MaxLineBytes the longest
	// line (DefaultMaxLineBytes). Zero or negative means the default.
	MaxFileLines int
	MaxFileBytes int64
	MaxLineBytes int

	// Hook, when set, is called for every Files and Batches request once
	// it is authenticated and its body has been read, before it takes
	// effect, with the request's context and one of the operations
	// "upload", "get-file", "list-files", "content", "delete" (Files) and
	// "create", "retrieve", "list", "cancel" (Batches). It may block, for
	// instance to hold a request while a test kills the client: the
	// operation still takes effect when Hook returns nil, even if the
	// client has gone, as on a real server whose answer was lost. A
	// non-nil error answers 500 internal_error instead. Hook must be safe
	// for concurrent use.
	Hook func(ctx context.Context, op string) error
}

// normalized returns the options with their defaults filled in.
func (o BatchOptions) normalized() BatchOptions {
	step := func(d time.Duration) time.Duration {
		switch {
		case d == 0:
			return DefaultBatchStep
		case d < 0:
			return 0
		}
		return d
	}
	o.ValidateTime = step(o.ValidateTime)
	o.FinalizeTime = step(o.FinalizeTime)
	if o.LinesPerSecond < 0 || math.IsNaN(o.LinesPerSecond) || math.IsInf(o.LinesPerSecond, 0) {
		o.LinesPerSecond = 0
	}
	o.CompletionWindow = max(o.CompletionWindow, 0)
	if o.MaxFileLines <= 0 {
		o.MaxFileLines = DefaultMaxFileLines
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	return o
}

// Batch statuses (notes §5).
const (
	statusValidating = "validating"
	statusInProgress = "in_progress"
	statusFinalizing = "finalizing"
	statusCompleted  = "completed"
	statusFailed     = "failed"
	statusExpired    = "expired"
	statusCancelling = "cancelling"
	statusCancelled  = "cancelled"
)

// Codes of the error-file lines of requests a batch never ran.
const (
	codeExpired   = "batch_expired"
	codeCancelled = "batch_cancelled"
)

// batch is one batch job. Everything but the fields marked mutable is set
// at creation and never changes, which lets the results be rendered
// without holding the store's lock.
type batch struct {
	id          string
	seq         uint64 // creation order
	lineKey     uint64 // derives the request ids of the lines
	inputFileID string
	endpoint    string
	window      string
	metadata    map[string]string

	// input is the input file's content, kept even when the file is
	// deleted, and lines its request lines; errs are validation errors,
	// which fail the batch (lines is then empty).
	input []byte
	lines []lineRec
	errs  []batchError

	// The timeline: validation ends at validated, answering every line
	// takes ran, finalizing takes finalize; deadline is the end of the
	// completion window.
	created, validated, deadline time.Time
	ran, finalize                time.Duration
	linesPerSecond               float64

	outputID, errorID string

	// Mutable, guarded by batchStore.mu.
	cancelAt              time.Time // zero: not cancelled
	outputGone, errorGone bool      // deleted through the Files API
	outputSize, errorSize int64     // file sizes once measured, else -1
}

// batchState is a batch as seen at one instant.
type batchState struct {
	status string
	// Zero times are reported as null.
	inProgressAt, finalizingAt, completedAt, failedAt time.Time
	expiredAt, cancellingAt, cancelledAt              time.Time

	total int
	// done is how many lines (in input order) have been answered.
	done int
	// dropCode is set when the lines after done were dropped (expired or
	// cancelled): they go to the error file with this code.
	dropCode string
	// completed and failed are the request_counts.
	completed, failed int
	// ended is when a terminal batch reached its status (zero otherwise);
	// its output and error files appear then.
	ended time.Time
}

func (s *batchState) terminal() bool { return !s.ended.IsZero() }

// hasOutput and hasErrors say whether the batch has an output or an error
// file: only terminal batches do, and only when there is a line to put in.
func (s *batchState) hasOutput() bool { return s.terminal() && s.completed > 0 }
func (s *batchState) hasErrors() bool { return s.terminal() && s.failed > 0 }

// lineTime is when line i (0-based) is answered.
func (b *batch) lineTime(i int) time.Time {
	if b.linesPerSecond <= 0 {
		return b.validated
	}
	return b.validated.Add(seconds64(float64(i+1) / b.linesPerSecond))
}

// seconds64 converts seconds to a Duration, saturating instead of
// overflowing for absurdly slow paces.
func seconds64(s float64) time.Duration {
	const maxSeconds = float64(math.MaxInt64/int64(time.Second)) / 2
	return time.Duration(math.Ceil(min(s, maxSeconds) * float64(time.Second)))
}

// doneBy is how many lines have been answered at t.
func (b *batch) doneBy(t time.Time) int {
	n := len(b.lines)
	switch {
	case t.Before(b.validated):
		return 0
	case !t.Before(b.validated.Add(b.ran)):
		return n
	}
	k := int(math.Floor(t.Sub(b.validated).Seconds() * b.linesPerSecond))
	return min(max(k, 0), n)
}

// state computes the batch's status and counts at now from its timeline.
// The order of the cases is the precedence of the outcomes: a cancel
// beats everything that would have happened after it, a failed validation
// beats the completion window, and the window beats completion.
func (b *batch) state(now time.Time) batchState {
	var s batchState
	n := len(b.lines)
	allDone := b.validated.Add(b.ran)
	switch {
	case !b.cancelAt.IsZero() && !now.Before(b.cancelAt):
		s.cancellingAt = b.cancelAt
		if !b.cancelAt.Before(b.validated) {
			// Cancelled while in progress: the lines answered so far
			// stay, the rest are dropped once the batch is cancelled.
			s.inProgressAt = b.validated
			s.total = n
			s.done = b.doneBy(b.cancelAt)
		}
		end := b.cancelAt.Add(b.finalize)
		s.status = statusCancelling
		if !now.Before(end) {
			s.status = statusCancelled
			s.cancelledAt, s.ended = end, end
			s.dropCode = codeCancelled
		}
	case len(b.errs) > 0:
		s.status = statusValidating
		if !now.Before(b.validated) {
			s.status = statusFailed
			s.failedAt, s.ended = b.validated, b.validated
		}
	case b.deadline.Before(allDone) && !now.Before(b.deadline):
		s.status = statusExpired
		s.expiredAt, s.ended = b.deadline, b.deadline
		if !b.deadline.Before(b.validated) {
			s.inProgressAt = b.validated
		}
		s.total = n
		s.done = b.doneBy(b.deadline)
		s.dropCode = codeExpired
	case now.Before(b.validated):
		s.status = statusValidating
	case now.Before(allDone):
		s.status = statusInProgress
		s.inProgressAt = b.validated
		s.total = n
		s.done = b.doneBy(now)
	default:
		s.inProgressAt, s.finalizingAt = b.validated, allDone
		s.total, s.done = n, n
		s.status = statusFinalizing
		if end := allDone.Add(b.finalize); !now.Before(end) {
			s.status = statusCompleted
			s.completedAt, s.ended = end, end
		}
	}
	if s.done > 0 {
		s.completed = int(b.lines[s.done-1].okCum)
	}
	s.failed = s.done - s.completed
	if s.dropCode != "" {
		s.failed += s.total - s.done
	}
	return s
}

// billed returns the usage of the lines answered successfully by s.
func (b *batch) billed(s *batchState) (prompt, completion int64) {
	if s.done == 0 {
		return 0, 0
	}
	l := &b.lines[s.done-1]
	return l.promptCum, l.completionCum
}

// ---- JSON shapes (recorded *-batch-compatible-nosse) ----

// batchObject is a batch as the service writes it, keys in its order.
type batchObject struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	Endpoint         string            `json:"endpoint"`
	Errors           *batchErrors      `json:"errors"`
	InputFileID      string            `json:"input_file_id"`
	CompletionWindow string            `json:"completion_window"`
	Status           string            `json:"status"`
	OutputFileID     *string           `json:"output_file_id"`
	ErrorFileID      *string           `json:"error_file_id"`
	CreatedAt        int64             `json:"created_at"`
	InProgressAt     *int64            `json:"in_progress_at"`
	ExpiresAt        *int64            `json:"expires_at"`
	FinalizingAt     *int64            `json:"finalizing_at"`
	CompletedAt      *int64            `json:"completed_at"`
	FailedAt         *int64            `json:"failed_at"`
	ExpiredAt        *int64            `json:"expired_at"`
	CancellingAt     *int64            `json:"cancelling_at"`
	CancelledAt      *int64            `json:"cancelled_at"`
	RequestCounts    requestCounts     `json:"request_counts"`
	Metadata         map[string]string `json:"metadata"`
}

type batchErrors struct {
	Object string       `json:"object"`
	Data   []batchError `json:"data"`
}

// batchError is one validation error of a failed batch; Param and Line
// are null when the error is about the whole file.
type batchError struct {
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Param   *string `json:"param"`
	Line    *int    `json:"line"`
}

type requestCounts struct {
	Total     int `json:"total"`
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
}

type batchList struct {
	Object  string        `json:"object"`
	Data    []batchObject `json:"data"` // null when empty, as recorded
	FirstID *string       `json:"first_id"`
	LastID  *string       `json:"last_id"`
	HasMore bool          `json:"has_more"`
}

// object renders the batch in state s. The service answers a cancel
// before it records the time of it, so that answer shows cancelling_at
// null (recorded cancel-batch-compatible-nosse); cancelAnswer does the
// same. expires_at is always null, as in every recording.
func (b *batch) object(s batchState, cancelAnswer bool) batchObject {
	unix := func(t time.Time) *int64 {
		if t.IsZero() {
			return nil
		}
		v := t.Unix()
		return &v
	}
	o := batchObject{
		ID:               b.id,
		Object:           "batch",
		Endpoint:         b.endpoint,
		InputFileID:      b.inputFileID,
		CompletionWindow: b.window,
		Status:           s.status,
		CreatedAt:        b.created.Unix(),
		InProgressAt:     unix(s.inProgressAt),
		FinalizingAt:     unix(s.finalizingAt),
		CompletedAt:      unix(s.completedAt),
		FailedAt:         unix(s.failedAt),
		ExpiredAt:        unix(s.expiredAt),
		CancellingAt:     unix(s.cancellingAt),
		CancelledAt:      unix(s.cancelledAt),
		RequestCounts:    requestCounts{Total: s.total, Completed: s.completed, Failed: s.failed},
		Metadata:         b.metadata,
	}
	if cancelAnswer && s.status == statusCancelling {
		o.CancellingAt = nil
	}
	if s.status == statusFailed {
		o.Errors = &batchErrors{Object: "list", Data: b.errs}
	}
	// The ids stay after the files are deleted, as OpenAI's do; their
	// content is then 404.
	if s.hasOutput() {
		o.OutputFileID = &b.outputID
	}
	if s.hasErrors() {
		o.ErrorFileID = &b.errorID
	}
	return o
}
