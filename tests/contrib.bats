#!/usr/bin/env bats
# contrib/: the systemd units and table drop-ins an administrator copies.
# Every unit passes systemd-analyze verify as it is, every table passes
# portbind --check, and the DNS and web units' own ExecStart= lines serve
# real clients through unbound and lighttpd, which never run as root.
#
# The units name /usr/local/bin/portbind and /usr/local/sbin/portbind-guard,
# where `make install` puts them. Inside a private mount namespace the
# test's private prefix is mounted on /usr/local, as `make install
# PREFIX=/usr/local` would leave it, so the unit files are checked and run
# unchanged; the host's /usr/local, /etc and the other paths covered here
# are not touched. The guard's units are verified, not started: started
# unchanged, they would attach to the root cgroup of this machine.
load lib

CONTRIB=$BATS_TEST_DIRNAME/../contrib
SYSTEM_UNITS=(portbind-dns.service portbind-web.service portbind-guard.service
	portbind-guard-reload.service portbind-guard.path)
USER_UNITS=(portbind-user@.service)
TABLES=(dns.conf web.conf user.conf)

setup() {
	table </dev/null
	bgpids=()
}

teardown() {
	kill_bgpids
}

# Run the bash script $1 (with "$@" after it) in a private mount namespace
# in which the installed test prefix is /usr/local. It execs: use it with
# `run`, or in the background (bg_as root), where $bg is then the pid of
# what the script execs in the end.
as_installed() {
	local script=$1
	shift
	PB_PREFIX=$PB_PREFIX exec unshare -m -- bash -c '
		set -e
		mount --bind "$PB_PREFIX" /usr/local
		set +e
		script=$1
		shift
		eval "$script"' _ "$script" "$@"
}

# The words of the unit's KEY= line ($2, e.g. ExecStart), as systemd splits
# a line without quotes, into the array cmd; the prefix "-" is dropped.
unit_command() {
	local line
	line=$(sed -n "s/^$2=//p" "$CONTRIB/$1")
	[ -n "$line" ] && [ "$(grep -c "^$2=" "$CONTRIB/$1")" = 1 ] || fail "$1: one $2= line expected"
	read -r -a cmd <<<"${line#-}"
}

# The status line KEY ($2: Uid, CapEff, ...) of process $1, fields only.
proc_status() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s '[:space:]' ' ' | sed 's/ $//'
}

# Process $1 runs as user $2 with every capability set empty.
expect_unprivileged() {
	local uid c
	uid=$(id -u "$2")
	[ "$(proc_status "$1" Uid)" = "$uid $uid $uid $uid" ] || fail "uid of $1: $(proc_status "$1" Uid)"
	for c in CapInh CapPrm CapEff CapBnd CapAmb; do
		[ "$(proc_status "$1" "$c")" = 0000000000000000 ] || fail "$c of $1: $(proc_status "$1" "$c")"
	done
}

# A DNS query for NAME ($4) type A to HOST ($1) PORT ($2) over udp/tcp ($3);
# prints "rcode=N answer=ADDRESS" (the last A record) or "rcode=N answer=-".
dns_query() {
	python3 - "$@" <<'PY'
import socket, struct, sys
host, port, proto, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
q = struct.pack(">HHHHHH", 0x5042, 0x0100, 1, 0, 0, 0)
for label in name.rstrip(".").split("."):
    q += bytes([len(label)]) + label.encode()
q += b"\0" + struct.pack(">HH", 1, 1)
family = socket.AF_INET6 if ":" in host else socket.AF_INET
if proto == "udp":
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(q, (host, port))
    r = s.recv(65535)
else:
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(struct.pack(">H", len(q)) + q)
    n = struct.unpack(">H", s.recv(2))[0]
    r = b""
    while len(r) < n:
        chunk = s.recv(n - len(r))
        if not chunk:
            sys.exit("connection closed after %d of %d bytes" % (len(r), n))
        r += chunk
answers = struct.unpack(">H", r[6:8])[0]
print("rcode=%d answer=%s" % (r[3] & 15, socket.inet_ntoa(r[-4:]) if answers else "-"))
PY
}

# GET / over HTTPS from HOST ($1) port 443, certificate not verified;
# prints the first line of the body.
https_get() {
	python3 - "$1" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with socket.create_connection((sys.argv[1], 443), timeout=5) as raw:
    with ctx.wrap_socket(raw) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
print(data.split(b"\r\n\r\n", 1)[1].decode().splitlines()[0])
PY
}

