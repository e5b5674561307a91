package s3api

import (
	"encoding/xml"
	"strconv"
	"strings"

	"skyhub/internal/s3"
)

func (h *Handler) createUpload(c *req) error {
	r := c.r
	u := &s3.Upload{Key: c.key, ContentType: r.Header.Get("Content-Type"),
		ChecksumAlgorithm: r.Header.Get("x-amz-checksum-algorithm"), ChecksumType: r.Header.Get("x-amz-checksum-type"),
		StorageClass: r.Header.Get("x-amz-storage-class")}
	if u.ContentType == "" {
		u.ContentType = "binary/octet-stream"
	}
	if u.StorageClass == "STANDARD" {
		u.StorageClass = ""
	}
	u.Meta, u.Headers = metaFrom(r.Header)
	tags, err := parseTagQuery(r.Header.Get("x-amz-tagging"))
	if err != nil {
		return err
	}
	u.Tags = tags
	u, err = h.s.CreateUpload(r.Context(), c.bucket, u)
	if err != nil {
		return err
	}
	if u.ChecksumAlgorithm != "" {
		c.w.Header().Set("x-amz-checksum-algorithm", strings.ToUpper(u.ChecksumAlgorithm))
	}
	return writeXML(c, 200, struct {
		XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
		NS       string   `xml:"xmlns,attr"`
		Bucket   string   `xml:"Bucket"`
		Key      string   `xml:"Key"`
		UploadID string   `xml:"UploadId"`
	}{NS: NS, Bucket: c.bucket, Key: c.key, UploadID: u.ID})
}

