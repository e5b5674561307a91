package sqsapi

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"strconv"

	"skyhub/internal/aws/awsproto"
	"skyhub/internal/errs"
	"skyhub/internal/jsonx"
	"skyhub/internal/sqs"
)

type handler func(c *call) error

func (a *API) actions() map[string]handler {
	return map[string]handler{
		"CreateQueue":                  a.createQueue,
		"DeleteQueue":                  a.deleteQueue,
		"GetQueueUrl":                  a.getQueueURL,
		"ListQueues":                   a.listQueues,
		"GetQueueAttributes":           a.getQueueAttributes,
		"SetQueueAttributes":           a.setQueueAttributes,
		"PurgeQueue":                   a.purgeQueue,
		"SendMessage":                  a.sendMessage,
		"SendMessageBatch":             a.sendMessageBatch,
		"ReceiveMessage":               a.receiveMessage,
		"DeleteMessage":                a.deleteMessage,
		"DeleteMessageBatch":           a.deleteMessageBatch,
		"ChangeMessageVisibility":      a.changeMessageVisibility,
		"ChangeMessageVisibilityBatch": a.changeMessageVisibilityBatch,
		"ListDeadLetterSourceQueues":   a.listDeadLetterSourceQueues,
		"TagQueue":                     a.tagQueue,
		"UntagQueue":                   a.untagQueue,
		"ListQueueTags":                a.listQueueTags,
		"AddPermission":                a.addPermission,
		"RemovePermission":             a.removePermission,
		"StartMessageMoveTask":         a.startMessageMoveTask,
		"CancelMessageMoveTask":        a.cancelMessageMoveTask,
		"ListMessageMoveTasks":         a.listMessageMoveTasks,
	}
}

// ---- rendering ----

// xb builds query-protocol XML.
type xb struct{ bytes.Buffer }

func (b *xb) el(name, v string) {
	b.WriteString("<" + name + ">")
	xml.EscapeText(&b.Buffer, []byte(v))
	b.WriteString("</" + name + ">")
}

func (b *xb) open(name string)  { b.WriteString("<" + name + ">") }
func (b *xb) close(name string) { b.WriteString("</" + name + ">") }

// reply writes v (JSON) or the XML result body (query). xmlBody nil means
// the query response has no Result element.
func (c *call) reply(v any, xmlBody *xb) error {
	if c.json {
		if v == nil {
			v = struct{}{}
		}
		return awsproto.WriteJSON(c.w, c.r, awsproto.JSON10, v)
	}
	if xmlBody == nil {
		awsproto.WriteQueryResponse(c.w, c.r, XMLNS, c.action, "", true)
		return nil
	}
	awsproto.WriteQueryResponse(c.w, c.r, XMLNS, c.action, xmlBody.String(), false)
	return nil
}

func writeMessageAttrXML(b *xb, tag string, attrs map[string]sqs.MessageAttribute) {
	for _, n := range sortedKeys(attrs) {
		a := attrs[n]
		b.open(tag)
		b.el("Name", n)
		b.open("Value")
		if a.IsBinary() {
			b.el("BinaryValue", base64.StdEncoding.EncodeToString(a.BinaryValue))
		} else {
			b.el("StringValue", a.StringValue)
		}
		b.el("DataType", a.DataType)
		b.close("Value")
		b.close(tag)
	}
}

func jsonMessageAttrs(attrs map[string]sqs.MessageAttribute) map[string]attrMembers {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]attrMembers, len(attrs))
	for n, a := range attrs {
		m := attrMembers{DataType: a.DataType}
		if a.IsBinary() {
			m.BinaryValue = a.BinaryValue
		} else {
			s := a.StringValue
			m.StringValue = &s
		}
		out[n] = m
	}
	return out
}

func domainAttrs(m map[string]attrMembers) map[string]sqs.MessageAttribute {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]sqs.MessageAttribute, len(m))
	for n, a := range m {
		out[n] = a.domain()
	}
	return out
}

// ---- queues ----

func (a *API) createQueue(c *call) error {
	tags := c.in.CreateTags
	if err := a.svc.CreateQueue(c.r.Context(), c.in.QueueName, c.in.Attributes, tags); err != nil {
		return err
	}
	u := c.queueURL(a.svc, c.in.QueueName)
	b := &xb{}
	b.el("QueueUrl", u)
	return c.reply(map[string]string{"QueueUrl": u}, b)
}

