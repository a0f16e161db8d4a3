/*
 * fg_report_html.h: the self-contained HTML report of `audit` and `whatif`.
 *
 * DESIGN
 * One file an auditor can mail or open from disk: inline CSS, charts drawn
 * here as inline SVG (grouped bars; heights scaled with integer arithmetic
 * from the exact cent sums, so no floating point touches the money), no
 * script, no external font or image. Tables carry ids (`summary`,
 * `totals-mineral`, ...) and every bar its series and key
 * (`class="bar s0" data-key="lithium"`), so tests and tools can read the
 * rendered page. The same audit gives the same bytes (no timestamps).
 */
#ifndef FG_REPORT_HTML_H
#define FG_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "fg_audit.h"

struct fg_report_html_opts {
	const char *title;
	const char *side[2];     /* "recorded", "recomputed" / "proposed" */
	const char *const *meta; /* lines shown under the title (sources, options) */
	size_t n_meta;
	int whatif;              /* impact view: origin table first, no field list */
};

/* Writes the report of a finished audit (after fg_audit_run) to f (the
 * caller opens it before the audit, so a path that cannot be written is
 * refused first, and commits it with its other outputs). Returns 0 or -1
 * with a message (write errors show on f). */
int fg_report_html_write(struct fg_audit *a, FILE *f, const struct fg_report_html_opts *o,
			 char *errstr, size_t errstr_size);

#endif
