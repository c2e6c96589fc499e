# portbind: plain make, Linux only.
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
COMPLETIONSDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=
BUILDDIR ?= build

CC ?= cc
CFLAGS ?= -O2 -g
WARN_CFLAGS ?= -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith -Wcast-qual \
	-Wstrict-prototypes -Wmissing-prototypes -Wconversion -Wno-sign-conversion
HARDEN_CFLAGS ?= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
	-fPIE -fcf-protection
HARDEN_LDFLAGS ?= -pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack
LIBS = -lcap-ng -linih

SRCS = portbind.c cli.c parse.c table.c load.c policy.c ident.c sock.c priv.c fds.c \
	env.c exec.c report.c log.c
OBJS = $(SRCS:%.c=$(BUILDDIR)/%.o)

all: $(BUILDDIR)/portbind

$(BUILDDIR)/%.o: src/%.c src/portbind.h $(BUILDDIR)/build-flags | $(BUILDDIR)
	$(CC) $(WARN_CFLAGS) $(HARDEN_CFLAGS) $(CFLAGS) -DSYSCONFDIR='"$(SYSCONFDIR)"' -c -o $@ $<

# Rebuild when the flags or SYSCONFDIR change: a binary built for one
# SYSCONFDIR must never be installed for another.
$(BUILDDIR)/build-flags: FORCE | $(BUILDDIR)
	@printf '%s\n' "$(CC) $(WARN_CFLAGS) $(HARDEN_CFLAGS) $(CFLAGS) $(HARDEN_LDFLAGS) $(LDFLAGS) $(SYSCONFDIR)" > $@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv -f $@.new $@; fi

FORCE:

$(BUILDDIR)/portbind: $(OBJS)
	$(CC) $(CFLAGS) $(HARDEN_LDFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(BUILDDIR):
	mkdir -p $@

# The setuid bit is set last, after owner and group, so no window exists in
# which a non-root file is setuid.
install: $(BUILDDIR)/portbind
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(BUILDDIR)/portbind $(DESTDIR)$(BINDIR)/portbind
	chown root:root $(DESTDIR)$(BINDIR)/portbind
	chmod 4755 $(DESTDIR)$(BINDIR)/portbind
	install -m 0644 man/portbind.1 $(DESTDIR)$(MANDIR)/man1/portbind.1
	install -m 0644 man/portbind.conf.5 $(DESTDIR)$(MANDIR)/man5/portbind.conf.5
	install -d -m 0755 $(DESTDIR)$(COMPLETIONSDIR)
	install -m 0644 contrib/portbind.bash-completion $(DESTDIR)$(COMPLETIONSDIR)/portbind
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/portbind.d
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/portbind.conf ]; then \
		echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/portbind.conf"; \
	else \
		install -m 0644 portbind.conf.example $(DESTDIR)$(SYSCONFDIR)/portbind.conf.example; \
		printf '; portbind ownership table: see portbind.conf(5) and portbind.conf.example\n' \
			> $(DESTDIR)$(SYSCONFDIR)/portbind.conf; \
		chmod 0644 $(DESTDIR)$(SYSCONFDIR)/portbind.conf; \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/portbind $(DESTDIR)$(MANDIR)/man1/portbind.1 \
		$(DESTDIR)$(MANDIR)/man5/portbind.conf.5 $(DESTDIR)$(COMPLETIONSDIR)/portbind

clean:
	rm -rf $(BUILDDIR) build-check

.PHONY: all install uninstall clean check demo analyze mutants FORCE fuzz fuzz-replay fuzz-deps

# Runs as root: installs the missing Debian packages, replays the fuzz
# corpus, then builds with a private SYSCONFDIR, installs setuid into a
# private prefix, creates pbt_* test users, runs tests/*.bats, cleans up.
check:
	tests/deps
	$(MAKE) fuzz-replay
	tests/run

# Fuzzing: the pure parts (argv, table, environment, fd placement) with
# libFuzzer; `make fuzz` runs each target FUZZ_SECONDS and merges what it
# found into the corpus; `make fuzz-replay` runs the corpus with a plain
# main, no libFuzzer needed.
FUZZ_TARGETS = table cli env fds
FUZZ_SRCS = src/parse.c src/cli.c src/table.c src/policy.c src/env.c src/fds.c src/log.c
FUZZ_SECONDS ?= 600
FUZZ_CC ?= clang
FUZZ_FLAGS = -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all

fuzz-replay: $(FUZZ_TARGETS:%=$(BUILDDIR)/replay-%)
	@for t in $(FUZZ_TARGETS); do \
		printf 'fuzz corpus %s: ' $$t; $(BUILDDIR)/replay-$$t tests/fuzz/corpus/$$t || exit 1; \
	done

$(BUILDDIR)/replay-%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(FUZZ_SRCS) src/portbind.h | $(BUILDDIR)
	$(CC) $(WARN_CFLAGS) $(CFLAGS) -o $@ $< tests/fuzz/replay.c $(FUZZ_SRCS) $(LIBS)

$(BUILDDIR)/fuzz-%: tests/fuzz/fuzz_%.c $(FUZZ_SRCS) src/portbind.h | $(BUILDDIR) fuzz-deps
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_SRCS) $(LIBS)

fuzz-deps:
	tests/deps clang libclang-rt-14-dev

fuzz: fuzz-deps $(FUZZ_TARGETS:%=$(BUILDDIR)/fuzz-%)
	@for t in $(FUZZ_TARGETS); do \
		work=$$(mktemp -d) && cp tests/fuzz/corpus/$$t/* $$work/ && \
		$(BUILDDIR)/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=tests/fuzz/crash-$$t- $$work 2>&1 | tail -n 12 && \
		$(BUILDDIR)/fuzz-$$t -merge=1 tests/fuzz/corpus/$$t $$work 2>&1 | tail -n 1 && \
		rm -rf $$work || exit 1; \
	done

# gcc -fanalyzer, cppcheck, clang-tidy, the binary hardening gate, valgrind
# and ASan+UBSan runs of the paths that need no privilege.
analyze:
	tests/analyze

# As root: plants each of a fixed list of one-line bugs of the privileged
# path into a temporary copy of the tree and expects the tests that should
# catch it to fail (tests/mutants; part of `make analyze`).
mutants:
	tests/mutants

# As root: lighttpd serving port 80 as www-data through portbind, asked by curl.
demo:
	contrib/demo
