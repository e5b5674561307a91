#!/bin/sh
# The AWS CLI against Skyhub's DynamoDB: create-table, put-item,
# batch-write-item, get-item, query, update-item, scan --select COUNT, an
# error, delete-table. Needs SKYHUB_AWS,
# AWS_CLI and SUFFIX. Prints OK.
set -eu
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
ddb() { "$AWS_CLI" --endpoint-url "$SKYHUB_AWS" --output json "$@"; }
T="cli-$SUFFIX"
ddb dynamodb create-table --table-name "$T" \
  --attribute-definitions AttributeName=dev,AttributeType=S AttributeName=ts,AttributeType=N \
  --key-schema AttributeName=dev,KeyType=HASH AttributeName=ts,KeyType=RANGE \
  --billing-mode PAY_PER_REQUEST > /dev/null
ddb dynamodb put-item --table-name "$T" --item '{"dev":{"S":"d1"},"ts":{"N":"2"},"temp":{"N":"22.50"}}'
ddb dynamodb batch-write-item --request-items "{\"$T\":[
  {\"PutRequest\":{\"Item\":{\"dev\":{\"S\":\"d1\"},\"ts\":{\"N\":\"1\"}}}},
  {\"PutRequest\":{\"Item\":{\"dev\":{\"S\":\"d1\"},\"ts\":{\"N\":\"3\"}}}},
  {\"PutRequest\":{\"Item\":{\"dev\":{\"S\":\"d1\"},\"ts\":{\"N\":\"10\"}}}}]}" > /dev/null
out=$(ddb dynamodb get-item --table-name "$T" --key '{"dev":{"S":"d1"},"ts":{"N":"2"}}' --query 'Item.temp.N' --output text)
[ "$out" = "22.5" ] || { echo "get-item: $out"; exit 1; }
out=$(ddb dynamodb query --table-name "$T" --key-condition-expression 'dev = :d AND ts >= :t' \
  --expression-attribute-values '{":d":{"S":"d1"},":t":{"N":"2"}}' --query 'Items[].ts.N' --output text)
[ "$(echo $out)" = "2 3 10" ] || { echo "query: $out"; exit 1; }
out=$(ddb dynamodb update-item --table-name "$T" --key '{"dev":{"S":"d1"},"ts":{"N":"1"}}' \
  --update-expression 'ADD hits :one' --expression-attribute-values '{":one":{"N":"1"}}' \
  --return-values UPDATED_NEW --query 'Attributes.hits.N' --output text)
[ "$out" = "1" ] || { echo "update-item: $out"; exit 1; }
out=$(ddb dynamodb scan --table-name "$T" --select COUNT --query Count --output text)
[ "$out" = "4" ] || { echo "scan count: $out"; exit 1; }
if ddb dynamodb get-item --table-name "no-such-$SUFFIX" --key '{"dev":{"S":"x"}}' 2> err.$$; then
  echo "get-item on a missing table succeeded"; exit 1
fi
grep -q ResourceNotFoundException err.$$ || { cat err.$$; rm -f err.$$; exit 1; }
rm -f err.$$
ddb dynamodb delete-table --table-name "$T" > /dev/null
echo OK
