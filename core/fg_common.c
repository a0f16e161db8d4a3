#include "fg_common.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

int fg_str_eq(struct fg_str a, struct fg_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

int fg_str_eq_cstr(struct fg_str a, const char *b)
{
	return fg_str_eq(a, fg_str_make(b, strlen(b)));
}

int fg_str_cmp(struct fg_str a, struct fg_str b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.p, b.p, n) : 0;

	if (c != 0)
		return c;
	return a.len < b.len ? -1 : a.len > b.len;
}

void fg_errf(char *errstr, size_t errstr_size, const char *fmt, ...)
{
	va_list ap;

	if (!errstr || errstr_size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errstr, errstr_size, fmt, ap);
	va_end(ap);
}

int fg_parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int fg_catch_signal(int sig, const struct sigaction *sa)
{
	struct sigaction old;

	if (sigaction(sig, NULL, &old))
		return -1;
	if (old.sa_handler == SIG_IGN)
		return 0;
	return sigaction(sig, sa, NULL) ? -1 : 1;
}
