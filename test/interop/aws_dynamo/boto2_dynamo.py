"""boto 2 (boto.dynamodb, API 2011-12-05) beyond the lecture: query with
range conditions, scan with filters, conditional puts, updates (PUT/ADD/DELETE),
batch get/write, delete, pagination, error types. Prints OK at the end."""
import sys

import boto.dynamodb
from boto.dynamodb.condition import BETWEEN, GT, BEGINS_WITH, EQ
from boto.dynamodb.exceptions import (DynamoDBConditionalCheckFailedError,
                                      DynamoDBResponseError)

suffix = sys.argv[1]
conn = boto.dynamodb.connect_to_region("us-east-1", aws_access_key_id="AKIDEXAMPLE",
                                       aws_secret_access_key="secret")
schema = conn.create_schema(hash_key_name="dev", hash_key_proto_value=str,
                            range_key_name="seq", range_key_proto_value=int)
t = conn.create_table("b2-" + suffix, schema, 5, 5)
assert t.name == "b2-" + suffix and t.schema.range_key_name == "seq", t
assert ("b2-" + suffix) in conn.list_tables()

for i in range(12):
    t.new_item("d1", i, {"v": i * 10, "kind": "even" if i % 2 == 0 else "odd", "tags": set(["a"])}).put()
t.new_item("d2", 1, {"v": 5}).put()

# Query: numbers are ordered numerically (10 > 9), both directions.
got = [it["seq"] for it in t.query("d1", range_key_condition=GT(8))]
assert got == [9, 10, 11], got
got = [it["seq"] for it in t.query("d1", range_key_condition=BETWEEN(2, 4), scan_index_forward=False)]
assert got == [4, 3, 2], got
# Pagination with a small page size (boto follows LastEvaluatedKey).
got = [it["seq"] for it in t.query("d1", request_limit=5)]
assert got == list(range(12)), got

# Scan with a filter.
odd = sorted(it["seq"] for it in t.scan(scan_filter={"kind": EQ("odd")}))
assert odd == [1, 3, 5, 7, 9, 11], odd

# Conditional put: expected value mismatch.
item = t.new_item("d1", 0, {"v": 1})
try:
    item.put(expected_value={"v": 999})
    raise SystemExit("conditional put should have failed")
except DynamoDBConditionalCheckFailedError:
    pass
item.put(expected_value={"v": 0})

# Update: PUT, ADD to a number and a set, DELETE an attribute.
it = t.get_item("d1", 1)
it.put_attribute("note", "hello")
it.add_attribute("v", 5)
it.add_attribute("tags", set(["b"]))
it.delete_attribute("kind")
it.save()
it = t.get_item("d1", 1, consistent_read=True)
assert it["note"] == "hello" and it["v"] == 15 and it["tags"] == set(["a", "b"]) and "kind" not in it, dict(it)

# Batch get and batch write.
batch = conn.new_batch_list()
batch.add_batch(t, keys=[("d1", 2), ("d2", 1)])
res = conn.batch_get_item(batch)
vals = sorted(x["v"] for x in res["Responses"][t.name]["Items"])
assert vals == [5, 20], vals
bw = conn.new_batch_write_list()
bw.add_batch(t, puts=[t.new_item("d3", 1, {"v": 1})], deletes=[("d2", 1)])
conn.batch_write_item(bw)
assert t.has_item("d3", 1) and not t.has_item("d2", 1)

# Delete with a return value.
old = t.get_item("d3", 1).delete(return_values="ALL_OLD")
assert old["Attributes"]["v"] == 1, old

try:
    conn.get_table("missing-" + suffix)
    raise SystemExit("get_table should have failed")
except DynamoDBResponseError as e:
    assert "ResourceNotFoundException" in str(e), e

t.delete()
print("OK")
