// Package s3 is the "thing tank": buckets, objects, versions and multipart
// uploads. Metadata lives in the kv store under "s3/"; object bytes live in a
// blob.Store and stream through, never held whole in memory. A write is
// acknowledged only once both its bytes and its metadata are durable. The
// wire (rest-xml) is s3/s3api; this package knows nothing of HTTP.
package s3

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"skyhub/internal/blob"
	"skyhub/internal/errs"
	"skyhub/internal/kv"
)

// Sentinel causes: the wire maps each to its S3 error code.
var (
	ErrNoSuchBucket          = errors.New("NoSuchBucket")
	ErrNoSuchKey             = errors.New("NoSuchKey")
	ErrNoSuchVersion         = errors.New("NoSuchVersion")
	ErrNoSuchUpload          = errors.New("NoSuchUpload")
	ErrBucketExists          = errors.New("BucketAlreadyOwnedByYou")
	ErrBucketNotEmpty        = errors.New("BucketNotEmpty")
	ErrInvalidBucketName     = errors.New("InvalidBucketName")
	ErrBadDigest             = errors.New("BadDigest")
	ErrInvalidDigest         = errors.New("InvalidDigest")
	ErrInvalidPart           = errors.New("InvalidPart")
	ErrInvalidPartOrder      = errors.New("InvalidPartOrder")
	ErrEntityTooSmall        = errors.New("EntityTooSmall")
	ErrPreconditionFailed    = errors.New("PreconditionFailed")
	ErrInvalidArgument       = errors.New("InvalidArgument")
	ErrIncompleteBody        = errors.New("IncompleteBody")
	ErrNoSuchTagSet          = errors.New("NoSuchTagSet")
	ErrNoSuchCORS            = errors.New("NoSuchCORSConfiguration")
	ErrNoSuchLifecycle       = errors.New("NoSuchLifecycleConfiguration")
	ErrNoSuchPolicy          = errors.New("NoSuchBucketPolicy")
	ErrInvalidRange          = errors.New("InvalidRange")
	ErrMethodNotAllowed      = errors.New("MethodNotAllowed")
	ErrConditionalConflict   = errors.New("ConditionalRequestConflict")
	ErrInvalidTag            = errors.New("InvalidTag")
	ErrNoSuchEncryption      = errors.New("ServerSideEncryptionConfigurationNotFoundError")
	ErrNoSuchOwnership       = errors.New("OwnershipControlsNotFoundError")
	ErrNoSuchPublicAccess    = errors.New("NoSuchPublicAccessBlockConfiguration")
	ErrNoSuchWebsite         = errors.New("NoSuchWebsiteConfiguration")
	ErrTooManyParts          = errors.New("InvalidArgument")
	ErrEntityTooLarge        = errors.New("EntityTooLarge")
	ErrKeyTooLong            = errors.New("KeyTooLongError")
	ErrInvalidObjectState    = errors.New("InvalidObjectState")
	ErrMalformedXML          = errors.New("MalformedXML")
	ErrInvalidLocation       = errors.New("InvalidLocationConstraint")
	ErrIllegalLocation       = errors.New("IllegalLocationConstraintException")
	ErrInvalidStorageClass   = errors.New("InvalidStorageClass")
	ErrNotImplemented        = errors.New("NotImplemented")
	ErrInvalidRequest        = errors.New("InvalidRequest")
	ErrMissingContentLength  = errors.New("MissingContentLength")
	ErrNoSuchNotificationCfg = errors.New("NoSuchNotificationConfiguration")
)

// Config configures the service.
type Config struct {
	KV     kv.Store
	Blobs  blob.Store
	Log    *slog.Logger
	Region string
	// MinPartSize is the smallest non-final multipart part (5 MiB when zero).
	MinPartSize int64
	// LifecycleInterval is how often expiration rules run (1 h when zero;
	// negative disables the sweeper).
	LifecycleInterval time.Duration
	// Notifier receives bucket events (nil: notifications are stored but
	// nothing is sent).
	Notifier Notifier
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// InlineMax is the largest object (or part) whose bytes are kept in the
	// kv store beside its metadata, so that a small write costs one
	// group-committed fsync instead of a file, its fsync and a directory
	// fsync (32 KiB when zero; negative: every object in a blob file).
	InlineMax int
}