func (a *API) deleteQueue(c *call) error {
	name, err := c.queueName()
	if err != nil {
		return err
	}
	if err := a.svc.DeleteQueue(c.r.Context(), name); err != nil {
		return err
	}
	return c.reply(nil, nil)
}

func (a *API) getQueueURL(c *call) error {
	if c.in.QueueName == "" {
		return sqs.Fail("sqsapi.GetQueueUrl", sqs.CodeMissingParameter, "The request must contain the parameter QueueName.")
	}
	if !a.svc.Exists(c.in.QueueName) {
		return sqs.Fail("sqsapi.GetQueueUrl", sqs.CodeQueueDoesNotExist, "The specified queue does not exist.")
	}
	u := c.queueURL(a.svc, c.in.QueueName)
	b := &xb{}
	b.el("QueueUrl", u)
	return c.reply(map[string]string{"QueueUrl": u}, b)
}

// page applies MaxResults/NextToken to a sorted name list.
func page(op string, names []string, max *int, token string) ([]string, string, error) {
	if max != nil && (*max < 1 || *max > 1000) {
		return nil, "", sqs.Fail(op, sqs.CodeInvalidParameterValue, "Value %d for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.", *max)
	}
	if token != "" {
		after, err := decodeToken(op, token)
		if err != nil {
			return nil, "", err
		}
		i := 0
		for i < len(names) && names[i] <= after {
			i++
		}
		names = names[i:]
	}
	limit := 1000
	if max != nil {
		limit = *max
	}
	next := ""
	if len(names) > limit {
		names = names[:limit]
		if max != nil {
			next = encodeToken(names[len(names)-1])
		}
	}
	return names, next, nil
}

func (a *API) listQueues(c *call) error {
	names, next, err := page("sqsapi.ListQueues", a.svc.QueueNames(c.in.QueueNamePrefix), c.in.MaxResults, c.in.NextToken)
	if err != nil {
		return err
	}
	urls := make([]string, len(names))
	b := &xb{}
	for i, n := range names {
		urls[i] = c.queueURL(a.svc, n)
		b.el("QueueUrl", urls[i])
	}
	if next != "" {
		b.el("NextToken", next)
	}
	out := struct {
		QueueUrls []string `json:"QueueUrls,omitempty"`
		NextToken string   `json:"NextToken,omitempty"`
	}{urls, next}
	return c.reply(out, b)
}

func (a *API) getQueueAttributes(c *call) error {
	name, err := c.queueName()
	if err != nil {
		return err
	}
	names := c.in.AttributeNames
	attrs, err := a.svc.GetQueueAttributes(c.r.Context(), name, names)
	if err != nil {
		return err
	}
	b := &xb{}
	for _, k := range sortedKeys(attrs) {
		b.open("Attribute")
		b.el("Name", k)
		b.el("Value", attrs[k])
		b.close("Attribute")
	}
	out := struct {
		Attributes map[string]string `json:"Attributes,omitempty"`
	}{attrs}
	if len(attrs) == 0 {
		out.Attributes = nil
	}
	return c.reply(out, b)
}

func (a *API) setQueueAttributes(c *call) error {
	name, err := c.queueName()
	if err != nil {
		return err
	}
	if len(c.in.Attributes) == 0 {
		return sqs.Fail("sqsapi.SetQueueAttributes", sqs.CodeMissingParameter, "The request must contain the parameter Attribute.Name.")
	}
	if err := a.svc.SetQueueAttributes(c.r.Context(), name, c.in.Attributes); err != nil {
		return err
	}
	return c.reply(nil, nil)
}

func (a *API) purgeQueue(c *call) error {
	name, err := c.queueName()
	if err != nil {
		return err
	}
	if err := a.svc.PurgeQueue(c.r.Context(), name); err != nil {
		return err
	}
	return c.reply(nil, nil)
}

// ---- messages ----

