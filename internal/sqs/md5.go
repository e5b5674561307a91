package sqs

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"sort"
	"strings"
	"unicode/utf8"
)

// MessageAttribute is a typed message attribute. DataType is String,
// Number or Binary, optionally followed by ".<custom label>".
type MessageAttribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// IsBinary reports whether the attribute carries BinaryValue.
func (a MessageAttribute) IsBinary() bool { return baseType(a.DataType) == "Binary" }

func baseType(dt string) string {
	b, _, _ := strings.Cut(dt, ".")
	return b
}

// size is what the attribute counts towards the message size limit.
func (a MessageAttribute) size(name string) int {
	return len(name) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
}

// MD5OfBody returns the hex MD5 of the body's UTF-8 bytes, as SQS reports it.
func MD5OfBody(body string) string {
	sum := md5.Sum([]byte(body))
	return hex.EncodeToString(sum[:])
}

// MD5OfAttributes returns the hex MD5 of message attributes as SQS computes
// it: for each attribute sorted by name, the 4-byte big-endian length and
// bytes of the name, of the data type, a transport byte (1 string/number,
// 2 binary), then the length and bytes of the value. Empty for no attributes.
func MD5OfAttributes(attrs map[string]MessageAttribute) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := md5.New()
	for _, n := range names {
		a := attrs[n]
		writeLV(h, []byte(n))
		writeLV(h, []byte(a.DataType))
		if a.IsBinary() {
			h.Write([]byte{2})
			writeLV(h, a.BinaryValue)
		} else {
			h.Write([]byte{1})
			writeLV(h, []byte(a.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeLV(h hash.Hash, b []byte) {
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(b)))
	h.Write(l[:])
	h.Write(b)
}

// validBodyChars reports whether s holds only the characters SQS allows:
// #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
func validBodyChars(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		switch {
		case r == 0x9, r == 0xA, r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
		i += n
	}
	return true
}
