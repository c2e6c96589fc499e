/* common.h: what bindbench.c and launchbench.c share: dying with a
 * message, the clock, and the quantiles of a run's per-round figures.
 * Each program defines BENCH_NAME (its name in messages) first. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Noreturn void die(const char *what)
{
	fprintf(stderr, BENCH_NAME ": %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		die("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of v[0..n) (sorted in place), interpolated. */
static double quantile(double *v, size_t n, double q)
{
	double at = q * (double)(n - 1);
	size_t lo = (size_t)at;

	qsort(v, n, sizeof(*v), by_value);
	return lo + 1 < n ? v[lo] + (at - (double)lo) * (v[lo + 1] - v[lo]) : v[lo];
}

#endif
