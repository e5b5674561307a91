package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"skyhub/internal/aws/edge"
	"skyhub/internal/aws/sigv4"
	"skyhub/internal/s3"
)

func itoa(n int) string { return strconv.Itoa(n) }

// copyBufs holds the 256 KiB buffers large bodies stream through.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

func trimAll(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// storedHeaders are the entity headers kept with an object.
var storedHeaders = []string{"Content-Encoding", "Content-Disposition", "Cache-Control", "Content-Language", "Expires", "x-amz-website-redirect-location"}

func metaFrom(h http.Header) (map[string]string, map[string]string) {
	var meta, hdr map[string]string
	const metaPrefix = "x-amz-meta-"
	for k, vs := range h {
		if len(k) > len(metaPrefix) && strings.EqualFold(k[:len(metaPrefix)], metaPrefix) {
			if meta == nil {
				meta = map[string]string{}
			}
			meta[strings.ToLower(k[len(metaPrefix):])] = strings.Join(vs, ",")
		}
	}
	for _, k := range storedHeaders {
		v := h.Get(k)
		if k == "Content-Encoding" {
			v = withoutAWSChunked(v)
		}
		if v != "" {
			if hdr == nil {
				hdr = map[string]string{}
			}
			hdr[k] = v
		}
	}
	return meta, hdr
}

func parseTagQuery(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	v, err := url.ParseQuery(s)
	if err != nil {
		return nil, s3err(400, "InvalidArgument", "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
	}
	m := map[string]string{}
	for k, vs := range v {
		if len(vs) > 1 || k == "" || len(k) > 128 || len(vs[0]) > 256 {
			return nil, s3err(400, "InvalidTag", "The TagKey you have provided is invalid")
		}
		m[k] = vs[0]
	}
	if len(m) > 10 {
		return nil, s3err(400, "BadRequest", "Object tags cannot be greater than 10")
	}
	return m, nil
}

// checksumHeaders are the x-amz-checksum-* request headers, canonical.
var checksumHeaders = []struct{ alg, header string }{
	{"crc32", "X-Amz-Checksum-Crc32"}, {"crc32c", "X-Amz-Checksum-Crc32c"}, {"crc64nvme", "X-Amz-Checksum-Crc64nvme"},
	{"sha1", "X-Amz-Checksum-Sha1"}, {"sha256", "X-Amz-Checksum-Sha256"},
}

// checksumInput reads x-amz-checksum-*, x-amz-sdk-checksum-algorithm and
// x-amz-trailer.
func checksumInput(r *http.Request, in *s3.PutInput) error {
	in.Checksums = map[string]string{}
	n := 0
	for _, c := range checksumHeaders {
		alg := c.alg
		if v := r.Header.Get(c.header); v != "" {
			if _, err := base64.StdEncoding.DecodeString(v); err != nil {
				return s3err(400, "BadDigest", "The "+strings.ToUpper(alg)+" you specified did not match the calculated checksum.")
			}
			in.Checksums[alg] = v
			n++
		}
	}
	if n > 1 {
		return s3err(400, "InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	}
	alg := strings.ToLower(r.Header.Get("x-amz-sdk-checksum-algorithm"))
	if alg == "" {
		alg = strings.ToLower(r.Header.Get("x-amz-checksum-algorithm"))
	}
	if t := strings.ToLower(r.Header.Get("x-amz-trailer")); strings.HasPrefix(t, "x-amz-checksum-") {
		alg = strings.TrimPrefix(t, "x-amz-checksum-")
		in.Trailer = func() map[string]string {
			m := map[string]string{}
			for k, vs := range edge.Trailers(r) {
				if len(vs) > 0 {
					m[strings.ToLower(k)] = vs[0]
				}
			}
			return m
		}
	}
	if alg != "" {
		switch alg {
		case "crc32", "crc32c", "crc64nvme", "sha1", "sha256":
		default:
			return s3err(400, "InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is invalid.")
		}
		in.ChecksumAlgorithm = alg
	}
	return nil
}

func (h *Handler) putInput(c *req) (*s3.PutInput, error) {
	r := c.r
	in := &s3.PutInput{Body: r.Body, Size: r.ContentLength, ContentType: r.Header.Get("Content-Type"),
		ContentMD5: r.Header.Get("Content-MD5"), IfNoneMatch: r.Header.Get("If-None-Match"), IfMatch: r.Header.Get("If-Match"),
		StorageClass: r.Header.Get("x-amz-storage-class")}
	if in.ContentType == "" {
		in.ContentType = "binary/octet-stream"
	}
	if in.StorageClass == "STANDARD" {
		in.StorageClass = ""
	}
	switch in.StorageClass {
	case "", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "EXPRESS_ONEZONE":
	default:
		return nil, s3err(400, "InvalidStorageClass", "The storage class you specified is not valid")
	}
	in.Meta, in.Headers = metaFrom(r.Header)
	tags, err := parseTagQuery(r.Header.Get("x-amz-tagging"))
	if err != nil {
		return nil, err
	}
	in.Tags = tags
	if err := checksumInput(r, in); err != nil {
		return nil, err
	}
	return in, nil
}

// setExpiration adds x-amz-expiration when a lifecycle rule will expire o.
func (h *Handler) setExpiration(c *req, o *s3.Object) {
	b, err := h.s.GetBucket(c.r.Context(), c.bucket)
	if err != nil || len(b.Lifecycle) == 0 {
		return
	}
	if t, id, ok := s3.Expiration(b.Lifecycle, o); ok {
		c.w.Header().Set("x-amz-expiration", `expiry-date="`+t.Format(http.TimeFormat)+`", rule-id="`+id+`"`)
	}
}

func echoChecksums(w http.ResponseWriter, o *s3.Object) {
	for alg, v := range o.Checksums {
		w.Header().Set("x-amz-checksum-"+alg, v)
	}
	if o.ChecksumType != "" && len(o.Checksums) > 0 {
		w.Header().Set("x-amz-checksum-type", o.ChecksumType)
	}
}

func (h *Handler) putObject(c *req) error {
	in, err := h.putInput(c)
	if err != nil {
		return err
	}
	o, err := h.s.PutObject(c.r.Context(), c.bucket, c.key, in)
	if err != nil {
		return err
	}
	c.w.Header().Set("ETag", o.ETag)
	setVersionHeader(c.w, o)
	echoChecksums(c.w, o)
	h.setExpiration(c, o)
	c.w.WriteHeader(200)
	return nil
}

// parseRange parses a single "bytes=" range against size; ok=false means
// "serve the whole object" (absent or unparseable, as S3 does).
func parseRange(v string, size int64) (start, length int64, ok bool, err error) {
	spec, found := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, nil
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false, nil
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	switch {
	case a == "" && b == "":
		return 0, 0, false, nil
	case a == "":
		n, perr := strconv.ParseInt(b, 10, 64)
		if perr != nil || n < 0 {
			return 0, 0, false, nil
		}
		if n == 0 {
			return 0, 0, false, s3err(416, "InvalidRange", "The requested range is not satisfiable")
		}
		if n > size {
			n = size
		}
		return size - n, n, true, nil
	default:
		s, perr := strconv.ParseInt(a, 10, 64)
		if perr != nil || s < 0 {
			return 0, 0, false, nil
		}
		e := size - 1
		if b != "" {
			e, perr = strconv.ParseInt(b, 10, 64)
			if perr != nil || e < s {
				return 0, 0, false, nil
			}
		}
		if s >= size {
			return 0, 0, false, s3err(416, "InvalidRange", "The requested range is not satisfiable")
		}
		if e >= size {
			e = size - 1
		}
		return s, e - s + 1, true, nil
	}
}

func httpTime(s string) time.Time {
	if s == "" {
		return time.Time{} // the usual case: parsing "" tries three layouts
	}
	t, err := http.ParseTime(s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func (h *Handler) objectHeaders(c *req, o *s3.Object) {
	hd := c.w.Header()
	hd.Set("ETag", o.ETag)
	hd.Set("Last-Modified", o.Modified.UTC().Format(http.TimeFormat))
	hd.Set("Content-Type", o.ContentType)
	hd.Set("Accept-Ranges", "bytes")
	for k, v := range o.Headers {
		hd.Set(k, v)
	}
	for k, v := range o.Meta {
		hd["X-Amz-Meta-"+k] = []string{v}
	}
	setVersionHeader(c.w, o)
	h.setExpiration(c, o)
	if len(o.Tags) > 0 {
		hd.Set("x-amz-tagging-count", itoa(len(o.Tags)))
	}
	if o.StorageClass != "" {
		hd.Set("x-amz-storage-class", o.StorageClass)
	}
	if strings.EqualFold(c.r.Header.Get("x-amz-checksum-mode"), "ENABLED") {
		echoChecksums(c.w, o)
	}
	for _, p := range []struct{ q, h string }{{"response-content-type", "Content-Type"}, {"response-content-language", "Content-Language"},
		{"response-expires", "Expires"}, {"response-cache-control", "Cache-Control"},
		{"response-content-disposition", "Content-Disposition"}, {"response-content-encoding", "Content-Encoding"}} {
		if v := c.q.Get(p.q); v != "" {
			hd.Set(p.h, v)
		}
	}
}

func (h *Handler) getObject(c *req) error {
	ctx := c.r.Context()
	o, err := h.s.Head(ctx, c.bucket, c.key, c.q.Get("versionId"))
	if err != nil {
		return err
	}
	r := c.r
	ok, notModified := s3.CheckConditions(o, r.Header.Get("If-Match"), r.Header.Get("If-None-Match"),
		httpTime(r.Header.Get("If-Modified-Since")), httpTime(r.Header.Get("If-Unmodified-Since")))
	if !ok {
		if notModified {
			c.w.Header().Set("ETag", o.ETag)
			c.w.Header().Set("Last-Modified", o.Modified.UTC().Format(http.TimeFormat))
			c.w.WriteHeader(http.StatusNotModified)
			return nil
		}
		return s3err(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold").With("Condition", "If-Match")
	}
	start, length, partial := int64(0), o.Size, false
	if pn := c.q.Get("partNumber"); pn != "" {
		n, err := strconv.Atoi(pn)
		if err != nil || n < 1 || n > 10000 {
			return s3err(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
		}
		if !o.Multipart {
			if n != 1 {
				return s3err(400, "InvalidPart", "The requested partnumber is not satisfiable")
			}
		} else {
			if n > len(o.Parts) {
				return s3err(400, "InvalidPart", "The requested partnumber is not satisfiable")
			}
			for i := 0; i < n-1; i++ {
				start += o.Parts[i].Size
			}
			length, partial = o.Parts[n-1].Size, true
			c.w.Header().Set("x-amz-mp-parts-count", itoa(len(o.Parts)))
		}
	} else if rg := r.Header.Get("Range"); rg != "" {
		s, l, ok, err := parseRange(rg, o.Size)
		if err != nil {
			c.w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(o.Size, 10))
			return err
		}
		if ok {
			start, length, partial = s, l, true
		}
	}
	h.objectHeaders(c, o)
	hd := c.w.Header()
	hd.Set("Content-Length", strconv.FormatInt(length, 10))
	status := 200
	if partial {
		hd.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(start+length-1, 10)+"/"+strconv.FormatInt(o.Size, 10))
		status = http.StatusPartialContent
	}
	if r.Method == http.MethodHead {
		c.w.WriteHeader(status)
		return nil
	}
	// Small objects live in the kv store: one Write puts the headers and
	// the bytes in one buffered response (io.Copy would go through the
	// ResponseWriter's ReadFrom, which flushes the headers separately).
	if data, ok, err := h.s.Inline(ctx, o, start, length); ok {
		if err != nil {
			return err
		}
		c.w.WriteHeader(status)
		if _, err := c.w.Write(data); err != nil {
			h.log.Debug("s3 get: write", "err", err)
		}
		return nil
	}
	rc, err := h.s.Open(ctx, o, start, length)
	if err != nil {
		return err
	}
	defer rc.Close()
	c.w.WriteHeader(status)
	var err2 error
	switch {
	case length == 0:
	case length <= 32<<10:
		buf := make([]byte, length)
		if _, err2 = io.ReadFull(rc, buf); err2 == nil {
			_, err2 = c.w.Write(buf)
		}
	default:
		bp := copyBufs.Get().(*[]byte)
		_, err2 = io.CopyBuffer(c.w, rc, *bp)
		copyBufs.Put(bp)
	}
	if err2 != nil {
		h.log.Debug("s3 get: copy", "err", err2)
	}
	return nil
}

func (h *Handler) deleteObject(c *req) error {
	res, err := h.s.DeleteObject(c.r.Context(), c.bucket, c.key, c.q.Get("versionId"), c.r.Header.Get("If-Match"))
	if err != nil {
		return err
	}
	if res.DeleteMarker {
		c.w.Header().Set("x-amz-delete-marker", "true")
	}
	if res.VersionID != "" {
		c.w.Header().Set("x-amz-version-id", res.VersionID)
	}
	c.w.WriteHeader(204)
	return nil
}

func (h *Handler) deleteObjects(c *req) error {
	var in struct {
		XMLName xml.Name `xml:"Delete"`
		Quiet   bool     `xml:"Quiet"`
		Objects []struct {
			Key       string `xml:"Key"`
			VersionID string `xml:"VersionId"`
		} `xml:"Object"`
	}
	if err := h.readXML(c, &in); err != nil {
		return err
	}
	if len(in.Objects) == 0 || len(in.Objects) > 1000 {
		return s3err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	if _, err := h.s.GetBucket(c.r.Context(), c.bucket); err != nil {
		return err
	}
	type deleted struct {
		Key                   string `xml:"Key"`
		VersionID             string `xml:"VersionId,omitempty"`
		DeleteMarker          bool   `xml:"DeleteMarker,omitempty"`
		DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId,omitempty"`
	}
	type errEl struct {
		Key       string `xml:"Key"`
		VersionID string `xml:"VersionId,omitempty"`
		Code      string `xml:"Code"`
		Message   string `xml:"Message"`
	}
	out := struct {
		XMLName xml.Name  `xml:"DeleteResult"`
		NS      string    `xml:"xmlns,attr"`
		Deleted []deleted `xml:"Deleted"`
		Errors  []errEl   `xml:"Error"`
	}{NS: NS}
	for _, o := range in.Objects {
		res, err := h.s.DeleteObject(c.r.Context(), c.bucket, o.Key, o.VersionID, "")
		if err != nil {
			ae := toAWS(err)
			out.Errors = append(out.Errors, errEl{o.Key, o.VersionID, ae.Code, ae.Message})
			continue
		}
		if in.Quiet {
			continue
		}
		d := deleted{Key: o.Key, VersionID: o.VersionID}
		if res.DeleteMarker {
			d.DeleteMarker = true
			if o.VersionID == "" {
				d.DeleteMarkerVersionID = res.VersionID
			}
		}
		out.Deleted = append(out.Deleted, d)
	}
	return writeXML(c, 200, out)
}

// copySource parses x-amz-copy-source: "[/]bucket/key[?versionId=v]".
func copySource(v string) (bucket, key, version string, err error) {
	path, query, _ := strings.Cut(v, "?")
	p, uerr := url.PathUnescape(path)
	if uerr != nil {
		return "", "", "", s3err(400, "InvalidArgument", "Invalid copy source encoding")
	}
	p = strings.TrimPrefix(p, "/")
	bucket, key, ok := strings.Cut(p, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", "", s3err(400, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey").With("ArgumentName", "x-amz-copy-source")
	}
	if query != "" {
		q, _ := url.ParseQuery(query)
		version = q.Get("versionId")
	}
	return bucket, key, version, nil
}

func (h *Handler) copyObject(c *req) error {
	r := c.r
	sb, sk, sv, err := copySource(r.Header.Get("x-amz-copy-source"))
	if err != nil {
		return err
	}
	in := &s3.CopyInput{SrcBucket: sb, SrcKey: sk, SrcVersion: sv,
		ReplaceMeta:       strings.EqualFold(r.Header.Get("x-amz-metadata-directive"), "REPLACE"),
		ReplaceTags:       strings.EqualFold(r.Header.Get("x-amz-tagging-directive"), "REPLACE"),
		ChecksumAlgorithm: strings.ToLower(r.Header.Get("x-amz-checksum-algorithm")),
		StorageClass:      r.Header.Get("x-amz-storage-class"),
		IfMatch:           r.Header.Get("x-amz-copy-source-if-match"), IfNoneMatch: r.Header.Get("x-amz-copy-source-if-none-match"),
		IfModifiedSince:   httpTime(r.Header.Get("x-amz-copy-source-if-modified-since")),
		IfUnmodifiedSince: httpTime(r.Header.Get("x-amz-copy-source-if-unmodified-since"))}
	if in.StorageClass == "STANDARD" {
		in.StorageClass = ""
	}
	if in.ReplaceMeta {
		in.ContentType = r.Header.Get("Content-Type")
		if in.ContentType == "" {
			in.ContentType = "binary/octet-stream"
		}
		in.Meta, in.Headers = metaFrom(r.Header)
	}
	if in.ReplaceTags {
		if in.Tags, err = parseTagQuery(r.Header.Get("x-amz-tagging")); err != nil {
			return err
		}
	}
	dst, src, err := h.s.CopyObject(r.Context(), c.bucket, c.key, in)
	if err != nil {
		return err
	}
	if src.VersionID != "null" {
		c.w.Header().Set("x-amz-copy-source-version-id", src.VersionID)
	}
	setVersionHeader(c.w, dst)
	type result struct {
		XMLName        xml.Name `xml:"CopyObjectResult"`
		NS             string   `xml:"xmlns,attr"`
		LastModified   string   `xml:"LastModified"`
		ETag           string   `xml:"ETag"`
		ChecksumCRC32  string   `xml:"ChecksumCRC32,omitempty"`
		ChecksumCRC32C string   `xml:"ChecksumCRC32C,omitempty"`
		ChecksumSHA1   string   `xml:"ChecksumSHA1,omitempty"`
		ChecksumSHA256 string   `xml:"ChecksumSHA256,omitempty"`
		ChecksumCRC64  string   `xml:"ChecksumCRC64NVME,omitempty"`
	}
	return writeXML(c, 200, result{NS: NS, LastModified: isoTime(dst.Modified), ETag: dst.ETag,
		ChecksumCRC32: dst.Checksums["crc32"], ChecksumCRC32C: dst.Checksums["crc32c"], ChecksumSHA1: dst.Checksums["sha1"],
		ChecksumSHA256: dst.Checksums["sha256"], ChecksumCRC64: dst.Checksums["crc64nvme"]})
}

// --- listing ---

func encodeKey(s string, url bool) string {
	if !url {
		return s
	}
	return sigv4.Encode(s, true)
}

type contents struct {
	Key               string `xml:"Key"`
	LastModified      string `xml:"LastModified"`
	ETag              string `xml:"ETag"`
	ChecksumAlgorithm string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string `xml:"ChecksumType,omitempty"`
	Size              int64  `xml:"Size"`
	Owner             *owner `xml:"Owner,omitempty"`
	StorageClass      string `xml:"StorageClass"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

func storageClass(o *s3.Object) string {
	if o.StorageClass != "" {
		return o.StorageClass
	}
	return "STANDARD"
}

func (h *Handler) listObjects(c *req, v2 bool) error {
	q := c.q
	max, err := intParam(q, "max-keys", 1000, 1000)
	if err != nil {
		return err
	}
	enc := q.Get("encoding-type")
	if enc != "" && enc != "url" {
		return s3err(400, "InvalidArgument", "Invalid Encoding Method specified in Request")
	}
	urlEnc := enc == "url"
	in := s3.ListInput{Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"), MaxKeys: max}
	if v2 {
		in.After = q.Get("start-after")
		if tok := q.Get("continuation-token"); tok != "" {
			b, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil {
				return s3err(400, "InvalidArgument", "The continuation token provided is incorrect").With("ArgumentName", "continuation-token")
			}
			in.After = string(b)
		}
	} else {
		in.After = q.Get("marker")
	}
	res, err := h.s.ListObjects(c.r.Context(), c.bucket, in)
	if err != nil {
		return err
	}
	var cs []contents
	fetchOwner := !v2 || q.Get("fetch-owner") == "true"
	for _, o := range res.Objects {
		ct := contents{Key: encodeKey(o.Key, urlEnc), LastModified: isoTime(o.Modified), ETag: o.ETag, Size: o.Size, StorageClass: storageClass(o)}
		for alg := range o.Checksums {
			ct.ChecksumAlgorithm = strings.ToUpper(alg)
			ct.ChecksumType = o.ChecksumType
		}
		if fetchOwner {
			ow := theOwner
			ct.Owner = &ow
		}
		cs = append(cs, ct)
	}
	var cps []commonPrefix
	for _, p := range res.CommonPrefixes {
		cps = append(cps, commonPrefix{encodeKey(p, urlEnc)})
	}
	if v2 {
		out := struct {
			XMLName               xml.Name       `xml:"ListBucketResult"`
			NS                    string         `xml:"xmlns,attr"`
			Name                  string         `xml:"Name"`
			Prefix                string         `xml:"Prefix"`
			Delimiter             string         `xml:"Delimiter,omitempty"`
			MaxKeys               int            `xml:"MaxKeys"`
			EncodingType          string         `xml:"EncodingType,omitempty"`
			KeyCount              int            `xml:"KeyCount"`
			IsTruncated           bool           `xml:"IsTruncated"`
			ContinuationToken     *string        `xml:"ContinuationToken"`
			NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
			StartAfter            string         `xml:"StartAfter,omitempty"`
			Contents              []contents     `xml:"Contents"`
			CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
		}{NS: NS, Name: c.bucket, Prefix: encodeKey(in.Prefix, urlEnc), Delimiter: encodeKey(in.Delimiter, urlEnc), MaxKeys: max,
			EncodingType: enc, KeyCount: len(cs) + len(cps), IsTruncated: res.Truncated,
			StartAfter: encodeKey(q.Get("start-after"), urlEnc), Contents: cs, CommonPrefixes: cps}
		if has(q, "continuation-token") {
			tok := q.Get("continuation-token")
			out.ContinuationToken = &tok
		}
		if res.Truncated {
			out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(res.Next))
		}
		return writeXML(c, 200, out)
	}
	out := struct {
		XMLName        xml.Name       `xml:"ListBucketResult"`
		NS             string         `xml:"xmlns,attr"`
		Name           string         `xml:"Name"`
		Prefix         string         `xml:"Prefix"`
		Marker         string         `xml:"Marker"`
		NextMarker     string         `xml:"NextMarker,omitempty"`
		MaxKeys        int            `xml:"MaxKeys"`
		Delimiter      string         `xml:"Delimiter,omitempty"`
		EncodingType   string         `xml:"EncodingType,omitempty"`
		IsTruncated    bool           `xml:"IsTruncated"`
		Contents       []contents     `xml:"Contents"`
		CommonPrefixes []commonPrefix `xml:"CommonPrefixes"`
	}{NS: NS, Name: c.bucket, Prefix: encodeKey(in.Prefix, urlEnc), Marker: encodeKey(in.After, urlEnc), MaxKeys: max,
		Delimiter: encodeKey(in.Delimiter, urlEnc), EncodingType: enc, IsTruncated: res.Truncated, Contents: cs, CommonPrefixes: cps}
	if res.Truncated && in.Delimiter != "" {
		out.NextMarker = encodeKey(res.Next, urlEnc)
	}
	return writeXML(c, 200, out)
}

func (h *Handler) listVersions(c *req) error {
	q := c.q
	max, err := intParam(q, "max-keys", 1000, 1000)
	if err != nil {
		return err
	}
	urlEnc := q.Get("encoding-type") == "url"
	in := s3.VersionsInput{Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"), KeyMarker: q.Get("key-marker"),
		VersionIDMarker: q.Get("version-id-marker"), MaxKeys: max}
	res, err := h.s.ListVersions(c.r.Context(), c.bucket, in)
	if err != nil {
		return err
	}
	type version struct {
		XMLName      xml.Name
		Key          string `xml:"Key"`
		VersionID    string `xml:"VersionId"`
		IsLatest     bool   `xml:"IsLatest"`
		LastModified string `xml:"LastModified"`
		ETag         string `xml:"ETag,omitempty"`
		Size         *int64 `xml:"Size,omitempty"`
		Owner        owner  `xml:"Owner"`
		StorageClass string `xml:"StorageClass,omitempty"`
	}
	var entries []version
	for _, o := range res.Versions {
		v := version{Key: encodeKey(o.Key, urlEnc), VersionID: o.VersionID, IsLatest: res.Latest[o], LastModified: isoTime(o.Modified), Owner: theOwner}
		if o.DeleteMarker {
			v.XMLName = xml.Name{Local: "DeleteMarker"}
		} else {
			v.XMLName = xml.Name{Local: "Version"}
			size := o.Size
			v.ETag, v.Size, v.StorageClass = o.ETag, &size, storageClass(o)
		}
		entries = append(entries, v)
	}
	var cps []commonPrefix
	for _, p := range res.CommonPrefixes {
		cps = append(cps, commonPrefix{encodeKey(p, urlEnc)})
	}
	out := struct {
		XMLName             xml.Name       `xml:"ListVersionsResult"`
		NS                  string         `xml:"xmlns,attr"`
		Name                string         `xml:"Name"`
		Prefix              string         `xml:"Prefix"`
		KeyMarker           string         `xml:"KeyMarker"`
		VersionIDMarker     string         `xml:"VersionIdMarker"`
		NextKeyMarker       string         `xml:"NextKeyMarker,omitempty"`
		NextVersionIDMarker string         `xml:"NextVersionIdMarker,omitempty"`
		MaxKeys             int            `xml:"MaxKeys"`
		Delimiter           string         `xml:"Delimiter,omitempty"`
		EncodingType        string         `xml:"EncodingType,omitempty"`
		IsTruncated         bool           `xml:"IsTruncated"`
		Entries             []version      `xml:",any"`
		CommonPrefixes      []commonPrefix `xml:"CommonPrefixes"`
	}{NS: NS, Name: c.bucket, Prefix: encodeKey(in.Prefix, urlEnc), KeyMarker: encodeKey(in.KeyMarker, urlEnc), VersionIDMarker: in.VersionIDMarker,
		MaxKeys: max, Delimiter: encodeKey(in.Delimiter, urlEnc), EncodingType: q.Get("encoding-type"), IsTruncated: res.Truncated,
		Entries: entries, CommonPrefixes: cps}
	if res.Truncated {
		out.NextKeyMarker, out.NextVersionIDMarker = encodeKey(res.NextKey, urlEnc), res.NextVersionID
	}
	return writeXML(c, 200, out)
}

// --- object tagging and attributes ---

func (h *Handler) putObjectTagging(c *req) error {
	var t tagging
	if err := h.readXML(c, &t); err != nil {
		return err
	}
	m, err := tagsFromXML(&t, 10)
	if err != nil {
		return err
	}
	o, err := h.s.SetObjectTags(c.r.Context(), c.bucket, c.key, c.q.Get("versionId"), m)
	if err != nil {
		return err
	}
	setVersionHeader(c.w, o)
	c.w.WriteHeader(200)
	return nil
}

func (h *Handler) getObjectTagging(c *req) error {
	o, err := h.s.Head(c.r.Context(), c.bucket, c.key, c.q.Get("versionId"))
	if err != nil {
		return err
	}
	setVersionHeader(c.w, o)
	return writeXML(c, 200, tagsToXML(o.Tags))
}

func (h *Handler) getObjectAttributes(c *req) error {
	o, err := h.s.Head(c.r.Context(), c.bucket, c.key, c.q.Get("versionId"))
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, a := range c.r.Header.Values("x-amz-object-attributes") {
		for _, p := range strings.Split(a, ",") {
			want[strings.TrimSpace(p)] = true
		}
	}
	if len(want) == 0 {
		return s3err(400, "InvalidArgument", "Invalid attribute name specified.")
	}
	type checksum struct {
		CRC32        string `xml:"ChecksumCRC32,omitempty"`
		CRC32C       string `xml:"ChecksumCRC32C,omitempty"`
		CRC64NVME    string `xml:"ChecksumCRC64NVME,omitempty"`
		SHA1         string `xml:"ChecksumSHA1,omitempty"`
		SHA256       string `xml:"ChecksumSHA256,omitempty"`
		ChecksumType string `xml:"ChecksumType,omitempty"`
	}
	type part struct {
		PartNumber int    `xml:"PartNumber"`
		Size       int64  `xml:"Size"`
		CRC32      string `xml:"ChecksumCRC32,omitempty"`
		CRC32C     string `xml:"ChecksumCRC32C,omitempty"`
		SHA1       string `xml:"ChecksumSHA1,omitempty"`
		SHA256     string `xml:"ChecksumSHA256,omitempty"`
	}
	type parts struct {
		PartsCount  int    `xml:"PartsCount"`
		IsTruncated bool   `xml:"IsTruncated"`
		MaxParts    int    `xml:"MaxParts"`
		Parts       []part `xml:"Part"`
	}
	out := struct {
		XMLName      xml.Name  `xml:"GetObjectAttributesResponse"`
		NS           string    `xml:"xmlns,attr"`
		ETag         string    `xml:"ETag,omitempty"`
		Checksum     *checksum `xml:"Checksum,omitempty"`
		ObjectParts  *parts    `xml:"ObjectParts,omitempty"`
		StorageClass string    `xml:"StorageClass,omitempty"`
		ObjectSize   *int64    `xml:"ObjectSize,omitempty"`
	}{NS: NS}
	if want["ETag"] {
		out.ETag = strings.Trim(o.ETag, `"`)
	}
	if want["Checksum"] && len(o.Checksums) > 0 {
		out.Checksum = &checksum{CRC32: o.Checksums["crc32"], CRC32C: o.Checksums["crc32c"], CRC64NVME: o.Checksums["crc64nvme"],
			SHA1: o.Checksums["sha1"], SHA256: o.Checksums["sha256"], ChecksumType: o.ChecksumType}
	}
	if want["ObjectParts"] && o.Multipart {
		ps := &parts{PartsCount: len(o.Parts), MaxParts: 1000}
		for i, p := range o.Parts {
			ps.Parts = append(ps.Parts, part{PartNumber: i + 1, Size: p.Size, CRC32: p.Checksums["crc32"], CRC32C: p.Checksums["crc32c"],
				SHA1: p.Checksums["sha1"], SHA256: p.Checksums["sha256"]})
		}
		out.ObjectParts = ps
	}
	if want["StorageClass"] {
		out.StorageClass = storageClass(o)
	}
	if want["ObjectSize"] {
		size := o.Size
		out.ObjectSize = &size
	}
	c.w.Header().Set("Last-Modified", o.Modified.UTC().Format(http.TimeFormat))
	setVersionHeader(c.w, o)
	return writeXML(c, 200, out)
}

// withoutAWSChunked drops the aws-chunked transport coding from a
// Content-Encoding value; what remains is the object's own encoding.
func withoutAWSChunked(v string) string {
	var keep []string
	for _, t := range strings.Split(v, ",") {
		if t = strings.TrimSpace(t); t != "" && !strings.EqualFold(t, "aws-chunked") {
			keep = append(keep, t)
		}
	}
	return strings.Join(keep, ", ")
}
