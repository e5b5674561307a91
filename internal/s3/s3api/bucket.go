package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"time"

	"skyhub/internal/aws/edge"
	"skyhub/internal/aws/sigv4"
	"skyhub/internal/s3"
)

type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

var theOwner = owner{ID: "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a", DisplayName: "skyhub"}

func (h *Handler) listBuckets(c *req) error {
	bs, err := h.s.ListBuckets(c.r.Context())
	if err != nil {
		return err
	}
	type bucket struct {
		Name         string `xml:"Name"`
		CreationDate string `xml:"CreationDate"`
		BucketRegion string `xml:"BucketRegion,omitempty"`
	}
	out := struct {
		XMLName           xml.Name `xml:"ListAllMyBucketsResult"`
		NS                string   `xml:"xmlns,attr"`
		Owner             owner    `xml:"Owner"`
		Buckets           []bucket `xml:"Buckets>Bucket"`
		ContinuationToken string   `xml:"ContinuationToken,omitempty"`
		Prefix            string   `xml:"Prefix,omitempty"`
	}{NS: NS, Owner: theOwner, Prefix: c.q.Get("prefix")}
	max, err := intParam(c.q, "max-buckets", 10000, 10000)
	if err != nil {
		return err
	}
	if has(c.q, "max-buckets") && max < 1 {
		return s3err(400, "InvalidArgument", "max-buckets must be between 1 and 10000")
	}
	after := ""
	if tok := c.q.Get("continuation-token"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return s3err(400, "InvalidArgument", "The continuation token provided is incorrect")
		}
		after = string(b)
	}
	for _, b := range bs {
		if !strings.HasPrefix(b.Name, out.Prefix) || b.Name <= after {
			continue
		}
		if len(out.Buckets) == max {
			out.ContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(out.Buckets[len(out.Buckets)-1].Name))
			break
		}
		out.Buckets = append(out.Buckets, bucket{b.Name, isoTime(b.Created), b.Region})
	}
	return writeXML(c, 200, out)
}

func (h *Handler) createBucket(c *req) error {
	var cfg struct {
		LocationConstraint string `xml:"LocationConstraint"`
	}
	if c.r.ContentLength != 0 {
		body, err := io.ReadAll(io.LimitReader(c.r.Body, h.cfg.MaxXMLBytes))
		if err != nil {
			return err
		}
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := xml.Unmarshal(body, &cfg); err != nil {
				return s3err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
			}
		}
	}
	region := cfg.LocationConstraint
	switch region {
	case "", "us-east-1":
		region = "us-east-1"
	case "EU":
		region = "eu-west-1"
	}
	if cfg.LocationConstraint == "us-east-1" {
		return s3err(400, "InvalidLocationConstraint", "The specified location-constraint is not valid")
	}
	if err := h.s.CreateBucket(c.r.Context(), c.bucket, region, edge.IdentityFrom(c.r.Context()).AccessKey); err != nil {
		return err
	}
	c.w.Header().Set("Location", "/"+c.bucket)
	c.w.WriteHeader(200)
	return nil
}

func (h *Handler) updateBucket(c *req, status int, fn func(b *s3.Bucket) error) error {
	if err := h.s.UpdateBucket(c.r.Context(), c.bucket, fn); err != nil {
		return err
	}
	c.w.WriteHeader(status)
	return nil
}

func (h *Handler) getLocation(c *req) error {
	b, err := h.s.GetBucket(c.r.Context(), c.bucket)
	if err != nil {
		return err
	}
	loc := b.Region
	if loc == "us-east-1" {
		loc = ""
	}
	return writeXML(c, 200, struct {
		XMLName xml.Name `xml:"LocationConstraint"`
		NS      string   `xml:"xmlns,attr"`
		Value   string   `xml:",chardata"`
	}{NS: NS, Value: loc})
}

type versioningConfig struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	NS        string   `xml:"xmlns,attr,omitempty"`
	Status    string   `xml:"Status,omitempty"`
	MfaDelete string   `xml:"MfaDelete,omitempty"`
}

