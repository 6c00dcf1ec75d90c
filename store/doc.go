// Package store is bulkgen's run store: a SQLite file that keeps every
// successful model response and every row-final error, keyed by a hash of
// the canonical request, so that a rerun, a resumed run or a duplicate row
// never pays for the same request twice. It also keeps a ledger of runs
// (command line, files, counts, tokens, cost, outcome) for `bulkgen runs`.
//
// Keys are opaque strings computed by the caller (a hex digest of the
// canonical request); this package never looks inside them.
//
// # Durability
//
// Put and PutError return only after the row is committed. Many goroutines
// may call them at once: a single writer goroutine collects the queued rows
// and commits up to a few hundred of them in one transaction (group commit),
// then acknowledges each caller. The database runs in WAL mode with
// synchronous=NORMAL: a committed row survives the process being killed
// (kill -9, a crash, Ctrl-C), because the commit has been written to the
// operating system; a power loss or kernel crash may lose the last commits,
// which only means those rows are paid for again.
//
// # Sharing
//
// Two bulkgen processes may use one store: SQLite serialises their writes and
// each waits up to a busy timeout (5s) for the other before reporting that the
// store is locked.
//
// # Secrets
//
// The store holds model outputs, which may be private: its directory is
// created 0700 and its file 0600. It never holds the API key or HTTP headers;
// there is no API through which they could reach it.
package store