type sendResultJSON struct {
	ID                           string `json:"Id,omitempty"`
	MessageID                    string `json:"MessageId"`
	MD5OfMessageBody             string `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes       string `json:"MD5OfMessageAttributes,omitempty"`
	MD5OfMessageSystemAttributes string `json:"MD5OfMessageSystemAttributes,omitempty"`
	SequenceNumber               string `json:"SequenceNumber,omitempty"`
}

// appendTo renders the result as encoding/json would (field order, omitted
// empty fields), without reflection: SendMessage answers are on the hot path.
func (r sendResultJSON) appendTo(b []byte) []byte {
	b = append(b, '{')
	field := func(name, v string, omitEmpty bool) {
		if omitEmpty && v == "" {
			return
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = jsonx.AppendString(b, v)
	}
	field("Id", r.ID, true)
	field("MessageId", r.MessageID, false)
	field("MD5OfMessageBody", r.MD5OfMessageBody, false)
	field("MD5OfMessageAttributes", r.MD5OfMessageAttributes, true)
	field("MD5OfMessageSystemAttributes", r.MD5OfMessageSystemAttributes, true)
	field("SequenceNumber", r.SequenceNumber, true)
	return append(b, '}')
}

func sendJSON(id string, r sqs.SendResult) sendResultJSON {
	return sendResultJSON{ID: id, MessageID: r.MessageID, MD5OfMessageBody: r.MD5OfBody,
		MD5OfMessageAttributes: r.MD5OfAttributes, MD5OfMessageSystemAttributes: r.MD5OfSystemAttrs,
		SequenceNumber: r.SequenceNumber}
}

func sendXML(b *xb, r sqs.SendResult) {
	b.el("MessageId", r.MessageID)
	b.el("MD5OfMessageBody", r.MD5OfBody)
	if r.MD5OfAttributes != "" {
		b.el("MD5OfMessageAttributes", r.MD5OfAttributes)
	}
	if r.MD5OfSystemAttrs != "" {
		b.el("MD5OfMessageSystemAttributes", r.MD5OfSystemAttrs)
	}
	if r.SequenceNumber != "" {
		b.el("SequenceNumber", r.SequenceNumber)
	}
}

func (c *call) sendInput(e entry) sqs.SendInput {
	return sqs.SendInput{Body: e.MessageBody, DelaySeconds: e.DelaySeconds, Attributes: domainAttrs(e.MessageAttributes),
		SystemAttributes: domainAttrs(e.MessageSystemAttributes), GroupID: e.MessageGroupID,
		DeduplicationID: e.MessageDeduplicationID, SenderID: c.senderID()}
}

func checkListValues(op string, e entry) error {
	for n, v := range e.MessageAttributes {
		if len(v.StringListValues) > 0 || len(v.BinaryListValues) > 0 {
			return sqs.Fail(op, sqs.CodeInvalidParameterValue, "Message attribute list values in SendMessage operation are not supported. Attribute: %s.", n)
		}
	}
	return nil
}

func (a *API) sendMessage(c *call) error {
	name, err := c.queueName()
	if err != nil {
		return err
	}
	if err := checkListValues("sqsapi.SendMessage", c.in.entry); err != nil {
		return err
	}
	r, err := a.svc.SendMessage(c.r.Context(), name, c.sendInput(c.in.entry))
	if err != nil {
		return err
	}
	a.metrics.messages.WithLabelValues("sent").Inc()
	if c.json {
		return c.reply(sendJSON("", r).appendTo(nil), nil)
	}
	b := &xb{}
	sendXML(b, r)
	return c.reply(nil, b)
}

func validEntryID(id string) bool {
	if id == "" || len(id) > 80 {
		return false
	}
	for _, ch := range id {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return false
		}
	}
	return true
}

// checkBatch applies the whole-request batch rules.
func checkBatch(op string, entries []entry, entryName string) error {
	if len(entries) == 0 {
		return sqs.Fail(op, sqs.CodeEmptyBatchRequest, "There should be at least one %s in the request.", entryName)
	}
	if len(entries) > 10 {
		return sqs.Fail(op, sqs.CodeTooManyEntries, "Maximum number of entries per request are 10. You have sent %d.", len(entries))
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if !validEntryID(e.ID) {
			return sqs.Fail(op, sqs.CodeInvalidBatchEntryID, "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[e.ID] {
			return sqs.Fail(op, sqs.CodeBatchEntryIdsNotDist, "Id %s repeated.", e.ID)
		}
		seen[e.ID] = true
	}
	return nil
}

type batchFailure struct {
	ID          string `json:"Id"`
	SenderFault bool   `json:"SenderFault"`
	Code        string `json:"Code"`
	Message     string `json:"Message,omitempty"`
}

func (c *call) failure(id string, err error) batchFailure {
	code := sqs.CodeOf(err)
	f := batchFailure{ID: id, SenderFault: code.Status < 500, Code: code.Query, Message: errMsg(err)}
	if c.json {
		f.Code = code.Type
	}
	return f
}

func errMsg(err error) string { return errs.Message(err, "") }

func failureXML(b *xb, fs []batchFailure) {
	for _, f := range fs {
		b.open("BatchResultErrorEntry")
		b.el("Id", f.ID)
		b.el("SenderFault", strconv.FormatBool(f.SenderFault))
		b.el("Code", f.Code)
		if f.Message != "" {
			b.el("Message", f.Message)
		}
		b.close("BatchResultErrorEntry")
	}
}

func (a *API) sendMessageBatch(c *call) error {
	const op = "sqsapi.SendMessageBatch"
	name, err := c.queueName()
	if err != nil {
		return err
	}
	if err := checkBatch(op, c.in.Entries, "SendMessageBatchRequestEntry"); err != nil {
		return err
	}
	attrs, err := a.svc.GetQueueAttributes(c.r.Context(), name, []string{"MaximumMessageSize"})
	if err != nil {
		return err
	}
	limit, _ := strconv.Atoi(attrs["MaximumMessageSize"])
	total := 0
	for _, e := range c.in.Entries {
		total += len(e.MessageBody)
		for n, v := range e.MessageAttributes {
			total += len(n) + len(v.DataType) + len(v.BinaryValue)
			if v.StringValue != nil {
				total += len(*v.StringValue)
			}
		}
	}
	if total > limit {
		return sqs.Fail(op, sqs.CodeBatchRequestTooLong, "Batch requests cannot be longer than %d bytes. You have sent %d bytes.", limit, total)
	}
	ins := make([]sqs.SendInput, 0, len(c.in.Entries))
	idx := make([]int, 0, len(c.in.Entries))
	var failed []batchFailure
	for i, e := range c.in.Entries {
		if err := checkListValues(op, e); err != nil {
			failed = append(failed, c.failure(e.ID, err))
			continue
		}
		ins = append(ins, c.sendInput(e))
		idx = append(idx, i)
	}
	res, errsOut, err := a.svc.SendMessages(c.r.Context(), name, ins)
	if err != nil {
		return err
	}
	var ok []sendResultJSON
	b := &xb{}
	for j, i := range idx {
		id := c.in.Entries[i].ID
		if errsOut[j] != nil {
			failed = append(failed, c.failure(id, errsOut[j]))
			continue
		}
		ok = append(ok, sendJSON(id, res[j]))
		a.metrics.messages.WithLabelValues("sent").Inc()
		b.open("SendMessageBatchResultEntry")
		b.el("Id", id)
		sendXML(b, res[j])
		b.close("SendMessageBatchResultEntry")
	}
	failureXML(b, failed)
	out := struct {
		Successful []sendResultJSON `json:"Successful"`
		Failed     []batchFailure   `json:"Failed"`
	}{nonNil(ok), nonNil(failed)}
	return c.reply(out, b)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type messageJSON struct {
	MessageID              string                 `json:"MessageId"`
	ReceiptHandle          string                 `json:"ReceiptHandle"`
	MD5OfBody              string                 `json:"MD5OfBody"`
	Body                   string                 `json:"Body"`
	Attributes             map[string]string      `json:"Attributes,omitempty"`
	MD5OfMessageAttributes string                 `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]attrMembers `json:"MessageAttributes,omitempty"`
}

