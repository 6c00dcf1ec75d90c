package modeltest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// The line URLs the service knows (notes §5); a batch runs only the one
// its endpoint names, and the simulator only runs chat completions.
const chatEndpoint = "/v1/chat/completions"

var knownLineURLs = map[string]bool{chatEndpoint: true, "/v1/embeddings": true, "/v1/chat/ds-test": true}

// maxBatchErrors caps the validation errors a failed batch reports, so
// that a broken 50,000-line file does not make a megabyte batch object.
const maxBatchErrors = 100

// lineKind is what became of one request line.
type lineKind uint8

const (
	// lineOK was answered like the real-time endpoint answers its body.
	lineOK lineKind = iota
	// lineRequestError is a body the real-time endpoint refuses (400,
	// 404, ...), or one whose user message holds a non-retryable fault
	// marker such as [[sim:inspect]].
	lineRequestError
	// The batch-only line errors (notes §3.2): they go to the error file.
	lineDuplicateID
	lineMismatchedModel
	lineModelNotFound
)

// lineRec is one request line of a batch: where it is in the input, what
// became of it, and running totals over the lines up to and including it,
// so that the counts and the usage of the first k lines cost nothing.
// Results are not kept: they are generated again, identically, when a
// file is read.
type lineRec struct {
	off, n        int
	kind          lineKind
	okCum         int32
	promptCum     int64
	completionCum int64
}

// lineEnvelope is an input line: {"custom_id","method","url","body"}.
type lineEnvelope struct {
	CustomID json.RawMessage `json:"custom_id"`
	Method   string          `json:"method"`
	URL      string          `json:"url"`
	Body     json.RawMessage `json:"body"`
}

// inputAnalysis is the outcome of validating a batch's input file.
type inputAnalysis struct {
	lines []lineRec
	// errs fail the whole batch; lines is then nil.
	errs []batchError
	// faults counts lines refused by a fault marker.
	faults int64
}

// analyzeInput validates a batch input as the service does while the
// batch is "validating". A file that cannot run at all (empty, too many
// lines, a line too long, not JSON, without custom_id or body, a url other
// than endpoint) fails the batch with one error per bad line. Lines that
// can be told apart run on their own: a duplicate custom_id, a model other
// than the first line's, an unknown model, a body the real-time endpoint
// refuses or a non-retryable fault marker make that line's entry in the
// error file, and the rest are answered.
func analyzeInput(data []byte, endpoint string, models modelSet, maxLines, maxLineBytes int) inputAnalysis {
	var an inputAnalysis
	all := splitLines(data)
	count := 0
	for _, l := range all {
		if !l.blank {
			count++
		}
	}
	switch {
	case count == 0:
		an.errs = []batchError{{Code: "empty_file", Message: "The input file has no request lines."}}
		return an
	case count > maxLines:
		an.errs = []batchError{{Code: "too_many_requests_in_file",
			Message: fmt.Sprintf("The input file has %d request lines; a batch takes at most %d.", count, maxLines)}}
		return an
	}

	an.lines = make([]lineRec, 0, count)
	seen := make(map[string]struct{}, count)
	var batchModel string
	var okCum int32
	var promptCum, completionCum int64
	for _, l := range all {
		if l.blank {
			continue
		}
		env, e := parseEnvelope(data[l.off:l.off+l.n], endpoint, maxLineBytes)
		if e != nil {
			if len(an.errs) < maxBatchErrors {
				line := l.number
				e.Line = &line
				an.errs = append(an.errs, *e)
			}
			continue
		}
		if len(an.errs) > 0 {
			continue // the batch fails; only the errors matter now
		}
		rec := lineRec{off: l.off, n: l.n}
		cid := customID(env)
		model := peekModel(env.Body)
		if batchModel == "" {
			batchModel = model
		}
		if _, dup := seen[cid]; dup {
			rec.kind = lineDuplicateID
		} else {
			seen[cid] = struct{}{}
		}
		if rec.kind == lineOK && model != "" && model != batchModel {
			rec.kind = lineMismatchedModel
		}
		if rec.kind == lineOK {
			req, e, fromMarker := lineRequest(env.Body, models)
			switch {
			case e != nil && e.compatCode == "model_not_found":
				rec.kind = lineModelNotFound
			case e != nil:
				rec.kind = lineRequestError
				if fromMarker {
					an.faults++
				}
			default:
				rep := generate(req)
				okCum++
				promptCum += int64(rep.promptTokens)
				completionCum += int64(rep.completionTokens)
			}
		}
		rec.okCum, rec.promptCum, rec.completionCum = okCum, promptCum, completionCum
		an.lines = append(an.lines, rec)
	}
	if len(an.errs) > 0 {
		an.lines = nil
	}
	return an
}

