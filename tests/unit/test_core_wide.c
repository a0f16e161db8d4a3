/*
 * test_core_wide.c: the 768-bit unsigned integers behind exact duty
 * arithmetic. Values are chosen to cross 64-bit limb boundaries; expected
 * results come from the algebra in each comment (e.g. (2^64-1)^2 =
 * 2^128 - 2^65 + 1), not from running the code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../core/fg_common.h"
#include "../../core/fg_wide.h"
#include "fg_test_util.h"

typedef unsigned __int128 u128;

#define U64MAX UINT64_MAX

static struct fg_wide W(u128 v)
{
	struct fg_wide w;

	fg_wide_from_u128(&w, v);
	return w;
}

static struct fg_wide P10(unsigned e)
{
	struct fg_wide w;

	fg_wide_pow10(&w, e);
	return w;
}

/* 2^bit as a wide value, built limb by limb. */
static struct fg_wide P2(unsigned bit)
{
	struct fg_wide w;

	memset(&w, 0, sizeof(w));
	w.w[bit / 64] = (uint64_t)1 << (bit % 64);
	w.n = (int)(bit / 64) + 1;
	return w;
}

static __int128 div_round(const struct fg_wide *n, const struct fg_wide *d)
{
	__int128 q = -7;

	if (fg_wide_div_round(n, d, &q) != 0)
		fail_msg("div_round reported overflow");
	return q;
}

static void test_from_u128_and_zero(void **state)
{
	struct fg_wide a = W(0), b = W((u128)1 << 64);

	(void)state;
	assert_true(fg_wide_is_zero(&a));
	assert_int_equal(a.n, 0);
	assert_false(fg_wide_is_zero(&b));
	/* 2^64 sits in the second limb only. */
	assert_int_equal(b.n, 2);
	assert_int_equal(b.w[0], 0);
	assert_int_equal(b.w[1], 1);
}

static void test_cmp_across_limbs(void **state)
{
	struct fg_wide lo = W(U64MAX), hi = W((u128)1 << 64), big = P10(40), big2 = P10(40);

	(void)state;
	assert_int_equal(fg_wide_cmp(&lo, &hi), -1);
	assert_int_equal(fg_wide_cmp(&hi, &lo), 1);
	assert_int_equal(fg_wide_cmp(&big, &big2), 0);
	/* Same number of limbs, differing only in the low limb. */
	struct fg_wide x = W(((u128)5 << 64) | 1), y = W(((u128)5 << 64) | 2);
	assert_int_equal(fg_wide_cmp(&x, &y), -1);
	/* 10^40 has 3 limbs (2^128 < 10^40 < 2^192), so it beats any 2-limb value. */
	struct fg_wide m = W(~(u128)0);
	assert_int_equal(big.n, 3);
	assert_int_equal(fg_wide_cmp(&big, &m), 1);
}

static void test_add_carries_across_limbs(void **state)
{
	struct fg_wide a = W(U64MAX), one = W(1), r;

	(void)state;
	/* (2^64 - 1) + 1 = 2^64 */
	assert_int_equal(fg_wide_add(&r, &a, &one), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.w[0], 0);
	assert_int_equal(r.w[1], 1);
	/* (2^128 - 1) + 1 = 2^128: a third limb appears. */
	a = W(~(u128)0);
	assert_int_equal(fg_wide_add(&r, &a, &one), 0);
	struct fg_wide p128 = P2(128);
	assert_int_equal(fg_wide_cmp(&r, &p128), 0);
	/* Adding zero changes nothing; r may alias an operand. */
	struct fg_wide z = W(0), t = P10(50), t0 = P10(50);
	assert_int_equal(fg_wide_add(&t, &t, &z), 0);
	assert_int_equal(fg_wide_cmp(&t, &t0), 0);
	/* 10^50 + 10^50 = 2 * 10^50 */
	struct fg_wide two = W(2), want;
	assert_int_equal(fg_wide_add(&t, &t, &t0), 0);
	assert_int_equal(fg_wide_mul(&want, &t0, &two), 0);
	assert_int_equal(fg_wide_cmp(&t, &want), 0);
}

static void test_add_overflow_reported(void **state)
{
	struct fg_wide top = P2(767), r;

	(void)state;
	/* 2^767 + 2^767 = 2^768 needs a 13th limb. */
	assert_int_equal(fg_wide_add(&r, &top, &top), -1);
}

