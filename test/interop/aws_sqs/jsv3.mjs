// The AWS JS SDK v3 (@aws-sdk/client-sqs, JSON 1.0) against Skyhub's SQS.
// The SDK verifies MD5OfMessageBody and MD5OfMessageAttributes on send and
// receive and fails the call on a mismatch. Needs SKYHUB_AWS and SUFFIX.
import {
  SQSClient, CreateQueueCommand, SendMessageCommand, SendMessageBatchCommand,
  ReceiveMessageCommand, DeleteMessageCommand, GetQueueAttributesCommand,
  DeleteQueueCommand, GetQueueUrlCommand, QueueDoesNotExist,
} from "@aws-sdk/client-sqs";
import assert from "node:assert/strict";

const sqs = new SQSClient({
  endpoint: process.env.SKYHUB_AWS, region: "us-east-1",
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
});
const name = "js-" + process.env.SUFFIX;
const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
assert.match(QueueUrl, new RegExp("/000000000000/" + name + "$"));

const sent = await sqs.send(new SendMessageCommand({
  QueueUrl, MessageBody: "héllo wörld ✓",
  MessageAttributes: {
    device: { DataType: "String", StringValue: "dev1" },
    reading: { DataType: "Number", StringValue: "21.5" },
    raw: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 255]) },
  },
}));
assert.ok(sent.MessageId && sent.MD5OfMessageAttributes);
const batch = await sqs.send(new SendMessageBatchCommand({
  QueueUrl, Entries: [
    { Id: "a", MessageBody: "one", MessageAttributes: { k: { DataType: "String", StringValue: "v" } } },
    { Id: "b", MessageBody: "two" }],
}));
assert.equal(batch.Successful.length, 2);

const got = [];
for (let i = 0; i < 10 && got.length < 3; i++) {
  const r = await sqs.send(new ReceiveMessageCommand({
    QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
    MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"],
  }));
  got.push(...(r.Messages ?? []));
}
assert.deepEqual(got.map((m) => m.Body).sort(), ["héllo wörld ✓", "one", "two"].sort());
const first = got.find((m) => m.MessageId === sent.MessageId);
assert.deepEqual([...first.MessageAttributes.raw.BinaryValue], [0, 1, 255]);
assert.equal(first.Attributes.ApproximateReceiveCount, "1");
for (const m of got) {
  await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
}
const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }));
assert.equal(a.Attributes.ApproximateNumberOfMessages, "0");
assert.equal(a.Attributes.ApproximateNumberOfMessagesNotVisible, "0");

await assert.rejects(sqs.send(new GetQueueUrlCommand({ QueueName: "missing-" + name })), (e) => {
  assert.ok(e instanceof QueueDoesNotExist, e.name);
  assert.equal(e.$metadata.httpStatusCode, 400);
  return true;
});
await sqs.send(new DeleteQueueCommand({ QueueUrl }));
console.log("OK");
