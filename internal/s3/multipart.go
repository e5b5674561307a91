package s3

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"strings"
	"time"

	"skyhub/internal/aws/awsproto/checksum"
	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// Upload is an in-progress multipart upload.
type Upload struct {
	ID                string            `json:"id"`
	Key               string            `json:"key"`
	Initiated         time.Time         `json:"init"`
	ContentType       string            `json:"ct,omitempty"`
	Headers           map[string]string `json:"hdr,omitempty"`
	Meta              map[string]string `json:"meta,omitempty"`
	Tags              map[string]string `json:"tags,omitempty"`
	ChecksumAlgorithm string            `json:"ckalg,omitempty"`
	ChecksumType      string            `json:"ckt,omitempty"`
	StorageClass      string            `json:"sc,omitempty"`
}

// UploadedPart is a stored part of an upload.
type UploadedPart struct {
	Number   int
	Modified time.Time
	Part
}

type storedPart struct {
	Part
	Modified time.Time `json:"mod"`
}

// CreateUpload starts a multipart upload.
func (s *Service) CreateUpload(ctx context.Context, bucket string, u *Upload) (*Upload, error) {
	if err := checkKey("s3.CreateMultipartUpload", u.Key); err != nil {
		return nil, err
	}
	if _, err := s.bucket(ctx, bucket); err != nil {
		return nil, err
	}
	if u.ChecksumAlgorithm != "" && checksum.New(u.ChecksumAlgorithm) == nil {
		return nil, invalid("s3.CreateMultipartUpload", ErrInvalidRequest, "Checksum algorithm provided is unsupported.")
	}
	u.ChecksumAlgorithm = strings.ToLower(u.ChecksumAlgorithm)
	u.ID = newUploadID()
	u.Initiated = s.now().UTC().Truncate(time.Millisecond)
	return u, s.kv.Write(ctx, kv.Set(uploadKey(bucket, u.ID), encode(u)))
}

// GetUpload returns an upload.
func (s *Service) GetUpload(ctx context.Context, bucket, key, id string) (*Upload, error) {
	if _, err := s.bucket(ctx, bucket); err != nil {
		return nil, err
	}
	v, err := s.kv.Get(ctx, uploadKey(bucket, id))
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, notFound("s3.upload", ErrNoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
		}
		return nil, err
	}
	u, err := decode[Upload](v)
	if err != nil {
		return nil, err
	}
	if u.Key != key {
		return nil, notFound("s3.upload", ErrNoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
	}
	return u, nil
}

// UploadPart stores one part (replacing an earlier one of that number).
func (s *Service) UploadPart(ctx context.Context, bucket, key, id string, n int, in *PutInput) (*Part, error) {
	const op = "s3.UploadPart"
	if n < 1 || n > 10000 {
		return nil, invalid(op, ErrInvalidArgument, "Part number must be an integer between 1 and 10000, inclusive")
	}
	u, err := s.GetUpload(ctx, bucket, key, id)
	if err != nil {
		return nil, err
	}
	if in.ChecksumAlgorithm == "" {
		in.ChecksumAlgorithm = u.ChecksumAlgorithm
	}
	p, _, _, err := s.writeBlob(ctx, op, in)
	if err != nil {
		return nil, err
	}
	return &p, s.storePart(ctx, bucket, key, id, n, p)
}

func (s *Service) storePart(ctx context.Context, bucket, key, id string, n int, p Part) error {
	mu := s.lockKey(bucket, "\x00upload"+id)
	mu.Lock()
	defer mu.Unlock()
	if _, err := s.GetUpload(ctx, bucket, key, id); err != nil {
		s.deleteBlobs([]string{p.Blob})
		return err
	}
	var old []string
	if v, err := s.kv.Get(ctx, partKey(id, n)); err == nil {
		if sp, err := decode[storedPart](v); err == nil {
			old = append(old, sp.Blob)
		}
	}
	ops := append(dataOps([]Part{p}), kv.Set(partKey(id, n), encode(storedPart{Part: p, Modified: s.now().UTC().Truncate(time.Millisecond)})))
	if err := s.kv.Write(ctx, ops...); err != nil {
		s.deleteBlobs([]string{p.Blob})
		return err
	}
	s.deleteBlobs(old)
	return nil
}

// CopyPart stores a part copied from bytes [off, off+n) of another object.
func (s *Service) CopyPart(ctx context.Context, bucket, key, id string, n int, src *Object, off, length int64) (*Part, error) {
	const op = "s3.UploadPartCopy"
	if n < 1 || n > 10000 {
		return nil, invalid(op, ErrInvalidArgument, "Part number must be an integer between 1 and 10000, inclusive")
	}
	u, err := s.GetUpload(ctx, bucket, key, id)
	if err != nil {
		return nil, err
	}
	rc, err := s.Open(ctx, src, off, length)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	p, _, _, err := s.writeBlob(ctx, op, &PutInput{Body: rc, Size: length, ChecksumAlgorithm: u.ChecksumAlgorithm})
	if err != nil {
		return nil, err
	}
	return &p, s.storePart(ctx, bucket, key, id, n, p)
}

// ListParts returns an upload's parts in number order after marker.
func (s *Service) ListParts(ctx context.Context, bucket, key, id string, marker, max int) ([]UploadedPart, bool, error) {
	if _, err := s.GetUpload(ctx, bucket, key, id); err != nil {
		return nil, false, err
	}
	var out []UploadedPart
	truncated := false
	var derr error
	err := kv.Scan(ctx, s.kv, kv.Prefix(partPrefix(id)), func(k, v []byte) bool {
		num := int(k[len(k)-2])<<8 | int(k[len(k)-1])
		if num <= marker {
			return true
		}
		if len(out) == max {
			truncated = true
			return false
		}
		sp, err := decode[storedPart](v)
		if err != nil {
			derr = err
			return false
		}
		out = append(out, UploadedPart{Number: num, Modified: sp.Modified, Part: sp.Part})
		return true
	})
	if err == nil {
		err = derr
	}
	return out, truncated, err
}

