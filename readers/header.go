package readers

import (
	"strconv"
	"strings"
)

// headerNames turns a raw header row into unique, non-empty column names.
//
// Templates refer to columns by name, so every column needs one, and two
// columns must never share one: a blank name becomes "column_N" (N is the
// 1-based position) and a repeated name gets a suffix, x, x_2, x_3, as
// Miller does. A stray byte order mark (a BOM inside a quoted header, or one
// that survived decoding) is removed.
func headerNames(raw []string) []string {
	names := make([]string, len(raw))
	used := make(map[string]bool, len(raw))
	for i, name := range raw {
		name = strings.TrimPrefix(name, "\uFEFF")
		if strings.TrimSpace(name) == "" {
			name = "column_" + strconv.Itoa(i+1)
		}
		unique := name
		for n := 2; used[unique]; n++ {
			unique = name + "_" + strconv.Itoa(n)
		}
		used[unique] = true
		names[i] = unique
	}
	return names
}

// blank reports whether every value is empty or only white space. Such
// records are skipped: they carry no data, and sending them to a model
// would only cost money.
func blank(values []string) bool {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// ctxCheckEvery is how many Read calls may pass between two ctx.Err checks.
// ctx.Err takes a lock, so it is not worth doing for every row of a fast
// local file; 256 rows are read in well under a millisecond.
const ctxCheckEvery = 256
