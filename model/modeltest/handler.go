package modeltest

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"hash/fnv"
	mathrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"bulkgen/model/tokenizer"
)

// Paths of the two chat endpoints.
const (
	CompatiblePath = "/compatible-mode/v1/chat/completions"
	NativePath     = "/api/v1/services/aigc/text-generation/generation"
)

// MaxBodyBytes is the largest request body accepted; larger ones get 413
// BadRequest.TooLarge, like the service's 16 MiB limit.
const MaxBodyBytes = 16 << 20

// Options configures a simulator. The zero value is a fast, fault-free
// service that accepts any non-empty API key and the usual model names.
type Options struct {
	// APIKey, when set, is the only key accepted ("Authorization: Bearer
	// <APIKey>"); otherwise any non-empty bearer token is. A wrong or
	// missing key gets 401.
	APIKey string

	// Latency + a uniform draw from [0, Jitter) delays every answer. A
	// stream spreads the delay over its frames. Throttles and request
	// errors answer at once, as the service's gateway does.
	Latency, Jitter time.Duration

	// RPM and TPM are request and token quotas per minute (0: unlimited),
	// enforced per second like the service's: buckets that refill at
	// RPM/60 and TPM/60 per second and hold at most one second's worth
	// (at least one request). TPM counts prompt plus completion tokens,
	// known before answering. Over RPM → 429 limit_requests /
	// Throttling.RateQuota; over TPM → 429 insufficient_quota /
	// Throttling.AllocationQuota. The quotas are shared by all models.
	RPM, TPM int

	// RetryAfter adds a Retry-After header (whole seconds) to every 429.
	// DashScope never sends one, so it is off by default; turn it on to
	// behave like OpenAI or vLLM.
	RetryAfter bool

	// FaultRate is the probability that a request (one that passed
	// validation and the quotas) gets a fault drawn uniformly from Faults
	// instead of its answer. Faults defaults to the retryable kinds:
	// Fault429, Fault429Quota, Fault500, Fault503, FaultReset and
	// FaultTruncated.
	FaultRate float64
	Faults    []Fault

	// Seed seeds the random draws of FaultRate and Jitter, so that a
	// sequential test sees the same faults every run.
	Seed int64

	// Fault, when set, replaces FaultRate: it is called for every request
	// that passed validation and the quotas, with the request's 1-based
	// arrival number (counting every request the server received) and its
	// body, which it must not keep or modify. It must be safe for
	// concurrent use. Return FaultNone to answer normally.
	Fault func(n int64, body []byte) Fault

	// Models lists the accepted model names. Empty accepts every name
	// starting with qwen, qwq, qvq or deepseek-. Any other model gets 404
	// model_not_found / ModelNotFound.
	Models []string

	// Batch configures the Files and Batches API: its pace, limits and
	// request hook.
	Batch BatchOptions

	// now replaces time.Now in tests of the quotas and of batches.
	now func() time.Time
}

// Stats is a snapshot of the simulator's counters.
type Stats struct {
	// Requests counts every request received, whatever its outcome.
	Requests int64
	// OK counts complete successful chat answers (streams count when
	// their last frame was written); Files and Batches answers are not
	// counted.
	OK int64
	// ByStatus counts answers by the status the service reported: the
	// HTTP status, or for a native stream's error frame the status in its
	// ":HTTP_STATUS/<code>" line. Requests that got no status at all
	// (FaultHang, a client that went away) are not counted.
	ByStatus map[int]int64
	// Faults counts injected faults, from markers, Fault and FaultRate.
	Faults int64
	// Throttled counts 429 answers: quota throttles and injected ones.
	Throttled int64
	// PromptTokens and CompletionTokens add up the usage of successful
	// answers, as the service would bill them.
	PromptTokens, CompletionTokens int64
	// InFlight is the number of requests being handled now; MaxInFlight
	// the highest it has been.
	InFlight, MaxInFlight int64

	// FilesUploaded counts successful uploads to the Files API and
	// BatchesCreated successful batch creations.
	FilesUploaded, BatchesCreated int64
	// BatchLines counts the batch request lines answered so far, with a
	// result or a line error; lines dropped by a cancel or the completion
	// window are not counted.
	BatchLines int64
	// BatchPromptTokens and BatchCompletionTokens add up the usage of the
	// batch lines answered successfully so far, which the service bills
	// at half price; they are not part of PromptTokens and
	// CompletionTokens.
	BatchPromptTokens, BatchCompletionTokens int64
}