// Service is the S3 domain service.
type Service struct {
	cfg Config
	kv  kv.Store
	bl  blob.Store
	log *slog.Logger
	now func() time.Time
	mu  sync.Mutex // serialises metadata read-modify-write per service
	// buckets caches decoded bucket records: every object operation reads
	// its bucket (existence, versioning, notifications, lifecycle), and
	// decoding the stored JSON each time was a tenth of a small PUT's CPU.
	buckets bucketCache
	stripes [keyStripes]sync.Mutex // see lockKey
	notif   atomic.Pointer[Notifier]
	stop    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

// New returns a service; Start runs its background lifecycle sweeper.
func New(cfg Config) *Service {
	if cfg.MinPartSize == 0 {
		cfg.MinPartSize = 5 << 20
	}
	if cfg.LifecycleInterval == 0 {
		cfg.LifecycleInterval = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.InlineMax == 0 {
		cfg.InlineMax = 32 << 10
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	s := &Service{cfg: cfg, kv: cfg.KV, bl: cfg.Blobs, log: cfg.Log, now: cfg.Now, stop: make(chan struct{})}
	if cfg.Notifier != nil {
		s.notif.Store(&cfg.Notifier)
	}
	return s
}

// Region is the service's default region.
func (s *Service) Region() string { return s.cfg.Region }

// SetNotifier sets where bucket events go (the SQS service, once mounted).
func (s *Service) SetNotifier(n Notifier) {
	s.notif.Store(&n)
}

// notifier returns where bucket events go (nil: nowhere). It is read on
// every write, so it is not behind mu, which bucket updates hold across
// their fsync.
func (s *Service) notifier() Notifier {
	if p := s.notif.Load(); p != nil {
		return *p
	}
	return nil
}

// Start runs the lifecycle sweeper.
func (s *Service) Start() {
	if s.cfg.LifecycleInterval < 0 {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.cfg.LifecycleInterval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), s.cfg.LifecycleInterval)
				if _, err := s.RunLifecycle(ctx); err != nil {
					s.log.Warn("s3 lifecycle", "err", err)
				}
				cancel()
			}
		}
	}()
}

// Close stops the sweeper.
func (s *Service) Close() error {
	s.once.Do(func() { close(s.stop) })
	s.wg.Wait()
	return nil
}

// --- keys ---

const (
	pBucket  = "s3/b/"
	pObject  = "s3/o/"
	pVersion = "s3/v/"
	pUpload  = "s3/u/"
	pPart    = "s3/p/"
	pInline  = "s3/i/"
	pDone    = "s3/c/" // completed multipart uploads (CompleteMultipartUpload is idempotent)
)

// inlinePrefix marks a Part.Blob whose bytes live in the kv store.
const inlinePrefix = "i:"

func inlineKey(id string) []byte { return []byte(pInline + id[len(inlinePrefix):]) }

func isInline(id string) bool { return strings.HasPrefix(id, inlinePrefix) }

func bucketKey(b string) []byte { return []byte(pBucket + b) }
func objectKey(b, k string) []byte {
	return []byte(pObject + b + "\x00" + k)
}
func objectPrefix(b string) []byte { return []byte(pObject + b + "\x00") }
func versionPrefix(b, k string) []byte {
	return []byte(pVersion + b + "\x00" + k + "\x00")
}
func versionBucketPrefix(b string) []byte { return []byte(pVersion + b + "\x00") }
func versionKey(b, k string, v *Object) []byte {
	return append(versionPrefix(b, k), []byte(v.Seq+v.VersionID)...)
}
func uploadKey(b, id string) []byte    { return []byte(pUpload + b + "\x00" + id) }
func completedKey(b, id string) []byte { return []byte(pDone + b + "\x00" + id) }
func uploadPrefix(b string) []byte     { return []byte(pUpload + b + "\x00") }
func partPrefix(id string) []byte      { return []byte(pPart + id + "\x00") }
func partKey(id string, n int) []byte  { return append(partPrefix(id), byte(n>>8), byte(n)) }

// newVersion returns a version ID and its newest-first sort prefix.
func (s *Service) newVersion() (id, seq string) {
	n := uint64(s.now().UnixNano())
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], ^n)
	var r [10]byte
	rand.Read(r[:])
	return hex.EncodeToString(r[:]) + hex.EncodeToString(b[4:]), hex.EncodeToString(b[:])
}