static void test_sub_borrows_across_limbs(void **state)
{
	struct fg_wide a = P2(128), one = W(1), r;

	(void)state;
	/* 2^128 - 1: two full limbs, the third limb normalised away. */
	fg_wide_sub(&r, &a, &one);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.w[0], U64MAX);
	assert_int_equal(r.w[1], U64MAX);
	/* 2^64 - 1 */
	a = W((u128)1 << 64);
	fg_wide_sub(&r, &a, &one);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.w[0], U64MAX);
	/* x - x = 0 */
	struct fg_wide x = P10(70);
	fg_wide_sub(&r, &x, &x);
	assert_true(fg_wide_is_zero(&r));
	/* 10^60 - 10^40 + 10^40 = 10^60 */
	struct fg_wide p60 = P10(60), p40 = P10(40), back;
	fg_wide_sub(&r, &p60, &p40);
	assert_int_equal(fg_wide_add(&back, &r, &p40), 0);
	assert_int_equal(fg_wide_cmp(&back, &p60), 0);
	/* A borrow that runs through a zero limb: 2^128 + 5 - 6 = 2^128 - 1. */
	struct fg_wide p128 = P2(128), five = W(5), six = W(6), s;
	assert_int_equal(fg_wide_add(&s, &p128, &five), 0);
	fg_wide_sub(&r, &s, &six);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.w[0], U64MAX);
	assert_int_equal(r.w[1], U64MAX);
}

static void test_mul_across_limbs(void **state)
{
	struct fg_wide a = W(U64MAX), r;

	(void)state;
	/* (2^64 - 1)^2 = 2^128 - 2^65 + 1 = 0xffff...fffe_0000...0001 */
	assert_int_equal(fg_wide_mul(&r, &a, &a), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.w[0], 1);
	assert_int_equal(r.w[1], U64MAX - 1);
	/* Anything times zero is zero. */
	struct fg_wide z = W(0);
	assert_int_equal(fg_wide_mul(&r, &a, &z), 0);
	assert_true(fg_wide_is_zero(&r));
	/* 10^20 * 10^40 = 10^60, with the result aliasing an operand. */
	struct fg_wide x = P10(20), y = P10(40), p60 = P10(60);
	assert_int_equal(fg_wide_mul(&x, &x, &y), 0);
	assert_int_equal(fg_wide_cmp(&x, &p60), 0);
	/* mul_u128 by 10^19 (one 64-bit limb's worth of decimal) */
	struct fg_wide p41 = P10(41), p60b;
	assert_int_equal(fg_wide_mul_u128(&p60b, &p41, (u128)10000000000000000000ULL), 0);
	assert_int_equal(fg_wide_cmp(&p60b, &p60), 0);
	/* 2^127 * 2^127 = 2^254 */
	struct fg_wide h = W((u128)1 << 127), p254 = P2(254);
	assert_int_equal(fg_wide_mul(&r, &h, &h), 0);
	assert_int_equal(fg_wide_cmp(&r, &p254), 0);
}

static void test_mul_overflow_reported(void **state)
{
	struct fg_wide a = P10(115), b = P10(120), r;

	(void)state;
	/* 2^768 is about 1.55e231: 10^230 fits, 10^240 does not. */
	assert_int_equal(fg_wide_mul(&r, &a, &a), 0);
	assert_int_equal(fg_wide_mul(&r, &b, &b), -1);
	/* 2^767 * 2 = 2^768 */
	struct fg_wide top = P2(767);
	assert_int_equal(fg_wide_mul_u128(&r, &top, 2), -1);
}

static void test_div_round_ties_go_up(void **state)
{
	struct fg_wide ten = W(10);

	(void)state;
	/* n / 10 rounded half up: 0.5 -> 1, 1.5 -> 2, 1.4 -> 1, 2.5 -> 3, 2.4 -> 2, 2.6 -> 3 */
	static const struct {
		unsigned n;
		int q;
	} cases[] = { { 5, 1 }, { 15, 2 }, { 14, 1 }, { 25, 3 }, { 24, 2 }, { 26, 3 },
		      { 4, 0 }, { 0, 0 }, { 10, 1 }, { 95, 10 } };
	for (size_t i = 0; i < FG_ARRAY_LEN(cases); i++) {
		struct fg_wide n = W(cases[i].n);
		if (div_round(&n, &ten) != cases[i].q)
			fail_msg("%u/10 should round to %d", cases[i].n, cases[i].q);
	}
	/* Odd divisor: 7/2 = 3.5 -> 4; 1/3 -> 0; 2/3 -> 1 */
	struct fg_wide n7 = W(7), d2 = W(2), n1 = W(1), n2 = W(2), d3 = W(3);
	assert_int_equal(div_round(&n7, &d2), 4);
	assert_int_equal(div_round(&n1, &d3), 0);
	assert_int_equal(div_round(&n2, &d3), 1);
}