// inputLine is one physical line of an input file.
type inputLine struct {
	off, n int
	number int // 1-based
	blank  bool
}

// splitLines splits JSONL into lines without copying; "\r\n" endings and
// blank lines are tolerated.
func splitLines(data []byte) []inputLine {
	var out []inputLine
	for off, number := 0, 1; off < len(data); number++ {
		end := bytes.IndexByte(data[off:], '\n')
		next := off + end + 1
		if end < 0 {
			end = len(data) - off
			next = len(data)
		}
		line := data[off : off+end]
		line = bytes.TrimSuffix(line, []byte{'\r'})
		out = append(out, inputLine{off: off, n: len(line), number: number, blank: len(bytes.TrimSpace(line)) == 0})
		off = next
	}
	return out
}

func strPtr(s string) *string { return &s }

// parseEnvelope decodes and checks one line's envelope.
func parseEnvelope(line []byte, endpoint string, maxLineBytes int) (*lineEnvelope, *batchError) {
	if len(line) > maxLineBytes {
		return nil, &batchError{Code: "line_too_large",
			Message: fmt.Sprintf("The request line is %d bytes; a line may have at most %d.", len(line), maxLineBytes)}
	}
	var env lineEnvelope
	if err := json.Unmarshal(line, &env); err != nil {
		return nil, &batchError{Code: "invalid_json_line",
			Message: "This line is not parseable as valid JSON: " + err.Error()}
	}
	missing := func(param string) *batchError {
		return &batchError{Code: "missing_required_parameter", Param: strPtr(param),
			Message: fmt.Sprintf("Missing required parameter: '%s'.", param)}
	}
	var cid string
	switch {
	case len(env.CustomID) == 0 || string(env.CustomID) == "null":
		return nil, missing("custom_id")
	case json.Unmarshal(env.CustomID, &cid) != nil || cid == "":
		return nil, &batchError{Code: "invalid_custom_id", Param: strPtr("custom_id"),
			Message: "custom_id must be a non-empty string."}
	case env.Method == "":
		return nil, missing("method")
	case env.Method != http.MethodPost:
		return nil, &batchError{Code: "invalid_method", Param: strPtr("method"),
			Message: fmt.Sprintf("The method '%s' is not supported; batch requests use POST.", env.Method)}
	case env.URL == "":
		return nil, missing("url")
	case !knownLineURLs[env.URL]:
		// The service's own wording (recorded get-invalid-batch).
		return nil, &batchError{Code: "url_not_found", Param: strPtr("url"),
			Message: fmt.Sprintf("The provided url '%s' is not supported by the Batch API.", env.URL)}
	case env.URL != endpoint:
		return nil, &batchError{Code: "mismatched_url", Param: strPtr("url"),
			Message: fmt.Sprintf("The provided url '%s' does not match the batch endpoint '%s'.", env.URL, endpoint)}
	}
	if b := bytes.TrimSpace(env.Body); len(b) == 0 || b[0] != '{' {
		return nil, missing("body")
	}
	return &env, nil
}

// customID returns the custom_id of an envelope parseEnvelope accepted.
func customID(env *lineEnvelope) string {
	var cid string
	_ = json.Unmarshal(env.CustomID, &cid)
	return cid
}

// peekModel returns the body's model, "" when it has none (the real-time
// checks then refuse the line).
func peekModel(body []byte) string {
	var m struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(body, &m)
	return m.Model
}

// lineRequest parses a line's body as the real-time compatible endpoint
// would and applies its fault markers. Only the markers of faults that
// the same request would meet again and again (data inspection,
// arrearage, invalid key) refuse the line; throttles, server errors and
// broken connections do not exist in a batch, so their markers are
// ignored. A counted marker ([[sim:inspect*1]]) fires, since a line is
// delivered once.
func lineRequest(body []byte, models modelSet) (req *chatRequest, e *apiError, fromMarker bool) {
	req, e = parseCompat(body, models)
	if e != nil {
		return nil, e, false
	}
	req.stream, req.includeUsage = false, false // a batch answers whole
	if fe := errFault(scanMarkers(req.messages).fault); fe != nil &&
		fe.status < http.StatusInternalServerError && fe.status != http.StatusTooManyRequests {
		return nil, fe, true
	}
	return req, nil, false
}

