package awsproto

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strings"
)

// ChecksumAlgorithms lists the flexible checksums S3 accepts, in the
// lower-case spelling of their x-amz-checksum-* header suffix.
var ChecksumAlgorithms = []string{"crc32", "crc32c", "crc64nvme", "sha1", "sha256"}

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	// CRC-64/NVME: reflected polynomial 0x9a6c9329ac4bc9b5, init and
	// xorout all ones (hash/crc64 applies both).
	nvme = crc64.MakeTable(0x9a6c9329ac4bc9b5)
)

// NewChecksum returns the hash for an algorithm name ("crc32", "CRC32C",
// "sha256", "md5", ...), or nil when unknown.
func NewChecksum(alg string) hash.Hash {
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

// Checksum returns base64(alg(data)) as the x-amz-checksum-* headers carry it.
func Checksum(alg string, data []byte) string {
	h := NewChecksum(alg)
	if h == nil {
		return ""
	}
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// CRC32 returns the IEEE CRC32 of b as DynamoDB's x-amz-crc32 header
// carries it (decimal).
func CRC32(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// SetCRC32 sets x-amz-crc32 for body on h.
func SetCRC32(h interface{ Set(string, string) }, body []byte) {
	h.Set("x-amz-crc32", uitoa(uint64(CRC32(body))))
}

func uitoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}

// CRC64NVMEBytes is a helper for tests: the big-endian CRC64NVME of b.
func CRC64NVMEBytes(b []byte) []byte {
	var out [8]byte
	binary.BigEndian.PutUint64(out[:], crc64.Checksum(b, nvme))
	return out[:]
}
