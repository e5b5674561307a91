#!/bin/sh
# The AWS CLI v2 against Skyhub's Kinesis. Needs SKYHUB_AWS. Prints OK.
set -eu
A="/usr/bin/aws --endpoint-url $SKYHUB_AWS --region us-east-1 --output json"
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_PAGER=""
$A kinesis create-stream --stream-name cli-stream --shard-count 1
$A kinesis wait stream-exists --stream-name cli-stream
seq=$($A kinesis put-record --stream-name cli-stream --partition-key sensor-7 \
  --cli-binary-format raw-in-base64-out --data '{"temp":21.5}' --query SequenceNumber --output text)
it=$($A kinesis get-shard-iterator --stream-name cli-stream --shard-id shardId-000000000000 \
  --shard-iterator-type AT_SEQUENCE_NUMBER --starting-sequence-number "$seq" --query ShardIterator --output text)
data=$($A kinesis get-records --shard-iterator "$it" --query 'Records[0].Data' --output text)
got=$(printf %s "$data" | base64 -d)
[ "$got" = '{"temp":21.5}' ] || { echo "got $got" >&2; exit 1; }
# A missing stream is ResourceNotFoundException (exit status 254).
if $A kinesis describe-stream --stream-name missing 2>/tmp/skyhub-kin-cli.err; then exit 1; fi
grep -q ResourceNotFoundException /tmp/skyhub-kin-cli.err
$A kinesis delete-stream --stream-name cli-stream
echo OK