// Handler is the simulator as an http.Handler, for serving it from a
// server of one's own. Most callers want NewServer or Listen instead.
type Handler struct {
	opts    Options
	models  modelSet
	faults  []Fault
	now     func() time.Time
	closing chan struct{}
	once    sync.Once

	rpm, tpm *bucket

	batch *batchStore

	rngMu sync.Mutex
	rng   *mathrand.Rand

	// markSeen counts deliveries of request bodies carrying a counted
	// marker ([[sim:500*2]]).
	markMu   sync.Mutex
	markSeen map[uint64]int

	idKey uint64
	idSeq atomic.Uint64

	requests, ok, faultCount, throttled atomic.Int64
	promptTokens, completionTokens      atomic.Int64
	inFlight, maxInFlight               atomic.Int64
	byStatus                            [600]atomic.Int64
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns a simulator handler. Options are read once; later
// changes to the caller's copy have no effect.
func NewHandler(opts Options) *Handler {
	h := &Handler{
		opts:     opts,
		models:   newModelSet(opts.Models),
		now:      opts.now,
		closing:  make(chan struct{}),
		rng:      mathrand.New(mathrand.NewPCG(uint64(opts.Seed), 0x5eed)),
		markSeen: make(map[uint64]int),
		batch:    newBatchStore(opts.Batch),
	}
	if h.now == nil {
		h.now = time.Now
	}
	for _, f := range opts.Faults {
		if f > FaultNone && f < numFaults {
			h.faults = append(h.faults, f)
		}
	}
	if len(h.faults) == 0 {
		h.faults = defaultFaults
	}
	h.opts.FaultRate = min(max(opts.FaultRate, 0), 1)
	h.opts.Latency = max(opts.Latency, 0)
	h.opts.Jitter = max(opts.Jitter, 0)
	start := h.now()
	if opts.RPM > 0 {
		h.rpm = newBucket(opts.RPM, start)
	}
	if opts.TPM > 0 {
		h.tpm = newBucket(opts.TPM, start)
	}
	// Load the tokenizer now rather than on the first request, which
	// would otherwise hold every request that comes in meanwhile, 429s
	// included, for the tens of milliseconds the load takes: a client
	// would see a service that stalls at start. (Loaded once a process.)
	if _, err := tokenizer.Qwen(); err != nil {
		panic("modeltest: tokenizer data: " + err.Error()) // embedded: a build defect
	}
	var key [8]byte
	_, _ = rand.Read(key[:]) // never fails since Go 1.24
	h.idKey = binary.LittleEndian.Uint64(key[:])
	return h
}

// Close makes every request that is waiting (FaultHang, latency) give up
// and drop its connection, and refuses new ones the same way. It does not
// wait for them. It is safe to call more than once.
func (h *Handler) Close() { h.once.Do(func() { close(h.closing) }) }

// Stats returns a snapshot of the counters.
func (h *Handler) Stats() Stats {
	s := Stats{
		Requests:         h.requests.Load(),
		OK:               h.ok.Load(),
		ByStatus:         make(map[int]int64),
		Faults:           h.faultCount.Load(),
		Throttled:        h.throttled.Load(),
		PromptTokens:     h.promptTokens.Load(),
		CompletionTokens: h.completionTokens.Load(),
		InFlight:         h.inFlight.Load(),
		MaxInFlight:      h.maxInFlight.Load(),
	}
	h.batch.addStats(h.now(), &s)
	for code := range h.byStatus {
		if n := h.byStatus[code].Load(); n > 0 {
			s.ByStatus[code] = n
		}
	}
	return s
}

// ServeHTTP answers one request of either chat protocol or of the Files
// and Batches API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := h.requests.Add(1)
	cur := h.inFlight.Add(1)
	defer h.inFlight.Add(-1)
	for {
		peak := h.maxInFlight.Load()
		if cur <= peak || h.maxInFlight.CompareAndSwap(peak, cur) {
			break
		}
	}
	select {
	case <-h.closing:
		panic(http.ErrAbortHandler)
	default:
	}

	x := &exchange{h: h, w: w, r: r, start: h.now(), id: h.newID()}
	if h.serveBatchAPI(x) {
		return
	}
	switch r.URL.Path {
	case CompatiblePath:
	case NativePath:
		x.native = true
	default:
		x.native = !strings.HasPrefix(r.URL.Path, "/compatible-mode/")
		e := &apiError{status: http.StatusNotFound, code: "InvalidURL",
			message:    "No route matches " + r.URL.Path + ".",
			compatCode: "not_found", compatType: "invalid_request_error"}
		e.compatMessage = e.message
		x.fail(e)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		e := &apiError{status: http.StatusMethodNotAllowed, code: "MethodNotAllowed",
			message:    "Method " + r.Method + " is not allowed; use POST.",
			compatCode: "method_not_allowed", compatType: "invalid_request_error"}
		e.compatMessage = e.message
		x.fail(e)
		return
	}
	if !h.authorized(r) {
		x.fail(errInvalidKey())
		return
	}
	buf := bodyPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 { // do not pin huge buffers
			buf.Reset()
			bodyPool.Put(buf)
		}
	}()
	buf.Reset()
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxBodyBytes)); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			x.fail(errTooLarge(MaxBodyBytes))
			return
		}
		panic(http.ErrAbortHandler) // the client went away mid-body
	}
	body := buf.Bytes()

	var req *chatRequest
	var e *apiError
	if x.native {
		// From here on a native stream reports errors inside the stream,
		// as the service does (recorded parameter-error-sse).
		x.stream = isNativeStream(r.Header)
		req, e = parseNative(body, h.models)
		if e == nil {
			req.stream = x.stream
		}
	} else {
		req, e = parseCompat(body, h.models)
	}
	if e != nil {
		x.fail(e)
		return
	}
	h.serveChat(x, req, n, body)
}

