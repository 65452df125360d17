package simulator

import (
	"bytes"
	"encoding/json"
	"time"
)

// field and object build JSON objects whose keys keep the order the real
// server emits, so byte-level comparisons of bodies hold.
type field struct {
	key string
	val any
}

type object []field

func (o object) MarshalJSON() ([]byte, error) {
	// bytes.Buffer writes always return a nil error (they panic when out
	// of memory), so their results are dropped.
	var buf bytes.Buffer
	_ = buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			_ = buf.WriteByte(',')
		}
		k, err := marshal(f.key)
		if err != nil {
			return nil, err
		}
		_, _ = buf.Write(k)
		_ = buf.WriteByte(':')
		v, err := marshal(f.val)
		if err != nil {
			return nil, err
		}
		_, _ = buf.Write(v)
	}
	_ = buf.WriteByte('}')
	return buf.Bytes(), nil
}

// with returns o extended by key: val.
func (o object) with(key string, val any) object {
	return append(o, field{key, val})
}

// marshal encodes like JSON.stringify: no HTML escaping of <, > and &.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// isoTime renders like JavaScript's Date.prototype.toISOString.
type isoTime time.Time

func (t isoTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + formatISO(time.Time(t)) + `"`), nil
}

func formatISO(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
