#!/usr/bin/env bats
# make install: DESTDIR, PREFIX and SYSCONFDIR honoured, the binary root's
# with mode 4755, portbind-guard 0755, the man pages and completion in place, and an existing
# table never overwritten.

setup_file() {
	export ROOT=$BATS_FILE_TMPDIR/destdir BUILD=$BATS_FILE_TMPDIR/build
	cd "$BATS_TEST_DIRNAME/.."
	make -s BUILDDIR="$BUILD" DESTDIR="$ROOT" PREFIX=/opt/pb SYSCONFDIR=/etc/pbtest install >/dev/null
}

@test "make install puts everything under DESTDIR, PREFIX and SYSCONFDIR" {
	[ "$(stat -c '%U:%G %a' "$ROOT/opt/pb/bin/portbind")" = "root:root 4755" ]
	[ -f "$ROOT/opt/pb/share/man/man1/portbind.1" ]
	[ -f "$ROOT/opt/pb/share/man/man5/portbind.conf.5" ]
	# portbind-guard: root's, never setuid, with its man page
	[ "$(stat -c '%U:%G %a' "$ROOT/opt/pb/sbin/portbind-guard")" = "root:root 755" ]
	[ -f "$ROOT/opt/pb/share/man/man8/portbind-guard.8" ]
	grep -qF /etc/pbtest/portbind.conf "$ROOT/opt/pb/sbin/portbind-guard"
	[ -f "$ROOT/opt/pb/share/bash-completion/completions/portbind" ]
	[ "$(stat -c '%U %a' "$ROOT/etc/pbtest/portbind.conf")" = "root 644" ]
	[ -d "$ROOT/etc/pbtest/portbind.d" ]
	[ -f "$ROOT/etc/pbtest/portbind.conf.example" ]
	# the binary reads the table where SYSCONFDIR said
	grep -qF /etc/pbtest/portbind.conf "$ROOT/opt/pb/bin/portbind"
}

@test "make install never overwrites an existing table" {
	printf '[mine]\nport = 80\nuser = *\n' > "$ROOT/etc/pbtest/portbind.conf"
	cd "$BATS_TEST_DIRNAME/.."
	run make -s BUILDDIR="$BUILD" DESTDIR="$ROOT" PREFIX=/opt/pb SYSCONFDIR=/etc/pbtest install
	[ "$status" -eq 0 ]
	grep -q "keeping existing" <<<"$output"
	[ "$(cat "$ROOT/etc/pbtest/portbind.conf")" = "$(printf '[mine]\nport = 80\nuser = *')" ]
}

@test "a build for another SYSCONFDIR in the same BUILDDIR is rebuilt, never reused" {
	cd "$BATS_TEST_DIRNAME/.."
	make -s BUILDDIR="$BUILD" SYSCONFDIR=/etc/pbother >/dev/null
	grep -qF /etc/pbother/portbind.conf "$BUILD/portbind"
	run grep -qF /etc/pbtest/portbind.conf "$BUILD/portbind"
	[ "$status" -eq 1 ]
}
