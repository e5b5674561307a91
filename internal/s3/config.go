package s3

import (
	"context"
	"encoding/json"
	"net/url"
	"path"
	"strings"
	"time"

	"skyhub/internal/kv"
)

// CORSRule is one rule of a bucket's CORS configuration.
type CORSRule struct {
	ID             string   `json:"id,omitempty"`
	AllowedOrigins []string `json:"origins"`
	AllowedMethods []string `json:"methods"`
	AllowedHeaders []string `json:"headers,omitempty"`
	ExposeHeaders  []string `json:"expose,omitempty"`
	MaxAgeSeconds  int      `json:"maxAge,omitempty"`
}

func wildMatch(pattern, s string) bool {
	if pattern == "*" {
		return true
	}
	if i := strings.IndexByte(pattern, '*'); i >= 0 {
		return len(s) >= len(pattern)-1 && strings.HasPrefix(s, pattern[:i]) && strings.HasSuffix(s, pattern[i+1:])
	}
	return pattern == s
}

// MatchCORS returns the first rule allowing origin, method and every
// requested header (case-insensitive), or nil.
func MatchCORS(rules []CORSRule, origin, method string, headers []string) *CORSRule {
	for i := range rules {
		r := &rules[i]
		okOrigin := false
		for _, o := range r.AllowedOrigins {
			if wildMatch(o, origin) {
				okOrigin = true
				break
			}
		}
		okMethod := false
		for _, m := range r.AllowedMethods {
			if m == method {
				okMethod = true
				break
			}
		}
		if !okOrigin || !okMethod {
			continue
		}
		okHeaders := true
		for _, h := range headers {
			h = strings.ToLower(strings.TrimSpace(h))
			if h == "" {
				continue
			}
			found := false
			for _, a := range r.AllowedHeaders {
				if wildMatch(strings.ToLower(a), h) {
					found = true
					break
				}
			}
			if !found {
				okHeaders = false
				break
			}
		}
		if okHeaders {
			return r
		}
	}
	return nil
}

// LifecycleRule is one expiration rule.
type LifecycleRule struct {
	ID      string            `json:"id,omitempty"`
	Enabled bool              `json:"enabled"`
	Prefix  string            `json:"prefix,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
	// Days after creation when current objects expire (0: none).
	Days int `json:"days,omitempty"`
	// Date at which current objects expire (zero: none).
	Date time.Time `json:"date,omitempty"`
	// NoncurrentDays expires non-current versions that many days after
	// they became non-current (0: none).
	NoncurrentDays int `json:"noncurrentDays,omitempty"`
	// AbortMultipartDays aborts uploads initiated that long ago (0: none).
	AbortMultipartDays int `json:"abortDays,omitempty"`
	// Raw is the configuration document as the client sent it.
	Raw string `json:"raw,omitempty"`
}

func (r *LifecycleRule) matches(o *Object) bool {
	if !strings.HasPrefix(o.Key, r.Prefix) {
		return false
	}
	for k, v := range r.Tags {
		if o.Tags[k] != v {
			return false
		}
	}
	return true
}

// RunLifecycle applies every bucket's expiration rules once and returns how
// many objects, versions and uploads it removed.
func (s *Service) RunLifecycle(ctx context.Context) (int, error) {
	buckets, err := s.ListBuckets(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	n := 0
	for _, b := range buckets {
		for _, r := range b.Lifecycle {
			if !r.Enabled {
				continue
			}
			if r.Days > 0 || !r.Date.IsZero() {
				var expired []*Object
				kv.Scan(ctx, s.kv, kv.Prefix(append(objectPrefix(b.Name), r.Prefix...)), func(k, v []byte) bool {
					o, err := decodeObject(v)
					if err != nil || !r.matches(o) {
						return true
					}
					if (r.Days > 0 && now.Sub(o.Modified) >= time.Duration(r.Days)*24*time.Hour) ||
						(!r.Date.IsZero() && !now.Before(r.Date)) {
						expired = append(expired, o)
					}
					return len(expired) < 10000
				})
				for _, o := range expired {
					if _, err := s.DeleteObject(ctx, b.Name, o.Key, "", ""); err != nil {
						return n, err
					}
					s.notify(ctx, b.Name, "LifecycleExpiration:Delete", o)
					n++
				}
			}
			if r.AbortMultipartDays > 0 {
				ups, _, _ := s.ListUploads(ctx, b.Name, r.Prefix, 10000)
				for _, u := range ups {
					if now.Sub(u.Initiated) >= time.Duration(r.AbortMultipartDays)*24*time.Hour {
						if s.AbortUpload(ctx, b.Name, u.Key, u.ID) == nil {
							n++
						}
					}
				}
			}
			if r.NoncurrentDays > 0 {
				var victims []*Object
				kv.Scan(ctx, s.kv, kv.Prefix(versionBucketPrefix(b.Name)), func(k, v []byte) bool {
					o, err := decodeObject(v)
					if err == nil && strings.HasPrefix(o.Key, r.Prefix) {
						victims = append(victims, o)
					}
					return len(victims) < 100000
				})
				// Versions come newest first per key; a version became
				// non-current when its successor was written.
				for i := 1; i < len(victims); i++ {
					prev, o := victims[i-1], victims[i]
					if prev.Key == o.Key && now.Sub(prev.Modified) >= time.Duration(r.NoncurrentDays)*24*time.Hour {
						if _, err := s.DeleteObject(ctx, b.Name, o.Key, o.VersionID, ""); err == nil {
							n++
						}
					}
				}
			}
		}
	}
	return n, nil
}

// NotificationRule sends matching events of a bucket to a queue.
type NotificationRule struct {
	ID       string   `json:"id,omitempty"`
	QueueARN string   `json:"queue"`
	Events   []string `json:"events"` // "s3:ObjectCreated:*", ...
	Prefix   string   `json:"prefix,omitempty"`
	Suffix   string   `json:"suffix,omitempty"`
}

// QueueSender delivers a notification body to a queue by ARN; the SQS
// service satisfies it.
type QueueSender interface {
	SendToARN(ctx context.Context, arn, body string) (string, error)
}

// Notifier is where bucket events go.
type Notifier = QueueSender

// matchesEvent reports whether rule r wants event ("ObjectCreated:Put").
func (r *NotificationRule) matchesEvent(event, key string) bool {
	if !strings.HasPrefix(key, r.Prefix) || !strings.HasSuffix(key, r.Suffix) {
		return false
	}
	for _, e := range r.Events {
		if ok, _ := path.Match(e, "s3:"+event); ok || e == "s3:"+event {
			return true
		}
		if strings.HasSuffix(e, ":*") && strings.HasPrefix("s3:"+event, strings.TrimSuffix(e, "*")) {
			return true
		}
	}
	return false
}

// EventRecord builds the S3 event notification message (version 2.1).
func EventRecord(region, bucket, event string, o *Object, now time.Time) string {
	obj := map[string]any{"key": strings.ReplaceAll(url.QueryEscape(o.Key), "%2F", "/"), "sequencer": o.Seq}
	if !o.DeleteMarker && !strings.HasPrefix(event, "ObjectRemoved") {
		obj["size"] = o.Size
		obj["eTag"] = strings.Trim(o.ETag, `"`)
	}
	if o.VersionID != "" && o.VersionID != "null" {
		obj["versionId"] = o.VersionID
	}
	rec := map[string]any{
		"eventVersion": "2.1",
		"eventSource":  "aws:s3",
		"awsRegion":    region,
		"eventTime":    now.UTC().Format("2006-01-02T15:04:05.000Z"),
		"eventName":    event,
		"userIdentity": map[string]string{"principalId": "skyhub"},
		"s3": map[string]any{
			"s3SchemaVersion": "1.0",
			"bucket":          map[string]any{"name": bucket, "arn": "arn:aws:s3:::" + bucket, "ownerIdentity": map[string]string{"principalId": "skyhub"}},
			"object":          obj,
		},
	}
	b, _ := json.Marshal(map[string]any{"Records": []any{rec}})
	return string(b)
}

