"""boto3 against Skyhub's S3: buckets, objects, multipart (upload_file over
8 MiB), listing with a paginator, copy, tagging, versioning, presigned URLs,
batch delete, and exact error codes. Usage: boto3_s3.py ENDPOINT BUCKET.
Prints the boto3 version, then OK."""
import io
import os
import sys
import tempfile
import urllib.request

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, bucket = sys.argv[1], sys.argv[2]
print("boto3", boto3.__version__, "botocore", botocore.__version__)
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))

s3.create_bucket(Bucket=bucket)
assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]

s3.put_object(Bucket=bucket, Key="sensors/t1.csv", Body=b"1,21.5\n", ContentType="text/csv",
              Metadata={"device": "t1"})
obj = s3.get_object(Bucket=bucket, Key="sensors/t1.csv")
assert obj["Body"].read() == b"1,21.5\n" and obj["ContentType"] == "text/csv" and obj["Metadata"]["device"] == "t1", obj

# Multipart through the transfer manager (8 MiB threshold and parts).
path = os.path.join(tempfile.mkdtemp(), "big.bin")
blob = os.urandom(9 * 1024 * 1024 + 123)
with open(path, "wb") as f:
    f.write(blob)
s3.upload_file(path, bucket, "big.bin")
head = s3.head_object(Bucket=bucket, Key="big.bin")
assert head["ContentLength"] == len(blob) and head["ETag"].endswith('-2"'), head
buf = io.BytesIO()
s3.download_fileobj(bucket, "big.bin", buf)
assert buf.getvalue() == blob

# Listing with a paginator and a delimiter.
for i in range(7):
    s3.put_object(Bucket=bucket, Key="logs/%02d.txt" % i, Body=b"x")
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="logs/", PaginationConfig={"PageSize": 3}):
    keys += [o["Key"] for o in page.get("Contents", [])]
assert keys == ["logs/%02d.txt" % i for i in range(7)], keys
top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["logs/", "sensors/"], top
v1 = s3.list_objects(Bucket=bucket, Prefix="logs/", MaxKeys=2)
assert v1["IsTruncated"] and len(v1["Contents"]) == 2

# Copy and tagging.
s3.copy_object(Bucket=bucket, Key="copy.csv", CopySource={"Bucket": bucket, "Key": "sensors/t1.csv"})
s3.put_object_tagging(Bucket=bucket, Key="copy.csv", Tagging={"TagSet": [{"Key": "room", "Value": "lab"}]})
assert s3.get_object_tagging(Bucket=bucket, Key="copy.csv")["TagSet"] == [{"Key": "room", "Value": "lab"}]

# Presigned GET (boto3 signs these with SigV2 for a custom endpoint in us-east-1).
url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "copy.csv"}, ExpiresIn=300)
assert urllib.request.urlopen(url).read() == b"1,21.5\n"

# Browser form upload (PostObject) with a presigned POST policy.
post = s3.generate_presigned_post(bucket, "forms/${filename}", Fields={"success_action_status": "201"},
                                  Conditions=[["starts-with", "$key", "forms/"], {"success_action_status": "201"}], ExpiresIn=300)
boundary = "skyhubboundary"
parts = []
for k, v in post["fields"].items():
    parts.append('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary, k, v))
parts.append('--%s\r\nContent-Disposition: form-data; name="file"; filename="reading.txt"\r\nContent-Type: text/plain\r\n\r\n' % boundary)
form = "".join(parts).encode() + b"22.5\r\n" + ("\r\n--%s--\r\n" % boundary).encode()
req = urllib.request.Request(post["url"], data=form, method="POST",
                             headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
resp = urllib.request.urlopen(req)
assert resp.status == 201 and b"<Key>forms/reading.txt</Key>" in resp.read()
assert s3.get_object(Bucket=bucket, Key="forms/reading.txt")["Body"].read() == b"22.5\r\n"

# Versioning.
s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
a = s3.put_object(Bucket=bucket, Key="v.txt", Body=b"a")["VersionId"]
b = s3.put_object(Bucket=bucket, Key="v.txt", Body=b"b")["VersionId"]
assert a != b
assert s3.get_object(Bucket=bucket, Key="v.txt", VersionId=a)["Body"].read() == b"a"
vs = s3.list_object_versions(Bucket=bucket, Prefix="v.txt")["Versions"]
assert [v["VersionId"] for v in vs] == [b, a] and vs[0]["IsLatest"], vs

# Errors carry the exact S3 codes and statuses.
def code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("no error")

assert code(s3.get_object, Bucket=bucket, Key="missing") == ("NoSuchKey", 404)
assert code(s3.list_objects_v2, Bucket="no-such-bucket-xyz") == ("NoSuchBucket", 404)
assert code(s3.head_object, Bucket=bucket, Key="missing") == ("404", 404)
assert code(s3.delete_bucket, Bucket=bucket) == ("BucketNotEmpty", 409)

# Batch delete.
r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "logs/%02d.txt" % i} for i in range(7)]})
assert len(r["Deleted"]) == 7, r
assert s3.list_objects_v2(Bucket=bucket, Prefix="logs/")["KeyCount"] == 0
print("OK")