func (a *API) receiveMessage(c *call) error {
	name, err := c.queueName()
	if err != nil {
		return err
	}
	in := sqs.ReceiveInput{VisibilityTimeout: c.in.VisibilityTimeout, WaitTimeSeconds: c.in.WaitTimeSeconds,
		AttributeNames:          append(append([]string(nil), c.in.AttributeNames...), c.in.MessageSystemAttributeNames...),
		MessageAttributeNames:   c.in.MessageAttributeNames,
		ReceiveRequestAttemptID: c.in.ReceiveRequestAttemptID}
	if c.in.MaxNumberOfMessages != nil {
		in.MaxNumberOfMessages = *c.in.MaxNumberOfMessages
		if in.MaxNumberOfMessages == 0 { // explicit 0 is out of range
			return sqs.Fail("sqsapi.ReceiveMessage", sqs.CodeInvalidParameterValue, "Value 0 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.")
		}
	}
	msgs, err := a.svc.ReceiveMessage(c.r.Context(), name, in)
	if err != nil {
		if c.r.Context().Err() != nil {
			return nil // the client went away
		}
		return err
	}
	a.metrics.messages.WithLabelValues("received").Add(float64(len(msgs)))
	b := &xb{}
	out := struct {
		Messages []messageJSON `json:"Messages,omitempty"`
	}{}
	for _, m := range msgs {
		out.Messages = append(out.Messages, messageJSON{MessageID: m.MessageID, ReceiptHandle: m.ReceiptHandle,
			MD5OfBody: m.MD5OfBody, Body: m.Body, Attributes: m.Attributes, MD5OfMessageAttributes: m.MD5OfAttributes,
			MessageAttributes: jsonMessageAttrs(m.MessageAttributes)})
		b.open("Message")
		b.el("MessageId", m.MessageID)
		b.el("ReceiptHandle", m.ReceiptHandle)
		b.el("MD5OfBody", m.MD5OfBody)
		b.el("Body", m.Body)
		for _, k := range sortedKeys(m.Attributes) {
			b.open("Attribute")
			b.el("Name", k)
			b.el("Value", m.Attributes[k])
			b.close("Attribute")
		}
		if m.MD5OfAttributes != "" {
			b.el("MD5OfMessageAttributes", m.MD5OfAttributes)
		}
		writeMessageAttrXML(b, "MessageAttribute", m.MessageAttributes)
		b.close("Message")
	}
	return c.reply(out, b)
}

