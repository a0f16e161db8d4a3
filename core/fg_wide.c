#include "fg_wide.h"

#include <string.h>

typedef unsigned __int128 u128;

static void norm(struct fg_wide *a)
{
	while (a->n > 0 && a->w[a->n - 1] == 0)
		a->n--;
}

void fg_wide_from_u128(struct fg_wide *a, u128 v)
{
	memset(a, 0, sizeof(*a));
	a->w[0] = (uint64_t)v;
	a->w[1] = (uint64_t)(v >> 64);
	a->n = 2;
	norm(a);
}

void fg_wide_pow10(struct fg_wide *a, unsigned exp)
{
	fg_wide_from_u128(a, 1);
	while (exp >= 19) {
		fg_wide_mul_u128(a, a, (u128)10000000000000000000ULL);
		exp -= 19;
	}
	if (exp) {
		uint64_t m = 1;
		while (exp--)
			m *= 10;
		fg_wide_mul_u128(a, a, m);
	}
}

int fg_wide_is_zero(const struct fg_wide *a)
{
	return a->n == 0;
}

int fg_wide_cmp(const struct fg_wide *a, const struct fg_wide *b)
{
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (int i = a->n - 1; i >= 0; i--)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return 0;
}

int fg_wide_mul(struct fg_wide *r, const struct fg_wide *a, const struct fg_wide *b)
{
	uint64_t t[2 * FG_WIDE_LIMBS] = { 0 };

	if (a->n + b->n > 2 * FG_WIDE_LIMBS)
		return -1;
	for (int i = 0; i < a->n; i++) {
		u128 carry = 0;
		for (int j = 0; j < b->n; j++) {
			u128 cur = (u128)a->w[i] * b->w[j] + t[i + j] + carry;
			t[i + j] = (uint64_t)cur;
			carry = cur >> 64;
		}
		t[i + b->n] = (uint64_t)carry;
	}
	int n = a->n + b->n;
	while (n > 0 && t[n - 1] == 0)
		n--;
	if (n > FG_WIDE_LIMBS)
		return -1;
	memset(r, 0, sizeof(*r));
	memcpy(r->w, t, (size_t)n * sizeof(uint64_t));
	r->n = n;
	return 0;
}

int fg_wide_mul_u128(struct fg_wide *r, const struct fg_wide *a, u128 m)
{
	struct fg_wide b;

	fg_wide_from_u128(&b, m);
	return fg_wide_mul(r, a, &b);
}

int fg_wide_add(struct fg_wide *r, const struct fg_wide *a, const struct fg_wide *b)
{
	int n = a->n > b->n ? a->n : b->n;
	struct fg_wide t;
	u128 carry = 0;

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < n; i++) {
		u128 cur = (u128)(i < a->n ? a->w[i] : 0) + (i < b->n ? b->w[i] : 0) + carry;
		t.w[i] = (uint64_t)cur;
		carry = cur >> 64;
	}
	if (carry) {
		if (n == FG_WIDE_LIMBS)
			return -1;
		t.w[n++] = (uint64_t)carry;
	}
	t.n = n;
	*r = t;
	return 0;
}

void fg_wide_sub(struct fg_wide *r, const struct fg_wide *a, const struct fg_wide *b)
{
	struct fg_wide t;
	uint64_t borrow = 0;

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < a->n; i++) {
		uint64_t bi = i < b->n ? b->w[i] : 0;
		uint64_t d = a->w[i] - bi - borrow;
		borrow = (a->w[i] < bi) || (a->w[i] - bi < borrow);
		t.w[i] = d;
	}
	t.n = a->n;
	norm(&t);
	*r = t;
}

static int bitlen(const struct fg_wide *a)
{
	if (a->n == 0)
		return 0;
	return (a->n - 1) * 64 + (64 - __builtin_clzll(a->w[a->n - 1]));
}

static void shl1_or(struct fg_wide *a, unsigned bit)
{
	uint64_t carry = bit;

	for (int i = 0; i < a->n; i++) {
		uint64_t nc = a->w[i] >> 63;
		a->w[i] = (a->w[i] << 1) | carry;
		carry = nc;
	}
	if (carry && a->n < FG_WIDE_LIMBS)
		a->w[a->n++] = carry;
}

/* Divides a by a single 64-bit limb; returns the remainder. */
static uint64_t div_u64(struct fg_wide *q, const struct fg_wide *a, uint64_t d)
{
	u128 rem = 0;

	memset(q, 0, sizeof(*q));
	for (int i = a->n - 1; i >= 0; i--) {
		u128 cur = (rem << 64) | a->w[i];
		q->w[i] = (uint64_t)(cur / d);
		rem = cur % d;
	}
	q->n = a->n;
	norm(q);
	return (uint64_t)rem;
}

static int to_u128(const struct fg_wide *a, u128 *v)
{
	if (a->n > 2)
		return -1;
	*v = (a->n > 0 ? a->w[0] : 0) | (a->n > 1 ? (u128)a->w[1] << 64 : 0);
	return 0;
}

int fg_wide_div_round(const struct fg_wide *n, const struct fg_wide *d, __int128 *q)
{
	/* q = floor((2n + d) / 2d): round half up for non-negative n/d. */
	struct fg_wide num, den, rem;
	u128 quot = 0, un, ud;

	if (fg_wide_add(&num, n, n) || fg_wide_add(&num, &num, d) ||
	    fg_wide_add(&den, d, d))
		return -1;
	if (fg_wide_cmp(&num, &den) < 0) {
		*q = 0;
		return 0;
	}
	/* Fast paths: both fit in 128 bits, or the divisor in 64. */
	if (to_u128(&num, &un) == 0 && to_u128(&den, &ud) == 0) {
		quot = un / ud;
		if (quot >> 127)
			return -1;
		*q = (__int128)quot;
		return 0;
	}
	if (den.n == 1) {
		struct fg_wide qq;
		div_u64(&qq, &num, den.w[0]);
		if (to_u128(&qq, &quot) || (quot >> 127))
			return -1;
		*q = (__int128)quot;
		return 0;
	}
	/* Schoolbook binary long division; the quotient is a money amount. */
	memset(&rem, 0, sizeof(rem));
	for (int i = bitlen(&num) - 1; i >= 0; i--) {
		shl1_or(&rem, (unsigned)((num.w[i / 64] >> (i % 64)) & 1));
		if (fg_wide_cmp(&rem, &den) >= 0) {
			fg_wide_sub(&rem, &rem, &den);
			if (i >= 127)
				return -1;
			quot |= (u128)1 << i;
		}
	}
	*q = (__int128)quot;
	return 0;
}
