"""The lecture's Amazon SQS code (boto 2), runnable against Skyhub.

Run with the boto config that points boto at Skyhub:
    BOTO_CONFIG=examples/lecture/boto.cfg /usr/bin/python3 examples/lecture/sqs_boto2.py
(boto.cfg: [Boto] is_secure = False, proxy = 127.0.0.1, proxy_port = 4566).
The code is the lecture's: connect_to_region, create_queue, get_all_queues,
queue.write(Message) and queue.read(visibility_timeout). boto 2 sends most of
these as GET requests to queue.amazonaws.com and the queue operations to the
queue's URL path (/000000000000/mytestqueue); message bodies are base64 on
the wire and decoded again by boto.
"""
import time

import boto.sqs
from boto.sqs.message import Message

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "secret"
REGION = "us-east-1"

print("Connecting to SQS")
conn = boto.sqs.connect_to_region(REGION, aws_access_key_id=ACCESS_KEY,
                                  aws_secret_access_key=SECRET_KEY)

queue_name = "mytestqueue"
print("Adding message to queue: " + queue_name)
q = conn.create_queue(queue_name)

# All queues (the lecture prints them).
queues = conn.get_all_queues()
print("Queues:", [x.name for x in queues])
assert queue_name in [x.name for x in queues], queues

# Write a message.
m = Message()
body = "This is a test message sent at %.3f" % time.time()
m.set_body(body)
status = q.write(m)
print("write ->", status.id)

# Read it back with a 60 s visibility timeout, then delete it.
got = None
for _ in range(10):
    got = q.read(60)
    if got is not None and got.get_body() == body:
        break
print("Message =", got.get_body())
assert got.get_body() == body, got.get_body()
assert q.delete_message(got)
print("OK")