func (a *API) deleteMessage(c *call) error {
	name, err := c.queueName()
	if err != nil {
		return err
	}
	if c.in.ReceiptHandle == "" {
		return sqs.Fail("sqsapi.DeleteMessage", sqs.CodeMissingParameter, "The request must contain the parameter ReceiptHandle.")
	}
	if err := a.svc.DeleteMessage(c.r.Context(), name, c.in.ReceiptHandle); err != nil {
		return err
	}
	a.metrics.messages.WithLabelValues("deleted").Inc()
	return c.reply(nil, nil)
}

type idJSON struct {
	ID string `json:"Id"`
}

func (c *call) batchIDs(entryTag string, ids []string, failed []batchFailure) error {
	b := &xb{}
	ok := make([]idJSON, 0, len(ids))
	for _, id := range ids {
		ok = append(ok, idJSON{id})
		b.open(entryTag)
		b.el("Id", id)
		b.close(entryTag)
	}
	failureXML(b, failed)
	out := struct {
		Successful []idJSON       `json:"Successful"`
		Failed     []batchFailure `json:"Failed"`
	}{ok, nonNil(failed)}
	return c.reply(out, b)
}

func (a *API) deleteMessageBatch(c *call) error {
	const op = "sqsapi.DeleteMessageBatch"
	name, err := c.queueName()
	if err != nil {
		return err
	}
	if err := checkBatch(op, c.in.Entries, "DeleteMessageBatchRequestEntry"); err != nil {
		return err
	}
	handles := make([]string, len(c.in.Entries))
	for i, e := range c.in.Entries {
		handles[i] = e.ReceiptHandle
	}
	errsOut, err := a.svc.DeleteMessages(c.r.Context(), name, handles)
	if err != nil {
		return err
	}
	var ids []string
	var failed []batchFailure
	for i, e := range c.in.Entries {
		if errsOut[i] != nil {
			failed = append(failed, c.failure(e.ID, errsOut[i]))
		} else {
			ids = append(ids, e.ID)
		}
	}
	a.metrics.messages.WithLabelValues("deleted").Add(float64(len(ids)))
	return c.batchIDs("DeleteMessageBatchResultEntry", ids, failed)
}

func (a *API) changeMessageVisibility(c *call) error {
	const op = "sqsapi.ChangeMessageVisibility"
	name, err := c.queueName()
	if err != nil {
		return err
	}
	if c.in.ReceiptHandle == "" {
		return sqs.Fail(op, sqs.CodeMissingParameter, "The request must contain the parameter ReceiptHandle.")
	}
	if c.in.VisibilityTimeout == nil {
		return sqs.Fail(op, sqs.CodeMissingParameter, "The request must contain the parameter VisibilityTimeout.")
	}
	if err := a.svc.ChangeMessageVisibility(c.r.Context(), name, c.in.ReceiptHandle, *c.in.VisibilityTimeout); err != nil {
		return err
	}
	return c.reply(nil, nil)
}

