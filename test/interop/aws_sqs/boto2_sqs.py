"""boto 2.49 against Skyhub's SQS (query protocol, GET and POST, queue-URL
paths): the lecture's calls plus attributes, visibility and errors.
BOTO_CONFIG points boto at Skyhub through the proxy setting, so requests go
to queue.amazonaws.com exactly as the lecture's unchanged code sends them."""
import sys
import time

import boto.sqs
from boto.exception import SQSError
from boto.sqs.message import Message, RawMessage

conn = boto.sqs.connect_to_region("us-east-1", aws_access_key_id="AKIDEXAMPLE",
                                  aws_secret_access_key="secret")
name = "boto2-" + sys.argv[1]
q = conn.create_queue(name, visibility_timeout=5)
assert q is not None
assert q.url.endswith("/000000000000/" + name), q.url
assert name in [x.name for x in conn.get_all_queues()]
assert conn.get_queue(name).url == q.url
assert conn.get_queue("does-not-exist-" + name) is None

# Base64 bodies (boto.sqs.message.Message) and raw bodies.
for i in range(3):
    m = Message()
    m.set_body("reading %d" % i)
    q.write(m)
msgs = q.get_messages(num_messages=10, visibility_timeout=30, attributes="All")
bodies = sorted(m.get_body() for m in msgs)
assert bodies == ["reading 0", "reading 1", "reading 2"], bodies
assert all(m.attributes["ApproximateReceiveCount"] == "1" for m in msgs), msgs[0].attributes
# In flight: nothing more to read.
assert q.read() is None
# Batch delete.
res = q.delete_message_batch(msgs)
assert len(res.results) == 3 and not res.errors, (res.results, res.errors)

q.set_message_class(RawMessage)
q.write(RawMessage(body="raw & <xml> \u00e9"))
m = q.read(1)
assert m.get_body() == "raw & <xml> \u00e9", m.get_body()
# Visibility: change to 0 makes it visible again.
assert conn.change_message_visibility(q, m.receipt_handle, 0)
m2 = q.read(30)
assert m2 is not None and m2.id == m.id
assert q.delete_message(m2)

# Attributes.
attrs = q.get_attributes()
assert attrs["VisibilityTimeout"] == "5", attrs
assert q.set_attribute("DelaySeconds", "0")
assert q.count() == 0

# Long poll, bounded: returns empty after ~1 s.
t0 = time.time()
assert q.read(wait_time_seconds=1) is None
assert 0.8 < time.time() - t0 < 15, time.time() - t0

# Errors carry the AWS codes.
try:
    q.set_attribute("VisibilityTimeout", "99999")
    raise SystemExit("no error for a bad VisibilityTimeout")
except SQSError as e:
    assert e.status == 400 and e.error_code == "InvalidAttributeValue", (e.status, e.error_code)
big = RawMessage(body="x" * 262145)
try:
    q.write(big)
    raise SystemExit("no error for an oversized message")
except SQSError as e:
    assert e.status == 400 and e.error_code == "InvalidParameterValue", (e.status, e.error_code)

assert conn.delete_queue(q)
try:
    conn.get_queue_attributes(q)
    raise SystemExit("no error for a deleted queue")
except SQSError as e:
    assert e.status == 400 and e.error_code == "AWS.SimpleQueueService.NonExistentQueue", (e.status, e.error_code)
print("OK")