// notify sends event to every matching destination of the bucket. A
// failed send is logged: the object write it reports has already succeeded.
func (s *Service) notify(ctx context.Context, bucket, event string, o *Object) {
	n := s.notifier()
	if n == nil {
		return
	}
	b, err := s.bucket(ctx, bucket)
	if err != nil || len(b.Notifications) == 0 {
		return
	}
	for _, r := range b.Notifications {
		if !r.matchesEvent(event, o.Key) {
			continue
		}
		body := EventRecord(b.Region, bucket, event, o, s.now())
		if _, err := n.SendToARN(ctx, r.QueueARN, body); err != nil {
			s.log.Warn("s3 notification not delivered", "bucket", bucket, "queue", r.QueueARN, "err", err)
		}
	}
}

// TestEvent is the message S3 sends to a queue when a notification
// configuration is stored.
func TestEvent(bucket string, now time.Time) string {
	b, _ := json.Marshal(map[string]string{"Service": "Amazon S3", "Event": "s3:TestEvent",
		"Time": now.UTC().Format("2006-01-02T15:04:05.000Z"), "Bucket": bucket, "RequestId": "skyhub", "HostId": "skyhub"})
	return string(b)
}

// SendTestEvents sends s3:TestEvent to every queue of the bucket.
func (s *Service) SendTestEvents(ctx context.Context, bucket string, rules []NotificationRule) error {
	n := s.notifier()
	if n == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, r := range rules {
		if seen[r.QueueARN] {
			continue
		}
		seen[r.QueueARN] = true
		if _, err := n.SendToARN(ctx, r.QueueARN, TestEvent(bucket, s.now())); err != nil {
			return err
		}
	}
	return nil
}

// Expiration returns the expiry date and rule ID of the first enabled
// Days/Date expiration rule that applies to o (S3's x-amz-expiration):
// creation time plus the days, rounded up to the next midnight UTC.
func Expiration(rules []LifecycleRule, o *Object) (time.Time, string, bool) {
	for i := range rules {
		r := &rules[i]
		if !r.Enabled || !r.matches(o) {
			continue
		}
		if r.Days > 0 {
			t := o.Modified.UTC().Add(time.Duration(r.Days) * 24 * time.Hour)
			day := t.Truncate(24 * time.Hour)
			if !day.Equal(t) {
				day = day.Add(24 * time.Hour)
			}
			return day, r.ID, true
		}
		if !r.Date.IsZero() {
			return r.Date.UTC(), r.ID, true
		}
	}
	return time.Time{}, "", false
}
