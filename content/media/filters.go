package media

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/herald-cms/herald/content"
)

// Filter is one condition of a file list: filters[field][op]=value.
type Filter struct {
	Field, Op, Value string
}

// filterColumns are the file fields a list may filter on, and whether
// they compare as text.
var filterColumns = map[string]struct {
	col  string
	text bool
}{
	"id": {"id", false}, "documentId": {"document_id", true}, "name": {"name", true},
	"alternativeText": {"alternative_text", true}, "caption": {"caption", true},
	"hash": {"hash", true}, "ext": {"ext", true}, "mime": {"mime", true},
	// size is shown in kilobytes: it is compared in them too.
	"size": {"size / 1024.0", false}, "width": {"width", false}, "height": {"height", false},
	"createdAt": {"created_at", true}, "updatedAt": {"updated_at", true},
}

// parseFilter reads one filters[field][op] key.
func parseFilter(key, value string) (Filter, error) {
	rest, ok := strings.CutPrefix(key, "filters[")
	field, op, ok2 := strings.Cut(rest, "][")
	op, ok3 := strings.CutSuffix(op, "]")
	if !ok || !ok2 || !ok3 {
		return Filter{}, content.InvalidField([]string{"filters"},
			fmt.Sprintf("Invalid filter %s: expected filters[field][$operator]=value", key))
	}
	if _, known := filterColumns[field]; !known {
		return Filter{}, content.InvalidField([]string{"filters", field},
			fmt.Sprintf("Invalid key %s: files cannot be filtered by it", field))
	}
	if _, known := filterOps[op]; !known {
		return Filter{}, content.InvalidField([]string{"filters", field, op},
			fmt.Sprintf("Invalid operator %s for files", op))
	}
	return Filter{Field: field, Op: op, Value: value}, nil
}

// filterOps are the operators a file filter may use.
var filterOps = map[string]string{
	"$eq": "=", "$ne": "<>", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">=",
	"$contains": "", "$containsi": "", "$notContains": "", "$startsWith": "",
	"$endsWith": "", "$null": "", "$notNull": "",
}

// where turns a filter into SQL with its arguments. Text is matched with
// substr and instr/strpos, so % and _ in a value are plain characters;
// $containsi folds ASCII case on both databases.
func (f Filter) where(pg bool) (string, []any, error) {
	c := filterColumns[f.Field]
	var v any = f.Value
	if !c.text && f.Op != "$null" && f.Op != "$notNull" {
		n, err := strconv.ParseFloat(f.Value, 64)
		if err != nil {
			return "", nil, content.InvalidField([]string{"filters", f.Field, f.Op},
				fmt.Sprintf("Invalid value %q for %s: expected a number", f.Value, f.Field))
		}
		v = n
	}
	find := "instr(%s, ?) > 0"
	if pg {
		find = "strpos(%s, ?) > 0"
	}
	switch f.Op {
	case "$null", "$notNull":
		isNull := f.Value == "true" || f.Value == "1"
		if f.Op == "$notNull" {
			isNull = !isNull
		}
		if isNull {
			return c.col + " IS NULL", nil, nil
		}
		return c.col + " IS NOT NULL", nil, nil
	case "$contains":
		return fmt.Sprintf(find, c.col), []any{v}, nil
	case "$notContains":
		return fmt.Sprintf("NOT ("+find+")", c.col), []any{v}, nil
	case "$containsi":
		return fmt.Sprintf(find, "lower("+c.col+")"), []any{strings.ToLower(f.Value)}, nil
	case "$startsWith":
		return "substr(" + c.col + ", 1, length(?)) = ?", []any{v, v}, nil
	case "$endsWith":
		return "substr(" + c.col + ", length(" + c.col + ") - length(?) + 1) = ?",
			[]any{v, v}, nil
	}
	return c.col + " " + filterOps[f.Op] + " ?", []any{v}, nil
}
