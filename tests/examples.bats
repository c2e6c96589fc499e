#!/usr/bin/env bats
# Every example table in the project passes `portbind --check` on a
# Debian 12 host with the packages it names installed (tests/deps):
# portbind.conf.example, the EXAMPLES of portbind.conf(5), the tables in
# contrib/, and every table block of the README. Each is checked as a
# draft by a test user, as an administrator would before installing it.
load lib

ROOT=$BATS_TEST_DIRNAME/..

# check NAME < table: the draft passes --check, and has at least one section.
check() {
	local f=$DRAFTS/example-$1.conf
	cat >"$f"
	chmod 0644 "$f"
	grep -q '^\[' "$f" || fail "$1: no section: $(cat "$f")"
	run as pbt_dave "$PB" --check "$f"
	[ "$status" -eq 0 ] || fail "$1: portbind --check: exit $status: $output"
	expect_line "table OK"
}

@test "portbind.conf.example passes --check" {
	check example <"$ROOT/portbind.conf.example"
	# the user BIND 9 runs as on Debian, not a user that does not exist
	! grep -q '^user = named' "$ROOT/portbind.conf.example" || fail "user = named"
}

@test "the EXAMPLES of portbind.conf(5) pass --check" {
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh /{/^\.Bd/,/^\.Ed/{/^\.[BE]d/d;p}}' "$ROOT/man/portbind.conf.5" |
		check man5
}

@test "the tables in contrib/ pass --check" {
	local f n=0
	for f in "$ROOT"/contrib/*.conf; do
		grep -q '^\[' "$f" || continue # a daemon's configuration, not a table
		check "contrib-$(basename "$f" .conf)" <"$f"
		n=$((n + 1))
	done
	[ "$n" -ge 3 ] || fail "only $n tables in contrib/"
}

@test "every table block of the README passes --check" {
	local n=0 i
	# Indented blocks whose first line is a [section]: one file each.
	awk -v dir="$DRAFTS" '
		/^    / { if (!inblock) { inblock = 1; table = ($0 ~ /^    \[/); n += table }
			if (table) { sub(/^    /, ""); print > (dir "/readme-" n ".block") }
			next }
		{ inblock = 0; table = 0 }
		END { print n > (dir "/readme.count") }' "$ROOT/README.md"
	n=$(cat "$DRAFTS/readme.count")
	[ "$n" -ge 5 ] || fail "only $n table blocks in the README"
	for ((i = 1; i <= n; i++)); do
		check "readme-$i" <"$DRAFTS/readme-$i.block"
	done
}
