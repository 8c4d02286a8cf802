#!/usr/bin/env bash
# Installs what the interop suites (interop/) need from Debian: RabbitMQ (the
# reference broker, run privately per test file), pika, Go + amqp091-go,
# kombu (+ py-amqp), Ruby + Bunny, PHP CLI + php-amqplib, Prometheus
# (prometheus + promtool, for interop/metrics.test.ts) and
# chromium-headless-shell (the web UI suite drives it with puppeteer-core).
# Idempotent: does nothing when everything is already installed.
# Leaves no system RabbitMQ node / epmd running.
set -euo pipefail

PACKAGES=(
  rabbitmq-server
  python3-pika
  golang-go
  golang-github-rabbitmq-amqp091-go-dev
  python3-kombu
  python3-amqp
  ruby
  ruby-bunny
  php-cli
  php-mbstring
  php-amqplib
  prometheus
  chromium-headless-shell
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-test-deps: all present (${PACKAGES[*]})"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
    echo "install-test-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
fi

# Keep the packages' maintainer scripts from starting a system rabbitmq-server
# (and with it epmd on 4369): a policy-rc.d that forbids service starts, only
# for the duration of this install and only if none exists already.
POLICY=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  own_policy=1
fi
cleanup() { if [ "$own_policy" = 1 ]; then "${SUDO[@]}" rm -f "$POLICY"; fi; }
trap cleanup EXIT

epmd_before=0
if command -v epmd >/dev/null 2>&1 && epmd -names >/dev/null 2>&1; then epmd_before=1; fi

echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"

# Belt and braces: if a system node was started anyway (no policy-rc.d
# honoured, systemd), stop it by its service, and its epmd.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet rabbitmq-server 2>/dev/null; then
  "${SUDO[@]}" systemctl stop rabbitmq-server || true
  "${SUDO[@]}" systemctl disable rabbitmq-server >/dev/null 2>&1 || true
elif command -v service >/dev/null 2>&1 && service rabbitmq-server status >/dev/null 2>&1; then
  "${SUDO[@]}" service rabbitmq-server stop || true
fi
if [ "$epmd_before" = 0 ] && command -v epmd >/dev/null 2>&1 && epmd -names >/dev/null 2>&1; then
  # Only a default-port epmd this install started; our tests use their own.
  "${SUDO[@]}" epmd -kill >/dev/null 2>&1 || true
fi
echo "install-test-deps: done"