static void test_div_round_large(void **state)
{
	struct fg_wide p60 = P10(60), p40 = P10(40), half = P10(39), five = W(5), n, one = W(1);

	(void)state;
	/* 10^60 / 10^40 = 10^20, which itself needs more than 64 bits. */
	assert_i128_equal(div_round(&p60, &p40), fg_test_i128("100000000000000000000"));
	/* (10^60 + 5*10^39) / 10^40 = 10^20 + 0.5 -> 10^20 + 1 */
	assert_int_equal(fg_wide_mul(&half, &half, &five), 0);
	assert_int_equal(fg_wide_add(&n, &p60, &half), 0);
	assert_i128_equal(div_round(&n, &p40), fg_test_i128("100000000000000000001"));
	/* One less than the tie rounds down. */
	fg_wide_sub(&n, &n, &one);
	assert_i128_equal(div_round(&n, &p40), fg_test_i128("100000000000000000000"));
	/* 10^200 / 10^170 = 10^30 */
	struct fg_wide a = P10(200), b = P10(170);
	assert_i128_equal(div_round(&a, &b), fg_test_i128("1000000000000000000000000000000"));
}

static void test_div_round_quotient_overflow(void **state)
{
	struct fg_wide one = W(1), two = W(2), p60 = P10(60), n;
	__int128 q;

	(void)state;
	/* 10^60 does not fit in 127 bits. */
	assert_int_equal(fg_wide_div_round(&p60, &one, &q), -1);
	/* 2^127 / 1 needs bit 127, which a signed 128-bit quotient lacks. */
	struct fg_wide p127 = P2(127);
	assert_int_equal(fg_wide_div_round(&p127, &one, &q), -1);
	/* 2^127 - 1 is the largest quotient. */
	fg_wide_sub(&n, &p127, &one);
	assert_int_equal(fg_wide_div_round(&n, &one, &q), 0);
	assert_i128_equal(q, fg_test_i128("170141183460469231731687303715884105727"));
	/* (2^128 - 1) / 2 = 2^127 - 0.5, which rounds up to 2^127: overflow. */
	struct fg_wide m = W(~(u128)0);
	assert_int_equal(fg_wide_div_round(&m, &two, &q), -1);
	/* (2^128 - 2) / 2 = 2^127 - 1 exactly. */
	struct fg_wide m2 = W(~(u128)0 - 1);
	assert_int_equal(fg_wide_div_round(&m2, &two, &q), 0);
	assert_i128_equal(q, fg_test_i128("170141183460469231731687303715884105727"));
}

static void test_pow10(void **state)
{
	struct fg_wide a = P10(0), b = P10(19), c = P10(38), ten = W(10), r;

	(void)state;
	assert_int_equal(a.n, 1);
	assert_int_equal(a.w[0], 1);
	assert_int_equal(b.w[0], UINT64_C(10000000000000000000));
	/* 10^38 = (10^19)^2, and 10^39 = 10^38 * 10 */
	assert_int_equal(fg_wide_mul(&r, &b, &b), 0);
	assert_int_equal(fg_wide_cmp(&r, &c), 0);
	struct fg_wide c39 = P10(39);
	assert_int_equal(fg_wide_mul(&r, &c, &ten), 0);
	assert_int_equal(fg_wide_cmp(&r, &c39), 0);
	/* 10^60 = 2^60 * 5^60; its low limb is 2^60 * (5^60 mod 2^4) = 2^60 (5^60 = 1 mod 16). */
	struct fg_wide p60 = P10(60);
	assert_int_equal(p60.w[0], UINT64_C(1) << 60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_u128_and_zero),
		cmocka_unit_test(test_cmp_across_limbs),
		cmocka_unit_test(test_add_carries_across_limbs),
		cmocka_unit_test(test_add_overflow_reported),
		cmocka_unit_test(test_sub_borrows_across_limbs),
		cmocka_unit_test(test_mul_across_limbs),
		cmocka_unit_test(test_mul_overflow_reported),
		cmocka_unit_test(test_div_round_ties_go_up),
		cmocka_unit_test(test_div_round_large),
		cmocka_unit_test(test_div_round_quotient_overflow),
		cmocka_unit_test(test_pow10),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