var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (h *Handler) authorized(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || token == "" {
		return false
	}
	return h.opts.APIKey == "" || token == h.opts.APIKey
}

// serveChat runs a valid request through the quotas and the faults and
// answers it.
func (h *Handler) serveChat(x *exchange, req *chatRequest, n int64, body []byte) {
	// The request quota is checked before the reply is made: a throttle
	// comes back at once, as the service's gateway answers it, whatever
	// making the reply costs (the first one loads the tokenizer).
	now := h.now()
	if h.rpm != nil {
		if ok, wait := h.rpm.take(now, 1); !ok {
			e := errRateLimit()
			e.retryAfter = seconds(wait)
			x.fail(e)
			return
		}
	}
	rep := generate(req)
	if h.tpm != nil {
		if ok, wait := h.tpm.take(now, float64(rep.totalTokens())); !ok {
			e := errQuota()
			e.retryAfter = seconds(wait)
			x.fail(e)
			return
		}
	}
	mk := scanMarkers(req.messages)
	fault := h.decideFault(n, body, mk)
	delay := h.delay() + mk.slow
	switch fault {
	case FaultNone:
		x.answer(req, &rep, delay)
	case FaultHang:
		x.hang()
	case FaultReset, FaultTruncated:
		x.broken(req, &rep, delay, fault)
	default:
		x.wait(delay)
		x.fail(errFault(fault))
	}
}

// decideFault applies, in order: a fault marker in the prompt, the Fault
// hook, FaultRate.
func (h *Handler) decideFault(n int64, body []byte, mk markers) Fault {
	f := FaultNone
	switch {
	case mk.fault != FaultNone && (mk.times == 0 || h.markerDue(body, mk.times)):
		f = mk.fault
	case h.opts.Fault != nil:
		f = h.opts.Fault(n, body)
		if f < FaultNone || f >= numFaults {
			f = FaultNone
		}
	case h.opts.FaultRate > 0:
		h.rngMu.Lock()
		if h.rng.Float64() < h.opts.FaultRate {
			f = h.faults[h.rng.IntN(len(h.faults))]
		}
		h.rngMu.Unlock()
	}
	if f != FaultNone {
		h.faultCount.Add(1)
	}
	return f
}

// markerDue reports whether a counted marker still fires for this body,
// and counts the delivery.
func (h *Handler) markerDue(body []byte, times int) bool {
	f := fnv.New64a()
	f.Write(body)
	key := f.Sum64()
	h.markMu.Lock()
	defer h.markMu.Unlock()
	seen := h.markSeen[key]
	if seen >= times {
		return false
	}
	h.markSeen[key] = seen + 1
	return true
}

func (h *Handler) delay() time.Duration {
	d := h.opts.Latency
	if h.opts.Jitter > 0 {
		h.rngMu.Lock()
		d += time.Duration(h.rng.Int64N(int64(h.opts.Jitter)))
		h.rngMu.Unlock()
	}
	return d
}

