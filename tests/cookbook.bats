#!/usr/bin/env bats
# The README's Cookbook: Debian daemons that take the sockets portbind hands
# over, each answering a real client on a privileged port while it runs as
# an unprivileged user with every capability set empty:
#
#   nginx (nginx-light)        NGINX='3;'            80/tcp, one dual-stack socket   www-data       curl
#   haproxy                    bind fd@3             81/tcp, one dual-stack socket   haproxy        curl
#   kresd (knot-resolver)      -S 3 -S 4 -S 5 -S 6   53/udp+tcp, 127.0.0.1 and ::1   knot-resolver  kdig
#   prometheus-node-exporter   --web.systemd-socket  910/tcp, one dual-stack socket  prometheus     curl
#   gunicorn                   LISTEN_FDS            82/tcp, one dual-stack socket   pbt_alice      curl
#   systemd-socket-proxyd      LISTEN_FDS            83/tcp, to a backend on 8083    pbt_alice      curl
#   a Python server            fd 3                  84/tcp, one dual-stack socket   pbt_alice      curl
#
# Each test reads its recipe from the README, as written there: the table
# section (written with `table`), the blocks that write the daemon's files
# (run with DIR, a directory of the daemon's user under the test's
# temporary directory) and the command line (run as root, with the
# installed portbind first in PATH). lighttpd and unbound have their own
# files in contrib/ and their tests in contrib.bats and daemons.bats: here
# their recipes are checked to be contrib's lines.
load lib

README=$BATS_TEST_DIRNAME/../README.md
CONTRIB=$BATS_TEST_DIRNAME/../contrib

# Every "### " recipe of the Cookbook, each with a test below.
RECIPES=(lighttpd unbound nginx haproxy "knot-resolver (kresd)" prometheus-node-exporter
	gunicorn systemd-socket-proxyd "A Python server in a few lines")

setup_file() {
	local f
	for f in /usr/sbin/nginx /usr/sbin/haproxy /usr/sbin/kresd /usr/bin/prometheus-node-exporter \
		/usr/bin/gunicorn /usr/lib/systemd/systemd-socket-proxyd /usr/bin/python3; do
		[ -x "$f" ] || { echo "$f is missing: run tests/deps" >&2; return 1; }
	done
	for f in curl kdig ss; do
		command -v "$f" >/dev/null || { echo "$f is missing: run tests/deps" >&2; return 1; }
	done
	# Every port below is privileged here: no daemon could bind it itself.
	[ "$(sysctl -n net.ipv4.ip_unprivileged_port_start)" -gt 910 ] || {
		echo "net.ipv4.ip_unprivileged_port_start is too low for these tests" >&2
		return 1
	}
}

setup() {
	# The daemon users must reach their files under the test's directory.
	make_traversable "$BATS_TEST_TMPDIR"
	T=$BATS_TEST_TMPDIR
}

teardown() {
	kill_bgpids
}

