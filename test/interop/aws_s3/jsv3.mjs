// The AWS JS SDK v3 (@aws-sdk/client-s3) against Skyhub's S3. A Buffer body
// is sent signed with a CRC32 header checksum; a stream body is sent as
// aws-chunked with a trailing checksum even over plain HTTP. Needs
// SKYHUB_AWS and SUFFIX. Prints OK.
import {
  S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, DeleteObjectCommand, CreateMultipartUploadCommand, UploadPartCommand,
  CompleteMultipartUploadCommand, NoSuchKey, DeleteBucketCommand, PutBucketCorsCommand,
  GetBucketCorsCommand,
} from "@aws-sdk/client-s3";
import { Readable } from "node:stream";
import assert from "node:assert/strict";

const s3 = new S3Client({
  endpoint: process.env.SKYHUB_AWS, region: "us-east-1", forcePathStyle: true,
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
});
const Bucket = "js-" + process.env.SUFFIX;
await s3.send(new CreateBucketCommand({ Bucket }));

const put = await s3.send(new PutObjectCommand({ Bucket, Key: "buf.txt", Body: Buffer.from("héllo ✓"), ContentType: "text/plain" }));
assert.ok(put.ETag && put.ChecksumCRC32, JSON.stringify(put));

const big = Buffer.alloc(300 * 1024, 7);
await s3.send(new PutObjectCommand({ Bucket, Key: "stream.bin", Body: Readable.from([big.subarray(0, 100000), big.subarray(100000)]), ContentLength: big.length }));
const got = await s3.send(new GetObjectCommand({ Bucket, Key: "stream.bin", ChecksumMode: "ENABLED" }));
assert.deepEqual(Buffer.from(await got.Body.transformToByteArray()), big);

const txt = await s3.send(new GetObjectCommand({ Bucket, Key: "buf.txt" }));
assert.equal(await txt.Body.transformToString(), "héllo ✓");
assert.equal(txt.ContentType, "text/plain");

const mp = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: "mp.bin" }));
const p1 = Buffer.alloc(5 * 1024 * 1024, 1), p2 = Buffer.from("end");
const e1 = await s3.send(new UploadPartCommand({ Bucket, Key: "mp.bin", UploadId: mp.UploadId, PartNumber: 1, Body: p1 }));
const e2 = await s3.send(new UploadPartCommand({ Bucket, Key: "mp.bin", UploadId: mp.UploadId, PartNumber: 2, Body: p2 }));
const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: "mp.bin", UploadId: mp.UploadId,
  MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] } }));
assert.match(done.ETag, /-2"$/);
const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "mp.bin" }));
assert.equal(head.ContentLength, p1.length + p2.length);

const list = await s3.send(new ListObjectsV2Command({ Bucket }));
assert.deepEqual(list.Contents.map((o) => o.Key), ["buf.txt", "mp.bin", "stream.bin"]);

await s3.send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ["*"], AllowedMethods: ["GET"] }] } }));
const cors = await s3.send(new GetBucketCorsCommand({ Bucket }));
assert.deepEqual(cors.CORSRules[0].AllowedMethods, ["GET"]);

await assert.rejects(s3.send(new GetObjectCommand({ Bucket, Key: "missing" })), (e) => e instanceof NoSuchKey && e.$metadata.httpStatusCode === 404);
await assert.rejects(s3.send(new DeleteBucketCommand({ Bucket })), (e) => e.name === "BucketNotEmpty" && e.$metadata.httpStatusCode === 409);
for (const Key of ["buf.txt", "mp.bin", "stream.bin"]) await s3.send(new DeleteObjectCommand({ Bucket, Key }));
await s3.send(new DeleteBucketCommand({ Bucket }));
console.log("OK");
