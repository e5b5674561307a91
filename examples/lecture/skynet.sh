#!/bin/sh
# The lecture's SkyNet REST session (Box 8.41) run against Skyhub.
#
#   skyhub serve &            # or: SKYNET=http://host:port ./skynet.sh
#   ./examples/lecture/skynet.sh
#
# The lecture wrote "myuuid" where the server's generated uuid goes; this
# script captures the uuid from the register answer and uses it in the
# following commands, which are otherwise the lecture's own, unchanged.
# Output as seen on Skyhub: examples/lecture/skynet.out
set -eu
SKYNET=${SKYNET:-http://localhost:3000}

echo "# Creating a device"
reply=$(curl -s -X POST -d "name=mydevicename&token=mytoken&color=green" $SKYNET/devices)
echo "$reply"
myuuid=$(printf '%s' "$reply" | sed -n 's/.*"uuid":"\([^"]*\)".*/\1/p')

echo "# Listing devices"
curl -s $SKYNET/devices/$myuuid

echo "# Update a device"
curl -s -X PUT -d "token=mytoken&color=red" $SKYNET/devices/$myuuid

echo "# Subscribing to a device (stream kept open for 2 seconds)"
curl -s -N --max-time 2 "$SKYNET/subscribe/$myuuid?token=mytoken" > /tmp/skynet-subscribe.$$ &
sub=$!
sleep 0.5

echo "# Sending a message"
curl -s -X POST -d '{"devices": "'$myuuid'", "message": {"color": "red"}}' $SKYNET/messages

echo "# Get last 10 events for a device"
curl -s -X GET "$SKYNET/events/$myuuid?token=mytoken"

wait $sub || true
echo "# What the subscriber received"
cat /tmp/skynet-subscribe.$$
rm -f /tmp/skynet-subscribe.$$
