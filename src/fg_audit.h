/*
 * fg_audit.h: compare recorded outputs with recomputed ones, declaration by
 * declaration and field by field, in bounded memory.
 *
 * DESIGN
 * `floorgate audit` and `floorgate whatif` both join two sides of
 * assessments and dead letters by (declaration_id, version):
 *
 *   side 0 "recorded"   --+
 *                         +--> flatten --> fg_spill (N hash partitions on disk)
 *   side 1 "recomputed" --+                    |
 *                                              v  one partition at a time
 *                    per key: totals (both sides), field diff, tolerance,
 *                    CSV rows, counts by field and date, top-K list
 *
 * Flatten: each Avro record (whatever writer schema resolved it) becomes a
 * list of (item_no, field, value text) in schema order: item -1 for the
 * declaration's own fields, the line's item_no for a line's (lines are
 * matched by item_no, not position, so an inserted line does not shift
 * every later one). Money stays the decimal text the record carries, and
 * sums are exact integers of cents (fg_money_t), never double. Provenance
 * (source_*), a dead letter's payload and free-text message are not
 * compared; `--ignore FIELD` drops more. A dead letter whose body never
 * decoded has no declaration id; it is keyed by where it came from.
 *
 * Memory: the flattened records go to disk as they are read (nothing of a
 * side is held), and the join holds one partition; the results kept are
 * small (a tally per mineral, stage, treatment, reference data version,
 * origin, acceptance date and field name, and the top-K differences by
 * |delta total_duty|). The full difference list streams to the CSV.
 */
#ifndef FG_AUDIT_H
#define FG_AUDIT_H

#include <stdint.h>
#include <stdio.h>

#include <avro.h>

#include "../core/fg_common.h"
#include "../ingest/fg_decl.h"

#define FG_AUDIT_RECORDED 0
#define FG_AUDIT_RECOMPUTED 1

enum fg_audit_dim_id {
	FG_AUDIT_DIM_MINERAL,   /* lines: line_duty */
	FG_AUDIT_DIM_STAGE,     /* lines */
	FG_AUDIT_DIM_TREATMENT, /* lines */
	FG_AUDIT_DIM_ORIGIN,    /* lines, only when the declarations are known (whatif) */
	FG_AUDIT_DIM_RDV,       /* declarations: total_duty by reference_data_version */
	FG_AUDIT_DIM_OUTCOME,   /* declarations: ASSESSED or the dead letter's reason */
	FG_AUDIT_DIM_DATE,      /* differing declarations by acceptance date */
	FG_AUDIT_DIM_FIELD,     /* field differences by field name */
	FG_AUDIT_DIM_COUNT
};

/* One row of a totals table. Index [side]. */
struct fg_audit_tally {
	char *name;
	uint64_t n[2];         /* lines (line dims) or declarations */
	fg_money_t duty[2];    /* line_duty or total_duty, cents */
	uint64_t changed;      /* lines or declarations whose duty differs; field diffs */
};

struct fg_audit_dim {
	struct fg_audit_tally *v;
	size_t n, cap;
	uint32_t *idx; /* open addressing into v, idx_cap a power of two */
	size_t idx_cap;
};

/* One field difference (for the capped list). */
struct fg_audit_diff {
	int32_t item; /* -1: the declaration */
	char *field, *recorded, *recomputed;
};

/* A differing or one-sided declaration kept for the report. */
struct fg_audit_top {
	char *id;
	int32_t version;
	int32_t date;        /* acceptance date, INT32_MIN unknown */
	int both_assessed;   /* delta is meaningful */
	fg_money_t duty[2];  /* total_duty per side */
	int only_side;       /* -1 both present; else the side it is on */
	struct fg_audit_diff *diffs;
	uint32_t n_diffs, more_diffs;
};

struct fg_audit_counts {
	uint64_t records[2], keys[2], duplicates[2];
	uint64_t matched, equal, differing, within_tolerance, outcome_changed;
	uint64_t duty_changed; /* matched, total_duty (or outcome) differs; tolerance aside */
	uint64_t only[2];
	uint64_t field_diffs, csv_rows;
	fg_money_t duty[2], delta_duty_differing;
};

struct fg_audit_opts {
	int have_tolerance;
	fg_money_t tolerance;        /* cents; |delta total_duty| < tolerance is ignored */
	const char *const *ignore;   /* field names not compared */
	size_t n_ignore;
	FILE *csv;                   /* every difference, or NULL */
	const char *spill_dir;       /* NULL: $TMPDIR */
	unsigned parts;              /* spill partitions (fg_spill_parts_for) */
	uint64_t part_limit;         /* bytes of a partition read back at once (0: any) */
	unsigned top_k;              /* declarations kept for the report (default 200) */
	int by_origin;
};

#define FG_AUDIT_MAX_NAMES 255 /* index 255: the name follows inline */

struct fg_audit {
	struct fg_audit_opts o;
	struct fg_spill *sp;
	struct fg_avrobin *key, *payload; /* reused encoders */
	struct fg_audit_dim dim[FG_AUDIT_DIM_COUNT];
	struct fg_audit_counts c;
	struct fg_audit_top *top; /* min-heap by |delta| while joining, sorted after */
	size_t n_top;
	struct fg_audit_top *only; /* first top_k one-sided declarations */
	size_t n_only;
	uint64_t spill_records, spill_bytes, spill_largest;
	/* Field names, spilled as a one-byte index into this table (schemas have a few dozen). */
	char *names[FG_AUDIT_MAX_NAMES];
	const char *name_seen[FG_AUDIT_MAX_NAMES]; /* the pointer Avro C last gave for it */
	unsigned n_names;
};

/* Returns 0 or -1 with a message. o is copied; o->ignore and o->csv are borrowed. */
int fg_audit_init(struct fg_audit *a, const struct fg_audit_opts *o, char *errstr,
		  size_t errstr_size);
void fg_audit_fini(struct fg_audit *a);

/*
 * Adds one assessment or dead letter (schema name "DutyAssessment" or
 * "DeadLetter") to a side; `where` names the source in error messages. A
 * dead letter without a declaration id is keyed by its own source_* fields.
 * decl, when not NULL, is the declaration it was computed from (its lines
 * give the origins). The record is spilled; nothing of it is kept.
 */
int fg_audit_add(struct fg_audit *a, int side, avro_value_t *v, const char *where,
		 const struct fg_decl *decl, char *errstr, size_t errstr_size);

/* Joins the sides: fills the tallies, counts and top lists, writes the CSV. */
int fg_audit_run(struct fg_audit *a, char *errstr, size_t errstr_size);

/* 1 when something differs beyond the tolerance or is on one side only. */
int fg_audit_found_differences(const struct fg_audit *a);

/* Tally rows of a dimension, sorted for display (by name, or by duty for money dims). */
const struct fg_audit_tally *fg_audit_dim_sorted(struct fg_audit *a, enum fg_audit_dim_id d,
						 size_t *n);

/* The human summary (stdout of `audit`). */
void fg_audit_print_summary(struct fg_audit *a, FILE *f, const char *side0, const char *side1);

/* "1234567.89" -> cents. Returns 0 or -1. */
int fg_audit_parse_money(const char *s, fg_money_t *out);
/* Cents -> "1,234,567.89" (grouped) into buf. */
const char *fg_audit_money_str(fg_money_t v, int grouped, char *buf, size_t size);

#endif
