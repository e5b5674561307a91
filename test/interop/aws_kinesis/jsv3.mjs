// AWS JS SDK v3 against Skyhub's Kinesis over HTTP/2 (NodeHttp2Handler,
// h2c): records and SubscribeToShard (event stream). Prints OK.
import {
  KinesisClient, CreateStreamCommand, PutRecordCommand, GetShardIteratorCommand,
  GetRecordsCommand, RegisterStreamConsumerCommand, DescribeStreamConsumerCommand,
  SubscribeToShardCommand, DescribeStreamCommand, waitUntilStreamExists,
} from "@aws-sdk/client-kinesis";
import { NodeHttp2Handler } from "@smithy/node-http-handler";

const client = new KinesisClient({
  endpoint: process.env.SKYHUB_AWS, region: "us-east-1",
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
  requestHandler: new NodeHttp2Handler({ disableConcurrentStreams: false }),
  maxAttempts: 1,
});
const assert = (c, m) => { if (!c) throw new Error("assertion failed: " + m); };
const StreamName = "js-stream";
await client.send(new CreateStreamCommand({ StreamName, ShardCount: 1 }));
await waitUntilStreamExists({ client, minDelay: 1, maxWaitTime: 30 }, { StreamName });
const put = await client.send(new PutRecordCommand({ StreamName, PartitionKey: "d1", Data: new TextEncoder().encode("js-1") }));
const it = await client.send(new GetShardIteratorCommand({ StreamName, ShardId: put.ShardId, ShardIteratorType: "TRIM_HORIZON" }));
const got = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
assert(got.Records.length === 1 && new TextDecoder().decode(got.Records[0].Data) === "js-1", "GetRecords data");
assert(got.Records[0].ApproximateArrivalTimestamp instanceof Date &&
  Math.abs(got.Records[0].ApproximateArrivalTimestamp - Date.now()) < 60000, "arrival timestamp");
try {
  await client.send(new DescribeStreamCommand({ StreamName: "missing" }));
  throw new Error("no error");
} catch (e) { assert(e.name === "ResourceNotFoundException", "error name " + e.name); }

const d = await client.send(new DescribeStreamCommand({ StreamName }));
const reg = await client.send(new RegisterStreamConsumerCommand({ StreamARN: d.StreamDescription.StreamARN, ConsumerName: "js-efo" }));
for (let i = 0; i < 100; i++) {
  const c = await client.send(new DescribeStreamConsumerCommand({ ConsumerARN: reg.Consumer.ConsumerARN }));
  if (c.ConsumerDescription.ConsumerStatus === "ACTIVE") break;
  await new Promise((r) => setTimeout(r, 100));
}
const sub = await client.send(new SubscribeToShardCommand({
  ConsumerARN: reg.Consumer.ConsumerARN, ShardId: put.ShardId, StartingPosition: { Type: "TRIM_HORIZON" },
}));
let seen = [];
let pushed = false;
for await (const ev of sub.EventStream) {
  if (ev.SubscribeToShardEvent) {
    for (const r of ev.SubscribeToShardEvent.Records) seen.push(new TextDecoder().decode(r.Data));
    if (!pushed) {
      pushed = true;
      await client.send(new PutRecordCommand({ StreamName, PartitionKey: "d1", Data: new TextEncoder().encode("js-2") }));
    }
    if (seen.includes("js-2")) break;
  }
}
assert(seen[0] === "js-1" && seen.includes("js-2"), "subscribe saw " + JSON.stringify(seen));
client.destroy();
console.log("OK");
process.exit(0);
