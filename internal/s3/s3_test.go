package s3

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"skyhub/internal/blob/fsblob"
	"skyhub/internal/errs"
	"skyhub/internal/kv"
	"skyhub/internal/kv/pebblekv"
)

func newService(t *testing.T, now func() time.Time) (*Service, string) {
	t.Helper()
	store, err := pebblekv.Open(pebblekv.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bl, err := fsblob.Open(fsblob.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{KV: store, Blobs: bl, InlineMax: 1024, MinPartSize: 10, LifecycleInterval: -1, Now: now})
	t.Cleanup(func() { s.Close(); store.Close() })
	return s, dir
}

func countFiles(t *testing.T, dir string) int {
	n := 0
	filepath.Walk(filepath.Join(dir, "data"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func countKeys(t *testing.T, s *Service, prefix string) int {
	n := 0
	kv.Scan(context.Background(), s.kv, kv.Prefix([]byte(prefix)), func(k, v []byte) bool { n++; return true })
	return n
}

func read(t *testing.T, s *Service, b, k string) string {
	t.Helper()
	o, err := s.Head(context.Background(), b, k, "")
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := s.Open(context.Background(), o, 0, o.Size)
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestInlineAndFileObjectsAndGarbage(t *testing.T) {
	s, dir := newService(t, nil)
	ctx := context.Background()
	if err := s.CreateBucket(ctx, "b1x", "", ""); err != nil {
		t.Fatal(err)
	}
	small := "small"
	big := strings.Repeat("B", 5000)
	s.PutObject(ctx, "b1x", "k", &PutInput{Body: strings.NewReader(small), Size: -1})
	if countKeys(t, s, pInline) != 1 || countFiles(t, dir) != 0 || read(t, s, "b1x", "k") != small {
		t.Fatal("small object not inline")
	}
	s.PutObject(ctx, "b1x", "k", &PutInput{Body: strings.NewReader(big), Size: int64(len(big))})
	if countKeys(t, s, pInline) != 0 || countFiles(t, dir) != 1 || read(t, s, "b1x", "k") != big {
		t.Fatal("overwrite did not replace the inline bytes with a file")
	}
	s.PutObject(ctx, "b1x", "k", &PutInput{Body: strings.NewReader(small), Size: 5})
	if countKeys(t, s, pInline) != 1 || countFiles(t, dir) != 0 || countKeys(t, s, pVersion) != 1 {
		t.Fatal("file or old version not removed on overwrite")
	}
	if _, err := s.PutObject(ctx, "b1x", "k3", &PutInput{Body: strings.NewReader("abcdef"), Size: 4}); !errs.Is(err, errs.Invalid) {
		t.Fatalf("body longer than declared accepted: %v", err)
	}
	if _, err := s.PutObject(ctx, "b1x", "k2", &PutInput{Body: strings.NewReader("abc"), Size: 4}); !errs.Is(err, errs.Invalid) {
		t.Fatalf("short body accepted: %v", err)
	}
	s.DeleteObject(ctx, "b1x", "k", "", "")
	if countKeys(t, s, pInline) != 0 || countKeys(t, s, pObject) != 0 || countKeys(t, s, pVersion) != 0 {
		t.Fatal("delete left data behind")
	}
	if err := s.DeleteBucket(ctx, "b1x"); err != nil {
		t.Fatal(err)
	}
}

func TestMultipartMixedPartsRange(t *testing.T) {
	s, _ := newService(t, nil)
	ctx := context.Background()
	s.CreateBucket(ctx, "mpx", "", "")
	u, _ := s.CreateUpload(ctx, "mpx", &Upload{Key: "obj"})
	p1 := strings.Repeat("1", 2000) // file
	p2 := strings.Repeat("2", 20)   // inline
	e1, err := s.UploadPart(ctx, "mpx", "obj", u.ID, 1, &PutInput{Body: strings.NewReader(p1), Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	e2, _ := s.UploadPart(ctx, "mpx", "obj", u.ID, 2, &PutInput{Body: strings.NewReader(p2), Size: -1})
	if _, err := s.CompleteUpload(ctx, "mpx", "obj", u.ID, []CompletePart{{2, e2.ETag, nil}, {1, e1.ETag, nil}}, "", ""); !strings.Contains(errs.Message(err, ""), "ascending") {
		t.Fatalf("unordered parts: %v", err)
	}
	o, err := s.CompleteUpload(ctx, "mpx", "obj", u.ID, []CompletePart{{1, e1.ETag, nil}, {2, e2.ETag, nil}}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := s.Open(ctx, o, 1990, 20)
	got, _ := io.ReadAll(rc)
	if string(got) != strings.Repeat("1", 10)+strings.Repeat("2", 10) {
		t.Fatalf("cross-part range: %q", got)
	}
	if _, err := s.GetUpload(ctx, "mpx", "obj", u.ID); !errs.Is(err, errs.NotFound) {
		t.Fatal("upload still there")
	}
}

func TestLifecycleExpiration(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, _ := newService(t, func() time.Time { return now })
	ctx := context.Background()
	s.CreateBucket(ctx, "lcx", "", "")
	s.PutObject(ctx, "lcx", "logs/old", &PutInput{Body: strings.NewReader("x"), Size: 1})
	s.PutObject(ctx, "lcx", "keep/old", &PutInput{Body: strings.NewReader("x"), Size: 1})
	s.UpdateBucket(ctx, "lcx", func(b *Bucket) error {
		b.Lifecycle = []LifecycleRule{{Enabled: true, Prefix: "logs/", Days: 1}}
		return nil
	})
	now = now.Add(12 * time.Hour)
	if n, _ := s.RunLifecycle(ctx); n != 0 {
		t.Fatal("expired too early")
	}
	now = now.Add(13 * time.Hour)
	if n, err := s.RunLifecycle(ctx); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	if _, err := s.Head(ctx, "lcx", "logs/old", ""); !errs.Is(err, errs.NotFound) {
		t.Fatal("not expired")
	}
	if _, err := s.Head(ctx, "lcx", "keep/old", ""); err != nil {
		t.Fatal("wrong object expired")
	}
}

type queue struct{ msgs []string }

func (q *queue) SendToARN(ctx context.Context, arn, body string) (string, error) {
	q.msgs = append(q.msgs, arn+" "+body)
	return "id", nil
}

func TestNotificationsMatchRules(t *testing.T) {
	s, _ := newService(t, nil)
	q := &queue{}
	s.SetNotifier(q)
	ctx := context.Background()
	s.CreateBucket(ctx, "nfx", "", "")
	s.UpdateBucket(ctx, "nfx", func(b *Bucket) error {
		b.Notifications = []NotificationRule{{QueueARN: "arn:aws:sqs:us-east-1:000000000000:q", Events: []string{"s3:ObjectCreated:*"}, Suffix: ".csv"}}
		return nil
	})
	s.PutObject(ctx, "nfx", "a.csv", &PutInput{Body: bytes.NewReader([]byte("1")), Size: 1})
	s.PutObject(ctx, "nfx", "a.txt", &PutInput{Body: bytes.NewReader([]byte("1")), Size: 1})
	s.DeleteObject(ctx, "nfx", "a.csv", "", "")
	if len(q.msgs) != 1 || !strings.Contains(q.msgs[0], `"eventName":"ObjectCreated:Put"`) || !strings.Contains(q.msgs[0], `"key":"a.csv"`) {
		t.Fatal(q.msgs)
	}
}

func TestExpirationRoundsToMidnight(t *testing.T) {
	o := &Object{Key: "logs/a", Modified: time.Date(2026, 3, 1, 15, 4, 5, 0, time.UTC)}
	d, id, ok := Expiration([]LifecycleRule{{ID: "other", Enabled: true, Prefix: "x/", Days: 1}, {ID: "r1", Enabled: true, Prefix: "logs/", Days: 2}}, o)
	if !ok || id != "r1" || !d.Equal(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)) {
		t.Fatal(d, id, ok)
	}
	if _, _, ok := Expiration([]LifecycleRule{{Enabled: false, Days: 1}}, o); ok {
		t.Fatal("disabled rule applied")
	}
}

// The bucket cache must follow every bucket write: versioning turned on
// after objects were written, a deleted bucket, a re-created one.
func TestBucketCacheFollowsWrites(t *testing.T) {
	s, _ := newService(t, nil)
	ctx := context.Background()
	if err := s.CreateBucket(ctx, "cache", "", ""); err != nil {
		t.Fatal(err)
	}
	put := func(body string) *Object {
		t.Helper()
		o, err := s.PutObject(ctx, "cache", "k", &PutInput{Body: strings.NewReader(body), Size: int64(len(body))})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	if o := put("one"); o.VersionID != "null" {
		t.Fatalf("unversioned put got version %q", o.VersionID)
	}
	if err := s.UpdateBucket(ctx, "cache", func(b *Bucket) error { b.Versioning = "Enabled"; return nil }); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.GetBucket(ctx, "cache"); b.Versioning != "Enabled" {
		t.Fatal("GetBucket returned the record from before UpdateBucket")
	}
	if o := put("two"); o.VersionID == "null" {
		t.Fatal("put after enabling versioning got the null version (stale bucket)")
	}
	if countKeys(t, s, pVersion) != 2 {
		t.Fatalf("want the null version and the new one, got %d versions", countKeys(t, s, pVersion))
	}
	if err := s.UpdateBucket(ctx, "cache", func(b *Bucket) error { b.Versioning = "Suspended"; return nil }); err != nil {
		t.Fatal(err)
	}
	put("three") // replaces the null version, keeps the enabled one
	if countKeys(t, s, pVersion) != 2 || read(t, s, "cache", "k") != "three" {
		t.Fatalf("suspended put: %d versions", countKeys(t, s, pVersion))
	}
	for _, o := range mustVersions(t, s, "cache", "k") {
		if _, err := s.DeleteObject(ctx, "cache", "k", o.VersionID, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteBucket(ctx, "cache"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetBucket(ctx, "cache"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("deleted bucket still answers: %v", err)
	}
	if _, err := s.PutObject(ctx, "cache", "k", &PutInput{Body: strings.NewReader("x"), Size: 1}); !errs.Is(err, errs.NotFound) {
		t.Fatalf("put into a deleted bucket: %v", err)
	}
	if err := s.CreateBucket(ctx, "cache", "", ""); err != nil {
		t.Fatal(err)
	}
	if o := put("four"); o.VersionID != "null" {
		t.Fatal("re-created bucket kept the old versioning state")
	}
}

func mustVersions(t *testing.T, s *Service, b, k string) []*Object {
	t.Helper()
	vs, err := s.versions(context.Background(), b, k)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// Cached bucket records are shared by readers while UpdateBucket writes:
// run both at once (under -race in make test) and check the last write wins.
func TestBucketCacheConcurrentUpdates(t *testing.T) {
	s, _ := newService(t, nil)
	ctx := context.Background()
	if err := s.CreateBucket(ctx, "busy", "", ""); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(done)
		for i := 0; i < 50; i++ {
			v := strconv.Itoa(i)
			if err := s.UpdateBucket(ctx, "busy", func(b *Bucket) error { b.Tags = map[string]string{"n": v}; return nil }); err != nil {
				errc <- err
				return
			}
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-done:
			select {
			case err := <-errc:
				t.Fatal(err)
			default:
			}
			if b, _ := s.GetBucket(ctx, "busy"); b.Tags["n"] != "49" {
				t.Fatalf("cache kept %v after the last update", b.Tags)
			}
			return
		default:
		}
		if b, err := s.GetBucket(ctx, "busy"); err != nil || b.Name != "busy" {
			t.Fatal(b, err)
		}
		if _, err := s.PutObject(ctx, "busy", "k"+strconv.Itoa(i%10), &PutInput{Body: strings.NewReader("x"), Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
}
