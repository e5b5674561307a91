// Package checksum computes the checksums AWS clients send and verify
// (CRC32, CRC32C, CRC64NVME, SHA1, SHA256, MD5). It depends on nothing but
// the standard hashes, so domain packages may use it.
package checksum

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strings"
)

// Algorithms lists the flexible checksums S3 accepts, in the lower-case
// spelling of their x-amz-checksum-* header suffix.
var Algorithms = []string{"crc32", "crc32c", "crc64nvme", "sha1", "sha256"}

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	// CRC-64/NVME: reflected polynomial 0x9a6c9329ac4bc9b5, init and
	// xorout all ones (hash/crc64 applies both).
	nvme = crc64.MakeTable(0x9a6c9329ac4bc9b5)
)

// New returns the hash for an algorithm name ("crc32", "CRC32C", "sha256",
// "md5", ...), or nil when unknown.
func New(alg string) hash.Hash {
	switch strings.ToLower(alg) {
	case "crc32":
		return crc32.NewIEEE()
	case "crc32c":
		return crc32.New(castagnoli)
	case "crc64nvme":
		return crc64.New(nvme)
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	case "md5":
		return md5.New()
	}
	return nil
}

// Base64 returns base64(alg(data)) as the x-amz-checksum-* headers carry it.
func Base64(alg string, data []byte) string {
	h := New(alg)
	if h == nil {
		return ""
	}
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
