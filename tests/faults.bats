#!/usr/bin/env bats
# Faults on the privileged path. Every system call portbind makes from its
# start (once the dynamic loader is done) to the exec of the command is
# made to fail in turn, at every call site: one run per (syscall,
# occurrence), with `strace -e inject=SYSCALL:error=ERRNO:when=N`, traced by
# root (a root tracer keeps the setuid exec: portbind really has euid 0).
# The matrix is read from a trace of the granted run, so it follows the code.
# Ways in: root running the command as pbt_alice, pbt_alice through the
# setuid bit, and for the paths these do not take: a pinned program (dup3,
# execveat), root on a terminal (TIOCNOTTY), a listening /dev/log (sendto).
#
# Each case must end in one of two ways:
#  - closed: a documented exit code, a "portbind: ..." line (before it, root
#    sees the table's own error lines for 78), no exec of the command,
#    nothing bound;
#  - only where the failure is harmless (syslog, name service lookups, the
#    C library's own files...): the command runs exactly as documented
#    (pbt_alice's ids and groups, every capability set empty, no_new_privs,
#    setuid(0) fails, the socket on fd 3).
# A command run with anything left of the privilege is a FAIL-OPEN; every
# other deviation is WRONG; both lists must be empty. The calls that drop or
# use privilege (set*id, setgroups, capset, prctl, socket, setsockopt,
# fchown, bind, listen, fcntl F_DUPFD, dup2, close_range, the verification)
# and the table reads must be fatal, with their exit code.
# Also: started with a reduced bounding set (capsh --drop), portbind stops
# with 71 before it binds or drops anything.
load lib

setup() {
	table <<'T'
[web]
port = 80 443
protocol = tcp
user = pbt_alice
T
}

need_strace() {
	command -v strace >/dev/null || skip "strace is not installed (tests/deps installs it)"
	strace -qq -o /dev/null -e trace=getppid -e inject=getppid:retval=0:when=1 -- true ||
		skip "strace cannot trace or inject faults here (ptrace not permitted?)"
}

ZERO=0000000000000000
DOCUMENTED=" 67 69 71 75 77 78 126 127 "

# awk: arg(call, i) is the i-th argument in a trace line; sig() a call's
# signature, the same in the granted run and with the fault injected
# (where output buffers show as addresses): the name and the first argument
# (two for calls whose first says little), digits as N.
SIG_AWK='
function arg(s, i,   a, p) {
	a = substr(s, index(s, "(") + 1)
	sub(/\) +=[^=]*$/, "", a)
	split(a, p, /, /)
	return p[i]
}
function input(a, n) {
	if (a ~ /^(0x|\[|\{)/) return "P"
	if (a ~ /^"/ && n !~ /^(open|openat|execve|execveat|newfstatat|statx|readlinkat|faccessat2?)$/) return "P"
	return a
}
function sig(s, n,   k) {
	k = input(arg(s, 1), n)
	if (n ~ /^(open|openat|prctl|socket|setsockopt|fcntl|execve|execveat)$/ && arg(s, 2) != "")
		k = k ", " input(arg(s, 2), n)
	gsub(/[0-9]+/, "N", k)
	gsub(/ /, "_", k)
	return n "(" k
}
'

# A syslog daemon's socket on /dev/log (in a private /dev), kept open by the
# tracer this process becomes, so that syslog() really connects and sends.
BIND_LOG='
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
s.set_inheritable(True)
os.execvp(sys.argv[1], sys.argv[1:])'

# The granted run for each way in: the command line in cmd, what goes in
# front of the tracer in wrap. root names the target; pbt_alice comes
# through the setuid bit (setpriv under the root tracer); "tty": root on a
# terminal; "log": root with a listening /dev/log; "pinned": root, the
# table pins the program (kept open, moved with dup3, run by execveat).
way_in() {
	wrap=()
	case $1 in
	root | tty) cmd=("$PB" 80 pbt_alice -- "$PROBE") ;;
	pinned)
		table <<T
[web]
port = 80 443
protocol = tcp
user = pbt_alice
program = $PROBE
T
		cmd=("$PB" 80 pbt_alice -- "$PROBE") ;;
	alice) cmd=(setpriv --reuid=pbt_alice --regid=pbt_alice --init-groups -- "$PB" 80 -- "$PROBE") ;;
	log)
		cmd=("$PB" 80 pbt_alice -- "$PROBE")
		wrap=(with_private_dev 'shift; exec "$@"' python3 -c "$BIND_LOG") ;;
	esac
}

