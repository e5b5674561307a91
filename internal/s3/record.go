package s3

import (
	"encoding/binary"
	"errors"
	"time"

	"skyhub/internal/errs"
)

// Object records are read on every GET and HEAD and written (twice: the
// current record and its version) on every PUT, so they are stored in a
// compact binary form instead of JSON, whose reflection-driven decoding was
// a tenth of a small GET's CPU. A record starts with recordV1; anything else
// is the JSON form of earlier data directories, still read as before.
//
// Layout after the version byte: strings and byte counts are uvarint
// lengths followed by bytes, integers are varints, maps are a uvarint count
// of key/value string pairs (written in map order; order does not matter).
//
//	Key VersionID Seq flags(byte: 1 DeleteMarker, 2 Multipart) Size ETag
//	Modified(unix ns) ContentType Headers Meta Checksums ChecksumType Tags
//	StorageClass nParts { Blob Size ETag Checksums }
const recordV1 = 0x01

// maxRecordCount bounds map and part counts read from a record, so a
// damaged one cannot ask for a huge allocation.
const maxRecordCount = 1 << 16

var errBadRecord = errors.New("s3: malformed object record")

func encodeObject(o *Object) []byte {
	n := 64 + len(o.Key) + len(o.VersionID) + len(o.Seq) + len(o.ETag) + len(o.ContentType)
	for _, p := range o.Parts {
		n += 16 + len(p.Blob) + len(p.ETag)
	}
	b := make([]byte, 0, n)
	b = append(b, recordV1)
	b = appendStr(b, o.Key)
	b = appendStr(b, o.VersionID)
	b = appendStr(b, o.Seq)
	var flags byte
	if o.DeleteMarker {
		flags |= 1
	}
	if o.Multipart {
		flags |= 2
	}
	b = append(b, flags)
	b = binary.AppendVarint(b, o.Size)
	b = appendStr(b, o.ETag)
	var mod int64
	if !o.Modified.IsZero() {
		mod = o.Modified.UnixNano()
	}
	b = binary.AppendVarint(b, mod)
	b = appendStr(b, o.ContentType)
	b = appendMap(b, o.Headers)
	b = appendMap(b, o.Meta)
	b = appendMap(b, o.Checksums)
	b = appendStr(b, o.ChecksumType)
	b = appendMap(b, o.Tags)
	b = appendStr(b, o.StorageClass)
	b = binary.AppendUvarint(b, uint64(len(o.Parts)))
	for _, p := range o.Parts {
		b = appendStr(b, p.Blob)
		b = binary.AppendVarint(b, p.Size)
		b = appendStr(b, p.ETag)
		b = appendMap(b, p.Checksums)
	}
	return b
}

// decodeObject reads a stored object record in either form.
func decodeObject(v []byte) (*Object, error) {
	if len(v) == 0 || v[0] != recordV1 {
		return decode[Object](v)
	}
	r := recordReader{b: v[1:]}
	o := &Object{}
	o.Key = r.str()
	o.VersionID = r.str()
	o.Seq = r.str()
	flags := r.byte()
	o.DeleteMarker, o.Multipart = flags&1 != 0, flags&2 != 0
	o.Size = r.varint()
	o.ETag = r.str()
	if mod := r.varint(); mod != 0 {
		o.Modified = time.Unix(0, mod).UTC()
	}
	o.ContentType = r.str()
	o.Headers = r.strMap()
	o.Meta = r.strMap()
	o.Checksums = r.strMap()
	o.ChecksumType = r.str()
	o.Tags = r.strMap()
	o.StorageClass = r.str()
	if n := r.count(); n > 0 {
		o.Parts = make([]Part, n)
		for i := range o.Parts {
			p := &o.Parts[i]
			p.Blob = r.str()
			p.Size = r.varint()
			p.ETag = r.str()
			p.Checksums = r.strMap()
		}
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, errs.E("s3.decode", errs.Internal, errBadRecord)
	}
	return o, nil
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendMap(b []byte, m map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	for k, v := range m {
		b = appendStr(appendStr(b, k), v)
	}
	return b
}

// recordReader reads a binary record; the first problem sticks in err and
// every later read returns zero values.
type recordReader struct {
	b   []byte
	err error
}

func (r *recordReader) fail() { r.err, r.b = errBadRecord, nil }

func (r *recordReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *recordReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recordReader) count() int {
	n := r.uvarint()
	if n > maxRecordCount {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *recordReader) str() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *recordReader) strMap() map[string]string {
	n := r.count()
	if n == 0 || r.err != nil {
		return nil
	}
	if uint64(n)*2 > uint64(len(r.b)) { // every pair takes at least two bytes
		r.fail()
		return nil
	}
	m := make(map[string]string, n)
	for i := 0; i < n && r.err == nil; i++ {
		k := r.str()
		m[k] = r.str()
	}
	return m
}
