#!/usr/bin/env bats
# portbind(1) DIAGNOSTICS lists every message portbind can print, under its
# exit status, and nothing else. The messages are the format strings of the
# message functions (die(), table_error(), cli.c's fail()) in the files the
# Makefile's SRCS links into the setuid binary. The page gives each as the
# head of a tag list under an "Exit status N" subsection, with Ar for every
# part that varies. Both sides are compared as text, with each printf
# conversion and each Ar word read as <>; a conversion also matches literal
# text, so that the page may spell out a fixed word ("bad user id" for
# "bad %s id"), and a page entry stands for the most specific format it
# matches ("readlink <>: longer than <> bytes", not "readlink <>: <>").
load lib

ROOT=$BATS_TEST_DIRNAME/..

# Messages built from pieces at run time: a format with no word of its own
# would match any entry, so each is listed here, by file, function and
# format, with the page entries that stand for it ("-": none; "why": each
# string literal assigned to `why` in that file) and the reason.
pieces() {
	cat <<'EOF'
portbind.c	die	%s%s	-	cli_parse()'s message from cli.c's fail(), each of whose formats is checked, and " (see portbind --help)" after a usage error
exec.c	die	%s: %s	<>: <>	the command as given or found, and the system's error text
chain.c	die	%s: %s	<>: <>	a table file or directory or a pinned program, and the error that ran out of descriptors or memory (chain_open())
chain.c	table_error	%s%s%s	why	chain_judge(): what is judged ("", "directory DIR" or "program PATH") and why it is refused, one of chain.c's `why` literals
chain.c	table_error	%s: %s	directory <>: <>	a directory above a table file or program, and the system's error text
load.c	table_error	%s: %s	program <>: <>	a pinned program, and the system's error text
EOF
}