# GET / over plain HTTP from HOST ($1) port $2; the first line of the body.
http_get() {
	local c body
	exec {c}<>"/dev/tcp/$1/$2" || return 1
	printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' >&"$c"
	body=$(timeout 5 cat <&"$c")
	exec {c}>&-
	body=${body#*$'\r\n\r\n'}
	printf '%s\n' "${body%%$'\n'*}"
}

@test "every unit in contrib/ is one of those this suite verifies" {
	local f name
	for f in "$CONTRIB"/*.service "$CONTRIB"/*.path; do
		name=${f##*/}
		[[ " ${SYSTEM_UNITS[*]} ${USER_UNITS[*]} " == *" $name "* ]] || fail "$name is not verified by this suite"
	done
}

@test "the system units pass systemd-analyze verify, unchanged, with portbind installed where they say" {
	local u
	for u in "${SYSTEM_UNITS[@]}"; do
		run as_installed 'cd "$1" && systemd-analyze verify "./$2"' "$CONTRIB" "$u"
		expect_status 0
		[ -z "$output" ] || fail "$u: systemd-analyze verify should print nothing"
	done
}

@test "the user unit passes systemd-analyze --user verify, unchanged" {
	local u
	for u in "${USER_UNITS[@]}"; do
		run as_installed 'cd "$1" && XDG_RUNTIME_DIR=$3 systemd-analyze --user verify "./$2"' \
			"$CONTRIB" "$u" "$BATS_TEST_TMPDIR"
		expect_status 0
		[ -z "$output" ] || fail "$u: systemd-analyze --user verify should print nothing"
	done
}

@test "verify fails where portbind is not installed (the check is real)" {
	run as_installed 'mount -t tmpfs -o mode=0755 pbtbin /usr/local/bin && cd "$1" && systemd-analyze verify ./portbind-web.service' "$CONTRIB"
	[ "$status" -ne 0 ] || fail "verify should fail without /usr/local/bin/portbind"
	expect_line "/usr/local/bin/portbind"
}

@test "verify fails where portbind-guard is not installed (the check is real)" {
	run as_installed 'mount -t tmpfs -o mode=0755 pbtsbin /usr/local/sbin && cd "$1" && systemd-analyze verify ./portbind-guard.service' "$CONTRIB"
	[ "$status" -ne 0 ] || fail "verify should fail without /usr/local/sbin/portbind-guard"
	expect_line "/usr/local/sbin/portbind-guard"
}

@test "portbind-guard.service loads, reloads and unloads the guard before sysinit.target; its .path reloads it through systemd" {
	local f=$CONTRIB/portbind-guard.service u p
	unit_command portbind-guard.service ExecStart
	[ "${cmd[*]}" = "/usr/local/sbin/portbind-guard load" ] || fail "ExecStart: ${cmd[*]}"
	unit_command portbind-guard.service ExecReload
	[ "${cmd[*]}" = "/usr/local/sbin/portbind-guard reload" ] || fail "ExecReload: ${cmd[*]}"
	unit_command portbind-guard.service ExecStop
	[ "${cmd[*]}" = "/usr/local/sbin/portbind-guard unload" ] || fail "ExecStop: ${cmd[*]}"
	grep -qx 'Type=oneshot' "$f" && grep -qx 'RemainAfterExit=yes' "$f" || fail "a oneshot that remains"
	grep -qx 'DefaultDependencies=no' "$f" || fail "DefaultDependencies=no"
	grep -qx 'Conflicts=shutdown.target' "$f" && grep -qx 'Before=shutdown.target' "$f" ||
		fail "stopped at shutdown"
	# What must not bind a port before the guard is loaded
	for u in sysinit.target network-pre.target sockets.target rpcbind.socket rpcbind.service \
		cups.socket cups.service; do
		grep -q "^Before=.*\b$u\b" "$f" || fail "not before $u"
	done
	grep -q '^After=.*\bsys-fs-bpf.mount\b' "$f" || fail "not after the bpf filesystem"
	# The .path starts the reload unit of contrib/, which reloads through systemd
	[ "$(sed -n 's/^Unit=//p' "$CONTRIB/portbind-guard.path")" = portbind-guard-reload.service ] ||
		fail "portbind-guard.path: Unit="
	for p in /etc/portbind.conf /etc/portbind.d /etc/passwd /etc/group; do
		grep -qx "PathChanged=$p" "$CONTRIB/portbind-guard.path" || fail "not watched: $p"
	done
	unit_command portbind-guard-reload.service ExecStart
	[ "${cmd[*]}" = "systemctl try-reload-or-restart portbind-guard.service" ] || fail "reload: ${cmd[*]}"
}

@test "every table in contrib/ passes portbind --check FILE, alone and installed together" {
	local t
	for t in "${TABLES[@]}"; do
		run "$PB" --check "$CONTRIB/$t"
		expect_status 0
		[ "$output" = "portbind: table OK: 1 section(s) in 1 file(s)" ] || fail "$t"
		dropin "$t" <"$CONTRIB/$t"
	done
	run "$PB" --check
	expect_status 0
	[ "$output" = "portbind: table OK: 3 section(s) in 4 file(s)" ] || fail "the three drop-ins together"
}

