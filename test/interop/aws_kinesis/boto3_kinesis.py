"""boto3 against Skyhub's Kinesis: the control plane, records, resharding,
tags, consumers and error codes. Prints OK on success; any failed check
raises. Endpoint from SKYHUB_AWS (http://127.0.0.1:port)."""
import datetime
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ep = os.environ["SKYHUB_AWS"]
k = boto3.client("kinesis", endpoint_url=ep, region_name="us-east-1",
                 aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                 config=Config(retries={"max_attempts": 0}))


def code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"]
    raise AssertionError("no error from %s" % fn)


name = "boto3-stream"
k.create_stream(StreamName=name, ShardCount=2)
assert code(k.create_stream, StreamName=name, ShardCount=1) == "ResourceInUseException"
k.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
d = k.describe_stream(StreamName=name)["StreamDescription"]
assert d["StreamStatus"] == "ACTIVE" and len(d["Shards"]) == 2, d
assert d["Shards"][1]["HashKeyRange"]["StartingHashKey"] == str(2**127), d["Shards"][1]
assert d["Shards"][1]["HashKeyRange"]["EndingHashKey"] == str(2**128 - 1)

r = k.put_record(StreamName=name, Data=b"hello \x00\xff", PartitionKey="dev1")
# md5("dev1") >= 2^127, so it lands on the second shard.
assert r["ShardId"] == "shardId-000000000001", r
before = datetime.datetime.now(datetime.timezone.utc)
pr = k.put_records(StreamName=name, Records=[{"Data": b"r%d" % i, "PartitionKey": "dev1"} for i in range(10)])
assert pr["FailedRecordCount"] == 0 and len(pr["Records"]) == 10

it = k.get_shard_iterator(StreamName=name, ShardId="shardId-000000000001",
                          ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=r["SequenceNumber"])["ShardIterator"]
got = k.get_records(ShardIterator=it, Limit=100)
recs = got["Records"]
assert [x["Data"] for x in recs] == [b"hello \x00\xff"] + [b"r%d" % i for i in range(10)], recs
ts = recs[1]["ApproximateArrivalTimestamp"]
assert abs((ts - before).total_seconds()) < 60, ts  # seconds, not milliseconds
assert int(recs[0]["SequenceNumber"]) < int(recs[1]["SequenceNumber"])
assert got["MillisBehindLatest"] == 0 and got["NextShardIterator"]

it2 = k.get_shard_iterator(StreamName=name, ShardId="shardId-000000000001", ShardIteratorType="AT_TIMESTAMP",
                           Timestamp=recs[5]["ApproximateArrivalTimestamp"])["ShardIterator"]
assert len(k.get_records(ShardIterator=it2)["Records"]) >= 1

assert code(k.describe_stream, StreamName="nope") == "ResourceNotFoundException"
assert code(k.get_records, ShardIterator="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") == "InvalidArgumentException"
assert code(k.get_shard_iterator, StreamName=name, ShardId="shardId-000000000000",
            ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=r["SequenceNumber"]) == "InvalidArgumentException"
assert code(k.get_shard_iterator, StreamName=name, ShardId="shardId-000000000000",
            ShardIteratorType="LATEST", StartingSequenceNumber=r["SequenceNumber"]) == "InvalidArgumentException"

shards = k.list_shards(StreamName=name, MaxResults=1)
assert len(shards["Shards"]) == 1 and shards["NextToken"]
rest = k.list_shards(NextToken=shards["NextToken"])
assert [s["ShardId"] for s in rest["Shards"]] == ["shardId-000000000001"], rest

k.add_tags_to_stream(StreamName=name, Tags={"env": "lab", "owner": "me"})
k.remove_tags_from_stream(StreamName=name, TagKeys=["owner"])
assert k.list_tags_for_stream(StreamName=name)["Tags"] == [{"Key": "env", "Value": "lab"}]
k.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
assert k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["RetentionPeriodHours"] == 48
assert code(k.decrease_stream_retention_period, StreamName=name, RetentionPeriodHours=72) == "InvalidArgumentException"

k.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**126))
assert k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] in ("UPDATING", "ACTIVE")
k.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
latest = k.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]
assert sorted(s["ShardId"] for s in latest) == ["shardId-000000000001", "shardId-000000000002", "shardId-000000000003"], latest
assert all(s.get("ParentShardId") == "shardId-000000000000" for s in latest if s["ShardId"] != "shardId-000000000001")

arn = d["StreamARN"]
c = k.register_stream_consumer(StreamARN=arn, ConsumerName="app1")["Consumer"]
assert c["ConsumerStatus"] in ("CREATING", "ACTIVE")
assert [x["ConsumerName"] for x in k.list_stream_consumers(StreamARN=arn)["Consumers"]] == ["app1"]
assert code(k.delete_stream, StreamName=name) == "ResourceInUseException"
k.deregister_stream_consumer(ConsumerARN=c["ConsumerARN"])

lim = k.describe_limits()
assert lim["OpenShardCount"] >= 3 and lim["ShardLimit"] > 0
k.delete_stream(StreamName=name)
k.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
print("OK")