# Lines of the setuid sources that may name stderr (string literals read
# as ""), each with its reason: any other write to stderr is a message
# this test does not see.
stderr_allowed() {
	cat <<'EOF'
log.c	^(?:v?fprintf\(stderr, (?:"", log_ident|fmt, ap)\)|fputc\('\\n', stderr\));$	die(): "portbind: MESSAGE"
portbind.c	^table_init\(	the table errors, through table_error()
portbind.c	^report_decision\(	-v: the decision, which OPTIONS describes
EOF
}

diag() {
	PIECES=$(pieces) STDERR_ALLOWED=$(stderr_allowed) perl -e "$DIAG_PL" -- "$ROOT" "$@"
}

DIAG_PL=$(
	cat <<'PERL'
use strict;
use warnings;

my ($root, $mode) = @ARGV;

sub slurp {
	my ($f) = @_;
	open(my $h, '<', $f) or die "$f: $!\n";
	local $/;
	my $s = <$h>;
	close $h;
	return $s;
}

# C text with comments blanked (their newlines kept), strings and
# character constants kept.
sub uncomment {
	my ($s) = @_;
	$s =~ s{("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|/\*.*?\*/|//[^\n]*}
	       {defined $1 ? $1 : ' ' . ("\n" x ($& =~ tr/\n//))}gse;
	return $s;
}

sub unquote {
	my ($lit) = @_;
	my %esc = (n => "\n", t => "\t");
	$lit =~ s/^"|"$//g;
	$lit =~ s/\\(x[0-9a-fA-F]+|[0-7]{1,3}|.)/
		$1 =~ m{^x} ? chr(hex(substr($1, 1))) : $1 =~ m{^[0-7]} ? chr(oct($1)) : ($esc{$1} \/\/ $1)/ge;
	return $lit;
}

sub squeeze {
	my ($s) = @_;
	$s =~ s/\s+/ /g;
	$s =~ s/^ | $//g;
	return $s;
}

# Every printf conversion as <>, %% as %.
sub placeholders {
	my ($f) = @_;
	$f =~ s/%%|%[-+ #0']*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?:hh|h|ll|l|z|j|t|L|q)?[diouxXeEfgGcsp]/$& eq '%%' ? '%' : '<>'/ge;
	return squeeze($f);
}

my @srcs = split ' ', `make -s --no-print-directory -C '$root' --eval='diag-srcs: ; \@echo \$(SRCS)' diag-srcs`;
die "the Makefile's SRCS could not be read\n" if $? != 0 || !@srcs;
my %text = map { $_ => uncomment(slurp("$root/src/$_")) } @srcs;
my $hdr = uncomment(slurp("$root/src/portbind.h"));
my (%code, %macro, %fmtarg, @problems);
$code{$1} = $2 while $hdr =~ /\b(EXIT_\w+)\s*=\s*(\d+)/g;
for my $t ($hdr, (map { uncomment(slurp($_)) } glob("$root/src/*.h")), values %text) {
	$macro{$1} = unquote($2)
		while $t =~ /^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+("(?:[^"\\\n]|\\.)*")[ \t]*$/mg;
	# printf-like functions, from their format attributes, either side
	$fmtarg{$1} = $2 - 1
		while $t =~ /\b(\w+)\s*\([^()]*\)\s*__attribute__\s*\(\(\s*format\s*\(\s*printf\s*,\s*(\d+)/g;
	$fmtarg{$2} = $1 - 1
		while $t =~ /__attribute__\s*\(\(\s*format\s*\(\s*printf\s*,\s*(\d+)[^;{]*?\b(\w+)\s*\(/g;
}

# What becomes of each printf-like function's message.
my %known = (die => 'exit', table_error => 'table', fail => 'usage', log_line => 'syslog');
for my $fn (sort keys %fmtarg) {
	push @problems, "printf-like function $fn(): not known to this test; do its messages reach the user?"
		unless $known{$fn};
}

# The arguments of the call whose "(" is at $pos, and where it ends.
sub args_at {
	my ($t, $pos) = @_;
	my ($depth, $cur, @args) = (0, '');
	pos($$t) = $pos + 1;
	while ($$t =~ /\G("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[()\[\]{},]|[^"'()\[\]{},]+)/gc) {
		my $tok = $1;
		if ($tok =~ /^[(\[{]$/) {
			$depth++;
		} elsif ($tok =~ /^[)\]}]$/) {
			if ($depth == 0) {
				push @args, $cur;
				return (\@args, pos($$t));
			}
			$depth--;
		} elsif ($tok eq ',' && $depth == 0) {
			push @args, $cur;
			$cur = '';
			next;
		}
		$cur .= $tok;
	}
	die "unbalanced call at offset $pos\n";
}

# The format: string literals and macros of string literals, or undef.
sub format_of {
	my ($arg) = @_;
	my $s = '';
	return undef unless defined $arg;
	while ($arg =~ /\G\s*("(?:[^"\\]|\\.)*"|\w+)/gc) {
		my $tok = $1;
		if ($tok =~ /^"/) { $s .= unquote($tok); }
		elsif (exists $macro{$tok}) { $s .= $macro{$tok}; }
		else { return undef; }
	}
	return $arg =~ /\G\s*$/gc ? $s : undef;
}

# The messages, keyed "FUNCTION\tMESSAGE" (MESSAGE with <>): the format
# as written, and where each exit status comes from.
my %msgs;
my $names = join('|', map { quotemeta } keys %fmtarg);
for my $file (@srcs) {
	my $t = $text{$file};
	while ($t =~ /\b(return\s+)?\b($names)\s*\(/g) {
		my ($ret, $fn, $open, $at) = ($1, $2, $+[0] - 1, $-[2]);
		my $resume = pos($t);
		next if substr($t, 0, $at) =~ /\b(?:void|int|static|_Noreturn|\*)\s*$/; # a declaration
		my $where = "src/$file:" . (1 + (substr($t, 0, $at) =~ tr/\n//));
		my ($args, $end) = args_at(\$t, $open);
		pos($t) = $resume;
		my $fmt = format_of($args->[$fmtarg{$fn}]);
		if (!defined $fmt) {
			push @problems, "$where: $fn() with a format that is not a string literal";
			next;
		}
		my @codes;
		if ($known{$fn} eq 'exit') {
			@codes = map { $code{$_} // "$_?" } ($args->[0] =~ /\b(EXIT_\w+)/g);
		} elsif ($known{$fn} eq 'table') {
			@codes = ($code{EXIT_TABLE});
		} elsif ($known{$fn} eq 'usage') {
			# cli_parse() returns fail()'s EXIT_USAGE, or the status after it
			@codes = $ret ? ($code{EXIT_USAGE})
			       : substr($t, $end) =~ /^\s*;\s*return\s+(EXIT_\w+)\s*;/ ? ($code{$1}) : ();
		} else {
			next; # syslog only: see LOGGING
		}
		my $m = $msgs{"$fn\t" . placeholders($fmt)} //= { fmt => $fmt, codes => {} };
		@codes = ('?') unless @codes;
		push @{ $m->{codes}{$_} }, $where for @codes;
	}
}
push @problems, "log_line() writes to stderr too (LOG_PERROR): its messages belong in DIAGNOSTICS"
	if grep { /\bLOG_PERROR\b/ } values %text;

# Direct writes to stderr, other than those allowed.
my @allowed = map { [split /\t/] } split /\n/, $ENV{STDERR_ALLOWED};
for my $file (@srcs) {
	my $n = 0;
	(my $code = $text{$file}) =~ s/"(?:[^"\\\n]|\\.)*"/""/g; # no text of messages
	for my $line (split /\n/, $code) {
		$n++;
		next unless $line =~ /\bstderr\b|\bSTDERR_FILENO\b|\bperror\s*\(|\bv?(?:warn|err)x?\s*\(|\bdprintf\s*\(\s*2\b/;
		my $l = squeeze($line);
		push @problems, "src/$file:$n: writes to stderr outside die() and table_error(): $l"
			unless grep { $_->[0] eq $file && $l =~ /$_->[1]/ } @allowed;
	}
}

# Messages built from pieces: no letter of their own.
my %pieces;
for my $row (split /\n/, $ENV{PIECES}) {
	my ($file, $fn, $fmt, $entries) = split /\t/, $row; # and the reason
	my $key = "$fn\t" . placeholders($fmt);
	my $m = $msgs{$key};
	if (!$m || !grep { m{^src/\Q$file\E:} } map { @$_ } values %{ $m->{codes} }) {
		push @problems, "listed as built from pieces, but no longer in src/$file: $fn(\"$fmt\")";
		next;
	}
	my @e = $entries eq '-' ? () : split /\|/, $entries;
	if ($entries eq 'why') {
		@e = ();
		while ($text{$file} =~ /\bwhy\s*=([^;]*);/g) {
			my $rhs = $1;
			push @e, placeholders(unquote($1)) while $rhs =~ /("(?:[^"\\]|\\.)*")/g;
		}
	}
	$pieces{"$key\t$file"} = { codes => {}, entries => [@e], fmt => $fmt };
}
for my $key (sort keys %msgs) {
	my $m = $msgs{$key};
	my ($fn, $msg) = split /\t/, $key, 2;
	next if $msg =~ /[A-Za-z]/;
	for my $code (keys %{ $m->{codes} }) {
		for my $where (@{ $m->{codes}{$code} }) {
			my ($file) = $where =~ m{^src/([^:]+):};
			my $p = $pieces{"$key\t$file"};
			if (!$p) {
				push @problems, "$where: $fn(\"$m->{fmt}\") is built from pieces and not listed in pieces()";
				next;
			}
			$p->{codes}{$code} = 1;
		}
	}
}
for my $key (keys %msgs) {
	next unless (split /\t/, $key, 2)[1] =~ /[A-Za-z]/; # pieces: their entries say
	push @problems, "the exit status of $_ is unknown" for @{ $msgs{$key}{codes}{'?'} // [] };
}

# The page: DIAGNOSTICS as mandoc renders it in HTML, each <dt> an entry,
# each <var class="Ar"> a <>, the codes from the numbers of its <h2>.
my $html = `mandoc -Thtml -O fragment '$root/man/portbind.1'`;
die "mandoc failed\n" if $? != 0;
my ($section) = $html =~ m{<h1 class="Sh" id="DIAGNOSTICS">(.*?)(?:<h1 class="Sh"|\z)}s;
my (@page, @codes);
push @problems, "portbind(1) has no DIAGNOSTICS section" unless defined $section;
sub plain {
	my ($h) = @_;
	$h =~ s{<var class="Ar">.*?</var>}{\x{1}}gs;
	$h =~ s/<[^>]*>//g;
	$h =~ s/&lt;/</g;
	$h =~ s/&gt;/>/g;
	$h =~ s/&quot;/"/g;
	$h =~ s/&#x([0-9A-Fa-f]+);/chr(hex($1))/ge;
	$h =~ s/&amp;/&/g;
	$h =~ s/\x{1}/<>/g;
	return squeeze($h);
}
while (defined $section && $section =~ m{<h2 class="Ss"[^>]*>(.*?)</h2>|<dt[^>]*>(.*?)</dt>}gs) {
	if (defined $1) {
		@codes = plain($1) =~ /\b(\d+)\b/g;
		next;
	}
	my $e = plain($2);
	push @page, { text => $e, codes => {map { $_ => 1 } @codes} };
}

# A page entry stands for the most specific formats it matches, among
# those of its exit status; a listed piece's entries stand for it.
sub literal { my ($s) = @_; $s =~ s/<>//g; return length $s; }
for my $e (@page) {
	my @cand;
	for my $key (keys %msgs) {
		my ($fn, $msg) = split /\t/, $key, 2;
		next unless $msg =~ /[A-Za-z]/;
		next unless grep { $e->{codes}{$_} } keys %{ $msgs{$key}{codes} };
		my $re = join('.*?', map { quotemeta } split /<>/, $msg, -1);
		push @cand, $key if $e->{text} =~ /^$re$/s;
	}
	my $best = 0;
	$best < literal($_) and $best = literal($_) for map { (split /\t/, $_, 2)[1] } @cand;
	$e->{for} = { map { $_ => 1 } grep { literal((split /\t/, $_, 2)[1]) == $best } @cand };
	for my $p (keys %pieces) {
		$e->{for}{$p} = 1
			if grep { $_ eq $e->{text} } @{ $pieces{$p}{entries} }
			and grep { $e->{codes}{$_} } keys %{ $pieces{$p}{codes} };
	}
}

my (@missing, @stale);
for my $key (sort keys %msgs) {
	my $m = $msgs{$key};
	my ($fn, $msg) = split /\t/, $key, 2;
	next unless $msg =~ /[A-Za-z]/;
	for my $code (sort keys %{ $m->{codes} }) {
		next if $code eq '?';
		next if grep { $_->{codes}{$code} && $_->{for}{$key} } @page;
		push @missing, sprintf("exit %s: %s  (%s(\"%s\") at %s)", $code, $msg, $fn, $m->{fmt},
			join(', ', @{ $m->{codes}{$code} }));
	}
}
for my $p (sort keys %pieces) {
	for my $code (sort keys %{ $pieces{$p}{codes} }) {
		for my $want (@{ $pieces{$p}{entries} }) {
			next if grep { $_->{codes}{$code} && $_->{text} eq $want } @page;
			my ($fn, $msg, $file) = split /\t/, $p;
			push @missing, "exit $code: $want  (built from pieces: $fn(\"$pieces{$p}{fmt}\") in src/$file)";
		}
	}
}
for my $e (@page) {
	push @stale, sprintf("%s: %s", %{ $e->{codes} } ? 'exit ' . join(',', sort keys %{ $e->{codes} })
		: 'under no "Exit status N" subsection', $e->{text}) unless %{ $e->{for} };
}

if ($mode eq 'messages') {
	for my $key (sort keys %msgs) {
		my ($fn, $msg) = split /\t/, $key, 2;
		print join("\t", $fn, join(',', sort keys %{ $msgs{$key}{codes} }), $msg), "\n";
	}
} elsif ($mode eq 'page') {
	print join("\t", join(',', sort keys %{ $_->{codes} }), $_->{text}), "\n" for @page;
} elsif ($mode eq 'problems') {
	print "$_\n" for @problems;
} elsif ($mode eq 'missing') {
	print "$_\n" for @missing;
} elsif ($mode eq 'stale') {
	print "$_\n" for @stale;
} else {
	die "diag: unknown mode $mode\n";
}
PERL
)

@test "the messages are read from every file of the Makefile's SRCS, with their exit status" {
	run diag messages
	expect_status 0
	# one of each message function, and a status after fail() other than 64
	expect_line $'die\t67\tunknown user \'<>\''
	expect_line $'die\t69,71\tlisten <>:<>/tcp: <>'
	expect_line $'fail\t64\tmissing SPEC'
	expect_line $'fail\t71\tout of memory'
	expect_line $'table_error\t78\t[<>] has no port'
	# a format with a macro in it
	expect_line $'die\t71\treading portbind-guard\'s policy in /sys/fs/bpf/portbind: <>'
	expect_no_line "log_line"
	[ "$(grep -c . <<<"$output")" -ge 120 ] || fail "expected at least 120 messages"
}

@test "DIAGNOSTICS is read entry by entry, with <> for each Ar and the status of its subsection" {
	run diag page
	expect_status 0
	expect_line $'67\tunknown user \'<>\''
	expect_line $'78\tunknown user \'<>\''
	expect_line $'126,127\t<>: command not found'
	expect_line $'69\tbind <>:<>/<>: <>'
}

@test "every message the setuid sources print is known to this test, and reaches stderr only through die() and table_error()" {
	run diag problems
	expect_status 0
	[ -z "$output" ] || fail "fix these, or teach tests/diagnostics.bats about them:"
}

@test "every message portbind can print is in portbind(1) DIAGNOSTICS, under its exit status" {
	run diag missing
	expect_status 0
	[ -z "$output" ] || fail "add these to DIAGNOSTICS in man/portbind.1, under 'Exit status N':"
}

@test "every message portbind(1) DIAGNOSTICS lists is one portbind can still print, with that exit status" {
	run diag stale
	expect_status 0
	[ -z "$output" ] || fail "no message of the sources has these texts and exit statuses:"
}

@test "portbind(1) passes mandoc -Tlint, which also checks the order of its sections" {
	run mandoc -Tlint -W warning "$ROOT/man/portbind.1"
	expect_status 0
	[ -z "$output" ] || fail "mandoc warnings"
}
