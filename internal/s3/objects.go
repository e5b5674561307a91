package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"io"
	"strings"
	"sync"
	"time"

	"skyhub/internal/aws/awsproto/checksum"
	"skyhub/internal/blob"
	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// MaxKeyLength is S3's object key limit in bytes.
const MaxKeyLength = 1024

// copyBufs holds the 256 KiB buffers large bodies stream through.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// keyStripes is the number of per-key locks. A writer holds its key's lock
// across the group commit, so two writers of different keys that share a
// stripe wait one commit for each other: with 64 concurrent writers, 256
// stripes made a fifth of the writes wait, 4096 make about 1.5 % wait.
const keyStripes = 4096

// lockKey serialises metadata updates of one object (writers of different
// objects proceed in parallel and share fsyncs through group commit).
func (s *Service) lockKey(b, k string) *sync.Mutex {
	h := uint32(2166136261) // FNV-1a of b, 0, k
	for i := 0; i < len(b); i++ {
		h = (h ^ uint32(b[i])) * 16777619
	}
	h *= 16777619
	for i := 0; i < len(k); i++ {
		h = (h ^ uint32(k[i])) * 16777619
	}
	return &s.stripes[h%keyStripes]
}

// PutInput is a PutObject request.
type PutInput struct {
	Body io.Reader
	// Size is the declared length (-1 when unknown).
	Size        int64
	ContentType string
	Headers     map[string]string
	Meta        map[string]string
	Tags        map[string]string
	// ContentMD5 is the base64 Content-MD5 header.
	ContentMD5 string
	// Checksums are expected x-amz-checksum-* values (alg -> base64).
	Checksums map[string]string
	// ChecksumAlgorithm asks for a checksum to be computed and stored.
	ChecksumAlgorithm string
	// Trailer returns trailing checksum headers once Body hit EOF.
	Trailer func() map[string]string
	// IfNoneMatch "*" and IfMatch "<etag>" make the write conditional.
	IfNoneMatch, IfMatch string
	StorageClass         string
}

type digest struct {
	md5  hash.Hash
	cks  map[string]hash.Hash
	size int64
}