func newUploadID() string {
	var r [24]byte
	rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// --- stored records ---

// Bucket is a bucket's stored state.
type Bucket struct {
	Name       string            `json:"name"`
	Created    time.Time         `json:"created"`
	Region     string            `json:"region"`
	Owner      string            `json:"owner,omitempty"`
	Versioning string            `json:"versioning,omitempty"` // "", Enabled, Suspended
	Tags       map[string]string `json:"tags,omitempty"`
	HasTags    bool              `json:"hasTags,omitempty"`
	CORS       []CORSRule        `json:"cors,omitempty"`
	Lifecycle  []LifecycleRule   `json:"lifecycle,omitempty"`
	// Notifications are the bucket's event destinations.
	Notifications []NotificationRule `json:"notifications,omitempty"`
	// Configs holds stored-only sub-resources verbatim (policy, encryption,
	// ownershipControls, publicAccessBlock, website, acl, logging...).
	Configs map[string]string `json:"configs,omitempty"`
}

// Part is one stored piece of an object's bytes.
type Part struct {
	Blob string `json:"blob"`
	Size int64  `json:"size"`
	// data holds inline bytes until they are written with the metadata.
	data []byte
	// ETag and checksums of a multipart part (for GetObject partNumber and
	// GetObjectAttributes).
	ETag      string            `json:"etag,omitempty"`
	Checksums map[string]string `json:"checksums,omitempty"`
}

// Object is one version of an object (or a delete marker).
type Object struct {
	Key          string            `json:"key"`
	VersionID    string            `json:"vid"` // "null" when unversioned
	Seq          string            `json:"seq"` // newest-first order within a key
	DeleteMarker bool              `json:"dm,omitempty"`
	Size         int64             `json:"size"`
	ETag         string            `json:"etag"` // quoted
	Modified     time.Time         `json:"mod"`
	ContentType  string            `json:"ct,omitempty"`
	Headers      map[string]string `json:"hdr,omitempty"`  // Content-Encoding, Cache-Control, ...
	Meta         map[string]string `json:"meta,omitempty"` // x-amz-meta-*
	Checksums    map[string]string `json:"ck,omitempty"`   // alg -> base64
	ChecksumType string            `json:"ckt,omitempty"`  // FULL_OBJECT or COMPOSITE
	Tags         map[string]string `json:"tags,omitempty"`
	Parts        []Part            `json:"parts,omitempty"`
	Multipart    bool              `json:"mp,omitempty"`
	StorageClass string            `json:"sc,omitempty"`
}

func decode[T any](b []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, errs.E("s3.decode", errs.Internal, err)
	}
	return v, nil
}

func encode(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func notFound(op string, cause error, msg string) error { return errs.E(op, errs.NotFound, msg, cause) }
func invalid(op string, cause error, msg string) error  { return errs.E(op, errs.Invalid, msg, cause) }

// --- buckets ---

var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$`)
var ipRE = regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`)

// ValidBucketName reports whether name is a DNS-compatible bucket name.
func ValidBucketName(name string) bool {
	return bucketRE.MatchString(name) && !strings.Contains(name, "..") && !ipRE.MatchString(name) &&
		!strings.Contains(name, ".-") && !strings.Contains(name, "-.") && !strings.HasPrefix(name, "xn--")
}

// CreateBucket creates a bucket; re-creating one in the default region
// succeeds (the us-east-1 legacy), elsewhere it is BucketAlreadyOwnedByYou.
func (s *Service) CreateBucket(ctx context.Context, name, region, owner string) error {
	const op = "s3.CreateBucket"
	if !ValidBucketName(name) {
		return invalid(op, ErrInvalidBucketName, "The specified bucket is not valid.")
	}
	if region == "" {
		region = "us-east-1"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, err := s.bucket(ctx, name); err == nil {
		if region == "us-east-1" && old.Region == "us-east-1" {
			return nil
		}
		return errs.E(op, errs.Exists, "Your previous request to create the named bucket succeeded and you already own it.", ErrBucketExists)
	} else if !errs.Is(err, errs.NotFound) {
		return err
	}
	b := &Bucket{Name: name, Created: s.now().UTC(), Region: region, Owner: owner}
	defer s.buckets.forget(name)
	return s.kv.Write(ctx, kv.Set(bucketKey(name), encode(b)))
}

// bucketCache holds decoded bucket records, shared read-only by every
// caller. Writers (CreateBucket, UpdateBucket, DeleteBucket, all under
// Service.mu) forget a name after writing it; a load that raced a write is
// not cached (gen), so the cache never holds a record older than the store.
type bucketCache struct {
	mu  sync.RWMutex
	gen uint64
	m   map[string]*Bucket
}

// maxCachedBuckets bounds the cache; past it, records are loaded each time.
const maxCachedBuckets = 4096

func (c *bucketCache) get(name string) (*Bucket, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[name], c.gen
}

func (c *bucketCache) put(name string, b *Bucket, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.m == nil {
		c.m = map[string]*Bucket{}
	}
	if len(c.m) < maxCachedBuckets {
		c.m[name] = b
	}
}

func (c *bucketCache) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, name)
	c.gen++
}

// bucket returns a bucket's record from the cache or the store. The record
// is shared: callers must not modify it (UpdateBucket loads its own copy).
func (s *Service) bucket(ctx context.Context, name string) (*Bucket, error) {
	b, gen := s.buckets.get(name)
	if b != nil {
		return b, nil
	}
	b, err := s.loadBucket(ctx, name)
	if err != nil {
		return nil, err
	}
	s.buckets.put(name, b, gen)
	return b, nil
}