# Run "${cmd[@]}" under strace with the options "$@" (trace to $trace), 30 s
# at most (124: timed out): output (stdout and stderr) in $out, exit status
# in $rc. Way "tty": on a new pseudo-terminal, as script(1) does.
traced() {
	local line
	rc=0
	if [ "$way" = tty ]; then
		line=$(printf '%q ' strace -f -qq -o "$trace" "$@" -- "${cmd[@]}")
		out=$(timeout -k 5 30 script -qec "$line" /dev/null </dev/null 3>&- 4<&-) || rc=$?
		out=${out//$'\r'/}
	else
		out=$("${wrap[@]}" timeout -k 5 30 strace -f -qq -o "$trace" "$@" -- "${cmd[@]}" </dev/null 2>&1 3>&- 4<&-) ||
			rc=$?
	fi
}

# $out has the line $1 (whole line, glob pattern).
has() {
	[[ $'\n'$out$'\n' == *$'\n'$1$'\n'* ]]
}

# The command ran without privilege: pbt_alice's uid and gid (real,
# effective, saved), every capability set empty, no_new_privs, no way back
# to uid 0. A command that ran in any other state is a fail-open.
unprivileged() {
	local s
	has uid=59001,59001,59001 && has gid=59001,59001,59001 && has no_new_privs=1 &&
		has setuid0=fail || return 1
	for s in inh prm eff amb bnd; do
		has "cap_$s=$ZERO" || return 1
	done
}

# ... and exactly as documented: pbt_alice's groups, the socket on fd 3.
# glibc's getgrouplist() has no error return: when the group database
# cannot be read, the target gets its primary group alone. Fewer groups,
# never more; documented in portbind(1) and SECURITY.md.
fully_dropped() {
	unprivileged && { has groups=59001,59050 || has groups=59001; } && has fds=0,1,2,3 &&
		has "fd.3=socket cloexec=0 type=stream * port=80 listening=1 * owner=59001"
}

# Closed: no line of the command, the last line "portbind: ...", and before
# it only the table's own error lines (root sees them, exit 78).
closed_message() {
	local lines=() l
	mapfile -t lines <<<"$out"
	[ -n "$out" ] && [[ ${lines[-1]} == "portbind: "* ]] || return 1
	[ ${#lines[@]} -eq 1 ] && return 0
	[ "$rc" -eq 78 ] && [ "$way" != alice ] || return 1
	for l in "${lines[@]}"; do
		[[ $l == "$ETC/"* || $l == "portbind: "* ]] || return 1
	done
}

# The matrix, from the trace $2 of a granted run: one line per call site,
#   NAME <tab> N <tab> error=E|retval=0 <tab> WANT <tab> SIGNATURE <tab> LINE
# N counts NAME's calls by the process from its start, as strace's when=
# does (the traced child's first execve is not counted). WANT is the exit
# code that failure must give; "any": closed with a documented code, or the
# command runs as documented; "silent71": 71 (fds 0-2 are not usable yet, no
# line needed); "abort": any, or SIGABRT (the C library and NSS modules
# abort on a failure the kernel never returns). Window $1: "all", "tty"
# (only the calls that give up the controlling terminal), "fds" (only from
# the moving of the sockets after the drop: the fds, syslog, the exec) or
# "log" (only after the sockets are in place: the syslog line).
matrix() {
	awk -v pb="$PB" -v etc="$ETC" -v probe="$PROBE" -v window="$1" '
	function errno_for(n) {
		if (n ~ /^(set(re|res|fs)?[ug]id|setgroups|capset|capget|prctl|fchown|get[ug]id|gettid|getpid)$/) return "EPERM"
		if (n ~ /^getres[ug]id$/) return "EFAULT"
		if (n ~ /^(getgroups|close_range|rt_sigaction|rt_sigprocmask)$/) return "EINVAL"
		if (n ~ /^(socket|fcntl|dup|dup2|dup3)$/) return "EMFILE"
		if (n == "setsockopt") return "ENOPROTOOPT"
		if (n ~ /^(bind|listen)$/) return "EADDRINUSE"
		if (n ~ /^(open|openat|openat2|execve|execveat|readlink|readlinkat|access|faccessat2?)$/) return "EACCES"
		if (n == "connect") return "ECONNREFUSED"
		if (n ~ /^(sendto|sendmsg)$/) return "ENOBUFS"
		if (n ~ /^(mmap|mprotect|munmap|mremap|madvise)$/) return "ENOMEM"
		if (n == "futex") return "EAGAIN"
		return "EIO"
	}
'"$SIG_AWK"'
	function emit(how, want) {
		if (window == "tty" && !intty) return
		if (window == "log" && !placed) return
		if (window == "fds" && !placing) return
		printf "%s\t%d\t%s\t%s\t%s\t%s\n", n, c[n], how, want, sig(s, n), s
	}
	{ s = $0; sub(/^[0-9]+ +/, "", s) }
	s !~ /^[a-z_0-9]+\(/ { next }
	{
		n = s; sub(/\(.*/, "", n)
		if (n == "execve" && !seen_exec) { seen_exec = 1 } else c[n]++
		ret = s; sub(/.* = /, "", ret)
		fd = arg(s, 1)
	}
	state == 0 { if (n == "execve" && index(s, "execve(\"" pb "\"") == 1 && ret == "0") state = 1; next }
	state == 1 && n == "munmap" { state = 2; next }
	state == 1 && index(s, etc "/portbind.conf") { state = 2 }
	state == 1 { next }
	state == 3 { next }
	{
		how = "error=" errno_for(n); want = "any"
		if (dropped && n == "fcntl" && arg(s, 2) ~ /^F_DUPFD/) placing = 1
		path = arg(s, 2); gsub(/"/, "", path)
		if (n == "openat" && path == "/dev/tty") {
			if (!intty) intty = 1; else tty_done = 1
		}
		if (n == "brk") {
			# No error return in its ABI: an injected -errno is taken
			# for the new break (SIGSEGV), not a fault the kernel makes.
		} else if (n ~ /^execve(at)?$/) {
			want = 126
		} else if (n ~ /^set(re)?[ug]id$/ && dropped && ret ~ /^-1/) {
			# The verification expects these to fail: make one succeed.
			how = "retval=0"; want = 71
		} else if (n ~ /^(setgroups|setresgid|setresuid|capset|capget|getresuid|getresgid|getgroups|close_range|setsockopt|fchown|dup|dup2|dup3)$/) {
			want = 71
		} else if (n == "socket") {
			want = (arg(s, 1) ~ /^AF_INET6?$/) ? 71 : "any"
		} else if (n == "bind" || n == "listen") {
			want = 69
		} else if (n == "prctl") {
			if (dropped || s ~ /PR_SET_DUMPABLE|PR_CAPBSET_DROP|PR_CAP_AMBIENT_CLEAR_ALL|PR_SET_NO_NEW_PRIVS/) want = 71
		} else if (n == "fcntl" && !sanitized && fd ~ /^[012]$/) {
			want = "silent71"
		} else if (n == "fcntl" && (dropped || arg(s, 2) ~ /^F_DUPFD/)) {
			want = 71
		} else if (n ~ /^setfs[ug]id$/) {
			if (fd == "-1") want = 71 # the check that the switch took
		} else if (n == "openat") {
			if (index(path, etc "/") == 1) { want = 78; tablefd = ret }
			else if (path == "/proc/sys/net/ipv4/ip_unprivileged_port_start") { want = 71; unprivfd = ret }
			else if (path == probe) { want = 126; cmdfd = ret; cmdstats = 0 }
			else if (path == "/dev/tty") { want = 71; if (ret ~ /^[0-9]+$/) ttyfd = ret }
		} else if (tablefd != "" && fd == tablefd) {
			want = (n == "close") ? "any" : 78 # closing a read-only fd may fail
		} else if (unprivfd != "" && fd == unprivfd) {
			want = (n == "close") ? "any" : 71
		} else if (cmdfd != "" && fd == cmdfd && n ~ /stat/) {
			want = (cmdstats++ == 0) ? 126 : 71 # the lookup, then the decision
		} else if (n == "ioctl" && ttyfd != "" && fd == ttyfd) {
			want = 71
		} else if (n == "rt_sigaction" && arg(s, 1) == "SIGHUP") {
			want = 71
		} else if (n ~ /^(futex|rt_sigprocmask)$/) {
			want = "abort"
		}
		if (dropped && !placed && want == "any") want = 71
		if (n != "brk") emit(how, want)
		if (n == "close" && fd == tablefd) tablefd = ""
		if (n == "close" && fd == unprivfd) unprivfd = ""
		if (n == "close" && fd == ttyfd) ttyfd = ""
		if (n == "close_range") { if (dropped) placed = 1; sanitized = 1 }
		# The drop, not the lookup as the caller (setresuid(-1, uid, -1)).
		if (n == "setresuid" && arg(s, 1) != "-1") dropped = 1
		if (tty_done) intty = 0
		if (n ~ /^execve(at)?$/ && ret == "0") state = 3
	}
	END { if (state != 3) { print "no exec of the command in the trace" > "/dev/stderr"; exit 1 } }
	' "$2"
}

# Run the whole matrix for way $1 (root, alice, tty, log). Fails listing
# every FAIL-OPEN and WRONG case; fd 3 gets a summary line.
fault_matrix() {
	way=$1
	local window=all tmp=$BATS_TEST_TMPDIR/$1 base_execs name k how want sig line got
	local total=0 fatal=0 harmless=0 refused=0 failopen=() wrong=() must what execs
	case $way in
	tty)
		window=tty
		command -v script >/dev/null || skip "script (bsdutils) is not installed" ;;
	log)
		window=log
		command -v python3 >/dev/null || skip "python3 is not installed (needed for a /dev/log listener)" ;;
	pinned) window=fds ;;
	esac
	way_in "$way"
	mkdir -p "$tmp"

	# The granted run, traced in full: it must work, with euid 0 in
	# portbind (the root tracer keeps the setuid exec).
	trace=$tmp/base.trace
	traced -e trace=all
	[ "$rc" -eq 0 ] && fully_dropped || fail "the traced granted run did not work (exit $rc):" "$out"
	[ "$way" != alice ] || grep -qE 'getresuid\(\[59001\], \[0\], \[0\]\) += 0$' "$trace" ||
		fail "portbind traced as pbt_alice did not run with euid 0 (setuid bit not honoured)"
	[ "$way" != tty ] || has ctty=no || fail "the command kept root's controlling terminal:" "$out"
	[ "$way" != log ] || grep -qE 'connect\(.*"/dev/log".* = 0$' "$trace" ||
		fail "syslog did not connect to the /dev/log listener"
	matrix "$window" "$trace" >"$tmp/matrix" || fail "cannot build the matrix from the trace"
	# Successful execs before the command's: strace's own, setpriv's.
	base_execs=$(($(grep -cE '^[0-9]+ +execve(at)?\(.*\) += 0$' "$trace") - 1))
	# The privileged calls must be in the matrix, or the window is wrong.
	case $way in
	tty) must=(openat ioctl rt_sigaction close) ;;
	log) must=(socket connect sendto close execve) ;;
	pinned) must=(fcntl dup3 dup2 close_range execveat) ;;
	*) must=(openat read close socket setsockopt fchown bind listen prctl capset setgroups
		setresgid setresuid close_range execve) ;;
	esac
	for name in "${must[@]}"; do
		grep -q "^$name"$'\t' "$tmp/matrix" || fail "no $name call in the matrix:" "$(cat "$tmp/matrix")"
	done

	trace=$tmp/case.trace
	while IFS=$'\t' read -r -u 4 name k how want sig line; do
		total=$((total + 1))
		traced -e trace="execve,execveat,$name" -e inject="$name:$how:when=$k"
		what="$name#$k $how [$line]: exit $rc"
		# successful execs, and the signature of the call that was hit
		read -r execs got < <(awk -v n="$name" "$SIG_AWK"'
			{ s = $0; sub(/^[0-9]+ +/, "", s) }
			s ~ /^execve(at)?\(/ && s ~ /\) += 0$/ { e++ }
			!hit && /\(INJECTED\)$/ { hit = sig(s, n) }
			END { print e + 0, hit }' "$trace")
		if [ -z "$got" ]; then
			wrong+=("$what: nothing injected (is the run not repeatable?)")
			continue
		elif [ "$got" != "$sig" ]; then
			wrong+=("$what: injected into another call: $got")
			continue
		fi
		[ -z "$(ss -Hantu 'sport = :80')" ] || wrong+=("$what: port 80 still bound")
		if [ "$execs" -gt "$base_execs" ] || [ "$rc" -eq 0 ]; then
			if [ "$execs" -le "$base_execs" ] || ! unprivileged; then
				failopen+=("$what: ${out//$'\n'/ }")
			elif [ "$rc" -ne 0 ] || ! fully_dropped; then
				wrong+=("$what: ran unprivileged, but not as documented: ${out//$'\n'/ }")
			elif [ "$want" != any ] && [ "$want" != abort ]; then
				wrong+=("$what: ran, but this failure must be fatal ($want)")
			else
				harmless=$((harmless + 1))
			fi
			continue
		fi
		case $want in
		any | abort)
			if [ "$want" = abort ] && [ "$rc" -eq 134 ]; then
				refused=$((refused + 1)) # SIGABRT in the C library
			elif [[ $DOCUMENTED == *" $rc "* ]] && closed_message; then
				refused=$((refused + 1))
			else
				wrong+=("$what: not a documented refusal: $out")
			fi ;;
		silent71)
			# fds 0-2 unusable: portbind exits 71 at once, with no
			# stderr it can trust to speak on
			if [ "$rc" -eq 71 ] && { [ -z "$out" ] || closed_message; }; then
				fatal=$((fatal + 1))
			else
				wrong+=("$what: expected 71: $out")
			fi ;;
		*)
			if [ "$rc" -eq "$want" ] && closed_message; then
				fatal=$((fatal + 1))
			else
				wrong+=("$what: expected $want and a 'portbind:' line: $out")
			fi ;;
		esac
	done 4<"$tmp/matrix"

	echo "# $way: $total cases: $fatal fatal as required, $refused refused, $harmless ran as documented" >&3
	[ ${#failopen[@]} -eq 0 ] || printf 'FAIL-OPEN: %s\n' "${failopen[@]}" >&2
	[ ${#wrong[@]} -eq 0 ] || printf 'WRONG: %s\n' "${wrong[@]}" >&2
	[ ${#failopen[@]} -eq 0 ] && [ ${#wrong[@]} -eq 0 ] && [ "$total" -gt 0 ]
}

@test "every call of the privileged path failing in turn, root running the command as pbt_alice: never runs it half-dropped" {
	need_strace
	fault_matrix root
}

@test "every call of the privileged path failing in turn, pbt_alice through the setuid bit: never runs it half-dropped" {
	need_strace
	fault_matrix alice
}

@test "every call that places the fds and runs a pinned program (dup3, execveat) failing in turn: never runs it half-dropped" {
	need_strace
	fault_matrix pinned
}

@test "every call that gives up root's controlling terminal failing in turn: 71, the command never runs" {
	need_strace
	fault_matrix tty
}

@test "every call of the syslog line before the exec failing in turn (a daemon on /dev/log): best effort, never half-dropped" {
	need_strace
	fault_matrix log
}

# The number of a capability portbind needs, for checking /proc's CapBnd.
cap_number() {
	case $1 in
	chown) echo 0 ;; setgid) echo 6 ;; setuid) echo 7 ;; setpcap) echo 8 ;;
	net_bind_service) echo 10 ;;
	esac
}