# The indented blocks of the Cookbook's recipe "### $1" whose first line
# makes them of kind $2: "table" ("[section"), "files" ("cat >FILE <<EOF"
# ... "EOF") or "command" (any other), unindented.
cookbook_block() {
	awk -v recipe="### $1" -v want="$2" '
		/^## / { sec = ($0 == "## Cookbook"); rec = 0; next }
		!sec { next }
		/^### / { rec = ($0 == recipe); next }
		!rec { next }
		/^    / {
			line = substr($0, 5)
			if (!inblock)
				kind = line ~ /^\[/ ? "table" : line ~ /^cat >/ ? "files" : "command"
			inblock = 1
			if (kind == want)
				print line
			next
		}
		{ inblock = 0 }' "$README"
}

# The recipe's table is the table, and portbind --check accepts it.
readme_table() {
	local t
	t=$(cookbook_block "$1" table)
	[ -n "$t" ] || fail "no table for \"$1\" in the README"
	table <<<"$t"
	run "$PB" --check
	expect_status 0
}

# DIR for the recipe: a new directory $T/dir of user $1.
make_dir() {
	dir=$T/dir
	install -d -m 0755 -o "$1" -g "$(id -g "$1")" "$dir"
}

# Run the recipe's blocks that write files, as root, with DIR=$dir.
write_files() {
	local f
	f=$(cookbook_block "$1" files)
	[ -n "$f" ] || fail "no files for \"$1\" in the README"
	DIR=$dir bash -euc "umask 022; $f" || fail "the README's files for \"$1\" failed"
}

# The recipe's command line, as root, in the background with DIR=$dir: $bg
# is its pid (portbind's, then the daemon's), $out its output.
start_readme() {
	local cmd
	cmd=$(cookbook_block "$1" command)
	[ -n "$cmd" ] || fail "no command line for \"$1\" in the README"
	out=$T/out
	# (not through a function: a function run with & is a subshell, and $!
	# would be its pid, not the daemon's)
	env PATH="$PB_PREFIX/bin:$PATH" DIR="$dir" bash -c 'eval "exec env $1"' _ "$cmd" >"$out" 2>&1 3>&- &
	bg=$!
	bgpids+=("$bg")
}


# HTTP GET $1 with curl, never through a proxy, 5 s at most.
get() {
	curl -fsS -g --noproxy '*' --max-time 5 "$1"
}

# The page at URL $1 is $2, over IPv4 (127.0.0.1) and IPv6 (::1): $1 says HOST.
expect_page() {
	eventually get "${1/HOST/127.0.0.1}"
	[ "$output" = "$2" ] || fail "IPv4: wrong page"
	run get "${1/HOST/[::1]}"
	expect_status 0
	[ "$output" = "$2" ] || fail "IPv6: wrong page"
}


# PROTO $1 (tcp: listening, udp: bound) port $2 has a socket on local
# address $3 (as ss prints it: 127.0.0.1:53, [::1]:53, *:80) held by
# process $4 and owned by user $5: the one portbind bound for it.
expect_holds() {
	local opt=-Hltnpe line
	[ "$1" = udp ] && opt=-Hlunpe
	output=$(ss $opt "sport = :$2")
	line=$(grep -F " $3 " <<<"$output" | grep -F "pid=$4,") || fail "$1 $3 is not held by process $4"
	grep -qF " uid:$(id -u "$5") " <<<"$line" || fail "$1 $3 is not owned by $5: $line"
}

@test "every recipe of the Cookbook has its test in this suite" {
	local have
	have=$(awk '/^## / { sec = ($0 == "## Cookbook"); next } sec && /^### / { print substr($0, 5) }' "$README")
	[ "$have" = "$(printf '%s\n' "${RECIPES[@]}")" ] || fail "the Cookbook's recipes:" "$have"
}

# The recipe "### $1" has contrib's table $2 (without its comments) and
# the ExecStart= of contrib's unit $3, with portbind found in PATH.
expect_contrib_recipe() {
	local t c
	t=$(cookbook_block "$1" table)
	[ -n "$t" ] && [ "$t" = "$(grep -v '^;' "$CONTRIB/$2")" ] || fail "$1: the table is not contrib/$2"
	c=$(cookbook_block "$1" command)
	[ -n "$c" ] && [ "$c" = "$(sed -n 's|^ExecStart=/usr/local/bin/portbind |portbind |p' "$CONTRIB/$3")" ] ||
		fail "$1: the command is not the ExecStart= of contrib/$3"
	[ -z "$(cookbook_block "$1" files)" ] || fail "$1: its files are contrib's"
	readme_table "$1"
}

@test "lighttpd and unbound: the Cookbook's lines are contrib's table and unit (run by contrib.bats)" {
	expect_contrib_recipe lighttpd web.conf portbind-web.service
	expect_contrib_recipe unbound dns.conf portbind-dns.service
}

@test "nginx takes port 80 from NGINX='3;' as www-data and serves a page over IPv4 and IPv6" {
	readme_table nginx
	make_dir www-data
	write_files nginx
	install -d -m 0755 "$dir/www"
	echo "nginx on a handed socket" >"$dir/www/index.html"
	start_readme nginx
	expect_page http://HOST/ "nginx on a handed socket"
	expect_unprivileged "$bg" www-data /usr/sbin/nginx
	expect_holds tcp 80 '*:80' "$bg" www-data
	expect_line "v6only:0"
	output=$(cat "$out")
	expect_line 'using inherited sockets from "3;"'
	stop "$bg"
	expect_settled 80
}

@test "nginx without NGINX, or told to listen on 0.0.0.0:80, binds for itself and is refused" {
	readme_table nginx
	make_dir www-data
	write_files nginx
	local cmd plain
	cmd=$(cookbook_block nginx command)
	plain=${cmd#"NGINX='3;' "}
	[ "$plain" != "$cmd" ] || fail "the command sets no NGINX='3;'"
	run timeout 10 env PATH="$PB_PREFIX/bin:$PATH" DIR="$dir" bash -c 'eval "exec env $1"' _ "$plain"
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "nginx should have stopped"
	expect_line "bind() to [::]:80 failed (13: Permission denied)"
	sed -i 's/listen \[::\]:80 ipv6only=off;/listen 80;/' "$dir/nginx.conf"
	grep -q 'listen 80;' "$dir/nginx.conf" || fail "no listen line to change"
	run timeout 10 env PATH="$PB_PREFIX/bin:$PATH" DIR="$dir" bash -c 'eval "exec env $1"' _ "$cmd"
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "nginx should have stopped"
	expect_line 'using inherited sockets from "3;"'
	expect_line "bind() to 0.0.0.0:80 failed (13: Permission denied)"
	expect_unbound 80
}

@test "haproxy takes port 81 with bind fd@3 as haproxy and answers over IPv4 and IPv6" {
	readme_table haproxy
	make_dir haproxy
	write_files haproxy
	start_readme haproxy
	expect_page http://HOST:81/ "haproxy on a handed socket"
	expect_unprivileged "$bg" haproxy /usr/sbin/haproxy
	expect_holds tcp 81 '*:81' "$bg" haproxy
	stop "$bg"
	expect_settled 81
}

@test "kresd takes port 53 (UDP, TCP, IPv4, IPv6) with -S as knot-resolver and answers kdig" {
	readme_table "knot-resolver (kresd)"
	make_dir knot-resolver
	write_files "knot-resolver (kresd)"
	start_readme "knot-resolver (kresd)"
	eventually kdig +short +timeout=1 +retry=0 @127.0.0.1 www.portbind.internal A
	[ "$output" = 192.0.2.53 ] || fail "UDP over IPv4: wrong answer"
	local a p
	for a in 127.0.0.1 ::1; do
		for p in +notcp +tcp; do
			run kdig +short +timeout=2 +retry=0 "$p" "@$a" www.portbind.internal A
			[ "$output" = 192.0.2.53 ] || fail "$p to $a: wrong answer"
		done
	done
	expect_unprivileged "$bg" knot-resolver /usr/sbin/kresd
	for p in udp tcp; do
		expect_holds "$p" 53 127.0.0.1:53 "$bg" knot-resolver
		expect_holds "$p" 53 '[::1]:53' "$bg" knot-resolver
	done
	# its cache and control socket went to DIR
	[ -f "$dir/data.mdb" ] || fail "no cache in DIR"
	[ -S "$dir/control/$bg" ] || fail "no control socket in DIR"
	stop "$bg"
	expect_settled 53
}

@test "prometheus-node-exporter takes port 910 with --web.systemd-socket as prometheus and serves metrics" {
	readme_table prometheus-node-exporter
	make_dir prometheus
	start_readme prometheus-node-exporter
	eventually get http://127.0.0.1:910/metrics
	expect_line "node_uname_info{"
	run get 'http://[::1]:910/metrics'
	expect_status 0
	expect_line "node_uname_info{"
	expect_unprivileged "$bg" prometheus /usr/bin/prometheus-node-exporter
	expect_holds tcp 910 '*:910' "$bg" prometheus
	# the handed socket, not its default
	expect_unbound 9100
	stop "$bg"
	expect_settled 910
}

@test "gunicorn takes port 82 from LISTEN_FDS as pbt_alice and serves a WSGI application over IPv4 and IPv6" {
	readme_table gunicorn
	make_dir pbt_alice
	write_files gunicorn
	start_readme gunicorn
	expect_page http://HOST:82/ "gunicorn on a handed socket"
	expect_unprivileged "$bg" pbt_alice /usr/bin/python3
	tr '\0' ' ' <"/proc/$bg/cmdline" | grep -q '^/usr/bin/python3 /usr/bin/gunicorn ' ||
		fail "process $bg is not gunicorn: $(tr '\0' ' ' <"/proc/$bg/cmdline")"
	expect_holds tcp 82 '*:82' "$bg" pbt_alice
	expect_unbound 8000
	stop "$bg"
	expect_settled 82
}

@test "systemd-socket-proxyd takes port 83 as pbt_alice and forwards to a backend on 8083" {
	readme_table systemd-socket-proxyd
	make_dir pbt_alice
	echo "backend content through the proxy" >"$dir/page.txt"
	bg_as pbt_alice /usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$dir" 8083
	local backend=$bg
	eventually get http://127.0.0.1:8083/page.txt
	start_readme systemd-socket-proxyd
	expect_page http://HOST:83/page.txt "backend content through the proxy"
	expect_unprivileged "$bg" pbt_alice /usr/lib/systemd/systemd-socket-proxyd
	expect_holds tcp 83 '*:83' "$bg" pbt_alice
	stop "$bg"
	stop "$backend"
	expect_settled 83
	expect_settled 8083
}

@test "a Python server takes port 84 on fd 3 as pbt_alice and serves a file over IPv4 and IPv6" {
	local r="A Python server in a few lines"
	readme_table "$r"
	make_dir pbt_alice
	write_files "$r"
	install -d -m 0755 "$dir/www"
	echo "python on a handed socket" >"$dir/www/index.txt"
	start_readme "$r"
	expect_page http://HOST:84/index.txt "python on a handed socket"
	expect_unprivileged "$bg" pbt_alice /usr/bin/python3
	expect_holds tcp 84 '*:84' "$bg" pbt_alice
	stop "$bg"
	expect_settled 84
	# Started without portbind, it refuses rather than serve some other fd 3.
	run as pbt_alice /usr/bin/python3 "$dir/serve.py" "$dir/www"
	expect_status 1
	expect_line "serve.py: start me as: portbind SPEC -- python3 serve.py DIR"
}

@test "every daemon line of portbind(1) EXAMPLES is a line of the README, where the tests run it" {
	local lines readme l n=0 missing=()
	# One line per command: "\" continuations joined, blanks squeezed.
	lines=$(mandoc -Tascii "$BATS_TEST_DIRNAME/../man/portbind.1" | col -b |
		sed -n '/Common Debian daemons/,/BIND 9.s named binds its ports itself/p' |
		awk 'cont { line = line " " $0; if ($0 !~ /\\$/) { print line; cont = 0 }; next }
			/^[ \t]*# / { sub(/^[ \t]*# /, ""); line = $0; if ($0 ~ /\\$/) cont = 1; else print line }' |
		sed 's/\\ / /g' | tr -s ' \t' ' ')
	readme=$(sed -n 's/^    //p' "$BATS_TEST_DIRNAME/../README.md" |
		awk 'cont { line = line " " $0; if ($0 !~ /\\$/) { print line; cont = 0 }; next }
			{ line = $0; if ($0 ~ /\\$/) cont = 1; else print line }' |
		sed 's/\\ / /g' | tr -s ' \t' ' ' | sed 's/^ //')
	while IFS= read -r l; do
		[ -n "$l" ] || continue
		n=$((n + 1))
		grep -qxF -- "$l" <<<"$readme" || missing+=("$l")
	done <<<"$lines"
	[ "$n" -ge 9 ] || fail "only $n command lines found in EXAMPLES: $lines"
	[ ${#missing[@]} -eq 0 ] || fail "in portbind(1) EXAMPLES but not in the README:" "${missing[@]}"
}