func (h *Handler) putVersioning(c *req) error {
	var v versioningConfig
	if err := h.readXML(c, &v); err != nil {
		return err
	}
	if v.Status != "Enabled" && v.Status != "Suspended" {
		return s3err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	return h.updateBucket(c, 200, func(b *s3.Bucket) error { b.Versioning = v.Status; return nil })
}

func (h *Handler) getVersioning(c *req) error {
	b, err := h.s.GetBucket(c.r.Context(), c.bucket)
	if err != nil {
		return err
	}
	return writeXML(c, 200, versioningConfig{NS: NS, Status: b.Versioning})
}

// --- tagging ---

type tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	NS      string   `xml:"xmlns,attr,omitempty"`
	TagSet  []tag    `xml:"TagSet>Tag"`
}

func tagsFromXML(t *tagging, max int) (map[string]string, error) {
	if len(t.TagSet) > max {
		return nil, s3err(400, "BadRequest", "Object tags cannot be greater than 10")
	}
	m := map[string]string{}
	for _, tg := range t.TagSet {
		if tg.Key == "" || len(tg.Key) > 128 || len(tg.Value) > 256 {
			return nil, s3err(400, "InvalidTag", "The TagKey you have provided is invalid")
		}
		if _, dup := m[tg.Key]; dup {
			return nil, s3err(400, "InvalidTag", "Cannot provide multiple Tags with the same key")
		}
		m[tg.Key] = tg.Value
	}
	return m, nil
}

func tagsToXML(m map[string]string) tagging {
	t := tagging{NS: NS, TagSet: []tag{}}
	for _, k := range sortedKeys(m) {
		t.TagSet = append(t.TagSet, tag{k, m[k]})
	}
	return t
}

func (h *Handler) putBucketTagging(c *req) error {
	var t tagging
	if err := h.readXML(c, &t); err != nil {
		return err
	}
	m, err := tagsFromXML(&t, 50)
	if err != nil {
		return err
	}
	return h.updateBucket(c, 204, func(b *s3.Bucket) error { b.Tags, b.HasTags = m, true; return nil })
}

func (h *Handler) getBucketTagging(c *req) error {
	b, err := h.s.GetBucket(c.r.Context(), c.bucket)
	if err != nil {
		return err
	}
	if !b.HasTags {
		return s3err(404, "NoSuchTagSet", "The TagSet does not exist").With("BucketName", c.bucket)
	}
	return writeXML(c, 200, tagsToXML(b.Tags))
}

// --- CORS ---

type corsRuleXML struct {
	ID             string   `xml:"ID,omitempty"`
	AllowedHeaders []string `xml:"AllowedHeader"`
	AllowedMethods []string `xml:"AllowedMethod"`
	AllowedOrigins []string `xml:"AllowedOrigin"`
	ExposeHeaders  []string `xml:"ExposeHeader"`
	MaxAgeSeconds  int      `xml:"MaxAgeSeconds,omitempty"`
}

type corsConfig struct {
	XMLName xml.Name      `xml:"CORSConfiguration"`
	NS      string        `xml:"xmlns,attr,omitempty"`
	Rules   []corsRuleXML `xml:"CORSRule"`
}

var corsMethods = map[string]bool{"GET": true, "PUT": true, "POST": true, "DELETE": true, "HEAD": true}

