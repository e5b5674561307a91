package s3

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"skyhub/internal/kv"
)

func recordSamples() []*Object {
	mod := time.Date(2026, 11, 25, 5, 6, 7, 123e6, time.UTC)
	return []*Object{
		{Key: "k", VersionID: "null", Seq: "e6f1", Size: 3, ETag: `"abc"`, Modified: mod, ContentType: "text/plain",
			Parts: []Part{{Blob: "i:0011", Size: 3}}},
		{Key: "dir/ünïcode key\x01", VersionID: "0123456789abcdef0123456789ab", Seq: "ffff", DeleteMarker: true, Modified: mod},
		{Key: "mp", VersionID: "null", Seq: "01", Size: 12 << 20, ETag: `"d41d-2"`, Modified: mod, ContentType: "application/octet-stream",
			Headers: map[string]string{"Cache-Control": "no-cache", "Content-Encoding": "gzip"},
			Meta:    map[string]string{"sensor": "t1", "empty": ""}, Checksums: map[string]string{"crc32": "AAAAAA=="},
			ChecksumType: "COMPOSITE", Tags: map[string]string{"a": "b"}, Multipart: true, StorageClass: "GLACIER",
			Parts: []Part{{Blob: "f00d", Size: 5 << 20, ETag: `"p1"`, Checksums: map[string]string{"crc32": "AQID"}},
				{Blob: "i:beef", Size: 7 << 20, ETag: `"p2"`}}},
		{},
	}
}

// A binary record reads back as exactly what the JSON form did.
func TestObjectRecordRoundTrip(t *testing.T) {
	for _, o := range recordSamples() {
		viaJSON, err := decodeObject(encode(o)) // earlier data directories
		if err != nil {
			t.Fatal(err)
		}
		viaBin, err := decodeObject(encodeObject(o))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(viaJSON, viaBin) {
			t.Errorf("binary record differs from JSON:\n%+v\n%+v", viaBin, viaJSON)
		}
		if !viaBin.Modified.Equal(o.Modified) || viaBin.Key != o.Key || len(viaBin.Parts) != len(o.Parts) {
			t.Errorf("round trip lost data: %+v", viaBin)
		}
	}
}

func TestObjectRecordRejectsDamage(t *testing.T) {
	rec := encodeObject(recordSamples()[2])
	for i := 1; i < len(rec); i++ {
		if _, err := decodeObject(rec[:i]); err == nil {
			t.Fatalf("truncated record (%d of %d bytes) accepted", i, len(rec))
		}
	}
	if _, err := decodeObject(append(rec, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	huge := []byte{recordV1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}
	if _, err := decodeObject(huge); err == nil {
		t.Fatal("huge map count accepted")
	}
}

// Objects written by an earlier version (JSON records) stay readable and
// replaceable.
func TestObjectRecordReadsJSONRecords(t *testing.T) {
	s, _ := newService(t, nil)
	ctx := context.Background()
	if err := s.CreateBucket(ctx, "old", "", ""); err != nil {
		t.Fatal(err)
	}
	o := &Object{Key: "k", VersionID: "null", Seq: "00000000000000ff", Size: 3, ETag: `"x"`, Modified: time.Now().UTC(),
		Parts: []Part{{Blob: "i:0a0b", Size: 3}}}
	rec := encode(o)
	if err := s.kv.Write(ctx, kv.Set(objectKey("old", "k"), rec), kv.Set(versionKey("old", "k", o), rec),
		kv.Set(inlineKey("i:0a0b"), []byte("old"))); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s, "old", "k"); got != "old" {
		t.Fatalf("JSON record read %q", got)
	}
	if _, err := s.PutObject(ctx, "old", "k", &PutInput{Body: strings.NewReader("new"), Size: 3}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s, "old", "k"); got != "new" || countKeys(t, s, pVersion) != 1 || countKeys(t, s, pInline) != 1 {
		t.Fatalf("overwrite of a JSON record: %q, %d versions, %d inline", got, countKeys(t, s, pVersion), countKeys(t, s, pInline))
	}
	v, _ := s.kv.Get(ctx, objectKey("old", "k"))
	if len(v) == 0 || v[0] != recordV1 {
		t.Fatal("new record not in the binary form")
	}
}

func FuzzObjectRecord(f *testing.F) {
	for _, o := range recordSamples() {
		f.Add(encodeObject(o))
	}
	f.Add(encode(recordSamples()[0]))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := decodeObject(b)
		if err != nil || len(b) == 0 || b[0] != recordV1 {
			return
		}
		// Whatever decodes re-encodes to a record that decodes the same.
		again, err := decodeObject(encodeObject(o))
		if err != nil {
			t.Fatalf("re-encoded record rejected: %v", err)
		}
		if !reflect.DeepEqual(o, again) && !bytes.Equal(encodeObject(o), encodeObject(again)) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", o, again)
		}
	})
}