func (a *API) changeMessageVisibilityBatch(c *call) error {
	const op = "sqsapi.ChangeMessageVisibilityBatch"
	name, err := c.queueName()
	if err != nil {
		return err
	}
	if err := checkBatch(op, c.in.Entries, "ChangeMessageVisibilityBatchRequestEntry"); err != nil {
		return err
	}
	var es []sqs.HandleEntry
	var pos []int
	var failed []batchFailure
	for i, e := range c.in.Entries {
		if e.VisibilityTimeout == nil {
			failed = append(failed, c.failure(e.ID, sqs.Fail(op, sqs.CodeMissingParameter, "The request must contain the parameter VisibilityTimeout.")))
			continue
		}
		es = append(es, sqs.HandleEntry{ReceiptHandle: e.ReceiptHandle, VisibilityTimeout: *e.VisibilityTimeout})
		pos = append(pos, i)
	}
	errsOut, err := a.svc.ChangeMessageVisibilities(c.r.Context(), name, es)
	if err != nil {
		return err
	}
	var ids []string
	for j, i := range pos {
		id := c.in.Entries[i].ID
		if errsOut[j] != nil {
			failed = append(failed, c.failure(id, errsOut[j]))
		} else {
			ids = append(ids, id)
		}
	}
	return c.batchIDs("ChangeMessageVisibilityBatchResultEntry", ids, failed)
}

// ---- dead letters, tags, permissions, move tasks ----

func (a *API) listDeadLetterSourceQueues(c *call) error {
	name, err := c.queueName()
	if err != nil {
		return err
	}
	names, err := a.svc.ListDeadLetterSourceQueues(c.r.Context(), name)
	if err != nil {
		return err
	}
	names, next, err := page("sqsapi.ListDeadLetterSourceQueues", names, c.in.MaxResults, c.in.NextToken)
	if err != nil {
		return err
	}
	urls := make([]string, len(names))
	b := &xb{}
	for i, n := range names {
		urls[i] = c.queueURL(a.svc, n)
		b.el("QueueUrl", urls[i])
	}
	if next != "" {
		b.el("NextToken", next)
	}
	out := struct {
		QueueUrls []string `json:"queueUrls"`
		NextToken string   `json:"NextToken,omitempty"`
	}{nonNil(urls), next}
	return c.reply(out, b)
}

func (a *API) tagQueue(c *call) error {
	name, err := c.queueName()
	if err != nil {
		return err
	}
	if err := a.svc.TagQueue(c.r.Context(), name, c.in.Tags); err != nil {
		return err
	}
	return c.reply(nil, nil)
}

func (a *API) untagQueue(c *call) error {
	name, err := c.queueName()
	if err != nil {
		return err
	}
	if err := a.svc.UntagQueue(c.r.Context(), name, c.in.TagKeys); err != nil {
		return err
	}
	return c.reply(nil, nil)
}

func (a *API) listQueueTags(c *call) error {
	name, err := c.queueName()
	if err != nil {
		return err
	}
	tags, err := a.svc.ListQueueTags(c.r.Context(), name)
	if err != nil {
		return err
	}
	b := &xb{}
	for _, k := range sortedKeys(tags) {
		b.open("Tag")
		b.el("Key", k)
		b.el("Value", tags[k])
		b.close("Tag")
	}
	out := struct {
		Tags map[string]string `json:"Tags,omitempty"`
	}{tags}
	return c.reply(out, b)
}

func (a *API) addPermission(c *call) error {
	name, err := c.queueName()
	if err != nil {
		return err
	}
	if err := a.svc.AddPermission(c.r.Context(), name, c.in.Label, c.in.AWSAccountIDs, c.in.Actions); err != nil {
		return err
	}
	return c.reply(nil, nil)
}

func (a *API) removePermission(c *call) error {
	name, err := c.queueName()
	if err != nil {
		return err
	}
	if err := a.svc.RemovePermission(c.r.Context(), name, c.in.Label); err != nil {
		return err
	}
	return c.reply(nil, nil)
}

