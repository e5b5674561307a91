"""The lecture's Amazon S3 code (boto 2): the "thing tank" upload functions.

Run against Skyhub with the boto config that sends boto through Skyhub:
    BOTO_CONFIG=examples/lecture/boto.cfg /usr/bin/python3 examples/lecture/s3_boto2.py
boto 2 talks to mybucket.s3.amazonaws.com (virtual-host style), signs with
SigV2 ("AWS AKID:signature"), sends Content-MD5 and Expect: 100-Continue, and
reports progress through the callback. The lecture's two functions are below
as the lecture has them; the bucket is created first (the lecture assumes it
exists) and the uploads are read back to show they arrived.
"""
import os
import sys
import tempfile

import boto
import boto.s3

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "secret"
BUCKET = sys.argv[1] if len(sys.argv) > 1 else "mybucket2013"

conn = boto.connect_s3(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


def percent_cb(complete, total):
    sys.stdout.write(".")
    sys.stdout.flush()


def upload_to_s3_bucket_path(bucketname, path, filename):
    mybucket = conn.get_bucket(bucketname)
    fullkeyname = os.path.join(path, filename)
    key = mybucket.new_key(fullkeyname)
    key.set_contents_from_filename(filename, cb=percent_cb, num_cb=10)


def upload_to_s3_bucket_root(bucketname, filename):
    mybucket = conn.get_bucket(bucketname)
    key = mybucket.new_key(filename)
    key.set_contents_from_filename(filename, cb=percent_cb, num_cb=10)


# Setup: a bucket and a sensor-data file to upload.
conn.create_bucket(BUCKET)
os.chdir(tempfile.mkdtemp())
filename = "sensor.txt"
data = "".join("%d,temperature,%0.1f\n" % (i, 20 + i / 10.0) for i in range(2000))
with open(filename, "w") as f:
    f.write(data)

upload_to_s3_bucket_path(BUCKET, "data", filename)
upload_to_s3_bucket_root(BUCKET, filename)
print()

# Read both back.
bucket = conn.get_bucket(BUCKET)
for name in ("data/sensor.txt", "sensor.txt"):
    got = bucket.get_key(name).get_contents_as_string().decode()
    assert got == data, (name, len(got))
    print("uploaded", name, len(got), "bytes")
names = sorted(k.name for k in bucket.list())
assert names == ["data/sensor.txt", "sensor.txt"], names
print("OK")