// CompletePart is one entry of a CompleteMultipartUpload request.
type CompletePart struct {
	Number    int
	ETag      string
	Checksums map[string]string
}

// CompleteUpload assembles the listed parts into the object. The parts'
// blobs become the object's bytes as they are: nothing is copied.
func (s *Service) CompleteUpload(ctx context.Context, bucket, key, id string, parts []CompletePart, ifNoneMatch, ifMatch string) (*Object, error) {
	const op = "s3.CompleteMultipartUpload"
	u, err := s.GetUpload(ctx, bucket, key, id)
	if err != nil {
		// Completing an upload again answers as the first time did.
		if v, gerr := s.kv.Get(ctx, completedKey(bucket, id)); gerr == nil && errs.Is(err, errs.NotFound) {
			if o, derr := decodeObject(v); derr == nil && o.Key == key {
				return o, nil
			}
		}
		return nil, err
	}
	if len(parts) == 0 {
		return nil, invalid(op, ErrMalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
	}
	stored, _, err := s.ListParts(ctx, bucket, key, id, 0, 10001)
	if err != nil {
		return nil, err
	}
	byNum := map[int]UploadedPart{}
	for _, p := range stored {
		byNum[p.Number] = p
	}
	o := &Object{Key: key, ContentType: u.ContentType, Headers: u.Headers, Meta: u.Meta, Tags: u.Tags,
		Multipart: true, StorageClass: u.StorageClass}
	md := md5.New()
	var ck hash.Hash
	if u.ChecksumAlgorithm != "" {
		ck = checksum.New(u.ChecksumAlgorithm)
	}
	used := map[string]bool{}
	for i, cp := range parts {
		if i > 0 && cp.Number <= parts[i-1].Number {
			return nil, invalid(op, ErrInvalidPartOrder, "The list of parts was not in ascending order. Parts must be ordered by part number.")
		}
		p, ok := byNum[cp.Number]
		if !ok || strings.Trim(cp.ETag, `"`) != strings.Trim(p.ETag, `"`) {
			return nil, invalid(op, ErrInvalidPart, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
		}
		if i < len(parts)-1 && p.Size < s.cfg.MinPartSize {
			return nil, invalid(op, ErrEntityTooSmall, "Your proposed upload is smaller than the minimum allowed object size.")
		}
		raw, _ := hex.DecodeString(strings.Trim(p.ETag, `"`))
		md.Write(raw)
		if ck != nil {
			if v, ok := p.Checksums[u.ChecksumAlgorithm]; ok {
				b, _ := base64.StdEncoding.DecodeString(v)
				ck.Write(b)
			}
		}
		o.Parts = append(o.Parts, Part{Blob: p.Blob, Size: p.Size, ETag: p.ETag, Checksums: p.Checksums})
		o.Size += p.Size
		used[p.Blob] = true
	}
	o.ETag = fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(md.Sum(nil)), len(parts))
	if ck != nil {
		o.Checksums = map[string]string{u.ChecksumAlgorithm: fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(ck.Sum(nil)), len(parts))}
		o.ChecksumType = "COMPOSITE"
	}
	if err := s.commitObject(ctx, op, bucket, o, ifNoneMatch, ifMatch); err != nil {
		return nil, err
	}
	var unused []string
	for _, p := range stored {
		if !used[p.Blob] {
			unused = append(unused, p.Blob)
		}
	}
	done := &Object{Key: o.Key, VersionID: o.VersionID, ETag: o.ETag, Size: o.Size, Checksums: o.Checksums, ChecksumType: o.ChecksumType}
	if err := s.kv.Write(ctx, kv.Del(uploadKey(bucket, id)), kv.DelRange(partPrefix(id), kv.PrefixEnd(partPrefix(id))),
		kv.Set(completedKey(bucket, id), encodeObject(done))); err != nil {
		return nil, err
	}
	s.deleteBlobs(unused)
	s.notify(ctx, bucket, "ObjectCreated:CompleteMultipartUpload", o)
	return o, nil
}

// AbortUpload discards an upload and its parts.
func (s *Service) AbortUpload(ctx context.Context, bucket, key, id string) error {
	if _, err := s.GetUpload(ctx, bucket, key, id); err != nil {
		return err
	}
	parts, _, err := s.ListParts(ctx, bucket, key, id, 0, 10001)
	if err != nil {
		return err
	}
	if err := s.kv.Write(ctx, kv.Del(uploadKey(bucket, id)), kv.DelRange(partPrefix(id), kv.PrefixEnd(partPrefix(id)))); err != nil {
		return err
	}
	var blobs []string
	for _, p := range parts {
		blobs = append(blobs, p.Blob)
	}
	s.deleteBlobs(blobs)
	return nil
}

// ListUploads lists in-progress uploads by key then initiation.
func (s *Service) ListUploads(ctx context.Context, bucket, prefix string, max int) ([]*Upload, bool, error) {
	if _, err := s.bucket(ctx, bucket); err != nil {
		return nil, false, err
	}
	var out []*Upload
	err := kv.Scan(ctx, s.kv, kv.Prefix(uploadPrefix(bucket)), func(k, v []byte) bool {
		u, err := decode[Upload](v)
		if err == nil && strings.HasPrefix(u.Key, prefix) {
			out = append(out, u)
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return out[i].Initiated.Before(out[j].Initiated)
	})
	truncated := false
	if len(out) > max {
		out, truncated = out[:max], true
	}
	return out, truncated, err
}
