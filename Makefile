# portbind: plain make, Linux only.
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
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

$(BUILDDIR)/%.o: src/%.c src/portbind.h | $(BUILDDIR)
	$(CC) $(WARN_CFLAGS) $(HARDEN_CFLAGS) $(CFLAGS) -DSYSCONFDIR='"$(SYSCONFDIR)"' -c -o $@ $<

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
		$(DESTDIR)$(MANDIR)/man5/portbind.conf.5

clean:
	rm -rf $(BUILDDIR) build-check

.PHONY: all install uninstall clean check demo

# Runs as root: builds with a private SYSCONFDIR, installs setuid into a
# private prefix, creates pbt_* test users, runs tests/*.bats, cleans up.
check:
	tests/run

# As root: lighttpd serving port 80 as www-data through portbind, asked by curl.
demo:
	contrib/demo
