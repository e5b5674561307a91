"""The lecture's Amazon Kinesis code (boto 2), runnable against Skyhub.

Run with the boto config that points boto at Skyhub:
    BOTO_CONFIG=examples/lecture/boto.cfg /usr/bin/python3 examples/lecture/kinesis_boto2.py
(boto.cfg: [Boto] is_secure = False, proxy = 127.0.0.1, proxy_port = 4566).
A device writes sensor readings with put_record; a reader gets a shard
iterator and reads them back with get_records.
"""
import json
import time

import boto.kinesis
from boto.kinesis.exceptions import ResourceInUseException

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "secret"
STREAM = "lecture-sensor-stream"

conn = boto.kinesis.connect_to_region("us-east-1", aws_access_key_id=ACCESS_KEY,
                                      aws_secret_access_key=SECRET_KEY)
try:
    conn.create_stream(STREAM, 1)
except ResourceInUseException:
    pass  # already there from an earlier run
while conn.describe_stream(STREAM)["StreamDescription"]["StreamStatus"] != "ACTIVE":
    time.sleep(0.1)

# Producer: write sensor readings (partition key = device id).
first = None
for i in range(3):
    reading = json.dumps({"device": "dev1", "temperature": 20 + i, "ts": time.time()})
    res = conn.put_record(STREAM, reading, "dev1")
    print("put_record ->", res["ShardId"], res["SequenceNumber"])
    if first is None:
        first = res

# Consumer: shard iterator at the first record, then get_records.
shard_it = conn.get_shard_iterator(STREAM, first["ShardId"], "AT_SEQUENCE_NUMBER",
                                   first["SequenceNumber"])["ShardIterator"]
out = conn.get_records(shard_it, limit=10)
for rec in out["Records"]:
    print("get_records ->", rec["SequenceNumber"], rec["Data"])
temps = [json.loads(r["Data"])["temperature"] for r in out["Records"]]
assert temps[:3] == [20, 21, 22], temps
print("OK")
