#!/usr/bin/env bats
# Bash completion (contrib/portbind.bash-completion), driven as bash drives
# it: COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT set for a command
# line, the completion function called, COMPREPLY read back.

setup() {
	# as an interactive shell with bash-completion has them
	source /usr/share/bash-completion/bash_completion
	source "$BATS_TEST_DIRNAME/../contrib/portbind.bash-completion"
	cd "$BATS_TEST_TMPDIR"
}

# Complete the command line "$*" with the cursor at its end (an empty last
# argument completes a new word); the candidates in $reply, one per line,
# sorted. COMP_WORDS splits at COMP_WORDBREAKS as bash does.
complete_line() {
	local line="$*" ifs=$IFS
	COMP_LINE=$line
	COMP_POINT=${#line}
	# bash's own split: words at blanks, and each COMP_WORDBREAKS character
	# other than quotes and blanks a word of its own (runs of them together)
	local w=() cur_word="" c i brk=${COMP_WORDBREAKS//[\"\' ]/}
	for ((i = 0; i < ${#line}; i++)); do
		c=${line:i:1}
		if [[ $c == " " ]]; then
			[ -z "$cur_word" ] || w+=("$cur_word")
			cur_word=""
		elif [[ $brk == *"$c"* ]]; then
			if [ -n "$cur_word" ] && [[ $brk != *"${cur_word: -1}"* ]]; then
				w+=("$cur_word")
				cur_word=""
			fi
			cur_word+=$c
		else
			if [ -n "$cur_word" ] && [[ $brk == *"${cur_word: -1}"* ]]; then
				w+=("$cur_word")
				cur_word=""
			fi
			cur_word+=$c
		fi
	done
	w+=("$cur_word")
	COMP_WORDS=("${w[@]}")
	COMP_CWORD=$((${#w[@]} - 1))
	COMPREPLY=()
	_portbind portbind "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null || true
	IFS=$ifs
	reply=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort -u)
}

# $reply is exactly the lines given.
expect_reply() {
	local want
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort -u)
	[ "$reply" = "$want" ] || {
		printf '%s\n' "expected:" "$want" "--- got:" "$reply" >&2
		return 1
	}
}

# $reply has a line $1.
expect_candidate() {
	grep -qxF -- "$1" <<<"$reply" || {
		printf '%s\n' "expected a candidate: $1" "--- got:" "$reply" >&2
		return 1
	}
}

@test "the function is registered for portbind" {
	run complete -p portbind
	[ "$status" -eq 0 ]
	[ "$output" = "complete -F _portbind portbind" ]
}

@test "an option at the start: portbind --in completes to --inetd" {
	complete_line portbind --in
	expect_reply --inetd
}

@test "every option is offered at the start; modes only as the first word; options only once" {
	complete_line portbind -
	expect_reply -v --verbose --allow-new-privs --backlog --config --dry-run --inetd \
		--reuseport --self-bind --restrict-net --check --list -h --help --version
	complete_line portbind --inetd --
	expect_reply --verbose --allow-new-privs --backlog --config --dry-run --reuseport --self-bind \
		--restrict-net
	complete_line portbind -v --backlog 7 --
	expect_reply --allow-new-privs --config --dry-run --inetd --reuseport --self-bind --restrict-net
	complete_line portbind --restrict-net=connect=80,443 --
	expect_reply --verbose --allow-new-privs --backlog --config --dry-run --inetd --reuseport \
		--self-bind
}

@test "--restrict-net completes its modes, in both spellings; its value is not a SPEC" {
	complete_line portbind --restrict-net ''
	expect_reply handed bind connect=
	complete_line portbind --restrict-net=h
	expect_reply handed
	complete_line portbind --inetd --restrict-net c
	expect_reply connect=
	complete_line portbind --restrict-net bind 80 roo
	expect_reply root
	complete_line portbind --restrict-net=connect=53 80 roo
	expect_reply root
}

@test "--check completes files, in both spellings; --config too" {
	mkdir drafts
	touch web.conf dns.conf drafts/x.conf
	complete_line portbind --check ''
	expect_reply web.conf dns.conf drafts
	complete_line portbind --check w
	expect_reply web.conf
	complete_line portbind --check=d
	expect_reply dns.conf drafts
	complete_line portbind --config dr
	expect_reply drafts
	complete_line portbind --inetd --config=we
	expect_reply web.conf
}

@test "nothing after a mode, a --check FILE, or at the SPEC position" {
	touch web.conf
	complete_line portbind --list ''
	expect_reply
	complete_line portbind --check web.conf ''
	expect_reply
	complete_line portbind ''
	expect_reply
	complete_line portbind --inetd 8
	expect_reply
	complete_line portbind --backlog ''
	expect_reply
}

@test "the USER position completes user names, and groups after USER:" {
	complete_line portbind 80 roo
	expect_reply root
	complete_line portbind '127.0.0.1:53/udp,[::1]:80=web' ro
	expect_reply root
	complete_line portbind 80 root:roo
	expect_reply root
	complete_line portbind 80 -
	expect_reply --
	complete_line portbind 80 root ''
	expect_reply --
}

@test "after --, a command name completes: bash, and lighttpd from /usr/sbin" {
	complete_line portbind 80 -- bas
	expect_candidate bash
	PATH=$PATH:/usr/sbin complete_line portbind '[::1]:80=web,53/udp' www-data -- lighttp
	expect_candidate lighttpd
	PATH=/usr/sbin:/usr/bin:/bin complete_line portbind --inetd 80 -- lighttp
	expect_candidate lighttpd
}

@test "after the command, its own arguments complete as they would alone" {
	touch web.conf
	complete_line portbind 80 -- cat we
	expect_reply web.conf
	complete_line portbind '[::1]:80' root -- ls --al
	expect_candidate --all
}
