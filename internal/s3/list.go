package s3

import (
	"context"
	"strings"

	"skyhub/internal/kv"
)

// ListInput bounds a listing.
type ListInput struct {
	Prefix, Delimiter string
	// After lists keys strictly greater than After (marker, start-after,
	// continuation token).
	After   string
	MaxKeys int
}

// ListResult is one page of a listing.
type ListResult struct {
	Objects        []*Object
	CommonPrefixes []string
	Truncated      bool
	// Next is the last key or common prefix returned (the next page's After).
	Next string
}

// ListObjects lists current objects in key order (UTF-8 byte order).
func (s *Service) ListObjects(ctx context.Context, bucket string, in ListInput) (*ListResult, error) {
	if _, err := s.bucket(ctx, bucket); err != nil {
		return nil, err
	}
	base := objectPrefix(bucket)
	res := &ListResult{}
	if in.MaxKeys == 0 {
		return res, nil
	}
	lower := append(append([]byte(nil), base...), in.Prefix...)
	if in.After != "" && in.After >= in.Prefix {
		lower = append(append(append([]byte(nil), base...), in.After...), 0)
		// A page that ended on a common prefix resumes after every key in it.
		if in.Delimiter != "" && strings.HasPrefix(in.After, in.Prefix) && strings.HasSuffix(in.After, in.Delimiter) &&
			strings.Index(in.After[len(in.Prefix):], in.Delimiter) == len(in.After)-len(in.Prefix)-len(in.Delimiter) {
			lower = kv.PrefixEnd(append(append([]byte(nil), base...), in.After...))
		}
	}
	upper := kv.PrefixEnd(append(append([]byte(nil), base...), in.Prefix...))
	count := 0
	for {
		it := s.kv.Iter(ctx, kv.IterOptions{Lower: lower, Upper: upper})
		var seek []byte
		for it.Next() {
			key := string(it.Key()[len(base):])
			if in.Delimiter != "" {
				if i := strings.Index(key[len(in.Prefix):], in.Delimiter); i >= 0 {
					cp := key[:len(in.Prefix)+i+len(in.Delimiter)]
					if count == in.MaxKeys {
						res.Truncated = true
						break
					}
					res.CommonPrefixes = append(res.CommonPrefixes, cp)
					res.Next = cp
					count++
					seek = kv.PrefixEnd(append(append([]byte(nil), base...), cp...))
					break
				}
			}
			if count == in.MaxKeys {
				res.Truncated = true
				break
			}
			o, err := decodeObject(it.Value())
			if err != nil {
				it.Close()
				return nil, err
			}
			res.Objects = append(res.Objects, o)
			res.Next = key
			count++
		}
		if err := it.Err(); err != nil {
			it.Close()
			return nil, err
		}
		it.Close()
		if seek == nil || res.Truncated {
			return res, nil
		}
		lower = seek
	}
}

// VersionsInput bounds ListObjectVersions.
type VersionsInput struct {
	Prefix, Delimiter          string
	KeyMarker, VersionIDMarker string
	MaxKeys                    int
}

// VersionsResult is one page of versions (newest first within a key).
type VersionsResult struct {
	Versions       []*Object
	Latest         map[*Object]bool
	CommonPrefixes []string
	Truncated      bool
	NextKey        string
	NextVersionID  string
}

// ListVersions lists every version and delete marker.
func (s *Service) ListVersions(ctx context.Context, bucket string, in VersionsInput) (*VersionsResult, error) {
	if _, err := s.bucket(ctx, bucket); err != nil {
		return nil, err
	}
	base := versionBucketPrefix(bucket)
	res := &VersionsResult{Latest: map[*Object]bool{}}
	lower := append(append([]byte(nil), base...), in.Prefix...)
	if in.KeyMarker != "" && in.KeyMarker >= in.Prefix {
		lower = append(append(append([]byte(nil), base...), in.KeyMarker...), 0)
		if in.VersionIDMarker == "" {
			lower = append(lower[:len(lower)-1], 1) // past every version of KeyMarker
		}
	}
	upper := kv.PrefixEnd(append(append([]byte(nil), base...), in.Prefix...))
	skipping := in.VersionIDMarker != ""
	lastKey := "\xff\xff"
	count := 0
	var lastCP string
	err := kv.Scan(ctx, s.kv, kv.IterOptions{Lower: lower, Upper: upper}, func(k, v []byte) bool {
		rest := string(k[len(base):])
		i := strings.IndexByte(rest, 0)
		if i < 0 {
			return true
		}
		key := rest[:i]
		o, err := decodeObject(v)
		if err != nil {
			return false
		}
		if skipping {
			if key == in.KeyMarker {
				if o.VersionID == in.VersionIDMarker {
					skipping = false
				}
				lastKey = key
				return true
			}
			skipping = false
		}
		if in.Delimiter != "" {
			if j := strings.Index(key[len(in.Prefix):], in.Delimiter); j >= 0 {
				cp := key[:len(in.Prefix)+j+len(in.Delimiter)]
				if cp == lastCP {
					return true
				}
				if count == in.MaxKeys {
					res.Truncated = true
					return false
				}
				lastCP = cp
				res.CommonPrefixes = append(res.CommonPrefixes, cp)
				res.NextKey, res.NextVersionID = cp, ""
				count++
				return true
			}
		}
		if count == in.MaxKeys {
			res.Truncated = true
			return false
		}
		o.Key = key
		res.Versions = append(res.Versions, o)
		if key != lastKey {
			res.Latest[o] = true
		}
		lastKey = key
		res.NextKey, res.NextVersionID = key, o.VersionID
		count++
		return true
	})
	return res, err
}
