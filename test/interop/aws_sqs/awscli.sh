#!/bin/sh
# The AWS CLI against Skyhub's SQS: sqs create-queue / send-message /
# receive-message / delete-message with --endpoint-url. AWS_CLI names the
# binary (/usr/bin/aws = Debian CLI v2 2.9, query protocol; the pyenv aws =
# CLI v1 on botocore 1.43, JSON 1.0). Needs SKYHUB_AWS and SUFFIX. Prints OK.
set -eu
A="$AWS_CLI --endpoint-url $SKYHUB_AWS --region us-east-1 --output json"
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_PAGER=""
Q="cli-$SUFFIX"
url=$($A sqs create-queue --queue-name "$Q" --attributes VisibilityTimeout=30 --query QueueUrl --output text)
case "$url" in */000000000000/"$Q") ;; *) echo "bad url $url" >&2; exit 1 ;; esac
$A sqs list-queues --queue-name-prefix "$Q" --query 'QueueUrls[0]' --output text | grep -qx "$url"
id=$($A sqs send-message --queue-url "$url" --message-body 'temp=21.5' \
  --message-attributes '{"device":{"DataType":"String","StringValue":"dev1"}}' --query MessageId --output text)
out=$($A sqs receive-message --queue-url "$url" --message-attribute-names All --wait-time-seconds 1 \
  --query 'Messages[0].[MessageId,Body,MessageAttributes.device.StringValue,ReceiptHandle]' --output text)
set -- $out
[ "$1" = "$id" ] && [ "$2" = "temp=21.5" ] && [ "$3" = "dev1" ] || { echo "got $out" >&2; exit 1; }
$A sqs delete-message --queue-url "$url" --receipt-handle "$4"
n=$($A sqs get-queue-attributes --queue-url "$url" --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible \
  --query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' --output text)
[ "$(echo $n)" = "0 0" ] || { echo "counts $n" >&2; exit 1; }
# A missing queue is AWS.SimpleQueueService.NonExistentQueue.
if $A sqs get-queue-url --queue-name "missing-$Q" 2>/tmp/skyhub-sqs-cli-$SUFFIX.err; then exit 1; fi
grep -q 'AWS.SimpleQueueService.NonExistentQueue' /tmp/skyhub-sqs-cli-$SUFFIX.err
rm -f /tmp/skyhub-sqs-cli-$SUFFIX.err
$A sqs delete-queue --queue-url "$url"
echo OK