// newID returns a fresh request id shaped like the service's
// ("7e3d5586-cb70-98ce-97bf-8a2ac0091c3f"). A keyed bijection of a counter
// keeps ids unique without a random draw per request.
func (h *Handler) newID() string {
	seq := h.idSeq.Add(1)
	return formatUUID(mix(h.idKey^seq), mix(mix(h.idKey)+seq))
}

func (h *Handler) record(status int) {
	if status > 0 && status < len(h.byStatus) {
		h.byStatus[status].Add(1)
	}
	if status == http.StatusTooManyRequests {
		h.throttled.Add(1)
	}
}

func (h *Handler) recordOK(rep *reply) {
	h.ok.Add(1)
	h.promptTokens.Add(int64(rep.promptTokens))
	h.completionTokens.Add(int64(rep.completionTokens))
}

// seconds rounds a wait up to the whole seconds of a Retry-After header.
func seconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// bucket is a token bucket that may go into debt: a request is admitted
// when the bucket holds its cost or is full, so that a request larger than
// one second's allowance still passes now and then, and the debt then
// throttles what follows.
type bucket struct {
	mu       sync.Mutex
	rate     float64 // per second
	capacity float64
	tokens   float64
	last     time.Time
}

func newBucket(perMinute int, now time.Time) *bucket {
	rate := float64(perMinute) / 60
	c := max(rate, 1)
	return &bucket{rate: rate, capacity: c, tokens: c, last: now}
}

// take admits cost at now, or says how long until it would be admitted.
func (b *bucket) take(now time.Time, cost float64) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(b.capacity, b.tokens+el*b.rate)
		b.last = now
	}
	need := min(cost, b.capacity)
	if b.tokens >= need {
		b.tokens -= cost
		return true, 0
	}
	return false, time.Duration((need - b.tokens) / b.rate * float64(time.Second))
}

// exchange is one request being answered.
type exchange struct {
	h      *Handler
	w      http.ResponseWriter
	r      *http.Request
	start  time.Time
	id     string
	native bool
	// stream is set for native requests that asked for SSE: their errors
	// go into the stream. A compatible stream reports errors before its
	// first frame as plain HTTP errors, as OpenAI-style servers do.
	stream bool
}

// wait sleeps for d; if the client goes away or the server closes first
// it drops the connection without an answer.
func (x *exchange) wait(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-x.r.Context().Done():
		panic(http.ErrAbortHandler)
	case <-x.h.closing:
		panic(http.ErrAbortHandler)
	}
}

// hang never answers: it holds the request until the client goes away or
// the server closes, then drops the connection.
func (x *exchange) hang() {
	select {
	case <-x.r.Context().Done():
	case <-x.h.closing:
	}
	panic(http.ErrAbortHandler)
}

// setHeaders writes the headers the service sends on every answer.
func (x *exchange) setHeaders(contentType string) {
	hd := x.w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("X-Request-Id", x.id)
	hd.Set("X-Dashscope-Call-Gateway", "true")
	hd.Set("Req-Cost-Time", strconv.FormatInt(x.h.now().Sub(x.start).Milliseconds(), 10))
}

const (
	contentJSON = "application/json"
	contentSSE  = "text/event-stream;charset=UTF-8"
)

// compatErrorBody is the OpenAI-style error body.
type compatErrorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    string  `json:"code"`
	} `json:"error"`
	RequestID string `json:"request_id"`
}

// nativeErrorBody is DashScope's flat error body (recorded auth-error).
type nativeErrorBody struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}

func (x *exchange) errorJSON(e *apiError) []byte {
	if x.native {
		return marshal(nativeErrorBody{Code: e.code, Message: e.message, RequestID: x.id})
	}
	var b compatErrorBody
	b.Error.Message, b.Error.Type, b.Error.Code = e.compatMessage, e.compatType, e.compatCode
	b.RequestID = x.id
	return marshal(b)
}

// fail sends an error answer.
func (x *exchange) fail(e *apiError) {
	x.h.record(e.status)
	body := x.errorJSON(e)
	if x.stream {
		x.setHeaders(contentSSE)
		x.w.Header().Set("X-Dashscope-Finished", "false")
		x.w.WriteHeader(http.StatusOK)
		_, _ = x.w.Write(nativeFrame(1, "error", e.status, body))
		return
	}
	x.setHeaders(contentJSON)
	if e.retryAfter > 0 && x.h.opts.RetryAfter {
		x.w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	x.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	x.w.WriteHeader(e.status)
	_, _ = x.w.Write(body)
}