// loadBucket decodes a bucket's record from the store (a private copy).
func (s *Service) loadBucket(ctx context.Context, name string) (*Bucket, error) {
	v, err := s.kv.Get(ctx, bucketKey(name))
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, notFound("s3.bucket", ErrNoSuchBucket, "The specified bucket does not exist")
		}
		return nil, err
	}
	return decode[Bucket](v)
}

// GetBucket returns a bucket's state, shared with other callers: read it,
// never modify it (UpdateBucket is the way to change a bucket).
func (s *Service) GetBucket(ctx context.Context, name string) (*Bucket, error) {
	return s.bucket(ctx, name)
}

// UpdateBucket applies fn to a bucket's stored state atomically.
func (s *Service) UpdateBucket(ctx context.Context, name string, fn func(b *Bucket) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.loadBucket(ctx, name)
	if err != nil {
		return err
	}
	if err := fn(b); err != nil {
		return err
	}
	defer s.buckets.forget(name)
	return s.kv.Write(ctx, kv.Set(bucketKey(name), encode(b)))
}

// ListBuckets returns every bucket in name order.
func (s *Service) ListBuckets(ctx context.Context) ([]*Bucket, error) {
	var out []*Bucket
	var derr error
	err := kv.Scan(ctx, s.kv, kv.Prefix([]byte(pBucket)), func(k, v []byte) bool {
		b, err := decode[Bucket](v)
		if err != nil {
			derr = err
			return false
		}
		out = append(out, b)
		return true
	})
	if err == nil {
		err = derr
	}
	return out, err
}

func (s *Service) hasAny(ctx context.Context, prefix []byte) (bool, error) {
	it := s.kv.Iter(ctx, kv.Prefix(prefix))
	found := it.Next()
	if err := it.Err(); err != nil {
		it.Close()
		return false, err
	}
	return found, it.Close()
}

// DeleteBucket removes an empty bucket.
func (s *Service) DeleteBucket(ctx context.Context, name string) error {
	const op = "s3.DeleteBucket"
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.bucket(ctx, name); err != nil {
		return err
	}
	for _, p := range [][]byte{objectPrefix(name), versionBucketPrefix(name)} {
		any, err := s.hasAny(ctx, p)
		if err != nil {
			return err
		}
		if any {
			return errs.E(op, errs.Conflict, "The bucket you tried to delete is not empty", ErrBucketNotEmpty)
		}
	}
	// Abandoned multipart uploads go with the bucket.
	var ops []kv.Op
	var blobs []string
	kv.Scan(ctx, s.kv, kv.Prefix(uploadPrefix(name)), func(k, v []byte) bool {
		id := string(k[len(uploadPrefix(name)):])
		kv.Scan(ctx, s.kv, kv.Prefix(partPrefix(id)), func(pk, pv []byte) bool {
			if p, err := decode[Part](pv); err == nil {
				blobs = append(blobs, p.Blob)
			}
			return true
		})
		ops = append(ops, kv.Del(append([]byte(nil), k...)), kv.DelRange(partPrefix(id), kv.PrefixEnd(partPrefix(id))))
		return true
	})
	ops = append(ops, kv.Del(bucketKey(name)), kv.DelRange([]byte(pDone+name+"\x00"), kv.PrefixEnd([]byte(pDone+name+"\x00"))))
	err := s.kv.Write(ctx, ops...)
	s.buckets.forget(name)
	if err != nil {
		return err
	}
	s.deleteBlobs(blobs)
	return nil
}

func (s *Service) deleteBlobs(ids []string) {
	ops, files := garbageOps(ids)
	if len(ops) > 0 {
		if err := s.kv.Write(context.Background(), ops...); err != nil {
			s.log.Warn("s3: delete inline data", "err", err)
		}
	}
	s.deleteFiles(files)
}

// garbageOps splits blob IDs into kv deletions (inline data) and files.
func garbageOps(ids []string) (ops []kv.Op, files []string) {
	for _, id := range ids {
		if isInline(id) {
			ops = append(ops, kv.Del(inlineKey(id)))
		} else {
			files = append(files, id)
		}
	}
	return ops, files
}

func (s *Service) deleteFiles(ids []string) {
	for _, id := range ids {
		if err := s.bl.Delete(context.Background(), id); err != nil {
			s.log.Warn("s3: delete blob", "blob", id, "err", err)
		}
	}
}

// dataOps returns the kv writes of parts' pending inline bytes.
func dataOps(parts []Part) []kv.Op {
	var ops []kv.Op
	for _, p := range parts {
		if p.data != nil {
			ops = append(ops, kv.Set(inlineKey(p.Blob), p.data))
		}
	}
	return ops
}

func blobsOf(o *Object) []string {
	var ids []string
	for _, p := range o.Parts {
		ids = append(ids, p.Blob)
	}
	return ids
}

func newBlobID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
