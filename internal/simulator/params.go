package simulator

import (
	"bytes"
	"encoding/json"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// parseQuery reads a query string the way the server's qs call does:
// "k[]=a&k[]=b" and "k[0]=a" make arrays, a repeated plain key too.
func parseQuery(raw string) map[string]any {
	out := map[string]any{}
	type indexed struct {
		i int
		v string
	}
	idx := map[string][]indexed{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k = unescapeQS(k)
		v = unescapeQS(v)
		if name, ok := strings.CutSuffix(k, "[]"); ok {
			out[name] = append(asStrings(out[name]), v)
			continue
		}
		if open := strings.IndexByte(k, '['); open > 0 && strings.HasSuffix(k, "]") {
			if n, err := strconv.Atoi(k[open+1 : len(k)-1]); err == nil && n >= 0 {
				idx[k[:open]] = append(idx[k[:open]], indexed{n, v})
				continue
			}
		}
		switch prev := out[k].(type) {
		case nil:
			out[k] = v
		case string:
			out[k] = []string{prev, v}
		case []string:
			out[k] = append(prev, v)
		}
	}
	for name, items := range idx {
		slices.SortStableFunc(items, func(a, b indexed) int { return a.i - b.i })
		arr := asStrings(out[name])
		for _, it := range items {
			arr = append(arr, it.v)
		}
		out[name] = arr
	}
	return out
}

func unescapeQS(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

func asStrings(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case string:
		return []string{x}
	}
	return nil
}

// parseBody reads a request body as the router does: JSON or urlencoded;
// anything unreadable or of another type counts as an empty object.
func parseBody(contentType string, raw []byte) any {
	switch {
	case strings.Contains(contentType, "application/json"):
		if len(bytes.TrimSpace(raw)) == 0 {
			return map[string]any{}
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return map[string]any{}
		}
		switch v.(type) {
		case map[string]any, []any:
			return normalizeNumbers(v)
		}
		return map[string]any{}
	case strings.Contains(contentType, "application/x-www-form-urlencoded"):
		vals, err := url.ParseQuery(string(raw))
		if err != nil {
			return map[string]any{}
		}
		m := map[string]any{}
		for k, vs := range vals {
			m[k] = vs[len(vs)-1]
		}
		return m
	}
	return map[string]any{}
}

func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	}
	return v
}

// kind is a JSON-schema type as the endpoints' Ajv schemas use them.
type kind int

const (
	kString kind = iota
	kNumber
	kBoolean
	kStringArray
	kObject
	kArray
)

// prop is one declared property of a schema.
type prop struct {
	name     string
	kind     kind
	nullable bool
	enum     []string // for kString, or the items of kStringArray
	// check validates further (items, minItems...) and returns Ajv messages.
	check func(v any) []string
}

// schema is the slice of JSON Schema the simulated routes need. Keywords are
// evaluated in Ajv's order with allErrors off: the untyped applicators
// (oneOf, anyOf) first, then required, additionalProperties and properties,
// stopping at the first failing keyword.
type schema struct {
	props    []prop
	required []string
	closed   bool       // additionalProperties: false
	oneOf    [][]string // each alternative only requires these keys
	anyOf    []*schema
	// coerce enables Ajv's coerceTypes, as the query validators use.
	coerce bool
}

func (sc *schema) prop(name string) *prop {
	for i := range sc.props {
		if sc.props[i].name == name {
			return &sc.props[i]
		}
	}
	return nil
}

