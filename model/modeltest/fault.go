package modeltest

import (
	"fmt"
	"net/http"
	"strings"
)

// Fault is a failure the simulator can inject instead of a normal answer.
type Fault int

const (
	// FaultNone means answer normally.
	FaultNone Fault = iota
	// Fault429 is a request-rate throttle: HTTP 429, compatible code
	// limit_requests, native code Throttling.RateQuota.
	Fault429
	// Fault429Quota is a token-rate throttle: HTTP 429, compatible code
	// insufficient_quota, native code Throttling.AllocationQuota. DashScope
	// uses it for TPM throttling, which clears by itself despite the
	// billing wording.
	Fault429Quota
	// Fault500 is HTTP 500 internal_error / InternalError.
	Fault500
	// Fault503 is HTTP 503 ModelUnavailable with a JSON body.
	Fault503
	// FaultHang never answers: the request is held until the client goes
	// away or the server is closed, and then the connection is dropped.
	FaultHang
	// FaultReset writes the status line, headers and part of the body and
	// then resets the TCP connection (RST).
	FaultReset
	// FaultTruncated declares the full Content-Length, writes only part of
	// the body and closes the connection normally, so that the client sees
	// an unexpected EOF. A stream is cut after some frames instead.
	FaultTruncated
	// FaultDataInspection is the content-moderation refusal, a row-level
	// final error: HTTP 400 data_inspection_failed / DataInspectionFailed.
	FaultDataInspection
	// FaultArrearage is the fatal billing error: HTTP 400 Arrearage.
	FaultArrearage
	// FaultInvalidKey answers as if the API key were wrong: HTTP 401.
	FaultInvalidKey

	numFaults // must stay last
)

var faultNames = [numFaults]string{
	FaultNone:           "none",
	Fault429:            "429",
	Fault429Quota:       "429-quota",
	Fault500:            "500",
	Fault503:            "503",
	FaultHang:           "hang",
	FaultReset:          "reset",
	FaultTruncated:      "truncated",
	FaultDataInspection: "data-inspection",
	FaultArrearage:      "arrearage",
	FaultInvalidKey:     "invalid-key",
}

// String returns the fault's name, the one used in [[sim:NAME]] markers.
func (f Fault) String() string {
	if f >= 0 && f < numFaults {
		return faultNames[f]
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// parseFault maps a marker name to a fault. "inspect" is an alias of
// "data-inspection" because it is shorter to type into test data.
func parseFault(name string) (Fault, bool) {
	name = strings.ToLower(name)
	if name == "inspect" {
		return FaultDataInspection, true
	}
	for f, n := range faultNames {
		if n == name {
			return Fault(f), true
		}
	}
	return FaultNone, false
}

// defaultFaults are the faults FaultRate draws from when Options.Faults is
// empty: every kind a client should survive by retrying. FaultHang is left
// out because only a client with a timeout survives it.
var defaultFaults = []Fault{Fault429, Fault429Quota, Fault500, Fault503, FaultReset, FaultTruncated}

// apiError is one error answer, spelled for both protocols.
type apiError struct {
	status int
	// native protocol
	code    string
	message string
	// OpenAI-compatible protocol
	compatCode    string
	compatType    string
	compatMessage string
	// retryAfter is the Retry-After value in seconds when Options.RetryAfter
	// is set (0: send no header).
	retryAfter int
}

// Messages follow notes §3.2 and bodies seen from the live service.
const (
	msgRateLimit  = "Requests rate limit exceeded, please try again later."
	msgQuotaCompt = "You exceeded your current quota, please check your plan and billing details."
	msgQuotaNativ = "Allocated quota exceeded, please increase your quota limit."
	msgInternal   = "An internal error has occured, please try again later or contact service support."
	msgUnavail    = "Model is unavailable, please try again later."
	msgInspection = "Input data may contain inappropriate content."
	msgArrearage  = "Access denied, please make sure your account is in good standing."
	msgKeyCompat  = "Incorrect API key provided. "
	msgKeyNative  = "Invalid API-key provided."
)

func errRateLimit() *apiError {
	return &apiError{status: http.StatusTooManyRequests,
		code: "Throttling.RateQuota", message: msgRateLimit,
		compatCode: "limit_requests", compatType: "limit_requests", compatMessage: msgRateLimit}
}

func errQuota() *apiError {
	return &apiError{status: http.StatusTooManyRequests,
		code: "Throttling.AllocationQuota", message: msgQuotaNativ,
		compatCode: "insufficient_quota", compatType: "insufficient_quota", compatMessage: msgQuotaCompt}
}

func errInvalidKey() *apiError {
	return &apiError{status: http.StatusUnauthorized,
		code: "InvalidApiKey", message: msgKeyNative,
		compatCode: "invalid_api_key", compatType: "invalid_request_error", compatMessage: msgKeyCompat}
}

func errModelNotFound(model string) *apiError {
	msg := fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", model)
	return &apiError{status: http.StatusNotFound,
		code: "ModelNotFound", message: msg,
		compatCode: "model_not_found", compatType: "invalid_request_error", compatMessage: msg}
}

// errInvalidParameter is the 400 for a bad request field. The compatible
// endpoint reports it as invalid_parameter_error; the native one as
// InvalidParameter.
func errInvalidParameter(format string, args ...any) *apiError {
	msg := fmt.Sprintf(format, args...)
	return &apiError{status: http.StatusBadRequest,
		code: "InvalidParameter", message: msg,
		compatCode: "invalid_parameter_error", compatType: "invalid_request_error", compatMessage: msg}
}

func errTooLarge(limit int64) *apiError {
	msg := fmt.Sprintf("Request body is larger than %d bytes.", limit)
	return &apiError{status: http.StatusRequestEntityTooLarge,
		code: "BadRequest.TooLarge", message: msg,
		compatCode: "BadRequest.TooLarge", compatType: "invalid_request_error", compatMessage: msg}
}

// errFault returns the error answer of an HTTP-level fault, nil for the
// transport-level ones (hang, reset, truncated) and FaultNone.
func errFault(f Fault) *apiError {
	switch f {
	case Fault429:
		e := errRateLimit()
		e.retryAfter = 1
		return e
	case Fault429Quota:
		e := errQuota()
		e.retryAfter = 1
		return e
	case Fault500:
		return &apiError{status: http.StatusInternalServerError,
			code: "InternalError", message: msgInternal,
			compatCode: "internal_error", compatType: "internal_error", compatMessage: msgInternal}
	case Fault503:
		return &apiError{status: http.StatusServiceUnavailable,
			code: "ModelUnavailable", message: msgUnavail,
			compatCode: "ModelUnavailable", compatType: "ModelUnavailable", compatMessage: msgUnavail}
	case FaultDataInspection:
		return &apiError{status: http.StatusBadRequest,
			code: "DataInspectionFailed", message: msgInspection,
			compatCode: "data_inspection_failed", compatType: "data_inspection_failed", compatMessage: msgInspection}
	case FaultArrearage:
		return &apiError{status: http.StatusBadRequest,
			code: "Arrearage", message: msgArrearage,
			compatCode: "Arrearage", compatType: "Arrearage", compatMessage: msgArrearage}
	case FaultInvalidKey:
		return errInvalidKey()
	}
	return nil
}