func partNumber(c *req) (int, error) {
	n, err := strconv.Atoi(c.q.Get("partNumber"))
	if err != nil || n < 1 || n > 10000 {
		return 0, s3err(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive").
			With("ArgumentName", "partNumber").With("ArgumentValue", c.q.Get("partNumber"))
	}
	return n, nil
}

func (h *Handler) uploadPart(c *req) error {
	n, err := partNumber(c)
	if err != nil {
		return err
	}
	in := &s3.PutInput{Body: c.r.Body, Size: c.r.ContentLength, ContentMD5: c.r.Header.Get("Content-MD5")}
	if err := checksumInput(c.r, in); err != nil {
		return err
	}
	p, err := h.s.UploadPart(c.r.Context(), c.bucket, c.key, c.q.Get("uploadId"), n, in)
	if err != nil {
		return err
	}
	c.w.Header().Set("ETag", p.ETag)
	for alg, v := range p.Checksums {
		c.w.Header().Set("x-amz-checksum-"+alg, v)
	}
	c.w.WriteHeader(200)
	return nil
}

func (h *Handler) uploadPartCopy(c *req) error {
	n, err := partNumber(c)
	if err != nil {
		return err
	}
	r := c.r
	sb, sk, sv, err := copySource(r.Header.Get("x-amz-copy-source"))
	if err != nil {
		return err
	}
	src, err := h.s.Head(r.Context(), sb, sk, sv)
	if err != nil {
		return err
	}
	if ok, _ := s3.CheckConditions(src, r.Header.Get("x-amz-copy-source-if-match"), r.Header.Get("x-amz-copy-source-if-none-match"),
		httpTime(r.Header.Get("x-amz-copy-source-if-modified-since")), httpTime(r.Header.Get("x-amz-copy-source-if-unmodified-since"))); !ok {
		return s3err(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
	}
	off, length := int64(0), src.Size
	if rg := r.Header.Get("x-amz-copy-source-range"); rg != "" {
		spec, ok := strings.CutPrefix(rg, "bytes=")
		a, b, ok2 := strings.Cut(spec, "-")
		s, e1 := strconv.ParseInt(a, 10, 64)
		e, e2 := strconv.ParseInt(b, 10, 64)
		if !ok || !ok2 || e1 != nil || e2 != nil || s < 0 || e < s {
			return s3err(400, "InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
		}
		if e >= src.Size {
			return s3err(400, "InvalidRange", "The requested range is not satisfiable")
		}
		off, length = s, e-s+1
	}
	p, err := h.s.CopyPart(r.Context(), c.bucket, c.key, c.q.Get("uploadId"), n, src, off, length)
	if err != nil {
		return err
	}
	if src.VersionID != "null" {
		c.w.Header().Set("x-amz-copy-source-version-id", src.VersionID)
	}
	return writeXML(c, 200, struct {
		XMLName      xml.Name `xml:"CopyPartResult"`
		NS           string   `xml:"xmlns,attr"`
		LastModified string   `xml:"LastModified"`
		ETag         string   `xml:"ETag"`
	}{NS: NS, LastModified: isoTime(h.sNow()), ETag: p.ETag})
}

func (h *Handler) completeUpload(c *req) error {
	var in struct {
		XMLName xml.Name `xml:"CompleteMultipartUpload"`
		Parts   []struct {
			PartNumber     int    `xml:"PartNumber"`
			ETag           string `xml:"ETag"`
			ChecksumCRC32  string `xml:"ChecksumCRC32"`
			ChecksumCRC32C string `xml:"ChecksumCRC32C"`
			ChecksumSHA1   string `xml:"ChecksumSHA1"`
			ChecksumSHA256 string `xml:"ChecksumSHA256"`
		} `xml:"Part"`
	}
	if err := h.readXML(c, &in); err != nil {
		return err
	}
	var parts []s3.CompletePart
	for _, p := range in.Parts {
		parts = append(parts, s3.CompletePart{Number: p.PartNumber, ETag: p.ETag})
	}
	o, err := h.s.CompleteUpload(c.r.Context(), c.bucket, c.key, c.q.Get("uploadId"), parts,
		c.r.Header.Get("If-None-Match"), c.r.Header.Get("If-Match"))
	if err != nil {
		return err
	}
	setVersionHeader(c.w, o)
	type result struct {
		XMLName        xml.Name `xml:"CompleteMultipartUploadResult"`
		NS             string   `xml:"xmlns,attr"`
		Location       string   `xml:"Location"`
		Bucket         string   `xml:"Bucket"`
		Key            string   `xml:"Key"`
		ETag           string   `xml:"ETag"`
		ChecksumCRC32  string   `xml:"ChecksumCRC32,omitempty"`
		ChecksumCRC32C string   `xml:"ChecksumCRC32C,omitempty"`
		ChecksumSHA1   string   `xml:"ChecksumSHA1,omitempty"`
		ChecksumSHA256 string   `xml:"ChecksumSHA256,omitempty"`
		ChecksumType   string   `xml:"ChecksumType,omitempty"`
	}
	return writeXML(c, 200, result{NS: NS, Location: "http://" + c.r.Host + "/" + c.bucket + "/" + c.key, Bucket: c.bucket, Key: c.key, ETag: o.ETag,
		ChecksumCRC32: o.Checksums["crc32"], ChecksumCRC32C: o.Checksums["crc32c"], ChecksumSHA1: o.Checksums["sha1"],
		ChecksumSHA256: o.Checksums["sha256"], ChecksumType: o.ChecksumType})
}

func (h *Handler) listParts(c *req) error {
	max, err := intParam(c.q, "max-parts", 1000, 1000)
	if err != nil {
		return err
	}
	marker, err := intParam(c.q, "part-number-marker", 0, 10000)
	if err != nil {
		return err
	}
	u, err := h.s.GetUpload(c.r.Context(), c.bucket, c.key, c.q.Get("uploadId"))
	if err != nil {
		return err
	}
	parts, truncated, err := h.s.ListParts(c.r.Context(), c.bucket, c.key, u.ID, marker, max)
	if err != nil {
		return err
	}
	type part struct {
		PartNumber     int    `xml:"PartNumber"`
		LastModified   string `xml:"LastModified"`
		ETag           string `xml:"ETag"`
		Size           int64  `xml:"Size"`
		ChecksumCRC32  string `xml:"ChecksumCRC32,omitempty"`
		ChecksumCRC32C string `xml:"ChecksumCRC32C,omitempty"`
		ChecksumSHA1   string `xml:"ChecksumSHA1,omitempty"`
		ChecksumSHA256 string `xml:"ChecksumSHA256,omitempty"`
	}
	out := struct {
		XMLName              xml.Name `xml:"ListPartsResult"`
		NS                   string   `xml:"xmlns,attr"`
		Bucket               string   `xml:"Bucket"`
		Key                  string   `xml:"Key"`
		UploadID             string   `xml:"UploadId"`
		Initiator            owner    `xml:"Initiator"`
		Owner                owner    `xml:"Owner"`
		StorageClass         string   `xml:"StorageClass"`
		PartNumberMarker     int      `xml:"PartNumberMarker"`
		NextPartNumberMarker int      `xml:"NextPartNumberMarker"`
		MaxParts             int      `xml:"MaxParts"`
		IsTruncated          bool     `xml:"IsTruncated"`
		ChecksumAlgorithm    string   `xml:"ChecksumAlgorithm,omitempty"`
		Parts                []part   `xml:"Part"`
	}{NS: NS, Bucket: c.bucket, Key: c.key, UploadID: u.ID, Initiator: theOwner, Owner: theOwner, StorageClass: "STANDARD",
		PartNumberMarker: marker, MaxParts: max, IsTruncated: truncated, ChecksumAlgorithm: strings.ToUpper(u.ChecksumAlgorithm)}
	for _, p := range parts {
		out.Parts = append(out.Parts, part{PartNumber: p.Number, LastModified: isoTime(p.Modified), ETag: p.ETag, Size: p.Size,
			ChecksumCRC32: p.Checksums["crc32"], ChecksumCRC32C: p.Checksums["crc32c"], ChecksumSHA1: p.Checksums["sha1"], ChecksumSHA256: p.Checksums["sha256"]})
		out.NextPartNumberMarker = p.Number
	}
	return writeXML(c, 200, out)
}

func (h *Handler) listUploads(c *req) error {
	max, err := intParam(c.q, "max-uploads", 1000, 1000)
	if err != nil {
		return err
	}
	ups, truncated, err := h.s.ListUploads(c.r.Context(), c.bucket, c.q.Get("prefix"), max)
	if err != nil {
		return err
	}
	type upload struct {
		Key          string `xml:"Key"`
		UploadID     string `xml:"UploadId"`
		Initiator    owner  `xml:"Initiator"`
		Owner        owner  `xml:"Owner"`
		StorageClass string `xml:"StorageClass"`
		Initiated    string `xml:"Initiated"`
	}
	out := struct {
		XMLName            xml.Name `xml:"ListMultipartUploadsResult"`
		NS                 string   `xml:"xmlns,attr"`
		Bucket             string   `xml:"Bucket"`
		KeyMarker          string   `xml:"KeyMarker"`
		UploadIDMarker     string   `xml:"UploadIdMarker"`
		NextKeyMarker      string   `xml:"NextKeyMarker"`
		NextUploadIDMarker string   `xml:"NextUploadIdMarker"`
		Prefix             string   `xml:"Prefix"`
		MaxUploads         int      `xml:"MaxUploads"`
		IsTruncated        bool     `xml:"IsTruncated"`
		Uploads            []upload `xml:"Upload"`
	}{NS: NS, Bucket: c.bucket, Prefix: c.q.Get("prefix"), MaxUploads: max, IsTruncated: truncated}
	for _, u := range ups {
		out.Uploads = append(out.Uploads, upload{Key: u.Key, UploadID: u.ID, Initiator: theOwner, Owner: theOwner, StorageClass: "STANDARD", Initiated: isoTime(u.Initiated)})
		out.NextKeyMarker, out.NextUploadIDMarker = u.Key, u.ID
	}
	return writeXML(c, 200, out)
}
