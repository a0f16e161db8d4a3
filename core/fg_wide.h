/*
 * fg_wide.h: exact unsigned integers wider than 128 bits.
 *
 * The floor-duty formula multiplies a price, a mass, a grade, a unit
 * conversion and a gap share before it rounds once; with 18-digit inputs
 * that product needs more than 128 bits. fg_wide holds up to 768 bits,
 * enough for every product the contract forms from 18-digit decimals.
 * Only non-negative values exist here: the callers order subtractions.
 */
#ifndef FG_WIDE_H
#define FG_WIDE_H

#include <stdint.h>

#define FG_WIDE_LIMBS 12

struct fg_wide {
	uint64_t w[FG_WIDE_LIMBS]; /* little-endian limbs */
	int n;                     /* limbs in use; 0 means zero */
};

void fg_wide_from_u128(struct fg_wide *a, unsigned __int128 v);
void fg_wide_pow10(struct fg_wide *a, unsigned exp);
int fg_wide_is_zero(const struct fg_wide *a);
int fg_wide_cmp(const struct fg_wide *a, const struct fg_wide *b);
/* r = a * b; returns -1 on overflow of FG_WIDE_LIMBS (never with contract inputs). */
int fg_wide_mul(struct fg_wide *r, const struct fg_wide *a, const struct fg_wide *b);
int fg_wide_mul_u128(struct fg_wide *r, const struct fg_wide *a, unsigned __int128 m);
int fg_wide_add(struct fg_wide *r, const struct fg_wide *a, const struct fg_wide *b);
/* r = a - b; requires a >= b. */
void fg_wide_sub(struct fg_wide *r, const struct fg_wide *a, const struct fg_wide *b);
/*
 * Rounds n / d to the nearest integer, ties away from zero (all values are
 * non-negative, so ties go up). d must not be zero. Returns -1 if the
 * quotient does not fit in 127 bits.
 */
int fg_wide_div_round(const struct fg_wide *n, const struct fg_wide *d, __int128 *q);

#endif