func (h *Handler) putCORS(c *req) error {
	var cfg corsConfig
	if err := h.readXML(c, &cfg); err != nil {
		return err
	}
	if len(cfg.Rules) == 0 || len(cfg.Rules) > 100 {
		return s3err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	var rules []s3.CORSRule
	for _, r := range cfg.Rules {
		if len(r.AllowedMethods) == 0 || len(r.AllowedOrigins) == 0 {
			return s3err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
		for _, m := range r.AllowedMethods {
			if !corsMethods[m] {
				return s3err(400, "InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is "+m)
			}
		}
		rules = append(rules, s3.CORSRule{ID: r.ID, AllowedOrigins: r.AllowedOrigins, AllowedMethods: r.AllowedMethods,
			AllowedHeaders: r.AllowedHeaders, ExposeHeaders: r.ExposeHeaders, MaxAgeSeconds: r.MaxAgeSeconds})
	}
	return h.updateBucket(c, 200, func(b *s3.Bucket) error { b.CORS = rules; return nil })
}

func (h *Handler) getCORS(c *req) error {
	b, err := h.s.GetBucket(c.r.Context(), c.bucket)
	if err != nil {
		return err
	}
	if len(b.CORS) == 0 {
		return s3err(404, "NoSuchCORSConfiguration", "The CORS configuration does not exist").With("BucketName", c.bucket)
	}
	out := corsConfig{NS: NS}
	for _, r := range b.CORS {
		out.Rules = append(out.Rules, corsRuleXML{ID: r.ID, AllowedHeaders: r.AllowedHeaders, AllowedMethods: r.AllowedMethods,
			AllowedOrigins: r.AllowedOrigins, ExposeHeaders: r.ExposeHeaders, MaxAgeSeconds: r.MaxAgeSeconds})
	}
	return writeXML(c, 200, out)
}

func (h *Handler) preflight(c *req) {
	origin := c.r.Header.Get("Origin")
	method := c.r.Header.Get("Access-Control-Request-Method")
	if method == "" {
		c.fail(s3err(400, "BadRequest", "Invalid Access-Control-Request-Method: null"))
		return
	}
	b, err := h.s.GetBucket(c.r.Context(), c.bucket)
	if err != nil {
		c.fail(err)
		return
	}
	if len(b.CORS) == 0 {
		c.fail(s3err(403, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.").With("Method", method).With("ResourceType", "BUCKET"))
		return
	}
	var reqHeaders []string
	if v := c.r.Header.Get("Access-Control-Request-Headers"); v != "" {
		reqHeaders = strings.Split(v, ",")
	}
	rule := s3.MatchCORS(b.CORS, origin, method, reqHeaders)
	if rule == nil {
		c.fail(s3err(403, "AccessForbidden", "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.").With("Method", method).With("ResourceType", "OBJECT"))
		return
	}
	hd := c.w.Header()
	setAllowOrigin(hd, rule, origin)
	hd.Set("Access-Control-Allow-Methods", strings.Join(rule.AllowedMethods, ", "))
	if len(reqHeaders) > 0 {
		hd.Set("Access-Control-Allow-Headers", strings.Join(trimAll(reqHeaders), ", "))
	}
	if len(rule.ExposeHeaders) > 0 {
		hd.Set("Access-Control-Expose-Headers", strings.Join(rule.ExposeHeaders, ", "))
	}
	if rule.MaxAgeSeconds > 0 {
		hd.Set("Access-Control-Max-Age", itoa(rule.MaxAgeSeconds))
	}
	hd.Add("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
	c.w.WriteHeader(200)
}

func setAllowOrigin(hd http.Header, rule *s3.CORSRule, origin string) {
	for _, o := range rule.AllowedOrigins {
		if o == "*" {
			hd.Set("Access-Control-Allow-Origin", "*")
			return
		}
	}
	hd.Set("Access-Control-Allow-Origin", origin)
	hd.Set("Access-Control-Allow-Credentials", "true")
}

// corsHeaders adds CORS response headers to an actual (non-preflight)
// cross-origin request that a rule allows.
func (h *Handler) corsHeaders(c *req) {
	b, err := h.s.GetBucket(c.r.Context(), c.bucket)
	if err != nil || len(b.CORS) == 0 {
		return
	}
	rule := s3.MatchCORS(b.CORS, c.r.Header.Get("Origin"), c.r.Method, nil)
	if rule == nil {
		return
	}
	hd := c.w.Header()
	setAllowOrigin(hd, rule, c.r.Header.Get("Origin"))
	hd.Set("Access-Control-Allow-Methods", strings.Join(rule.AllowedMethods, ", "))
	if len(rule.ExposeHeaders) > 0 {
		hd.Set("Access-Control-Expose-Headers", strings.Join(rule.ExposeHeaders, ", "))
	}
	if rule.MaxAgeSeconds > 0 {
		hd.Set("Access-Control-Max-Age", itoa(rule.MaxAgeSeconds))
	}
	hd.Add("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
}

// --- lifecycle ---

type lcFilter struct {
	Prefix *string `xml:"Prefix"`
	Tag    *tag    `xml:"Tag"`
	And    *struct {
		Prefix string `xml:"Prefix"`
		Tags   []tag  `xml:"Tag"`
	} `xml:"And"`
}

type lcRule struct {
	ID         string    `xml:"ID"`
	Prefix     *string   `xml:"Prefix"`
	Filter     *lcFilter `xml:"Filter"`
	Status     string    `xml:"Status"`
	Expiration *struct {
		Days int    `xml:"Days"`
		Date string `xml:"Date"`
	} `xml:"Expiration"`
	NoncurrentVersionExpiration *struct {
		NoncurrentDays int `xml:"NoncurrentDays"`
	} `xml:"NoncurrentVersionExpiration"`
	AbortIncompleteMultipartUpload *struct {
		DaysAfterInitiation int `xml:"DaysAfterInitiation"`
	} `xml:"AbortIncompleteMultipartUpload"`
}

func (h *Handler) putLifecycle(c *req) error {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, h.cfg.MaxXMLBytes))
	if err != nil {
		return err
	}
	var cfg struct {
		XMLName xml.Name `xml:"LifecycleConfiguration"`
		Rules   []lcRule `xml:"Rule"`
	}
	if err := xml.Unmarshal(body, &cfg); err != nil || len(cfg.Rules) == 0 || len(cfg.Rules) > 1000 {
		return s3err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	var rules []s3.LifecycleRule
	for _, r := range cfg.Rules {
		if r.Status != "Enabled" && r.Status != "Disabled" {
			return s3err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
		lr := s3.LifecycleRule{ID: r.ID, Enabled: r.Status == "Enabled"}
		if r.Prefix != nil {
			lr.Prefix = *r.Prefix
		}
		if f := r.Filter; f != nil {
			switch {
			case f.Prefix != nil:
				lr.Prefix = *f.Prefix
			case f.Tag != nil:
				lr.Tags = map[string]string{f.Tag.Key: f.Tag.Value}
			case f.And != nil:
				lr.Prefix = f.And.Prefix
				lr.Tags = map[string]string{}
				for _, t := range f.And.Tags {
					lr.Tags[t.Key] = t.Value
				}
			}
		}
		if e := r.Expiration; e != nil {
			if e.Days < 0 || (e.Days == 0 && e.Date == "") {
				return s3err(400, "InvalidArgument", "'Days' for Expiration action must be a positive integer")
			}
			lr.Days = e.Days
			if e.Date != "" {
				t, err := time.Parse(time.RFC3339, e.Date)
				if err != nil {
					return s3err(400, "InvalidArgument", "'Date' must be at midnight GMT")
				}
				lr.Date = t
			}
		}
		if n := r.NoncurrentVersionExpiration; n != nil {
			lr.NoncurrentDays = n.NoncurrentDays
		}
		if a := r.AbortIncompleteMultipartUpload; a != nil {
			lr.AbortMultipartDays = a.DaysAfterInitiation
		}
		rules = append(rules, lr)
	}
	rules[0].Raw = string(body)
	return h.updateBucket(c, 200, func(b *s3.Bucket) error { b.Lifecycle = rules; return nil })
}

func (h *Handler) getLifecycle(c *req) error {
	b, err := h.s.GetBucket(c.r.Context(), c.bucket)
	if err != nil {
		return err
	}
	if len(b.Lifecycle) == 0 {
		return s3err(404, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist").With("BucketName", c.bucket)
	}
	return writeRaw(c, "application/xml", b.Lifecycle[0].Raw)
}

func writeRaw(c *req, ct, body string) error {
	c.w.Header().Set("Content-Type", ct)
	c.w.Header().Set("Content-Length", itoa(len(body)))
	c.w.WriteHeader(200)
	_, err := io.WriteString(c.w, body)
	return err
}

// --- notifications ---

type filterRule struct {
	Name  string `xml:"Name"`
	Value string `xml:"Value"`
}

type queueConfig struct {
	ID     string       `xml:"Id"`
	Queue  string       `xml:"Queue"`
	Events []string     `xml:"Event"`
	Rules  []filterRule `xml:"Filter>S3Key>FilterRule"`
}

func (h *Handler) putNotification(c *req) error {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, h.cfg.MaxXMLBytes))
	if err != nil {
		return err
	}
	var cfg struct {
		XMLName xml.Name      `xml:"NotificationConfiguration"`
		Queues  []queueConfig `xml:"QueueConfiguration"`
	}
	if err := xml.Unmarshal(body, &cfg); err != nil {
		return s3err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	var rules []s3.NotificationRule
	for i, q := range cfg.Queues {
		if !strings.HasPrefix(q.Queue, "arn:aws:sqs:") || len(q.Events) == 0 {
			return s3err(400, "InvalidArgument", "Unable to validate the following destination configurations")
		}
		nr := s3.NotificationRule{ID: q.ID, QueueARN: q.Queue, Events: q.Events}
		if nr.ID == "" {
			nr.ID = "notification-" + itoa(i+1)
		}
		for _, fr := range q.Rules {
			switch strings.ToLower(fr.Name) {
			case "prefix":
				nr.Prefix = fr.Value
			case "suffix":
				nr.Suffix = fr.Value
			default:
				return s3err(400, "InvalidArgument", "filter rule name must be either prefix or suffix")
			}
		}
		for _, e := range q.Events {
			if !strings.HasPrefix(e, "s3:") {
				return s3err(400, "InvalidArgument", "The event is not supported for notifications")
			}
		}
		rules = append(rules, nr)
	}
	if err := h.s.SendTestEvents(c.r.Context(), c.bucket, rules); err != nil {
		return s3err(400, "InvalidArgument", "Unable to validate the following destination configurations").
			With("ArgumentName", rules[0].QueueARN).With("ArgumentValue", "The destination queue does not exist")
	}
	return h.updateBucket(c, 200, func(b *s3.Bucket) error {
		b.Notifications = rules
		if b.Configs == nil {
			b.Configs = map[string]string{}
		}
		b.Configs["notification"] = string(body)
		return nil
	})
}

func (h *Handler) getNotification(c *req) error {
	b, err := h.s.GetBucket(c.r.Context(), c.bucket)
	if err != nil {
		return err
	}
	type qc struct {
		ID     string       `xml:"Id"`
		Queue  string       `xml:"Queue"`
		Events []string     `xml:"Event"`
		Rules  []filterRule `xml:"Filter>S3Key>FilterRule,omitempty"`
	}
	out := struct {
		XMLName xml.Name `xml:"NotificationConfiguration"`
		NS      string   `xml:"xmlns,attr"`
		Queues  []qc     `xml:"QueueConfiguration"`
	}{NS: NS}
	for _, r := range b.Notifications {
		q := qc{ID: r.ID, Queue: r.QueueARN, Events: r.Events}
		if r.Prefix != "" {
			q.Rules = append(q.Rules, filterRule{"Prefix", r.Prefix})
		}
		if r.Suffix != "" {
			q.Rules = append(q.Rules, filterRule{"Suffix", r.Suffix})
		}
		out.Queues = append(out.Queues, q)
	}
	return writeXML(c, 200, out)
}

// --- stored-only configurations ---

type rawConfig struct {
	param    string
	notFound func(bucket string) error
}

var rawConfigs = []rawConfig{
	{"encryption", func(b string) error {
		return s3err(404, "ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found").With("BucketName", b)
	}},
	{"ownershipControls", func(b string) error {
		return s3err(404, "OwnershipControlsNotFoundError", "The bucket ownership controls were not found").With("BucketName", b)
	}},
	{"publicAccessBlock", func(b string) error {
		return s3err(404, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found").With("BucketName", b)
	}},
	{"website", func(b string) error {
		return s3err(404, "NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration").With("BucketName", b)
	}},
	{"replication", func(b string) error {
		return s3err(404, "ReplicationConfigurationNotFoundError", "The replication configuration was not found").With("BucketName", b)
	}},
	{"object-lock", func(b string) error {
		return s3err(404, "ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket").With("BucketName", b)
	}},
	{"accelerate", nil},
	{"requestPayment", nil},
	{"logging", nil},
}

func (h *Handler) putRawConfig(c *req, name string, isXML bool) error {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, h.cfg.MaxXMLBytes))
	if err != nil {
		return err
	}
	if isXML {
		var any struct{ XMLName xml.Name }
		if xml.Unmarshal(body, &any) != nil {
			return s3err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
	} else if !strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
		return s3err(400, "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")
	}
	status := 200
	if name == "policy" || name == "publicAccessBlock" || name == "ownershipControls" {
		status = 204
	}
	return h.updateBucket(c, status, func(b *s3.Bucket) error {
		if b.Configs == nil {
			b.Configs = map[string]string{}
		}
		b.Configs[name] = string(body)
		return nil
	})
}

func (h *Handler) getRawConfig(c *req, name string) error {
	b, err := h.s.GetBucket(c.r.Context(), c.bucket)
	if err != nil {
		return err
	}
	v, ok := b.Configs[name]
	if !ok {
		if name == "policy" {
			return s3err(404, "NoSuchBucketPolicy", "The bucket policy does not exist").With("BucketName", c.bucket)
		}
		for _, rc := range rawConfigs {
			if rc.param == name && rc.notFound != nil {
				return rc.notFound(c.bucket)
			}
		}
		switch name {
		case "accelerate":
			v = `<AccelerateConfiguration xmlns="` + NS + `"/>`
		case "requestPayment":
			v = `<RequestPaymentConfiguration xmlns="` + NS + `"><Payer>BucketOwner</Payer></RequestPaymentConfiguration>`
		}
	}
	if name == "policy" {
		return writeRaw(c, "application/json", v)
	}
	return writeRaw(c, "application/xml", `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+v)
}

func (h *Handler) getLogging(c *req) error {
	b, err := h.s.GetBucket(c.r.Context(), c.bucket)
	if err != nil {
		return err
	}
	if v, ok := b.Configs["logging"]; ok {
		return writeRaw(c, "application/xml", v)
	}
	return writeRaw(c, "application/xml", `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<BucketLoggingStatus xmlns="`+NS+`"/>`)
}

// --- ACLs: stored canned ACLs, the owner always has FULL_CONTROL ---

func (h *Handler) putACL(c *req) error {
	acl := c.r.Header.Get("x-amz-acl")
	return h.updateBucket(c, 200, func(b *s3.Bucket) error {
		if b.Configs == nil {
			b.Configs = map[string]string{}
		}
		b.Configs["acl"] = acl
		return nil
	})
}

func (h *Handler) getACL(c *req) error {
	if c.key == "" {
		if _, err := h.s.GetBucket(c.r.Context(), c.bucket); err != nil {
			return err
		}
	}
	type grantee struct {
		XMLNS       string `xml:"xmlns:xsi,attr"`
		Type        string `xml:"xsi:type,attr"`
		ID          string `xml:"ID"`
		DisplayName string `xml:"DisplayName"`
	}
	type grant struct {
		Grantee    grantee `xml:"Grantee"`
		Permission string  `xml:"Permission"`
	}
	return writeXML(c, 200, struct {
		XMLName xml.Name `xml:"AccessControlPolicy"`
		NS      string   `xml:"xmlns,attr"`
		Owner   owner    `xml:"Owner"`
		Grants  []grant  `xml:"AccessControlList>Grant"`
	}{NS: NS, Owner: theOwner, Grants: []grant{{Grantee: grantee{"http://www.w3.org/2001/XMLSchema-instance", "CanonicalUser", theOwner.ID, theOwner.DisplayName}, Permission: "FULL_CONTROL"}}})
}

var _ = base64.StdEncoding
var _ = sigv4.Encode