// validate checks data, coercing values in place when sc.coerce is set, and
// returns Ajv-style messages; nil means valid.
func (sc *schema) validate(data any) []string {
	m, ok := data.(map[string]any)
	if !ok {
		return []string{"must be object"}
	}
	if len(sc.oneOf) > 0 {
		var errs []string
		passing := 0
		for _, alt := range sc.oneOf {
			if e := missingRequired(m, alt); e != nil {
				errs = append(errs, e...)
			} else {
				passing++
			}
		}
		if passing != 1 {
			if passing > 1 {
				errs = nil
			}
			return append(errs, "must match exactly one schema in oneOf")
		}
	}
	if len(sc.anyOf) > 0 {
		var errs []string
		matched := false
		for _, alt := range sc.anyOf {
			e := alt.validate(m)
			if e == nil {
				matched = true
				break
			}
			errs = append(errs, e...)
		}
		if !matched {
			return append(errs, "must match a schema in anyOf")
		}
	}
	if e := missingRequired(m, sc.required); e != nil {
		return e
	}
	if sc.closed {
		for k := range m {
			if sc.prop(k) == nil {
				return []string{"must NOT have additional properties"}
			}
		}
	}
	for _, p := range sc.props {
		v, present := m[p.name]
		if !present {
			continue
		}
		if v == nil && p.nullable {
			continue
		}
		if sc.coerce {
			var ok bool
			if v, ok = coerce(v, p.kind); ok {
				m[p.name] = v
			}
		}
		if e := checkKind(v, p); e != nil {
			return e
		}
		if p.check != nil {
			if e := p.check(v); e != nil {
				return e
			}
		}
	}
	return nil
}

// missingRequired reports only the first missing key, as Ajv does without allErrors.
func missingRequired(m map[string]any, keys []string) []string {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return []string{"must have required property '" + k + "'"}
		}
	}
	return nil
}

