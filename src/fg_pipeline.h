/*
 * fg_pipeline.h: one input message in, exactly one output out.
 *
 * DESIGN
 * The per-message path shared by every mode (Kafka `run`, the demo, file
 * `assess`): frame -> schema lookup -> decode -> validate -> classify and
 * price -> encode. Its result is either an assessment or a dead letter,
 * never both, never neither; only running out of memory stops it. A
 * pipeline belongs to one thread; the reference data and schema registry
 * it reads are shared and immutable while it runs.
 */
#ifndef FG_PIPELINE_H
#define FG_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "../ingest/fg_decode.h"
#include "../ingest/fg_schemas.h"
#include "../pricing/fg_assess.h"
#include "../pricing/fg_refdata.h"
#include "../sinks/fg_encode.h"

#define FG_PIPELINE_MAX_MINERALS 128

/* Counters for progress lines and summaries. */
struct fg_pipeline_stats {
	uint64_t in, assessed, dead, lines;
	uint64_t dead_by_reason[FG_REASON_COUNT];
	fg_money_t duty_by_treatment[FG_TREAT_COUNT];
	fg_money_t floor_by_treatment[FG_TREAT_COUNT];
	fg_money_t value_usd, base_duty, floor_duty, total_duty;
	struct {
		char name[48];
		uint64_t lines;
		fg_money_t floor_duty, total_duty;
	} mineral[FG_PIPELINE_MAX_MINERALS];
	uint32_t n_minerals;
};

enum fg_output_kind { FG_OUT_ASSESSMENT, FG_OUT_DEAD_LETTER };

struct fg_output {
	enum fg_output_kind kind;
	enum fg_reason reason;      /* dead letters */
	const struct fg_decl *decl; /* NULL when the body did not decode */
	struct fg_encoded enc;      /* valid until the next call */
};

struct fg_pipeline {
	const struct fg_schema_registry *reg;
	const struct fg_refdata *rd;
	struct fg_decoder *dec;
	struct fg_encoder *enc;
	struct fg_assessment as;
	struct fg_decl decl;
	struct fg_pipeline_stats stats;
	/* stats.mineral slot of each mineral id of slot_rd (rebuilt when rd changes) */
	char slot_fp[33]; /* by fingerprint: a reloaded set may reuse a freed address */
	uint32_t *slot, n_slot;
	/*
	 * Largest input kept whole in a dead letter (0: no limit). A bigger
	 * input keeps its first max_dead_payload bytes, and the message says
	 * so with the full length and an XXH3-64 of all the bytes, so the
	 * dead letter still fits the producer's message.max.bytes and the
	 * partition does not stall on it.
	 */
	size_t max_dead_payload;
	char msg[512];
};

/* reg and rd are borrowed and must outlive the pipeline. */
int fg_pipeline_init(struct fg_pipeline *pl, const struct fg_schema_registry *reg,
		     const struct fg_refdata *rd, int32_t assessment_schema_id,
		     int32_t deadletter_schema_id, char *errstr, size_t errstr_size);
void fg_pipeline_fini(struct fg_pipeline *pl);

/*
 * Processes one message. With `entry` NULL the bytes are Confluent-framed
 * and the writer schema is looked up by id; otherwise they are a bare Avro
 * body written with entry->schema (file mode). Returns 0 with *out set, or
 * -1 when memory ran out (nothing was emitted).
 */
int fg_pipeline_process(struct fg_pipeline *pl, const uint8_t *bytes, size_t len,
			const struct fg_schema_entry *entry, const struct fg_source_pos *src,
			struct fg_output *out);

/* Prints the summary (declarations, reasons, duty by mineral and treatment). */
void fg_pipeline_stats_print(const struct fg_pipeline_stats *st, FILE *f);
/* Adds b into a. */
void fg_pipeline_stats_merge(struct fg_pipeline_stats *a, const struct fg_pipeline_stats *b);

#endif
