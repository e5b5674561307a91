#!/bin/sh
# The AWS CLI against Skyhub's S3: s3 mb / cp / sync / ls / presign / rm
# and s3api errors, with --endpoint-url. AWS_CLI names the binary
# (/usr/bin/aws = Debian CLI v2, pyenv aws = CLI v1 on botocore 1.43).
# Needs SKYHUB_AWS and SUFFIX. Prints OK.
set -eu
A="$AWS_CLI --endpoint-url $SKYHUB_AWS --region us-east-1"
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_PAGER=""
B="cli-$SUFFIX"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
$A s3 mb "s3://$B" >/dev/null
mkdir -p "$W/src/sub" "$W/dst"
echo "reading 1" > "$W/src/a.txt"
echo "reading 2" > "$W/src/sub/b.txt"
head -c 9000000 /dev/urandom > "$W/src/big.bin"   # over 8 MiB: multipart
$A s3 cp "$W/src/a.txt" "s3://$B/single/a.txt" >/dev/null
$A s3 sync "$W/src" "s3://$B/synced" >/dev/null
$A s3 ls "s3://$B/synced/" > "$W/ls"
grep -q ' a.txt$' "$W/ls" && grep -q ' big.bin$' "$W/ls" && grep -q 'PRE sub/$' "$W/ls" || { cat "$W/ls" >&2; exit 1; }
n=$($A s3 ls --recursive "s3://$B/" | wc -l)
[ "$n" -eq 4 ] || { echo "recursive ls: $n" >&2; exit 1; }
# A second sync uploads nothing.
[ -z "$($A s3 sync "$W/src" "s3://$B/synced")" ] || { echo "second sync copied files" >&2; exit 1; }
$A s3 sync "s3://$B/synced" "$W/dst" >/dev/null
cmp "$W/src/big.bin" "$W/dst/big.bin" && cmp "$W/src/sub/b.txt" "$W/dst/sub/b.txt"
$A s3 cp "s3://$B/single/a.txt" "$W/back.txt" >/dev/null
cmp "$W/src/a.txt" "$W/back.txt"
url=$($A s3 presign "s3://$B/single/a.txt" --expires-in 300)
curl -sf "$url" | cmp - "$W/src/a.txt"
# Errors.
if $A s3api head-object --bucket "$B" --key nope 2>"$W/err"; then exit 1; fi
grep -q '404' "$W/err" || { cat "$W/err" >&2; exit 1; }
if $A s3api get-object --bucket "$B" --key nope "$W/x" 2>"$W/err"; then exit 1; fi
grep -q 'NoSuchKey' "$W/err" || { cat "$W/err" >&2; exit 1; }
if $A s3 rb "s3://$B" 2>"$W/err"; then exit 1; fi
grep -q 'BucketNotEmpty' "$W/err" || { cat "$W/err" >&2; exit 1; }
$A s3 rm --recursive "s3://$B/" >/dev/null
$A s3 rb "s3://$B" >/dev/null
echo OK
