"""The lecture's Amazon DynamoDB code (boto 2, boto.dynamodb), runnable against Skyhub.

Run with the boto config that points boto at Skyhub:
    BOTO_CONFIG=examples/lecture/boto.cfg /usr/bin/python3 examples/lecture/dynamodb_boto2.py
(boto.cfg: [Boto] is_secure = False, proxy = 127.0.0.1, proxy_port = 4566).
boto.dynamodb speaks the 2011-12-05 DynamoDB API; Skyhub serves it onto the
same tables as the 2012-08-10 API. The steps follow the lecture: connect,
create a schema (hash key + range key), create the table, get it, write an
item with new_item + put, and read it back with get_item.
"""
import time

import boto.dynamodb
from boto.dynamodb.exceptions import DynamoDBResponseError

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "secret"
TABLE = "lecture-sensor-readings"

conn = boto.dynamodb.connect_to_region("us-east-1", aws_access_key_id=ACCESS_KEY,
                                       aws_secret_access_key=SECRET_KEY)

# Schema: hash key = device id (string), range key = timestamp (string).
schema = conn.create_schema(hash_key_name="deviceId", hash_key_proto_value=str,
                            range_key_name="timestamp", range_key_proto_value=str)
try:
    table = conn.create_table(name=TABLE, schema=schema, read_units=1, write_units=1)
    print("created table", table.name)
except DynamoDBResponseError as e:
    if "ResourceInUseException" not in str(e):
        raise
    print("table exists")

table = conn.get_table(TABLE)
while table.status != "ACTIVE":
    time.sleep(0.1)
    table.refresh()
print("table", table.name, table.status, table.schema)

# Write a sensor reading.
ts = "2014-01-01 12:00:00"
item = table.new_item(hash_key="dev1", range_key=ts,
                      attrs={"temperature": 21, "humidity": 55.5, "location": "lab"})
item.put()

# Read it back.
got = table.get_item(hash_key="dev1", range_key=ts)
print("get_item ->", dict(got))
assert got["temperature"] == 21 and got["humidity"] == 55.5 and got["location"] == "lab"
print("OK")
