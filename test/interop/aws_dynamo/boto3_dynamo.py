"""boto3 against Skyhub's DynamoDB: the resource and client APIs, GSI, LSI,
conditions, updates, transactions, TTL, streams, PartiQL. Usage:
boto3_dynamo.py <endpoint> <suffix>. Prints the botocore version, then OK."""
import sys
import time
from decimal import Decimal

import boto3
import botocore
from boto3.dynamodb.conditions import Attr, Key

endpoint, suffix = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=endpoint, region_name="us-east-1",
          aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
ddb = boto3.resource("dynamodb", **kw)
client = boto3.client("dynamodb", **kw)
streams = boto3.client("dynamodbstreams", **kw)
print("botocore", botocore.__version__)

name = "b3-" + suffix
table = ddb.create_table(
    TableName=name,
    KeySchema=[{"AttributeName": "dev", "KeyType": "HASH"}, {"AttributeName": "ts", "KeyType": "RANGE"}],
    AttributeDefinitions=[{"AttributeName": "dev", "AttributeType": "S"},
                          {"AttributeName": "ts", "AttributeType": "N"},
                          {"AttributeName": "site", "AttributeType": "S"},
                          {"AttributeName": "temp", "AttributeType": "N"}],
    GlobalSecondaryIndexes=[{"IndexName": "by-site",
                             "KeySchema": [{"AttributeName": "site", "KeyType": "HASH"},
                                           {"AttributeName": "ts", "KeyType": "RANGE"}],
                             "Projection": {"ProjectionType": "KEYS_ONLY"}}],
    LocalSecondaryIndexes=[{"IndexName": "by-temp",
                            "KeySchema": [{"AttributeName": "dev", "KeyType": "HASH"},
                                          {"AttributeName": "temp", "KeyType": "RANGE"}],
                            "Projection": {"ProjectionType": "ALL"}}],
    BillingMode="PAY_PER_REQUEST",
    StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
)
table.wait_until_exists()

with table.batch_writer() as bw:
    for i in range(30):
        bw.put_item(Item={"dev": "d%d" % (i % 3), "ts": i, "site": "s%d" % (i % 2),
                          "temp": Decimal(str(20 + i / 4)), "data": {"raw": [i, "x"], "ok": True}})

r = table.query(KeyConditionExpression=Key("dev").eq("d0") & Key("ts").between(3, 12))
assert [int(x["ts"]) for x in r["Items"]] == [3, 6, 9, 12], r["Items"]
r = table.query(KeyConditionExpression=Key("dev").eq("d1"), ScanIndexForward=False, Limit=2)
assert [int(x["ts"]) for x in r["Items"]] == [28, 25] and "LastEvaluatedKey" in r, r
r = table.query(IndexName="by-site", KeyConditionExpression=Key("site").eq("s1") & Key("ts").lt(6))
assert [int(x["ts"]) for x in r["Items"]] == [1, 3, 5] and set(r["Items"][0]) == {"dev", "ts", "site"}, r["Items"]
r = table.query(IndexName="by-temp", KeyConditionExpression=Key("dev").eq("d2") & Key("temp").gt(26))
assert [int(x["ts"]) for x in r["Items"]] == [26, 29], r["Items"]
r = table.scan(FilterExpression=Attr("data.raw[0]").gte(27) & Attr("site").eq("s0"), ProjectionExpression="ts, #d.ok",
               ExpressionAttributeNames={"#d": "data"})
assert sorted(int(x["ts"]) for x in r["Items"]) == [28] and r["Items"][0]["data"] == {"ok": True}, r

# Conditions and updates.
try:
    table.put_item(Item={"dev": "d0", "ts": 0}, ConditionExpression="attribute_not_exists(dev)")
    raise SystemExit("expected ConditionalCheckFailedException")
except client.exceptions.ConditionalCheckFailedException:
    pass
u = table.update_item(Key={"dev": "d0", "ts": 0},
                      UpdateExpression="SET #n = if_not_exists(#n, :z) + :one, tags = :t REMOVE site ADD hits :one",
                      ExpressionAttributeNames={"#n": "count"},
                      ExpressionAttributeValues={":z": 0, ":one": 1, ":t": {"a", "b"}},
                      ReturnValues="ALL_NEW")["Attributes"]
assert u["count"] == 1 and u["hits"] == 1 and u["tags"] == {"a", "b"} and "site" not in u, u
r = table.query(IndexName="by-site", KeyConditionExpression=Key("site").eq("s0") & Key("ts").eq(0))
assert r["Count"] == 0, "index entry must go when site is removed"

# Transactions.
client.transact_write_items(TransactItems=[
    {"Put": {"TableName": name, "Item": {"dev": {"S": "tx"}, "ts": {"N": "1"}}}},
    {"Update": {"TableName": name, "Key": {"dev": {"S": "d0"}, "ts": {"N": "0"}},
                "UpdateExpression": "SET #n = #n + :one", "ExpressionAttributeNames": {"#n": "count"},
                "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
try:
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": name, "Item": {"dev": {"S": "tx"}, "ts": {"N": "2"}}}},
        {"ConditionCheck": {"TableName": name, "Key": {"dev": {"S": "tx"}, "ts": {"N": "1"}},
                            "ConditionExpression": "attribute_not_exists(dev)"}}])
    raise SystemExit("expected TransactionCanceledException")
except client.exceptions.TransactionCanceledException as e:
    codes = [x["Code"] for x in e.response["CancellationReasons"]]
    assert codes == ["None", "ConditionalCheckFailed"], codes
assert "Item" not in client.get_item(TableName=name, Key={"dev": {"S": "tx"}, "ts": {"N": "2"}})

# TTL and tags.
client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
assert client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
arn = client.describe_table(TableName=name)["Table"]["TableArn"]
client.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"}])
assert client.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "test"}]

# PartiQL.
client.execute_statement(Statement="INSERT INTO \"%s\" VALUE {'dev': 'pq', 'ts': 1, 'v': ?}" % name,
                         Parameters=[{"S": "one"}])
r = client.execute_statement(Statement="SELECT v FROM \"%s\" WHERE dev = 'pq' AND ts = 1" % name)
assert r["Items"] == [{"v": {"S": "one"}}], r

# Streams: every change is a record, in order.
sarn = client.describe_table(TableName=name)["Table"]["LatestStreamArn"]
desc = streams.describe_stream(StreamArn=sarn)["StreamDescription"]
shard = desc["Shards"][0]["ShardId"]
it = streams.get_shard_iterator(StreamArn=sarn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
recs = []
while it and len(recs) < 33:
    out = streams.get_records(ShardIterator=it, Limit=10)
    recs += out["Records"]
    it = out.get("NextShardIterator")
    if not out["Records"]:
        break
names = [r["eventName"] for r in recs]
assert names[:30] == ["INSERT"] * 30 and names[30] == "MODIFY", names
mod = recs[30]["dynamodb"]
assert mod["OldImage"]["site"] == {"S": "s0"} and "site" not in mod["NewImage"], mod
seqs = [r["dynamodb"]["SequenceNumber"] for r in recs]
assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

table.delete()
print("OK")
