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
	# FTP tests (tests/integration_ftp.py): an unmodified FTP server with
	# no TLS configuration and three FTPS clients.  The tests run their
	# own vsftpd in a private netns; the system service that the package
	# would start on port 21 is kept from starting (see below).
	vsftpd lftp
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

# vsftpd's package starts a cleartext FTP server on port 21 of this machine
# when installed.  A policy-rc.d that answers 101 ("action forbidden") keeps
# invoke-rc.d from starting it during the install (one that exists already
# is left alone); afterwards the service is disabled and masked where
# systemd runs, and its SysV links are disabled otherwise.  Only the tests'
# own vsftpd (a private netns, a test configuration) ever runs.
rcd_ours=0
if [[ " ${missing[*]} " == *" vsftpd "* ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\n# install-deps.sh: no service starts while installing\nexit 101\n' \
		>/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	rcd_ours=1
fi
rc=0
apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" || rc=$?
if [ "$rcd_ours" -eq 1 ]; then
	rm -f /usr/sbin/policy-rc.d
fi
if [[ " ${missing[*]} " == *" vsftpd "* ]]; then
	if [ -d /run/systemd/system ]; then
		systemctl disable --now vsftpd.service >/dev/null 2>&1 || true
		systemctl mask vsftpd.service >/dev/null 2>&1 || true
	elif command -v update-rc.d >/dev/null; then
		update-rc.d vsftpd disable >/dev/null 2>&1 || true
	fi
fi
exit "$rc"