@test "portbind-dns.service: its ExecStart serves DNS on 53 over UDP and TCP, IPv4 and IPv6, as unbound" {
	local cfg=$BATS_TEST_TMPDIR/unbound-etc pid a p
	dropin dns.conf <"$CONTRIB/dns.conf"
	# /etc/unbound as the unit's install steps leave it, seen only in the namespace
	cp -a /etc/unbound/. "$cfg"
	install -m 0644 "$CONTRIB/unbound-portbind.conf" "$cfg/unbound-portbind.conf"
	unit_command portbind-dns.service ExecStartPre
	local pre=("${cmd[@]}")
	unit_command portbind-dns.service ExecStart
	bg_as root as_installed '
		mount --bind "$1" /etc/unbound
		mount -t tmpfs -o mode=0755 pbtunbound /var/lib/unbound
		chown unbound:unbound /var/lib/unbound
		# unbound looks for handed sockets only under systemd (sd_booted)
		if [ ! -d /run/systemd/system ]; then
			mount -t tmpfs -o mode=0755 pbtrun /run
			mkdir -p /run/systemd/system
		fi
		n=$2
		shift 2
		"${@:1:n}" || exit 1
		[ -s /var/lib/unbound/root.key ] || { echo "no trust anchor"; exit 1; }
		exec "${@:n+1}"' "$cfg" "${#pre[@]}" "${pre[@]}" "${cmd[@]}"
	wait_bound udp 53
	wait_bound tcp 53
	for a in 127.0.0.1 ::1; do
		for p in udp tcp; do
			run dns_query "$a" 53 "$p" localhost
			[ "$output" = "rcode=0 answer=127.0.0.1" ] || fail "query to $a over $p"
		done
	done
	[ "$(readlink "/proc/$bg/exe")" = /usr/sbin/unbound ] || fail "pid $bg is not unbound: $(cat "$out")"
	expect_unprivileged "$bg" unbound
	run ss -Hlnup 'sport = :53'
	expect_line "unbound\",pid=$bg,fd=3"
	expect_line "unbound\",pid=$bg,fd=5"
	stop "$bg"
	expect_unbound 53
}

@test "portbind-web.service: its ExecStartPre checks and its ExecStart serves HTTP on 80 and HTTPS on 443 as www-data" {
	local cfg=$BATS_TEST_TMPDIR/lighttpd-etc a
	dropin web.conf <"$CONTRIB/web.conf"
	# /etc/lighttpd as the unit's install steps leave it, with a certificate
	cp -a /etc/lighttpd/. "$cfg"
	install -m 0644 "$CONTRIB/lighttpd-portbind.conf" "$cfg/portbind.conf"
	install -d -m 0750 -g www-data "$cfg/ssl"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj /CN=localhost -keyout "$cfg/ssl/key.pem" -out "$cfg/ssl/cert.pem" 2>/dev/null
	cat "$cfg/ssl/cert.pem" "$cfg/ssl/key.pem" >"$cfg/ssl/server.pem"
	chgrp www-data "$cfg/ssl/server.pem"
	chmod 0640 "$cfg/ssl/server.pem"
	unit_command portbind-web.service ExecStartPre
	local pre=("${cmd[@]}")
	unit_command portbind-web.service ExecStart
	bg_as root as_installed '
		mount --bind "$1" /etc/lighttpd
		mount -t tmpfs -o mode=0750 pbtlog /var/log/lighttpd
		chown www-data:www-data /var/log/lighttpd
		mount -t tmpfs -o mode=0755 pbtwww /var/www/html
		echo "hello from lighttpd" > /var/www/html/index.html
		n=$2
		shift 2
		"${@:1:n}" || exit 1
		exec "${@:n+1}"' "$cfg" "${#pre[@]}" "${pre[@]}" "${cmd[@]}"
	wait_bound tcp 80
	wait_bound tcp 443
	for a in 127.0.0.1 ::1; do
		run http_get "$a" 80
		[ "$output" = "hello from lighttpd" ] || fail "HTTP to $a: $(cat "$out")"
		run https_get "$a"
		[ "$output" = "hello from lighttpd" ] || fail "HTTPS to $a: $(cat "$out")"
	done
	[ "$(readlink "/proc/$bg/exe")" = /usr/sbin/lighttpd ] || fail "pid $bg is not lighttpd: $(cat "$out")"
	expect_unprivileged "$bg" www-data
	stop "$bg"
	expect_unbound 80
	expect_unbound 443
}
