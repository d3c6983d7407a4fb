#!/usr/bin/env bash
# Starts Redis (6379) and Mosquitto (1883) on loopback when nothing answers there.
# The gateway itself does not need them; the tests use real servers.
set -uo pipefail

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! answers 6379; then
  echo "start-services: starting redis-server"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/cpgw-redis.log
fi
if ! answers 1883; then
  echo "start-services: starting mosquitto"
  mosquitto -d -p 1883 2>/dev/null || mosquitto -d -c /etc/mosquitto/mosquitto.conf
fi
for i in $(seq 1 50); do
  answers 6379 && answers 1883 && { echo "start-services: redis and mosquitto answer"; exit 0; }
  sleep 0.2
done
echo "start-services: redis or mosquitto did not come up" >&2
exit 1
