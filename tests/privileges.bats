#!/usr/bin/env bats
# Privilege: what the command holds after a grant (ids, groups, every
# capability set, no_new_privs), and how portbind fails closed when it was
# started without the privilege it needs (reduced bounding set, securebits,
# no_new_privs, a tracer, no setuid bit, a nosuid mount). The controlling
# terminal of a root caller, and a missing syslog.
load lib

setup() {
	table <<'T'
[web]
port = 80 443
protocol = tcp
user = pbt_alice
T
}

ZERO=0000000000000000

# The command ran as uid $1, gid $2, groups $3 (sorted, comma separated)
# with every capability set empty, no_new_privs $4, and cannot get root back.
expect_dropped() {
	expect_status 0
	[ "$(field uid)" = "$1,$1,$1" ] || fail "uid should be $1 (real, effective, saved)"
	[ "$(field gid)" = "$2,$2,$2" ] || fail "gid should be $2 (real, effective, saved)"
	[ "$(field groups)" = "$3" ] || fail "groups should be $3"
	local s
	for s in inh prm eff amb bnd; do
		[ "$(field "cap_$s")" = "$ZERO" ] || fail "cap_$s should be $ZERO"
	done
	[ "$(field no_new_privs)" = "$4" ] || fail "no_new_privs should be $4"
	[ "$(field setuid0)" = fail ] || fail "the command could setuid(0)"
	echo "# dumpable=$(field dumpable) (uid $1; reported only)" >&3
}

expect_alice() {
	expect_dropped 59001 59001 59001,59050 "${1:-1}"
	expect_line "fd.3=socket cloexec=0 type=stream family=inet6 addr=:: port=80 listening=1 v6only=0 owner=59001"
}

# exit 71, one line, nothing run, nothing bound.
expect_71() {
	expect_refused 71 "${1:-}"
	expect_unbound 80
}

# Nothing listens on TCP port $1 and nothing is bound on UDP port $1
# (connections of other tests still closing, in TIME_WAIT, do not count).
expect_unbound() {
	local s
	s=$(ss -Hltun "sport = :$1")
	[ -z "$s" ] || fail "port $1 still bound: $s"
}

@test "a user's command runs with the user's ids, groups, no capabilities and no_new_privs" {
	run as pbt_alice "$PB" 80 -- "$PROBE"
	expect_alice 1
	run as pbt_bob "$PB" 8080 -- "$PROBE"
	expect_dropped 59002 59051 59051 1
}

@test "--allow-new-privs: a user's command runs without no_new_privs, otherwise as dropped" {
	run as pbt_alice "$PB" --allow-new-privs 80 -- "$PROBE"
	expect_alice 0
}

@test "root running a command as pbt_alice: the target's ids and groups only, no capabilities" {
	# root's own supplementary groups must not reach the command
	run setpriv --groups=0,4,27 -- "$PB" 80 pbt_alice -- "$PROBE"
	expect_alice 1
	run "$PB" 8080 pbt_bob -- "$PROBE"
	expect_dropped 59002 59051 59051 1
}

@test "root running a command as pbt_alice with --allow-new-privs: no_new_privs off, no capabilities" {
	run "$PB" --allow-new-privs 80 pbt_alice -- "$PROBE"
	expect_alice 0
}

@test "root with inheritable and ambient capabilities (setpriv): the command has none" {
	run setpriv --inh-caps=+net_raw,+net_admin --ambient-caps=+net_raw,+net_admin -- \
		"$PB" 80 pbt_alice -- "$PROBE"
	expect_alice 1
	run setpriv --inh-caps=+net_raw,+net_admin --ambient-caps=+net_raw,+net_admin -- \
		"$PB" --allow-new-privs 80 pbt_alice -- "$PROBE"
	expect_alice 0
}

@test "root with inheritable and ambient capabilities (capsh): the command has none" {
	command -v capsh >/dev/null || skip "capsh is not installed"
	run capsh --caps='cap_net_raw,cap_net_admin+eip cap_setpcap,cap_setuid,cap_setgid+ep' \
		--addamb=cap_net_raw,cap_net_admin -- \
		-c 'grep -q "^CapAmb:.*3000$" /proc/self/status || { echo "ambient not set up"; exit 99; }
		    exec "$0" --allow-new-privs 80 pbt_alice -- "$1"' "$PB" "$PROBE"
	expect_alice 0
}

@test "a user with inheritable and ambient capabilities: the command has none" {
	# setpriv as root keeps net_raw inheritable and ambient across the
	# switch to pbt_alice; the setuid exec clears ambient, portbind must
	# clear the inheritable set, which survives exec and setresuid.
	run setpriv --inh-caps=+net_raw --ambient-caps=+net_raw --reuid=pbt_alice --regid=pbt_alice \
		--init-groups -- bash -c 'grep -q "^CapInh:.*2000$" /proc/self/status || exit 99
		exec "$@"' _ "$PB" 80 -- "$PROBE"
	expect_alice 1
}