// ---- results ----

// resultLine is a line of an output or error file (recorded
// get-file-content-compatible-nosse).
type resultLine struct {
	ID       string          `json:"id"`
	CustomID string          `json:"custom_id"`
	Response *resultResponse `json:"response"`
	Error    *lineError      `json:"error"`
}

type resultResponse struct {
	StatusCode int    `json:"status_code"`
	RequestID  string `json:"request_id"`
	Body       any    `json:"body"`
}

type lineError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// lineID is the request id of line i, derived from the batch so that
// reading a file twice gives the same bytes.
func (b *batch) lineID(i int) string {
	return formatUUID(mix(b.lineKey^uint64(i)), mix(mix(b.lineKey)+uint64(i)))
}

// formatUUID spells two words as a uuid-shaped id, as the service's
// request ids are.
func formatUUID(hi, lo uint64) string {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], hi)
	binary.BigEndian.PutUint64(raw[8:], lo)
	var out [36]byte
	hex.Encode(out[0:8], raw[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], raw[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], raw[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], raw[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], raw[10:16])
	return string(out[:])
}

// writeResults writes the output file (errorFile false) or the error file
// of the batch in state s, one JSON line per request in input order.
// Answers are generated again from the input, exactly as when the batch
// was validated, and as the real-time endpoint answers the same body.
func (b *batch) writeResults(w io.Writer, s *batchState, errorFile bool, models modelSet) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	for i := range s.total {
		var out *resultLine
		switch {
		case i >= s.done:
			if errorFile && s.dropCode != "" {
				out = b.droppedLine(i, s.dropCode)
			}
		case (b.lines[i].kind == lineOK) != errorFile:
			out = b.resultLine(i, models)
		}
		if out == nil {
			continue
		}
		if _, err := bw.Write(append(marshal(out), '\n')); err != nil {
			return fmt.Errorf("write result line %d: %w", i+1, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// envelope decodes line i again; validation accepted it, so it decodes.
func (b *batch) envelope(i int) *lineEnvelope {
	rec := b.lines[i]
	var env lineEnvelope
	_ = json.Unmarshal(b.input[rec.off:rec.off+rec.n], &env)
	return &env
}

func (b *batch) resultLine(i int, models modelSet) *resultLine {
	env := b.envelope(i)
	id := b.lineID(i)
	out := &resultLine{ID: id, CustomID: customID(env)}
	switch b.lines[i].kind {
	case lineOK:
		req, _, _ := lineRequest(env.Body, models)
		rep := generate(req)
		out.Response = &resultResponse{StatusCode: http.StatusOK, RequestID: id,
			Body: compatBody(req, &rep, id, b.lineTime(i).Unix())}
	case lineRequestError:
		_, e, _ := lineRequest(env.Body, models)
		var body compatErrorBody
		body.Error.Message, body.Error.Type, body.Error.Code = e.compatMessage, e.compatType, e.compatCode
		body.RequestID = id
		out.Response = &resultResponse{StatusCode: e.status, RequestID: id, Body: body}
		out.Error = &lineError{Code: e.compatCode, Message: e.compatMessage}
	case lineDuplicateID:
		out.Error = &lineError{Code: "duplicate_custom_id", Message: fmt.Sprintf(
			"The custom_id '%s' for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.", out.CustomID)}
	case lineMismatchedModel:
		out.Error = &lineError{Code: "mismatched_model", Message: fmt.Sprintf(
			"The model '%s' for this request does not match the rest of the batch. Each batch must contain requests for a single model.", peekModel(env.Body))}
	case lineModelNotFound:
		out.Error = &lineError{Code: "model_not_found", Message: fmt.Sprintf(
			"The provided model '%s' is not supported by the Batch API.", peekModel(env.Body))}
	}
	return out
}

func (b *batch) droppedLine(i int, code string) *resultLine {
	msg := "This request could not be executed before the completion window expired."
	if code == codeCancelled {
		msg = "This request was not executed because the batch was cancelled."
	}
	return &resultLine{ID: b.lineID(i), CustomID: customID(b.envelope(i)), Error: &lineError{Code: code, Message: msg}}
}

// countingWriter measures a file without keeping it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// resultSize measures the output or error file of the batch in state s.
func (b *batch) resultSize(s *batchState, errorFile bool, models modelSet) int64 {
	var c countingWriter
	_ = b.writeResults(&c, s, errorFile, models) // a countingWriter never fails
	return c.n
}