// writeBlob streams in.Body into a new blob, checking the declared size and
// the digests, and commits it.
func (s *Service) writeBlob(ctx context.Context, op string, in *PutInput) (Part, string, map[string]string, error) {
	d := &digest{md5: md5.New(), cks: map[string]hash.Hash{}}
	want := map[string]string{}
	for alg, v := range in.Checksums {
		alg = strings.ToLower(alg)
		if h := checksum.New(alg); h != nil && alg != "md5" {
			d.cks[alg] = h
			want[alg] = v
		}
	}
	if alg := strings.ToLower(in.ChecksumAlgorithm); alg != "" {
		if _, ok := d.cks[alg]; !ok {
			h := checksum.New(alg)
			if h == nil || alg == "md5" {
				return Part{}, "", nil, invalid(op, ErrInvalidRequest, "Value for x-amz-checksum-algorithm header is invalid.")
			}
			d.cks[alg] = h
		}
	}
	body := in.Body
	if body == nil {
		body = bytes.NewReader(nil)
	}
	hashers := []io.Writer{d.md5}
	for _, h := range d.cks {
		hashers = append(hashers, h)
	}
	var (
		w      blob.Writer
		inline []byte
		n      int64
	)
	// Small bodies stay in memory and go into the kv store with the
	// metadata; anything larger streams into a blob file.
	if s.cfg.InlineMax > 0 && in.Size <= int64(s.cfg.InlineMax) {
		buf, err := readSmall(body, in.Size, s.cfg.InlineMax)
		if err != nil {
			return Part{}, "", nil, err
		}
		if len(buf) <= s.cfg.InlineMax {
			inline = buf
			n = int64(len(buf))
			for _, h := range hashers {
				h.Write(buf)
			}
		} else {
			body = io.MultiReader(bytes.NewReader(buf), body)
		}
	}
	if inline == nil {
		var err error
		if w, err = s.bl.Create(ctx); err != nil {
			return Part{}, "", nil, err
		}
		bp := copyBufs.Get().(*[]byte)
		n, err = io.CopyBuffer(io.MultiWriter(append([]io.Writer{w}, hashers...)...), body, *bp)
		copyBufs.Put(bp)
		if err != nil {
			w.Abort()
			return Part{}, "", nil, err
		}
	}
	abort := func() {
		if w != nil {
			w.Abort()
		}
	}
	if in.Size >= 0 && n != in.Size {
		abort()
		return Part{}, "", nil, invalid(op, ErrIncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	}
	if in.Trailer != nil {
		for alg, v := range in.Trailer() {
			alg = strings.ToLower(strings.TrimPrefix(strings.ToLower(alg), "x-amz-checksum-"))
			if _, ok := d.cks[alg]; ok {
				want[alg] = v
			}
		}
	}
	sum := d.md5.Sum(nil)
	if in.ContentMD5 != "" {
		exp, err := base64.StdEncoding.DecodeString(in.ContentMD5)
		if err != nil || len(exp) != md5.Size {
			abort()
			return Part{}, "", nil, invalid(op, ErrInvalidDigest, "The Content-MD5 you specified was invalid.")
		}
		if !bytes.Equal(exp, sum) {
			abort()
			return Part{}, "", nil, invalid(op, ErrBadDigest, "The Content-MD5 you specified did not match what we received.")
		}
	}
	cks := map[string]string{}
	for alg, h := range d.cks {
		got := base64.StdEncoding.EncodeToString(h.Sum(nil))
		if exp, ok := want[alg]; ok && exp != got {
			abort()
			return Part{}, "", nil, invalid(op, ErrBadDigest, "The "+strings.ToUpper(alg)+" you specified did not match the calculated checksum.")
		}
		cks[alg] = got
	}
	etag := `"` + hex.EncodeToString(sum) + `"`
	if w == nil {
		if inline == nil {
			inline = []byte{}
		}
		return Part{Blob: inlinePrefix + newBlobID(), Size: n, ETag: etag, Checksums: cks, data: inline}, etag, cks, nil
	}
	id, err := w.Commit(ctx)
	if err != nil {
		return Part{}, "", nil, err
	}
	return Part{Blob: id, Size: n, ETag: etag, Checksums: cks}, etag, cks, nil
}

// readSmall reads a body of at most max+1 bytes: with a declared size into
// one exact buffer (plus a probe for bytes beyond it), else growing.
func readSmall(body io.Reader, size int64, max int) ([]byte, error) {
	if size < 0 {
		return io.ReadAll(io.LimitReader(body, int64(max)+1))
	}
	buf := make([]byte, size, size+1)
	n, err := io.ReadFull(body, buf)
	switch err {
	case nil:
	case io.EOF, io.ErrUnexpectedEOF:
		return buf[:n], nil // short: the caller reports IncompleteBody
	default:
		return nil, err
	}
	var probe [1]byte
	k, err := io.ReadFull(body, probe[:])
	if err != nil && err != io.EOF {
		return nil, err
	}
	return append(buf, probe[:k]...), nil
}

// PutObject stores an object durably and returns its record.
func (s *Service) PutObject(ctx context.Context, bucket, key string, in *PutInput) (*Object, error) {
	const op = "s3.PutObject"
	if err := checkKey(op, key); err != nil {
		return nil, err
	}
	if _, err := s.bucket(ctx, bucket); err != nil {
		return nil, err
	}
	part, etag, cks, err := s.writeBlob(ctx, op, in)
	if err != nil {
		return nil, err
	}
	o := &Object{Key: key, Size: part.Size, ETag: etag, ContentType: in.ContentType, Headers: in.Headers,
		Meta: in.Meta, Checksums: cks, Tags: in.Tags, Parts: []Part{{Blob: part.Blob, Size: part.Size, data: part.data}},
		StorageClass: in.StorageClass}
	if len(cks) > 0 {
		o.ChecksumType = "FULL_OBJECT"
	}
	if err := s.commitObject(ctx, op, bucket, o, in.IfNoneMatch, in.IfMatch); err != nil {
		s.deleteBlobs(blobsOf(o))
		return nil, err
	}
	s.notify(ctx, bucket, "ObjectCreated:Put", o)
	return o, nil
}

func checkKey(op, key string) error {
	if key == "" {
		return invalid(op, ErrInvalidArgument, "Object key must not be empty.")
	}
	if len(key) > MaxKeyLength {
		return invalid(op, ErrKeyTooLong, "Your key is too long")
	}
	if strings.IndexByte(key, 0) >= 0 {
		return invalid(op, ErrInvalidArgument, "Object keys must not contain NUL.")
	}
	return nil
}

// versions returns every version of a key, newest first.
func (s *Service) versions(ctx context.Context, bucket, key string) ([]*Object, error) {
	var out []*Object
	var derr error
	err := kv.Scan(ctx, s.kv, kv.Prefix(versionPrefix(bucket, key)), func(k, v []byte) bool {
		o, err := decodeObject(v)
		if err != nil {
			derr = err
			return false
		}
		out = append(out, o)
		return true
	})
	if err == nil {
		err = derr
	}
	return out, err
}

// commitObject installs o as the newest version of its key (a delete marker
// when o.DeleteMarker), honouring the bucket's versioning state, and deletes
// the bytes it replaces once the metadata is durable.
func (s *Service) commitObject(ctx context.Context, op, bucket string, o *Object, ifNoneMatch, ifMatch string) error {
	mu := s.lockKey(bucket, o.Key)
	mu.Lock()
	defer mu.Unlock()
	b, err := s.bucket(ctx, bucket)
	if err != nil {
		return err
	}
	cur, err := s.current(ctx, bucket, o.Key)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	if ifNoneMatch != "" && cur != nil && (ifNoneMatch == "*" || etagMatch(ifNoneMatch, cur.ETag)) {
		return errs.E(op, errs.Conflict, "At least one of the pre-conditions you specified did not hold", ErrPreconditionFailed)
	}
	if ifMatch != "" && (cur == nil || !etagMatch(ifMatch, cur.ETag)) {
		if cur == nil {
			return notFound(op, ErrNoSuchKey, "The specified key does not exist.")
		}
		return errs.E(op, errs.Conflict, "At least one of the pre-conditions you specified did not hold", ErrPreconditionFailed)
	}
	vid, seq := s.newVersion()
	o.Seq = seq
	o.VersionID = "null"
	if b.Versioning == "Enabled" {
		o.VersionID = vid
	}
	if o.Modified.IsZero() {
		o.Modified = s.now().UTC().Truncate(time.Millisecond)
	}
	ops := dataOps(o.Parts)
	var garbage []string
	switch {
	case o.VersionID != "null":
	case b.Versioning == "":
		// Never versioned: every write and delete keeps the current record
		// and the key's only ("null") version together, so the version to
		// replace is cur, and scanning the version keys can be skipped.
		if cur != nil {
			ops = append(ops, kv.Del(versionKey(bucket, o.Key, cur)))
			garbage = append(garbage, blobsOf(cur)...)
		}
	default:
		vs, err := s.versions(ctx, bucket, o.Key)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if v.VersionID == "null" {
				ops = append(ops, kv.Del(versionKey(bucket, o.Key, v)))
				garbage = append(garbage, blobsOf(v)...)
			}
		}
	}
	rec := encodeObject(o)
	ops = append(ops, kv.Set(versionKey(bucket, o.Key, o), rec))
	if o.DeleteMarker {
		ops = append(ops, kv.Del(objectKey(bucket, o.Key)))
	} else {
		ops = append(ops, kv.Set(objectKey(bucket, o.Key), rec))
	}
	gops, files := garbageOps(garbage)
	if err := s.kv.Write(ctx, append(ops, gops...)...); err != nil {
		return err
	}
	for i := range o.Parts {
		o.Parts[i].data = nil
	}
	s.deleteFiles(files)
	return nil
}