# The name of each capability portbind needs, as setpriv spells it.
NEEDED=(setuid setgid net_bind_service setpcap chown)

expect_missing_cap() {
	expect_71
	[[ $output =~ capabilit.*(^|[^a-z_])(cap_)?$1([^a-z_]|$) ]] ||
		fail "the line should name the missing capability $1"
}

@test "a user started with a reduced bounding set: 71 naming the capability, nothing run or bound" {
	local c
	for c in "${NEEDED[@]}"; do
		run setpriv --bounding-set=-"$c" --reuid=pbt_alice --regid=pbt_alice --init-groups -- \
			"$PB" 80 -- "$PROBE"
		expect_missing_cap "$c"
	done
}

@test "root started with a reduced bounding set (setpriv): 71 naming the capability" {
	local c
	for c in "${NEEDED[@]}"; do
		run setpriv --bounding-set=-"$c" -- "$PB" 80 pbt_alice -- "$PROBE"
		expect_missing_cap "$c"
	done
}

@test "root started with a reduced bounding set (capsh --drop): 71 naming the capability" {
	command -v capsh >/dev/null || skip "capsh is not installed"
	local c
	for c in "${NEEDED[@]}"; do
		run capsh --drop="cap_$c" -- -c 'exec "$0" 80 pbt_alice -- "$1"' "$PB" "$PROBE"
		expect_missing_cap "$c"
	done
}

@test "securebits noroot: the setuid exec gives no capabilities, 71" {
	run setpriv --securebits=+noroot -- "$PB" 80 pbt_alice -- "$PROBE"
	expect_71 "capabilit"
	run setpriv --securebits=+noroot --reuid=pbt_alice --regid=pbt_alice --init-groups -- \
		"$PB" 80 -- "$PROBE"
	expect_71 "capabilit"
}

@test "securebits no_setuid_fixup (setresuid keeps capabilities): the command still has none" {
	run setpriv --securebits=+no_setuid_fixup -- "$PB" 80 pbt_alice -- "$PROBE"
	expect_alice 1
	run setpriv --securebits=+no_setuid_fixup --reuid=pbt_alice --regid=pbt_alice --init-groups -- \
		"$PB" 80 -- "$PROBE"
	expect_alice 1
}

@test "a user under no_new_privs: the setuid bit is not honoured, 71 'not running as root'" {
	run as pbt_alice setpriv --no-new-privs -- "$PB" 80 -- "$PROBE"
	expect_71 "not running as root"
}

@test "root under no_new_privs: the grant works and the command keeps no_new_privs" {
	run setpriv --no-new-privs -- "$PB" 80 pbt_alice -- "$PROBE"
	expect_alice 1
}

@test "root under no_new_privs with --allow-new-privs: it cannot be unset, the command runs with it" {
	# --allow-new-privs means "do not set it"; a caller's own no_new_privs
	# cannot be undone and takes nothing away from the drop.
	run setpriv --no-new-privs -- "$PB" --allow-new-privs 80 pbt_alice -- "$PROBE"
	expect_alice 1
}

# A python3 that pbt_alice can run, for a tracer when strace is missing.
alice_python() {
	local p
	for p in /usr/bin/python3 /usr/local/bin/python3 /bin/python3; do
		as pbt_alice "$p" -c 'pass' 2>/dev/null && { echo "$p"; return 0; }
	done
	return 1
}

@test "a user tracing portbind: the setuid bit is ignored, 71, the command never runs" {
	if command -v strace >/dev/null; then
		run as pbt_alice strace -f -o /dev/null -- "$PB" 80 -- "$PROBE"
	else
		local py
		py=$(alice_python) || skip "neither strace nor python3 is installed: no tracer to test with"
		# PTRACE_TRACEME in the child, PTRACE_CONT from the parent
		run as pbt_alice "$py" -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pid = os.fork()
if pid == 0:
    libc.ptrace(0, 0, None, None)
    os.execv(sys.argv[1], sys.argv[1:])
while True:
    _, st = os.waitpid(pid, 0)
    if os.WIFEXITED(st): sys.exit(os.WEXITSTATUS(st))
    if os.WIFSIGNALED(st): sys.exit(128 + os.WTERMSIG(st))
    sig = os.WSTOPSIG(st)
    libc.ptrace(7, pid, None, ctypes.c_void_p(0 if sig == 5 else sig))
' "$PB" 80 -- "$PROBE"
	fi
	expect_71 "not running as root"
}

