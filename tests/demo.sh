#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# demo.sh - the README demo: an unmodified cleartext line service (socat)
# speaks TLS on the wire because attlsd protects its cgroup.
#
#   tests/demo.sh [BUILD_DIR]        (run as root; `make demo` runs it)
#
# Everything lives in its own network namespace and cgroup, so the host's
# own traffic is never touched, and everything is removed on exit.  Exits 0
# only if the TLS exchange really worked.
set -euo pipefail

OUT=${1:-.output}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ATTLSD=$(cd "$OUT" 2>/dev/null && pwd)/attlsd
POLICY=$ROOT/policy/samples/demo.policy
TAG=attls-demo-$$
NS=$TAG
ADDR=10.88.0.1
PIN_ROOT=/sys/fs/bpf/$TAG

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
in_ns() { nsenter --net="/run/netns/$NS" "$@"; }

[ "$(id -u)" -eq 0 ] || die "run as root (it creates a netns, a cgroup and BPF pins)"
[ -x "$ATTLSD" ] || die "$OUT/attlsd not built: run make"
[ -r "$POLICY" ] || die "$POLICY missing"
for t in ip nsenter openssl socat bpftool python3; do
	command -v "$t" >/dev/null || die "$t not installed (make deps)"
done

TMP=
CG=
ATTLSD_PID=
NS_MADE=
cleanup() {
	local rc=$?
	set +e
	step "cleaning up"
	if [ -n "$CG" ] && [ -d "$CG" ]; then
		# everything in the demo cgroup is ours: the socat services
		for pid in $(cat "$CG/cgroup.procs" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	fi
	if [ -n "$ATTLSD_PID" ] && kill -0 "$ATTLSD_PID" 2>/dev/null; then
		note "SIGTERM to attlsd (it detaches its programs and removes its pins)"
		kill -TERM "$ATTLSD_PID"
		for _ in $(seq 50); do
			kill -0 "$ATTLSD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$ATTLSD_PID" 2>/dev/null
		wait "$ATTLSD_PID" 2>/dev/null
	fi
	[ -x "$ATTLSD" ] && "$ATTLSD" --cleanup --pin-root "$PIN_ROOT" 2>/dev/null
	rm -f "/run/attls/$TAG.pid"
	if [ -n "$CG" ] && [ -d "$CG" ]; then
		for _ in $(seq 50); do
			rmdir "$CG" 2>/dev/null && break
			for pid in $(cat "$CG/cgroup.procs" 2>/dev/null); do
				kill -KILL "$pid" 2>/dev/null
			done
			sleep 0.1
		done
	fi
	[ -n "$NS_MADE" ] && ip netns del "$NS" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
	note "removed netns $NS, cgroup $CG, pins $PIN_ROOT and $TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
# A closed stdout (make demo | head) must not kill the script before its
# cleanup: ignore SIGPIPE, writes then just fail.
trap '' PIPE

step "finding cgroup v2 and bpffs"
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$CG2" ] || die "no cgroup v2 mount in /proc/mounts"
note "cgroup v2 is mounted at $CG2"
if ! awk '$2 == "/sys/fs/bpf" && $3 == "bpf" { f = 1 } END { exit !f }' /proc/mounts; then
	mount -t bpf bpf /sys/fs/bpf
	note "mounted bpffs at /sys/fs/bpf"
else
	note "bpffs is mounted at /sys/fs/bpf"
fi

step "creating network namespace $NS (the host's traffic is untouched)"
ip netns add "$NS"
NS_MADE=1
in_ns ip link set lo up
in_ns ip addr add "$ADDR/32" dev lo
note "lo up, service address $ADDR"

step "creating cgroup $CG2/$TAG (processes in it are protected)"
CG=$CG2/$TAG
mkdir "$CG"

step "generating a throwaway CA and server certificate (key ring attls/demo)"
TMP=$(mktemp -d "/tmp/$TAG.XXXXXX")
RING=$TMP/keyrings/attls/demo
mkdir -p "$RING" "$TMP/zert"
EC=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -batch -x509 "${EC[@]}" -keyout "$TMP/ca.key" -out "$TMP/ca.pem" \
	-days 1 -subj "/O=attls demo/CN=attls demo CA" \
	-addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -batch "${EC[@]}" -keyout "$RING/default.key" -out "$TMP/srv.csr" \
	-subj "/O=attls demo/CN=attls-demo-server" 2>/dev/null
chmod 600 "$RING/default.key"
printf '%s\n' "basicConstraints=critical,CA:FALSE" \
	"keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
	"subjectAltName=IP:$ADDR,DNS:localhost" >"$TMP/ext.cnf"
openssl x509 -req -in "$TMP/srv.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" \
	-CAcreateserial -days 1 -sha256 -extfile "$TMP/ext.cnf" \
	-out "$RING/default.pem" 2>/dev/null
note "$RING/default.pem: $(openssl x509 -in "$RING/default.pem" -noout -subject)"

step "starting the cleartext line service (socat) on ports 8023 and 8024, in the cgroup"
# The service knows nothing about TLS: it prints a banner and answers lines.
# (A script file: socat would split an inline command at ',' and ':'.)
cat >"$TMP/service.sh" <<'EOF_SERVICE'
echo "220 attls demo line service - cleartext socat on port $SOCAT_SOCKPORT"
while IFS= read -r l; do
	echo "you said: $l"
done
EOF_SERVICE
for port in 8023 8024; do
	setsid sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" \
		nsenter --net="/run/netns/$NS" \
		socat "TCP-LISTEN:$port,fork,reuseaddr" "SYSTEM:sh $TMP/service.sh" \
		</dev/null >>"$TMP/socat.log" 2>&1 &
	disown $!	# killed through the cgroup at exit: no job notices
done
for port in 8023 8024; do
	for _ in $(seq 50); do
		in_ns ss -Hltn "sport = :$port" | grep -q . && break
		sleep 0.1
	done
	in_ns ss -Hltn "sport = :$port" | grep -q . || die "socat did not listen on $port"
done
note "cgroup.procs: $(tr '\n' ' ' <"$CG/cgroup.procs")"

step "starting attlsd with $POLICY"
note "attlsd -d -f demo.policy --cgroup $CG --keyring-root $TMP/keyrings --zert-dir $TMP/zert --pin-root $PIN_ROOT"
# nsenter execs attlsd: $! is attlsd's own pid (a shell function would
# leave a subshell in between).
nsenter --net="/run/netns/$NS" "$ATTLSD" -d -f "$POLICY" --cgroup "$CG" --keyring-root "$TMP/keyrings" \
	--zert-dir "$TMP/zert" --pin-root "$PIN_ROOT" --threads 1 \
	</dev/null >"$TMP/attlsd.log" 2>&1 &
ATTLSD_PID=$!
for _ in $(seq 300); do
	grep -q 'ready:' "$TMP/attlsd.log" && break
	kill -0 "$ATTLSD_PID" 2>/dev/null || { cat "$TMP/attlsd.log" >&2; die "attlsd exited"; }
	sleep 0.1
done
grep -q 'ready:' "$TMP/attlsd.log" || { cat "$TMP/attlsd.log" >&2; die "attlsd not ready"; }
sed 's/^/    | /' "$TMP/attlsd.log"

step "TLS 1.3 client (openssl s_client, certificate checked against the demo CA) -> $ADDR:8023"
note "\$ openssl s_client -connect $ADDR:8023 -CAfile ca.pem -verify_return_error -verify_ip $ADDR -brief -nocommands"
{ printf 'hello over TLS\nsecond line\n'; sleep 1.5; } |
	timeout 20 nsenter --net="/run/netns/$NS" openssl s_client \
		-connect "$ADDR:8023" -CAfile "$TMP/ca.pem" -verify_return_error \
		-verify_ip "$ADDR" -brief -nocommands >"$TMP/tls.out" 2>"$TMP/tls.err" || true
grep -v -e '^DONE' -e "^Can't use SSL_get_servername" "$TMP/tls.err" | sed 's/^/    (s_client) /' || true
sed 's/^/    < /' "$TMP/tls.out"
TLS_OK=
if grep -q 'Protocol version: TLSv1.3' "$TMP/tls.err" &&
	grep -q 'Verification: OK' "$TMP/tls.err" &&
	grep -q '^220 attls demo line service' "$TMP/tls.out" &&
	grep -q '^you said: second line' "$TMP/tls.out"; then
	TLS_OK=1
	note "=> the socat service, which speaks only cleartext, answered over TLS 1.3"
else
	note "=> THE TLS EXCHANGE FAILED"
fi

step "a plain TCP client on the protected port 8023 gets no cleartext"
{ printf 'plain text line\n'; sleep 1; } |
	timeout 10 nsenter --net="/run/netns/$NS" socat -t 2 - "TCP:$ADDR:8023" 2>&1 |
	od -An -c | head -3 | sed 's/^/    < /' || true
note "(what comes back, if anything, is a TLS alert: the engine expected a ClientHello)"

step "port 8024 (rule DemoClearPort, TTLSEnabled Off) stays cleartext"
{ printf 'plain text line\n'; sleep 1; } |
	timeout 10 nsenter --net="/run/netns/$NS" socat -t 2 - "TCP:$ADDR:8024" 2>&1 |
	sed 's/^/    < /' || true

step "what attlsd logged about the connections"
grep -E 'ATTLS128' "$TMP/attlsd.log" | sed 's/^/    | /' || note "(no connection messages)"

step "zERT records ($TMP/zert/zert.ndjson)"
sleep 0.5
if [ -s "$TMP/zert/zert.ndjson" ]; then
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		printf '    --- record %d\n' "$n"
		printf '%s\n' "$line" | python3 -m json.tool | sed 's/^/    /'
	done <"$TMP/zert/zert.ndjson"
else
	note "(no zERT records were written)"
fi

step "the BPF side: programs and cgroup attachments"
bpftool prog show | grep -E '^[0-9]+: .* name attls' | sed 's/^/    /' || true
bpftool cgroup tree "$CG" | sed 's/^/    /'
note "pins: $(ls "$PIN_ROOT" 2>/dev/null | tr '\n' ' ')"

if [ -n "$TLS_OK" ]; then
	step "demo OK"
	exit 0
fi
step "demo FAILED: the TLS exchange did not work (attlsd log above)"
exit 1