func etagMatch(cond, etag string) bool {
	for _, c := range strings.Split(cond, ",") {
		c = strings.TrimSpace(c)
		if c == "*" || strings.Trim(c, `"`) == strings.Trim(etag, `"`) {
			return true
		}
	}
	return false
}

func (s *Service) current(ctx context.Context, bucket, key string) (*Object, error) {
	v, err := s.kv.Get(ctx, objectKey(bucket, key))
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, notFound("s3.GetObject", ErrNoSuchKey, "The specified key does not exist.")
		}
		return nil, err
	}
	return decodeObject(v)
}

// ErrDeleteMarker is the cause when the latest (or asked-for) version is a
// delete marker; the wire adds x-amz-delete-marker: true.
var ErrDeleteMarker = errNoSuchKeyMarker{}

type errNoSuchKeyMarker struct{}

func (errNoSuchKeyMarker) Error() string { return "NoSuchKey" }

// Head returns an object's record: the current one, or versionID's.
func (s *Service) Head(ctx context.Context, bucket, key, versionID string) (*Object, error) {
	const op = "s3.HeadObject"
	if versionID == "" {
		o, err := s.current(ctx, bucket, key)
		if err == nil {
			return o, nil
		}
		if !errs.Is(err, errs.NotFound) {
			return nil, err
		}
		if _, berr := s.bucket(ctx, bucket); berr != nil {
			return nil, berr
		}
		if vs, _ := s.versions(ctx, bucket, key); len(vs) > 0 && vs[0].DeleteMarker {
			return nil, notFound(op, ErrDeleteMarker, "The specified key does not exist.")
		}
		return nil, err
	}
	if _, err := s.bucket(ctx, bucket); err != nil {
		return nil, err
	}
	vs, err := s.versions(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if v.VersionID == versionID {
			if v.DeleteMarker {
				return v, errs.E(op, errs.Invalid, "The specified method is not allowed against this resource.", ErrMethodNotAllowed)
			}
			return v, nil
		}
	}
	if !validVersionID(versionID) {
		return nil, invalid(op, ErrInvalidArgument, "Invalid version id specified")
	}
	return nil, notFound(op, ErrNoSuchVersion, "The specified version does not exist.")
}

