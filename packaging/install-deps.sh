#!/usr/bin/env bash
# install-deps.sh - install, with apt, whatever attls needs to build, run its
# demo and pass its tests on Debian 12.  Idempotent: installs only what is
# missing, and runs `apt-get update` only when something is.
set -euo pipefail

PKGS=(
	# build
	make clang llvm libclang-rt-14-dev libbpf-dev bpftool libssl-dev libjson-c-dev libelf-dev
	zlib1g-dev pkg-config gcc libc6-dev
	# make asan-check: GCC's sanitizer runtimes
	libasan8 libubsan1
	# run, demo and tests
	openssl socat curl gnutls-bin python3 tcpdump iproute2 procps
	# zERT tests: the ssh client.  openssh-server is deliberately not
	# installed (it would start sshd on port 22 of the user's machine);
	# where it is present, tests/integration_zert.py also runs a private
	# sshd in its own netns, and a scripted SSH peer covers SSH always.
	openssh-client
	# benchmarks (make bench): the side-by-side baseline
	stunnel4
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root (apt-get install)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
