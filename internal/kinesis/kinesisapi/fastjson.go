package kinesisapi

import (
	"bytes"
	"encoding/base64"
)

// putRecordsIn is PutRecords' decoded body.
type putRecordsIn struct {
	StreamName string           `json:"StreamName"`
	StreamARN  string           `json:"StreamARN"`
	Records    []putRecordEntry `json:"Records"`

	fast bool // decoded by fastPutRecords (top-level presence in seen, per-record in the entries)
	seen map[string]any
}

// putRecordEntry is one PutRecords entry.
type putRecordEntry struct {
	Data            []byte `json:"Data"`
	PartitionKey    string `json:"PartitionKey"`
	ExplicitHashKey string `json:"ExplicitHashKey"`

	pkSet, ehkSet bool // sent (fast path only)
}

// fastPutRecords decodes the common shape of a PutRecords JSON body (known
// keys, strings without escapes) without reflection. ok is false for
// anything else; the caller then uses encoding/json, which also produces
// the error messages. When ok, the result equals encoding/json's.
func fastPutRecords(b []byte) (in putRecordsIn, ok bool) {
	p := fastParser{b: b}
	if !p.byte('{') {
		return in, false
	}
	seen := map[string]any{}
	// Decoded Data of all records shares one arena (capped per chunk), one
	// allocation instead of one per record.
	var arena []byte
	for first := true; ; first = false {
		if p.peek('}') {
			p.i++
			break
		}
		if !first && !p.byte(',') {
			return in, false
		}
		key, ok := p.str()
		if !ok || seen[key] != nil || !p.byte(':') {
			return in, false
		}
		seen[key] = true
		switch key {
		case "StreamName":
			if in.StreamName, ok = p.str(); !ok {
				return in, false
			}
		case "StreamARN":
			if in.StreamARN, ok = p.str(); !ok {
				return in, false
			}
		case "Records":
			if !p.byte('[') {
				return in, false
			}
			for rf := true; ; rf = false {
				if p.peek(']') {
					p.i++
					break
				}
				if !rf && !p.byte(',') {
					return in, false
				}
				if !p.byte('{') {
					return in, false
				}
				var rec putRecordEntry
				rseen := 0
				for ff := true; ; ff = false {
					if p.peek('}') {
						p.i++
						break
					}
					if !ff && !p.byte(',') {
						return in, false
					}
					k, ok := p.str()
					if !ok || !p.byte(':') {
						return in, false
					}
					switch k {
					case "Data":
						if rseen&1 != 0 {
							return in, false
						}
						rseen |= 1
						// The closing quote is found with IndexByte; the
						// strict base64 decoder rejects every byte a JSON
						// escape or a control character would bring.
						if !p.byte('"') {
							return in, false
						}
						end := bytes.IndexByte(p.b[p.i:], '"')
						if end < 0 {
							return in, false
						}
						raw := p.b[p.i : p.i+end]
						p.i += end + 1
						dl := base64.StdEncoding.DecodedLen(len(raw))
						if len(arena)+dl > cap(arena) {
							arena = make([]byte, 0, max(dl, min(len(p.b), 1<<20)))
						}
						d := arena[len(arena) : len(arena)+dl : len(arena)+dl]
						n, err := base64.StdEncoding.Strict().Decode(d, raw)
						if err != nil {
							return in, false
						}
						rec.Data = d[:n:n]
						if rec.Data == nil {
							rec.Data = []byte{} // "" is an empty blob, not a missing one
						}
						arena = arena[:len(arena)+n]
					case "PartitionKey":
						if rseen&2 != 0 {
							return in, false
						}
						rseen |= 2
						rec.pkSet = true
						if rec.PartitionKey, ok = p.str(); !ok {
							return in, false
						}
					case "ExplicitHashKey":
						if rseen&4 != 0 {
							return in, false
						}
						rseen |= 4
						rec.ehkSet = true
						if rec.ExplicitHashKey, ok = p.str(); !ok {
							return in, false
						}
					default:
						return in, false
					}
				}
				in.Records = append(in.Records, rec)
			}
			if in.Records == nil {
				in.Records = make([]putRecordEntry, 0)
			}
		default:
			return in, false
		}
	}
	p.ws()
	in.fast, in.seen = true, seen
	return in, p.i == len(p.b)
}

type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) peek(c byte) bool {
	p.ws()
	return p.i < len(p.b) && p.b[p.i] == c
}

func (p *fastParser) byte(c byte) bool {
	if !p.peek(c) {
		return false
	}
	p.i++
	return true
}

// rawStr returns a string's bytes; only printable ASCII without escapes.
func (p *fastParser) rawStr() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := p.b[start:p.i]
			p.i++
			return s, true
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return nil, false
		}
		p.i++
	}
	return nil, false
}

func (p *fastParser) str() (string, bool) {
	b, ok := p.rawStr()
	return string(b), ok
}

// putRecordIn is PutRecord's decoded body.
type putRecordIn struct {
	streamRef
	Data                      []byte `json:"Data"`
	PartitionKey              string `json:"PartitionKey"`
	ExplicitHashKey           string `json:"ExplicitHashKey"`
	SequenceNumberForOrdering string `json:"SequenceNumberForOrdering"`
}

// fastPutRecord decodes the usual PutRecord body (known members once each,
// strings without escapes and not empty, Data in strict base64) without
// reflection; ok is false for anything else, which takes the checked path
// (type errors, empty members, escapes). When ok, the result equals
// encoding/json's.
func fastPutRecord(b []byte) (in putRecordIn, ok bool) {
	p := fastParser{b: b}
	if !p.byte('{') {
		return in, false
	}
	seen := 0
	for first := true; ; first = false {
		if p.peek('}') {
			p.i++
			break
		}
		if !first && !p.byte(',') {
			return in, false
		}
		key, ok := p.rawStr()
		if !ok || !p.byte(':') {
			return in, false
		}
		var dst *string
		bit := 0
		switch string(key) {
		case "StreamName":
			dst, bit = &in.StreamName, 1
		case "StreamARN":
			dst, bit = &in.StreamARN, 2
		case "PartitionKey":
			dst, bit = &in.PartitionKey, 4
		case "ExplicitHashKey":
			dst, bit = &in.ExplicitHashKey, 8
		case "SequenceNumberForOrdering":
			dst, bit = &in.SequenceNumberForOrdering, 16
		case "Data":
			bit = 32
		default:
			return in, false
		}
		if seen&bit != 0 {
			return in, false
		}
		seen |= bit
		raw, ok := p.rawStr()
		if !ok || len(raw) == 0 {
			return in, false
		}
		if dst != nil {
			*dst = string(raw)
			continue
		}
		d := make([]byte, base64.StdEncoding.DecodedLen(len(raw)))
		n, err := base64.StdEncoding.Strict().Decode(d, raw)
		if err != nil {
			return in, false
		}
		in.Data = d[:n]
	}
	p.ws()
	return in, p.i == len(p.b)
}
