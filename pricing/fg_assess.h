/*
 * fg_assess.h: validation and duty assessment of one declaration
 * (contract sections 3 and 4).
 *
 * DESIGN
 * fg_assess_validate() decides whether a declaration is rejected as a
 * whole, reporting the first reason in the contract's table order.
 * fg_assess_run() then assesses every line against one reference-data set,
 * as of the acceptance date. All arithmetic is exact: decimals stay scaled
 * integers, products are formed in fg_wide (up to 768 bits) and each
 * quantity the contract rounds is rounded once, half away from zero, to
 * cents. Nothing here allocates per message once the assessment's line
 * buffer has grown to the largest declaration seen.
 */
#ifndef FG_ASSESS_H
#define FG_ASSESS_H

#include <stddef.h>
#include <stdint.h>

#include "../core/fg_common.h"
#include "../ingest/fg_decl.h"
#include "fg_refdata.h"

enum fg_reason {
	FG_REASON_NONE = 0,
	FG_REASON_DECODE_ERROR,
	FG_REASON_UNKNOWN_SCHEMA,
	FG_REASON_NO_LINES,
	FG_REASON_DUPLICATE_ITEM,
	FG_REASON_BAD_COMMODITY_CODE,
	FG_REASON_BAD_COUNTRY,
	FG_REASON_BAD_CURRENCY,
	FG_REASON_BAD_QUANTITY,
	FG_REASON_BAD_VALUE,
	FG_REASON_BAD_CONTENT,
	FG_REASON_FX_RATE_MISSING,
	FG_REASON_COUNT
};
extern const char *const fg_reason_names[FG_REASON_COUNT];

enum fg_line_status { FG_LINE_ASSESSED, FG_LINE_NOT_IN_SCOPE, FG_LINE_NO_REFERENCE_PRICE };
extern const char *const fg_line_status_names[3];

/* Flags are emitted in this bit order, which is the order the steps raise them. */
#define FG_FLAG_CONTENT_DEFAULTED 0x1u
#define FG_FLAG_NO_TARIFF_PARAMETER 0x2u
#define FG_FLAG_BELOW_FLOOR 0x4u
#define FG_FLAG_COUNT 3
extern const char *const fg_flag_names[FG_FLAG_COUNT];

struct fg_assessed_line {
	const struct fg_decl_line *in;
	enum fg_line_status status;
	const struct fg_rule *rule; /* NULL when not in scope */
	enum fg_treatment treatment;
	fg_money_t value_usd, base_duty, floor_duty, line_duty; /* cents */
	unsigned flags;
};

struct fg_assessment {
	const struct fg_decl *decl;
	const struct fg_refdata *rd;
	struct fg_assessed_line *lines;
	uint32_t n_lines, cap_lines;
	int32_t *scratch; /* item numbers, for the duplicate check */
	uint32_t cap_scratch;
	fg_money_t total_value_usd, total_base_duty, total_floor_duty, total_duty;
};

/*
 * Checks the declaration as a whole. Returns FG_REASON_NONE, or the first
 * failing reason of the contract's table with a readable message in msg.
 * `as` only lends its scratch buffer.
 */
enum fg_reason fg_assess_validate(struct fg_assessment *as, const struct fg_refdata *rd,
				  const struct fg_decl *d, char *msg, size_t msg_size);

/*
 * Assesses a validated declaration into `as` (its buffers are reused).
 * Returns 0, or -1 only if memory runs out or a product exceeds fg_wide.
 */
int fg_assess_run(struct fg_assessment *as, const struct fg_refdata *rd, const struct fg_decl *d);

void fg_assessment_fini(struct fg_assessment *as);

/* Copies s into buf for a message: printable ASCII kept, others as \xNN. */
void fg_assess_quote(struct fg_str s, char *buf, size_t size);

#endif
