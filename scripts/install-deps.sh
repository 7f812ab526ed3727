#!/usr/bin/env bash
# Installs the Debian packages heracron needs to build, test and run its demo.
# Idempotent: packages already present are left alone; apt-get runs only when
# something is missing.  Needs root (or sudo) and the Debian archive.
set -euo pipefail

PKGS=(
  build-essential autoconf automake libtool pkg-config
  libev-dev libprotobuf-c-dev protobuf-c-compiler
  libmariadb-dev mariadb-server mariadb-client
  libesmtp-dev libssl-dev libcrypt-dev
  libinih-dev libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev
  libcmocka-dev valgrind clang-14 libclang-rt-14-dev
  python3-aiosmtpd procps iproute2 tzdata
  chromium chromium-driver python3-selenium
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