# A directory under $BATS_TEST_TMPDIR that the test users can reach (the
# run's temporary directory is root's alone; give others search access).
reachable_dir() {
	local d=$BATS_TEST_TMPDIR/$1 p
	mkdir -p "$d"
	chmod 0755 "$d"
	p=$d
	while [ "$p" != / ] && [ "$p" != "$(dirname "$BATS_RUN_TMPDIR")" ]; do
		chmod o+x "$p"
		p=$(dirname "$p")
	done
	as pbt_alice test -x "$d" || fail "cannot make $d reachable for pbt_alice"
	echo "$d"
}

@test "a copy of portbind without the setuid bit: 71 'not running as root'" {
	local d
	d=$(reachable_dir bin)
	install -m 0755 -o root -g root "$PB" "$d/portbind"
	run as pbt_alice "$d/portbind" 80 -- "$PROBE"
	expect_71 "not running as root"
}

@test "a setuid copy on a nosuid mount: 71 'not running as root' (and it works without nosuid)" {
	local d
	d=$(reachable_dir mnt)
	run unshare -m -- bash -c '
		mount -t tmpfs -o nosuid,mode=0755 pbtnosuid "$1" || exit 99
		install -m 4755 -o root -g root "$2" "$1/portbind" || exit 99
		exec setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- "$1/portbind" 80 -- "$3"' \
		_ "$d" "$PB" "$PROBE"
	expect_71 "not running as root"
	run unshare -m -- bash -c '
		mount -t tmpfs -o mode=0755 pbtsuid "$1" || exit 99
		install -m 4755 -o root -g root "$2" "$1/portbind" || exit 99
		exec setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- "$1/portbind" 80 -- "$3"' \
		_ "$d" "$PB" "$PROBE"
	expect_alice 1
}

# Run the command line "$@" (quoted for a shell) on a new pseudo-terminal
# as the session leader, as script(1) does; output has CRs removed.
on_tty() {
	command -v script >/dev/null || skip "script (bsdutils) is not installed"
	local cmd
	cmd=$(printf '%q ' "$@")
	run script -qec "$cmd" /dev/null
	output=${output//$'\r'/}
}

@test "a terminal: the probe run directly has a controlling terminal (control)" {
	on_tty "$PROBE"
	expect_status 0
	[ "$(field ctty)" = yes ] || fail "the probe should see its controlling terminal"
	on_tty setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- "$PROBE"
	[ "$(field ctty)" = yes ] || fail "the probe should see its controlling terminal"
}

@test "root from a terminal running a command as pbt_alice: the command has no controlling terminal" {
	# portbind is not the session leader here (a shell is)
	on_tty bash -c '"$@"; echo "exit=$?"' _ "$PB" 80 pbt_alice -- "$PROBE"
	grep -q '^exit=0$' <<<"$output" || fail "portbind should exit 0"
	[ "$(field uid)" = "59001,59001,59001" ] || fail "the command did not run as pbt_alice"
	[ "$(field ctty)" = no ] || fail "the command must not have root's terminal"
	expect_line "fd.0=chr cloexec=0 path=/dev/pts/"
}

@test "root from a terminal, portbind itself the session leader: the command runs without the terminal" {
	# giving up the terminal as session leader hangs up the foreground
	# process group, which is portbind itself
	on_tty "$PB" 80 pbt_alice -- "$PROBE"
	expect_status 0
	[ "$(field uid)" = "59001,59001,59001" ] || fail "the command did not run as pbt_alice"
	[ "$(field ctty)" = no ] || fail "the command must not have root's terminal"
}

# In with_private_dev: a user's and root's grant, each reporting its status.
BOTH_RUNS='
	setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- "$PB" 80 -- "$PROBE"
	echo "status1=$?"
	"$PB" 443 pbt_alice -- "$PROBE"
	echo "status2=$?"'

expect_both_ran() {
	grep -q '^status1=0$' <<<"$output" || fail "the user's grant should work"
	grep -q '^status2=0$' <<<"$output" || fail "root's grant should work"
	[ "$(grep -c '^uid=59001,59001,59001$' <<<"$output")" = 2 ] || fail "both commands should run"
	[ "$(grep -c '^fds=0,1,2,3$' <<<"$output")" = 2 ] || fail "fds= should be 0,1,2,3 both times"
}

@test "no /dev/log at all: the grant still works" {
	run with_private_dev '[ ! -e /dev/log ] || exit 99; '"$BOTH_RUNS"
	expect_both_ran
}

@test "/dev/log that no daemon listens on (a file, /dev/null): the grant still works" {
	run with_private_dev 'touch /dev/log; '"$BOTH_RUNS"
	expect_both_ran
	run with_private_dev 'touch /dev/log; mount --bind /dev/null /dev/log; '"$BOTH_RUNS"
	expect_both_ran
}
