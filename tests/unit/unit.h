/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal host unit-test harness. Each TEST() registers itself; main()
 * runs all of them and prints one KTAP-style line per case, so
 * tests/check.sh counts host cases the same way as KUnit's.
 */
#ifndef PKERNFS_UNIT_H
#define PKERNFS_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit_case {
	const char *name;
	void (*fn)(int *failed);
	struct unit_case *next;
};

extern struct unit_case *unit_cases;

#define TEST(nm)							\
	static void unit_fn_##nm(int *unit_failed);			\
	static struct unit_case unit_case_##nm = { #nm, unit_fn_##nm, NULL }; \
	__attribute__((constructor)) static void unit_reg_##nm(void)	\
	{								\
		struct unit_case **p = &unit_cases;			\
		while (*p)						\
			p = &(*p)->next;				\
		*p = &unit_case_##nm;					\
	}								\
	static void unit_fn_##nm(int *unit_failed)

#define EXPECT(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "    %s:%d: expected %s\n",	\
				__FILE__, __LINE__, #cond);		\
			*unit_failed = 1;				\
		}							\
	} while (0)

#define EXPECT_EQ(a, b)							\
	do {								\
		unsigned long long ua_ = (unsigned long long)(a);	\
		unsigned long long ub_ = (unsigned long long)(b);	\
		if (ua_ != ub_) {					\
			fprintf(stderr, "    %s:%d: %s == %s: 0x%llx != 0x%llx\n", \
				__FILE__, __LINE__, #a, #b, ua_, ub_);	\
			*unit_failed = 1;				\
		}							\
	} while (0)

/* Define once, in the test file that includes this with UNIT_MAIN set. */
#ifdef UNIT_MAIN
struct unit_case *unit_cases;

int main(void)
{
	struct unit_case *c;
	int n = 0, i = 0, fails = 0;

	for (c = unit_cases; c; c = c->next)
		n++;
	printf("KTAP version 1\n1..%d\n", n);
	for (c = unit_cases; c; c = c->next) {
		int failed = 0;

		c->fn(&failed);
		printf("%sok %d %s\n", failed ? "not " : "", ++i, c->name);
		fails += failed;
	}
	return fails ? 1 : 0;
}
#endif

#endif