func validVersionID(v string) bool {
	if v == "null" {
		return true
	}
	if len(v) != 28 {
		return false
	}
	_, err := hex.DecodeString(v)
	return err == nil
}

// Inline returns bytes [off, off+n) of o without a reader when o is one
// part stored in the kv store (ok false otherwise: use Open).
func (s *Service) Inline(ctx context.Context, o *Object, off, n int64) (data []byte, ok bool, err error) {
	if len(o.Parts) != 1 || !isInline(o.Parts[0].Blob) {
		return nil, false, nil
	}
	p := o.Parts[0]
	if off < 0 || n < 0 || off+n > p.Size {
		return nil, true, io.ErrUnexpectedEOF
	}
	data, err = s.kv.Get(ctx, inlineKey(p.Blob))
	if err != nil {
		return nil, true, err
	}
	if int64(len(data)) < p.Size {
		return nil, true, io.ErrUnexpectedEOF
	}
	return data[off : off+n], true, nil
}

// Open returns a reader over bytes [off, off+n) of o.
func (s *Service) Open(ctx context.Context, o *Object, off, n int64) (io.ReadCloser, error) {
	return &partsReader{ctx: ctx, s: s, parts: o.Parts, off: off, left: n}, nil
}

type partsReader struct {
	ctx   context.Context
	s     *Service
	parts []Part
	off   int64 // offset into the remaining parts
	left  int64
	cur   io.ReadCloser
}

