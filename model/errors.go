package model

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Class says what the caller should do about an error.
type Class int

const (
	// Retryable errors may succeed when the same request is sent again
	// later: rate throttles, 5xx, timeouts, connection resets, truncated
	// bodies.
	Retryable Class = iota
	// RowFinal errors belong to this one request and will not go away by
	// retrying it: content inspection failure, input too long, a bad
	// parameter for this row. The row gets the error; the run goes on.
	RowFinal
	// Fatal errors concern the whole run: invalid key, account in arrears,
	// model not found or not activated, billing states. Sending more
	// requests only wastes time; the run stops.
	Fatal
)

func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case RowFinal:
		return "row"
	case Fatal:
		return "fatal"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// APIError is an error answer from the service, or a transport failure
// that was classified.
type APIError struct {
	// Status is the HTTP status, 0 for transport errors.
	Status int
	// Code is the service's error code (native "Throttling.RateQuota" or
	// compatible "limit_requests"), "" when there was none.
	Code string
	// Message is the service's message.
	Message   string
	RequestID string
	Class     Class
	// RetryAfter is the wait the server asked for, 0 when it did not say
	// (DashScope never does).
	RetryAfter time.Duration
	// Hint tells the user what to do about a fatal error.
	Hint string
	// Err is the underlying transport error, if any.
	Err error
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	s := ""
	switch {
	case e.Status != 0 && e.Code != "":
		s = fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, msg)
	case e.Status != 0:
		s = fmt.Sprintf("HTTP %d: %s", e.Status, msg)
	case e.Code != "":
		s = fmt.Sprintf("%s: %s", e.Code, msg)
	default:
		s = msg
	}
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func (e *APIError) Unwrap() error { return e.Err }

// ClassOf returns the class of err. Errors that are not *APIError are
// classified conservatively: context cancellation is fatal (the run is
// stopping), anything else unknown is retryable.
func ClassOf(err error) Class {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Class
	}
	if errors.Is(err, context.Canceled) {
		return Fatal
	}
	return Retryable
}

// RetryAfterOf returns the server-requested wait carried by err, or 0.
func RetryAfterOf(err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.RetryAfter
	}
	return 0
}
