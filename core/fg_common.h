/*
 * fg_common.h: small shared definitions (string views, money, error text).
 *
 * Money is always an integer count of cents (scale 2) held in a signed
 * 128-bit integer. Nothing in floorgate computes money in floating point.
 */
#ifndef FG_COMMON_H
#define FG_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdarg.h>

/* A borrowed, not NUL-terminated view of bytes owned by someone else. */
struct fg_str {
	const char *p;
	size_t len;
};

#define FG_STR_LIT(s) ((struct fg_str){ (s), sizeof(s) - 1 })

static inline struct fg_str fg_str_make(const char *p, size_t len)
{
	struct fg_str s = { p, len };
	return s;
}

int fg_str_eq(struct fg_str a, struct fg_str b);
int fg_str_eq_cstr(struct fg_str a, const char *b);
/* Byte-order comparison, shorter prefix first. */
int fg_str_cmp(struct fg_str a, struct fg_str b);

/* Cents (scale 2). */
typedef __int128 fg_money_t;

/* Formats an error into errstr (always NUL-terminated when size > 0). */
void fg_errf(char *errstr, size_t errstr_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A whole number in decimal digits only (no sign, space or suffix), at most
 * max: 0 with *out, or -1. For command-line counts and seeds, where
 * strtoull alone would take "-1" or "12x". */
int fg_parse_uint(const char *s, unsigned long long max, unsigned long long *out);

struct sigaction;
/* Installs sa for sig unless the process was started with sig ignored (nohup,
 * a shell's background job): 1 when installed, 0 when left ignored, -1 on
 * error. Every command's stop handlers go through it. */
int fg_catch_signal(int sig, const struct sigaction *sa);

#define FG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