func (r *partsReader) Read(p []byte) (int, error) {
	for {
		if r.left <= 0 {
			return 0, io.EOF
		}
		if r.cur == nil {
			for len(r.parts) > 0 && r.off >= r.parts[0].Size {
				r.off -= r.parts[0].Size
				r.parts = r.parts[1:]
			}
			if len(r.parts) == 0 {
				return 0, io.ErrUnexpectedEOF
			}
			n := r.parts[0].Size - r.off
			if id := r.parts[0].Blob; isInline(id) {
				data, err := r.s.kv.Get(r.ctx, inlineKey(id))
				if err != nil {
					return 0, err
				}
				if int64(len(data)) < r.parts[0].Size {
					return 0, io.ErrUnexpectedEOF
				}
				r.cur = io.NopCloser(bytes.NewReader(data[r.off:r.parts[0].Size]))
			} else {
				br, err := r.s.bl.Open(r.ctx, id)
				if err != nil {
					return 0, err
				}
				r.cur = struct {
					io.Reader
					io.Closer
				}{io.NewSectionReader(br, r.off, n), br}
			}
			r.parts = r.parts[1:]
			r.off = 0
		}
		if int64(len(p)) > r.left {
			p = p[:r.left]
		}
		n, err := r.cur.Read(p)
		r.left -= int64(n)
		if err == io.EOF {
			r.cur.Close()
			r.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (r *partsReader) Close() error {
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}

// DeleteResult says what DeleteObject did.
type DeleteResult struct {
	DeleteMarker bool
	VersionID    string // the marker's, or the deleted version's
}

// DeleteObject deletes the current object (a delete marker when versioning
// is on) or one version.
func (s *Service) DeleteObject(ctx context.Context, bucket, key, versionID, ifMatch string) (DeleteResult, error) {
	const op = "s3.DeleteObject"
	b, err := s.bucket(ctx, bucket)
	if err != nil {
		return DeleteResult{}, err
	}
	if versionID == "" {
		if ifMatch != "" {
			cur, err := s.current(ctx, bucket, key)
			if err != nil {
				return DeleteResult{}, err
			}
			if !etagMatch(ifMatch, cur.ETag) {
				return DeleteResult{}, errs.E(op, errs.Conflict, "At least one of the pre-conditions you specified did not hold", ErrPreconditionFailed)
			}
		}
		if b.Versioning == "" {
			mu := s.lockKey(bucket, key)
			mu.Lock()
			cur, err := s.current(ctx, bucket, key)
			if err != nil {
				mu.Unlock()
				if errs.Is(err, errs.NotFound) {
					return DeleteResult{}, nil // deleting a missing key succeeds
				}
				return DeleteResult{}, err
			}
			gops, files := garbageOps(blobsOf(cur))
			err = s.kv.Write(ctx, append(gops, kv.Del(objectKey(bucket, key)), kv.Del(versionKey(bucket, key, cur)))...)
			mu.Unlock()
			if err != nil {
				return DeleteResult{}, err
			}
			s.deleteFiles(files)
			s.notify(ctx, bucket, "ObjectRemoved:Delete", cur)
			return DeleteResult{}, nil
		}
		m := &Object{Key: key, DeleteMarker: true}
		if err := s.commitObject(ctx, op, bucket, m, "", ""); err != nil {
			return DeleteResult{}, err
		}
		s.notify(ctx, bucket, "ObjectRemoved:DeleteMarkerCreated", m)
		return DeleteResult{DeleteMarker: true, VersionID: m.VersionID}, nil
	}
	mu := s.lockKey(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	vs, err := s.versions(ctx, bucket, key)
	if err != nil {
		return DeleteResult{}, err
	}
	for i, v := range vs {
		if v.VersionID != versionID {
			continue
		}
		ops := []kv.Op{kv.Del(versionKey(bucket, key, v))}
		if i == 0 {
			ops = append(ops, kv.Del(objectKey(bucket, key)))
			if len(vs) > 1 && !vs[1].DeleteMarker {
				ops = append(ops, kv.Set(objectKey(bucket, key), encodeObject(vs[1])))
			}
		}
		if err := s.kv.Write(ctx, ops...); err != nil {
			return DeleteResult{}, err
		}
		s.deleteBlobs(blobsOf(v))
		s.notify(ctx, bucket, "ObjectRemoved:Delete", v)
		return DeleteResult{DeleteMarker: v.DeleteMarker, VersionID: versionID}, nil
	}
	if !validVersionID(versionID) {
		return DeleteResult{}, invalid(op, ErrInvalidArgument, "Invalid version id specified")
	}
	return DeleteResult{VersionID: versionID}, nil
}

// CopyInput is a CopyObject request.
type CopyInput struct {
	SrcBucket, SrcKey, SrcVersion string
	// ReplaceMeta (x-amz-metadata-directive: REPLACE) takes the metadata below.
	ReplaceMeta bool
	ContentType string
	Headers     map[string]string
	Meta        map[string]string
	// ReplaceTags (x-amz-tagging-directive: REPLACE) takes Tags.
	ReplaceTags       bool
	Tags              map[string]string
	ChecksumAlgorithm string
	StorageClass      string
	// Source conditions.
	IfMatch, IfNoneMatch               string
	IfModifiedSince, IfUnmodifiedSince time.Time
}

// CheckConditions evaluates copy-source style conditions; it reports
// whether the failure is "not modified" (304) rather than 412.
func CheckConditions(o *Object, ifMatch, ifNoneMatch string, ifModSince, ifUnmodSince time.Time) (ok, notModified bool) {
	if ifMatch != "" {
		if !etagMatch(ifMatch, o.ETag) {
			return false, false
		}
	} else if !ifUnmodSince.IsZero() && o.Modified.Truncate(time.Second).After(ifUnmodSince) {
		return false, false
	}
	if ifNoneMatch != "" {
		if etagMatch(ifNoneMatch, o.ETag) {
			return false, true
		}
	} else if !ifModSince.IsZero() && !o.Modified.Truncate(time.Second).After(ifModSince) {
		return false, true
	}
	return true, false
}

// CopyObject copies an object's bytes into a new object.
func (s *Service) CopyObject(ctx context.Context, bucket, key string, in *CopyInput) (*Object, *Object, error) {
	const op = "s3.CopyObject"
	src, err := s.Head(ctx, in.SrcBucket, in.SrcKey, in.SrcVersion)
	if err != nil {
		return nil, nil, err
	}
	if ok, _ := CheckConditions(src, in.IfMatch, in.IfNoneMatch, in.IfModifiedSince, in.IfUnmodifiedSince); !ok {
		return nil, nil, errs.E(op, errs.Conflict, "At least one of the pre-conditions you specified did not hold", ErrPreconditionFailed)
	}
	if in.SrcBucket == bucket && in.SrcKey == key && in.SrcVersion == "" && !in.ReplaceMeta && !in.ReplaceTags && in.StorageClass == "" && in.ChecksumAlgorithm == "" {
		return nil, nil, invalid(op, ErrInvalidRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	rc, err := s.Open(ctx, src, 0, src.Size)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	alg := in.ChecksumAlgorithm
	if alg == "" {
		for a := range src.Checksums {
			alg = a
		}
	}
	pin := &PutInput{Body: rc, Size: src.Size, ChecksumAlgorithm: alg}
	dst, err := s.PutObject(ctx, bucket, key, s.copyMeta(pin, src, in))
	return dst, src, err
}

func (s *Service) copyMeta(pin *PutInput, src *Object, in *CopyInput) *PutInput {
	if in.ReplaceMeta {
		pin.ContentType, pin.Headers, pin.Meta = in.ContentType, in.Headers, in.Meta
	} else {
		pin.ContentType, pin.Headers, pin.Meta = src.ContentType, src.Headers, src.Meta
	}
	if in.ReplaceTags {
		pin.Tags = in.Tags
	} else {
		pin.Tags = src.Tags
	}
	pin.StorageClass = in.StorageClass
	return pin
}

// SetObjectTags replaces an object version's tags (nil deletes them).
func (s *Service) SetObjectTags(ctx context.Context, bucket, key, versionID string, tags map[string]string) (*Object, error) {
	mu := s.lockKey(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	o, err := s.Head(ctx, bucket, key, versionID)
	if err != nil {
		return nil, err
	}
	o.Tags = tags
	ops := []kv.Op{kv.Set(versionKey(bucket, key, o), encodeObject(o))}
	if cur, err := s.current(ctx, bucket, key); err == nil && cur.VersionID == o.VersionID {
		ops = append(ops, kv.Set(objectKey(bucket, key), encodeObject(o)))
	}
	return o, s.kv.Write(ctx, ops...)
}
