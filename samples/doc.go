// Package samples holds the sample inputs and job files that the README,
// `make demo` and the end-to-end tests use. It has no code of its own; its
// tests check that the samples stay valid and consistent with each other.
// The generated files come from samples/internal/samplegen via
// `go run ./samples/gen`.
package samples