func (a *API) startMessageMoveTask(c *call) error {
	rate := 0
	if c.in.MaxNumberOfMessagesPerSecond != nil {
		rate = *c.in.MaxNumberOfMessagesPerSecond
		if rate == 0 {
			return sqs.Fail("sqsapi.StartMessageMoveTask", sqs.CodeInvalidParameterValue, "Value 0 for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and 500.")
		}
	}
	h, err := a.svc.StartMessageMoveTask(c.r.Context(), c.in.SourceArn, c.in.DestinationArn, rate)
	if err != nil {
		return err
	}
	b := &xb{}
	b.el("TaskHandle", h)
	return c.reply(map[string]string{"TaskHandle": h}, b)
}

func (a *API) cancelMessageMoveTask(c *call) error {
	n, err := a.svc.CancelMessageMoveTask(c.r.Context(), c.in.TaskHandle)
	if err != nil {
		return err
	}
	b := &xb{}
	b.el("ApproximateNumberOfMessagesMoved", strconv.FormatInt(n, 10))
	return c.reply(map[string]int64{"ApproximateNumberOfMessagesMoved": n}, b)
}

type moveTaskJSON struct {
	TaskHandle                        string `json:"TaskHandle,omitempty"`
	Status                            string `json:"Status"`
	SourceArn                         string `json:"SourceArn"`
	DestinationArn                    string `json:"DestinationArn,omitempty"`
	MaxNumberOfMessagesPerSecond      int    `json:"MaxNumberOfMessagesPerSecond,omitempty"`
	ApproximateNumberOfMessagesMoved  int64  `json:"ApproximateNumberOfMessagesMoved"`
	ApproximateNumberOfMessagesToMove int64  `json:"ApproximateNumberOfMessagesToMove"`
	FailureReason                     string `json:"FailureReason,omitempty"`
	StartedTimestamp                  int64  `json:"StartedTimestamp"`
}

func (a *API) listMessageMoveTasks(c *call) error {
	max := 0
	if c.in.MaxResults != nil {
		max = *c.in.MaxResults
		if max == 0 {
			return sqs.Fail("sqsapi.ListMessageMoveTasks", sqs.CodeInvalidParameterValue, "Value 0 for parameter MaxResults is invalid. Reason: Must be between 1 and 10.")
		}
	}
	ts, err := a.svc.ListMessageMoveTasks(c.r.Context(), c.in.SourceArn, max)
	if err != nil {
		return err
	}
	b := &xb{}
	out := struct {
		Results []moveTaskJSON `json:"Results"`
	}{Results: []moveTaskJSON{}}
	for _, t := range ts {
		j := moveTaskJSON{Status: t.Status, SourceArn: t.SourceArn, DestinationArn: t.DestinationArn,
			MaxNumberOfMessagesPerSecond: t.MaxNumberOfMessagesPerSecond, ApproximateNumberOfMessagesMoved: t.ApproximateNumberOfMessagesMoved,
			ApproximateNumberOfMessagesToMove: t.ApproximateNumberOfMessagesToMove, FailureReason: t.FailureReason,
			StartedTimestamp: t.StartedTimestamp}
		if t.Status == "RUNNING" {
			j.TaskHandle = t.TaskHandle
		}
		out.Results = append(out.Results, j)
		b.open("ListMessageMoveTasksResultEntry")
		if j.TaskHandle != "" {
			b.el("TaskHandle", j.TaskHandle)
		}
		b.el("Status", j.Status)
		b.el("SourceArn", j.SourceArn)
		if j.DestinationArn != "" {
			b.el("DestinationArn", j.DestinationArn)
		}
		if j.MaxNumberOfMessagesPerSecond != 0 {
			b.el("MaxNumberOfMessagesPerSecond", strconv.Itoa(j.MaxNumberOfMessagesPerSecond))
		}
		b.el("ApproximateNumberOfMessagesMoved", strconv.FormatInt(j.ApproximateNumberOfMessagesMoved, 10))
		b.el("ApproximateNumberOfMessagesToMove", strconv.FormatInt(j.ApproximateNumberOfMessagesToMove, 10))
		if j.FailureReason != "" {
			b.el("FailureReason", j.FailureReason)
		}
		b.el("StartedTimestamp", strconv.FormatInt(j.StartedTimestamp, 10))
		b.close("ListMessageMoveTasksResultEntry")
	}
	return c.reply(out, b)
}