func coerce(v any, k kind) (any, bool) {
	s, isString := v.(string)
	if !isString {
		return v, false
	}
	switch k {
	case kNumber:
		if s == "" {
			return v, false
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && !math.IsInf(f, 0) {
			return f, true
		}
	case kBoolean:
		switch s {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	default:
		// Ajv coerces strings only to scalar types.
	}
	return v, false
}

func checkKind(v any, p prop) []string {
	switch p.kind {
	case kString:
		s, ok := v.(string)
		if !ok {
			return []string{"must be string"}
		}
		if len(p.enum) > 0 && !slices.Contains(p.enum, s) {
			return []string{"must be equal to one of the allowed values"}
		}
	case kNumber:
		if _, ok := v.(float64); !ok {
			return []string{"must be number"}
		}
	case kBoolean:
		if _, ok := v.(bool); !ok {
			return []string{"must be boolean"}
		}
	case kStringArray:
		items, ok := stringItems(v)
		if !ok {
			return []string{"must be array"}
		}
		if items == nil {
			return []string{"must be string"}
		}
		for _, s := range items {
			if len(p.enum) > 0 && !slices.Contains(p.enum, s) {
				return []string{"must be equal to one of the allowed values"}
			}
		}
	case kObject:
		if _, ok := v.(map[string]any); !ok {
			return []string{"must be object"}
		}
	case kArray:
		if _, ok := v.([]any); !ok {
			return []string{"must be array"}
		}
	}
	return nil
}

// stringItems returns the items of an array of strings; ok is false when v
// is not an array, items nil when an item is not a string.
func stringItems(v any) ([]string, bool) {
	switch x := v.(type) {
	case []string:
		return x, true
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, isString := e.(string)
			if !isString {
				return nil, true
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// str returns a string parameter, or "" when absent or not a string.
func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// jsParseInt imitates parseInt(String(x)): leading integer digits, else NaN.
func jsParseInt(v any) (int, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return 0, false
	default:
		return 0, false
	}
	s = strings.TrimSpace(s)
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	start := end
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == start {
		return 0, false
	}
	n, err := strconv.Atoi(s[:end])
	if err != nil {
		return 0, false
	}
	return n, true
}

// truthy is JavaScript truthiness for the values a query can hold.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case float64:
		return x != 0 && !math.IsNaN(x)
	case bool:
		return x
	}
	return true
}

// pagination mirrors getPaginationItems. A count above the upper limit is
// clamped; 0 means every item while API_Allow_Infinite_Count is on (the
// default), else the default count, which — as on the server — is applied
// after the clamp and so is not itself clamped. Where JavaScript would hand NaN or a negative number to MongoDB the
// simulator picks the nearest sane reading: NaN count → default, negative
// limit → its absolute value (Mongo's "single batch" reading), NaN or
// negative offset → 0.
func (s *Server) pagination(q map[string]any) (int, int) {
	offset := 0
	if truthy(q[keyOffset]) {
		if n, ok := jsParseInt(q[keyOffset]); ok && n > 0 {
			offset = n
		}
	}
	count := s.opts.DefaultCount
	if v, present := q[keyCount]; present {
		if !truthy(v) {
			count = 0
		} else if n, ok := jsParseInt(v); ok {
			count = n
		}
	}
	if count > s.opts.UpperCountLimit {
		count = s.opts.UpperCountLimit
	}
	if count == 0 && s.opts.InfiniteCountDisabled {
		count = s.opts.DefaultCount
	}
	if count < 0 {
		count = -count
	}
	return offset, count
}

// page cuts items[offset:offset+count] (count 0 = to the end).
func page[T any](items []T, offset, count int) []T {
	if offset >= len(items) {
		return []T{}
	}
	end := len(items)
	if count > 0 && offset+count < end {
		end = offset + count
	}
	return items[offset:end]
}

// sortKey is one entry of a Mongo sort document.
type sortKey struct {
	field string
	dir   int
}

// parseSort mirrors parseJsonQuery's sort handling: a JSON object whose
// values are all 1 or -1, else 400 error-invalid-sort. Absent or "{}" gives
// nil (the endpoint's default order).
func parseSort(q map[string]any) ([]sortKey, *reply) {
	raw, present := q[keySort]
	if !present || !truthy(raw) {
		return nil, nil
	}
	rawStr, _ := raw.(string)
	bad := func() ([]sortKey, *reply) {
		r := meteorError("error-invalid-sort", `Invalid sort parameter provided: "`+rawStr+`"`,
			object{{"helperMethod", "parseJsonQuery"}})
		return nil, &r
	}
	if _, isString := raw.(string); !isString {
		return bad()
	}
	dec := json.NewDecoder(strings.NewReader(rawStr))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return bad()
	}
	var keys []sortKey
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return bad()
		}
		var val any
		if err := dec.Decode(&val); err != nil {
			return bad()
		}
		n, isNum := val.(json.Number)
		f, ferr := n.Float64()
		if !isNum || ferr != nil || (f != 1 && f != -1) {
			return bad()
		}
		keys = append(keys, sortKey{kt.(string), int(f)})
	}
	if _, err := dec.Token(); err != nil {
		return bad()
	}
	if dec.More() {
		return bad()
	}
	return keys, nil
}

// compareValues orders values of one field like MongoDB: missing (nil) <
// numbers < strings < booleans < dates; strings by bytes.
func compareValues(a, b any) int {
	ra, rb := typeRank(a), typeRank(b)
	if ra != rb {
		return ra - rb
	}
	switch x := a.(type) {
	case float64:
		y := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	case string:
		return strings.Compare(x, b.(string))
	case bool:
		y := b.(bool)
		switch {
		case !x && y:
			return -1
		case x && !y:
			return 1
		}
	case time.Time:
		return x.Compare(b.(time.Time))
	}
	return 0
}

func typeRank(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case float64:
		return 1
	case string:
		return 2
	case bool:
		return 3
	case time.Time:
		return 4
	}
	return 5
}

// sortBy stably sorts items by keys, reading fields through get; ties keep
// the workspace order, which makes paging deterministic.
func sortBy[T any](items []T, keys []sortKey, get func(T, string) any) {
	slices.SortStableFunc(items, func(a, b T) int {
		for _, k := range keys {
			if c := compareValues(get(a, k.field), get(b, k.field)); c != 0 {
				return c * k.dir
			}
		}
		return 0
	})
}

func itoa[T ~int | ~int64](n T) string { return strconv.FormatInt(int64(n), 10) }
