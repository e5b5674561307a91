"""boto3 against Skyhub's SQS. Debian's boto3 1.26 (botocore 1.29) speaks the
query protocol; the pyenv boto3 1.43 speaks JSON 1.0 with
x-amzn-query-mode. The script prints the protocol it used and checks the
same behaviour either way: queues, attributes, messages with attributes,
batches, FIFO, visibility, dead-letter redrive, tags, permissions, move
tasks and the exact error codes."""
import sys
import time

import boto3
import botocore
from botocore.exceptions import ClientError

endpoint, suffix = sys.argv[1], sys.argv[2]
sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
proto = sqs.meta.service_model.protocol
print("botocore", botocore.__version__, "protocol", proto)


def err(fn, code, status=400, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        got = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
        assert got == (code, status), (fn.__name__, got, (code, status))
        return e
    raise SystemExit("%s: no error, want %s" % (fn.__name__, code))


name = "b3-" + suffix
url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "7"},
                       tags={"team": "iot"})["QueueUrl"]
assert url.endswith("/000000000000/" + name), url
assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
assert url in sqs.list_queues(QueueNamePrefix="b3-" + suffix)["QueueUrls"]
# Same attributes again: idempotent; different: QueueAlreadyExists.
assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "7"})["QueueUrl"] == url
err(sqs.create_queue, "QueueAlreadyExists", QueueName=name, Attributes={"VisibilityTimeout": "8"})
attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
assert attrs["VisibilityTimeout"] == "7" and attrs["QueueArn"].endswith(":" + name), attrs

# A message with attributes of every type.
sent = sqs.send_message(QueueUrl=url, MessageBody="temp=21.5", MessageAttributes={
    "device": {"DataType": "String", "StringValue": "dev1"},
    "reading": {"DataType": "Number", "StringValue": "21.5"},
    "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    "unit.celsius": {"DataType": "String.unit", "StringValue": "C"}})
import hashlib
assert sent["MD5OfMessageBody"] == hashlib.md5(b"temp=21.5").hexdigest(), sent
got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], AttributeNames=["All"],
                          WaitTimeSeconds=1)["Messages"]
assert len(got) == 1 and got[0]["MessageId"] == sent["MessageId"], got
m = got[0]
assert m["Body"] == "temp=21.5"
assert m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"], (m, sent)
assert m["MessageAttributes"]["raw"]["BinaryValue"] == b"\x00\x01\xff", m["MessageAttributes"]
assert m["MessageAttributes"]["reading"] == {"DataType": "Number", "StringValue": "21.5"}
assert m["Attributes"]["ApproximateReceiveCount"] == "1"
assert int(m["Attributes"]["SentTimestamp"]) > 1600000000000
# Visibility.
sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
m2 = sqs.receive_message(QueueUrl=url)["Messages"][0]
assert m2["MessageId"] == m["MessageId"]
sqs.delete_message(QueueUrl=url, ReceiptHandle=m2["ReceiptHandle"])
err(sqs.delete_message, "ReceiptHandleIsInvalid", QueueUrl=url, ReceiptHandle="not-a-handle")

# Batches: partial failure is a 200 with Failed entries.
res = sqs.send_message_batch(QueueUrl=url, Entries=[
    {"Id": "a", "MessageBody": "one"}, {"Id": "b", "MessageBody": "two", "DelaySeconds": 0},
    {"Id": "c", "MessageBody": "bad", "DelaySeconds": 901}])
assert sorted(e["Id"] for e in res["Successful"]) == ["a", "b"], res
assert [(f["Id"], f["Code"], f["SenderFault"]) for f in res["Failed"]] == [("c", "InvalidParameterValue", True)], res
err(sqs.send_message_batch, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", QueueUrl=url,
    Entries=[{"Id": "x", "MessageBody": "1"}, {"Id": "x", "MessageBody": "2"}])
err(sqs.send_message_batch, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", QueueUrl=url,
    Entries=[{"Id": "e%d" % i, "MessageBody": "m"} for i in range(11)])
err(sqs.send_message_batch, "AWS.SimpleQueueService.InvalidBatchEntryId", QueueUrl=url,
    Entries=[{"Id": "bad id!", "MessageBody": "m"}])
msgs = []
for _ in range(5):
    msgs += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    if len(msgs) >= 2:
        break
