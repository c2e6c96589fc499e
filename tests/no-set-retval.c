/* LD_PRELOAD for portbind-guard: the bpf() of a kernel before 5.18, as far
 * as bpf_set_retval() goes. A program that calls the helper is refused the
 * way such a kernel's verifier refuses it (EINVAL, "invalid func
 * unknown#187" in the log that libbpf's probe reads); every other call of
 * syscall() goes through unchanged. libbpf calls bpf() through syscall(). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>

long syscall(long nr, ...);

static int calls_set_retval(const union bpf_attr *attr)
{
	const struct bpf_insn *insn = (const struct bpf_insn *)(uintptr_t)attr->insns;

	for (__u32 i = 0; i < attr->insn_cnt; i++)
		if (insn[i].code == (BPF_JMP | BPF_CALL) && insn[i].src_reg == 0 &&
		    insn[i].imm == BPF_FUNC_set_retval)
			return 1;
	return 0;
}

long syscall(long nr, ...)
{
	static long (*next)(long, ...);
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_bpf && a[0] == BPF_PROG_LOAD && calls_set_retval((union bpf_attr *)a[1])) {
		union bpf_attr *attr = (union bpf_attr *)a[1];
		if (attr->log_buf && attr->log_size)
			snprintf((char *)(uintptr_t)attr->log_buf, attr->log_size,
				 "invalid func unknown#%d\n", BPF_FUNC_set_retval);
		errno = EINVAL;
		return -1;
	}
	if (!next)
		next = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return next(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
