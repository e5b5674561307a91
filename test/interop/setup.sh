#!/usr/bin/env bash
# Installs the real third-party clients the interop tests drive, when missing:
# Debian packages (curl, boto 2, boto3, the AWS CLI, autobahn-python) and the
# npm packages pinned in test/interop/package.json. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")"

debs=(curl python3-boto python3-boto3 awscli python3-autobahn python3-msgpack python3-cbor2)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "interop: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package.json -nt node_modules/.installed ] || [ ! -f node_modules/.installed ]; then
  echo "interop: installing npm packages"
  npm install --no-audit --no-fund --loglevel=error >/dev/null
  touch node_modules/.installed
fi