assert sorted(x["Body"] for x in msgs) == ["one", "two"], msgs
cv = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
    {"Id": "v%d" % i, "ReceiptHandle": x["ReceiptHandle"], "VisibilityTimeout": 60} for i, x in enumerate(msgs)])
assert len(cv["Successful"]) == 2 and not cv.get("Failed"), cv
dl = sqs.delete_message_batch(QueueUrl=url, Entries=[
    {"Id": "d%d" % i, "ReceiptHandle": x["ReceiptHandle"]} for i, x in enumerate(msgs)] +
    [{"Id": "bad", "ReceiptHandle": "garbage"}])
assert len(dl["Successful"]) == 2 and [f["Code"] for f in dl["Failed"]] == ["ReceiptHandleIsInvalid"], dl

# Validation errors.
err(sqs.send_message, "InvalidParameterValue", QueueUrl=url, MessageBody="x" * 262145)
err(sqs.send_message, "InvalidMessageContents", QueueUrl=url, MessageBody="bad\x01char")
err(sqs.receive_message, "InvalidParameterValue", QueueUrl=url, MaxNumberOfMessages=11)
err(sqs.set_queue_attributes, "InvalidAttributeName", QueueUrl=url, Attributes={"Bogus": "1"})
err(sqs.get_queue_url, "AWS.SimpleQueueService.NonExistentQueue", QueueName="nope-" + suffix)
err(sqs.send_message, "AWS.SimpleQueueService.NonExistentQueue",
    QueueUrl=url.rsplit("/", 1)[0] + "/nope-" + suffix, MessageBody="x")

# Tags and permissions.
sqs.tag_queue(QueueUrl=url, Tags={"env": "dev"})
sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "dev"}
sqs.add_permission(QueueUrl=url, Label="p1", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
pol = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
assert '"Sid":"p1"' in pol.replace(" ", ""), pol
sqs.remove_permission(QueueUrl=url, Label="p1")

# FIFO: order within a group, dedup.
furl = sqs.create_queue(QueueName=name + ".fifo", Attributes={"FifoQueue": "true",
                        "ContentBasedDeduplication": "true"})["QueueUrl"]
f1 = sqs.send_message(QueueUrl=furl, MessageBody="f1", MessageGroupId="g")
sqs.send_message(QueueUrl=furl, MessageBody="f2", MessageGroupId="g")
assert sqs.send_message(QueueUrl=furl, MessageBody="f1", MessageGroupId="g")["MessageId"] == f1["MessageId"]
assert f1["SequenceNumber"]
fm = sqs.receive_message(QueueUrl=furl, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
assert [x["Body"] for x in fm] == ["f1", "f2"], fm
assert fm[0]["Attributes"]["MessageGroupId"] == "g"
err(sqs.send_message, "MissingParameter", QueueUrl=furl, MessageBody="x")

# Dead-letter queue, redrive back with a move task.
dlq = sqs.create_queue(QueueName=name + "-dlq")["QueueUrl"]
dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
src = sqs.create_queue(QueueName=name + "-src", Attributes={
    "RedrivePolicy": '{"deadLetterTargetArn":"%s","maxReceiveCount":"1"}' % dlq_arn})["QueueUrl"]
assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]
sqs.send_message(QueueUrl=src, MessageBody="poison")
r1 = sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)["Messages"]
assert len(r1) == 1
assert not sqs.receive_message(QueueUrl=src).get("Messages")
dm = sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=0)["Messages"]
assert dm[0]["Body"] == "poison"
if hasattr(sqs, "start_message_move_task"):  # not in botocore 1.29's model
    h = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    for _ in range(400):  # up to 20 s on a loaded machine
        t = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
        if t["Status"] == "COMPLETED":
            break
        time.sleep(0.05)
    assert t["Status"] == "COMPLETED" and t["ApproximateNumberOfMessagesMoved"] == 1, t
    assert sqs.receive_message(QueueUrl=src)["Messages"][0]["Body"] == "poison"
    err(sqs.cancel_message_move_task, "ResourceNotFoundException", 404, TaskHandle="bogus")

sqs.purge_queue(QueueUrl=url)
err(sqs.purge_queue, "AWS.SimpleQueueService.PurgeQueueInProgress", 403, QueueUrl=url)
for u in (url, furl, dlq, src):
    sqs.delete_queue(QueueUrl=u)
err(sqs.get_queue_attributes, "AWS.SimpleQueueService.NonExistentQueue", QueueUrl=url)
print("OK", proto)