# Run portbind (root: "$@" = SPEC USER -- PROBE) from capsh with cap_$1 gone
# from the bounding set; the shell between checks it is really gone (99 if
# not). $2 "alice": capsh becomes pbt_alice first, portbind runs setuid.
# Under strace (root tracer, so the setuid exec stays) when it is there,
# to see what portbind did: $trace.
capsh_reduced() {
	local cap=$1 who=$2 user=() args=(80 pbt_alice -- "$PROBE") tracer=()
	[ "$who" = alice ] && user=(--user=pbt_alice) && args=(80 -- "$PROBE")
	trace=$BATS_TEST_TMPDIR/capsh.trace
	: >"$trace"
	command -v strace >/dev/null &&
		tracer=(strace -f -qq -o "$trace" -e trace=socket,bind,listen,setgroups,setresuid,execve,execveat --)
	run "${tracer[@]}" capsh --drop="cap_$cap" "${user[@]}" -- -c '
		bnd=$(sed -n "s/^CapBnd:[[:space:]]*//p" /proc/self/status)
		(( (16#$bnd >> $0) & 1 )) && { echo "cap $0 still in the bounding set"; exit 99; }
		exec "$@"' "$(cap_number "$cap")" "$PB" "${args[@]}"
}

# 71 naming the capability, nothing run or bound, and (traced) portbind made
# no socket (but the name service's AF_UNIX ones), bind, listen or set*id
# call and executed nothing.
expect_stopped() {
	expect_refused 71
	[[ $output =~ capabilit.*(^|[^a-z_])(cap_)?$1([^a-z_]|$) ]] ||
		fail "the line should name the missing capability $1"
	expect_port_free 80
	local after
	after=$(awk -v pb="$PB" 'index($0, "execve(\"" pb "\"") && / = 0$/ { on = 1; next }
		on && !/ socket\(AF_UNIX,/' "$trace")
	[ -z "$after" ] || fail "portbind went on after the check:" "$after"
}

@test "root started with a reduced bounding set (capsh --drop): 71 naming the capability, never continues" {
	command -v capsh >/dev/null || skip "capsh is not installed"
	local c
	for c in setuid setgid setpcap net_bind_service chown; do
		capsh_reduced "$c" root
		expect_stopped "$c"
	done
}

@test "pbt_alice started with a reduced bounding set (capsh --drop --user): 71 naming the capability, never continues" {
	command -v capsh >/dev/null || skip "capsh is not installed"
	local c
	for c in setuid setgid setpcap net_bind_service chown; do
		capsh_reduced "$c" alice
		expect_stopped "$c"
	done
}
