package awsproto

import (
	"encoding/binary"
	"hash"
	"hash/crc32"
	"hash/crc64"

	"skyhub/internal/aws/awsproto/checksum"
)

var nvme = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// ChecksumAlgorithms lists the flexible checksums S3 accepts.
var ChecksumAlgorithms = checksum.Algorithms

// NewChecksum returns the hash for an algorithm name, or nil when unknown
// (see package checksum).
func NewChecksum(alg string) hash.Hash { return checksum.New(alg) }

// Checksum returns base64(alg(data)) as the x-amz-checksum-* headers carry it.
func Checksum(alg string, data []byte) string { return checksum.Base64(alg, data) }

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
