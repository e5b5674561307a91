// AWS JS SDK v3 (@aws-sdk/client-dynamodb) against Skyhub: create, put,
// get, query, conditional failure, batch write, delete. Usage:
// node jsv3.mjs <endpoint> <suffix>. Prints OK.
import {
  DynamoDBClient, CreateTableCommand, PutItemCommand, GetItemCommand, QueryCommand,
  BatchWriteItemCommand, DeleteTableCommand, ConditionalCheckFailedException, UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";

const [endpoint, suffix] = process.argv.slice(2);
const c = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } });
const T = "js-" + suffix;
const fail = (m) => { console.error(m); process.exit(1); };

await c.send(new CreateTableCommand({
  TableName: T, BillingMode: "PAY_PER_REQUEST",
  AttributeDefinitions: [{ AttributeName: "dev", AttributeType: "S" }, { AttributeName: "ts", AttributeType: "N" }],
  KeySchema: [{ AttributeName: "dev", KeyType: "HASH" }, { AttributeName: "ts", KeyType: "RANGE" }],
}));
const reqs = [];
for (let i = 0; i < 20; i++) reqs.push({ PutRequest: { Item: { dev: { S: "d" }, ts: { N: String(i) }, b: { B: new Uint8Array([i, 0, 255]) } } } });
await c.send(new BatchWriteItemCommand({ RequestItems: { [T]: reqs } }));
await c.send(new PutItemCommand({ TableName: T, Item: { dev: { S: "x" }, ts: { N: "1" }, m: { M: { l: { L: [{ S: "a" }, { NULL: true }] } } } } }));
const g = await c.send(new GetItemCommand({ TableName: T, Key: { dev: { S: "x" }, ts: { N: "1" } }, ConsistentRead: true, ReturnConsumedCapacity: "TOTAL" }));
if (g.Item.m.M.l.L[0].S !== "a" || g.Item.m.M.l.L[1].NULL !== true) fail("get: " + JSON.stringify(g.Item));
if (g.ConsumedCapacity.CapacityUnits !== 1) fail("capacity: " + JSON.stringify(g.ConsumedCapacity));
const q = await c.send(new QueryCommand({ TableName: T, KeyConditionExpression: "dev = :d AND ts > :t",
  ExpressionAttributeValues: { ":d": { S: "d" }, ":t": { N: "16" } } }));
if (q.Items.map((i) => i.ts.N).join(",") !== "17,18,19") fail("query: " + JSON.stringify(q.Items));
if (q.Items[0].b.B[0] !== 17 || q.Items[0].b.B[2] !== 255) fail("binary: " + JSON.stringify(q.Items[0].b));
try {
  await c.send(new UpdateItemCommand({ TableName: T, Key: { dev: { S: "x" }, ts: { N: "1" } },
    UpdateExpression: "SET v = :v", ConditionExpression: "attribute_not_exists(dev)",
    ExpressionAttributeValues: { ":v": { N: "1" } } }));
  fail("conditional update succeeded");
} catch (e) {
  if (!(e instanceof ConditionalCheckFailedException)) fail("wrong error: " + e.name + " " + e.message);
}
await c.send(new DeleteTableCommand({ TableName: T }));
console.log("OK");
