#include "fg_pipeline.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../core/fg_decimal.h"
#include "../ingest/fg_frame.h"

int fg_pipeline_init(struct fg_pipeline *pl, const struct fg_schema_registry *reg,
		     const struct fg_refdata *rd, int32_t assessment_schema_id,
		     int32_t deadletter_schema_id, char *errstr, size_t errstr_size)
{
	memset(pl, 0, sizeof(*pl));
	pl->reg = reg;
	pl->rd = rd;
	pl->dec = fg_decoder_create(errstr, errstr_size);
	pl->enc = fg_encoder_create(assessment_schema_id, deadletter_schema_id, errstr,
				    errstr_size);
	if (!pl->dec || !pl->enc) {
		fg_pipeline_fini(pl);
		return -1;
	}
	return 0;
}

void fg_pipeline_fini(struct fg_pipeline *pl)
{
	fg_decoder_destroy(pl->dec);
	fg_encoder_destroy(pl->enc);
	fg_assessment_fini(&pl->as);
	free(pl->slot);
	pl->slot = NULL;
	pl->dec = NULL;
	pl->enc = NULL;
}

static int dead(struct fg_pipeline *pl, enum fg_reason reason, const uint8_t *bytes, size_t len,
		const struct fg_decl *decl, const struct fg_source_pos *src, struct fg_output *out)
{
	out->kind = FG_OUT_DEAD_LETTER;
	out->reason = reason;
	out->decl = decl;
	if (pl->max_dead_payload && len > pl->max_dead_payload) {
		size_t used = strlen(pl->msg);
		snprintf(pl->msg + used, sizeof(pl->msg) - used,
			 "%spayload truncated to its first %zu of %zu bytes (XXH3-64 of all: %016llx)",
			 used ? "; " : "", pl->max_dead_payload, len,
			 (unsigned long long)XXH3_64bits(bytes, len));
		len = pl->max_dead_payload;
	}
	pl->stats.dead++;
	pl->stats.dead_by_reason[reason]++;
	return fg_encoder_dead_letter(pl->enc, reason, pl->msg, bytes, len, decl,
				      pl->rd->fingerprint, src, &out->enc);
}

/* The stats slot for a mineral name, added when new; UINT32_MAX when full. */
static uint32_t mineral_slot(struct fg_pipeline_stats *st, const char *name)
{
	uint32_t i;

	for (i = 0; i < st->n_minerals; i++)
		if (strcmp(st->mineral[i].name, name) == 0)
			return i;
	if (i == FG_PIPELINE_MAX_MINERALS)
		return UINT32_MAX;
	snprintf(st->mineral[i].name, sizeof(st->mineral[i].name), "%s", name);
	st->n_minerals++;
	return i;
}

/* Maps the current tables' mineral ids to stats slots, once per table set. */
static int map_slots(struct fg_pipeline *pl)
{
	const struct fg_refdata *rd = pl->rd;

	if (memcmp(pl->slot_fp, rd->fingerprint, sizeof(pl->slot_fp)) == 0)
		return 0;
	if (rd->n_minerals + 1 > pl->n_slot) {
		uint32_t *s = realloc(pl->slot, (rd->n_minerals + 1) * sizeof(*s));
		if (!s)
			return -1;
		pl->slot = s;
		pl->n_slot = rd->n_minerals + 1;
	}
	for (uint32_t m = 0; m < rd->n_minerals; m++)
		pl->slot[m] = mineral_slot(&pl->stats, rd->minerals[m]);
	pl->slot[rd->n_minerals] = mineral_slot(&pl->stats, "(not in scope)");
	memcpy(pl->slot_fp, rd->fingerprint, sizeof(pl->slot_fp));
	return 0;
}

static void count_mineral(struct fg_pipeline_stats *st, uint32_t i,
			  const struct fg_assessed_line *l)
{
	if (i == UINT32_MAX)
		return;
	st->mineral[i].lines++;
	st->mineral[i].floor_duty += l->floor_duty;
	st->mineral[i].total_duty += l->line_duty;
}

static void count(struct fg_pipeline *pl)
{
	struct fg_pipeline_stats *st = &pl->stats;
	const struct fg_assessment *as = &pl->as;

	st->assessed++;
	st->lines += as->n_lines;
	st->value_usd += as->total_value_usd;
	st->base_duty += as->total_base_duty;
	st->floor_duty += as->total_floor_duty;
	st->total_duty += as->total_duty;
	for (uint32_t i = 0; i < as->n_lines; i++) {
		const struct fg_assessed_line *l = &as->lines[i];
		st->duty_by_treatment[l->treatment] += l->line_duty;
		st->floor_by_treatment[l->treatment] += l->floor_duty;
		count_mineral(st, pl->slot[l->rule ? l->rule->mineral : pl->rd->n_minerals], l);
	}
}

int fg_pipeline_process(struct fg_pipeline *pl, const uint8_t *bytes, size_t len,
			const struct fg_schema_entry *entry, const struct fg_source_pos *src,
			struct fg_output *out)
{
	const uint8_t *body = bytes;
	size_t body_len = len;
	enum fg_reason reason;

	pl->stats.in++;
	if (!entry) {
		int32_t id;
		const char *why;
		if (fg_frame_parse(bytes, len, &id, &body, &body_len, &why)) {
			snprintf(pl->msg, sizeof(pl->msg), "%s", why);
			return dead(pl, FG_REASON_DECODE_ERROR, bytes, len, NULL, src, out);
		}
		entry = fg_schema_registry_get(pl->reg, id);
		if (!entry) {
			snprintf(pl->msg, sizeof(pl->msg), "schema id %d is not in the schema directory",
				 (int)id);
			return dead(pl, FG_REASON_UNKNOWN_SCHEMA, bytes, len, NULL, src, out);
		}
	}
	if (fg_decoder_decode(pl->dec, entry, body, body_len, &pl->decl, pl->msg, sizeof(pl->msg)))
		return dead(pl, FG_REASON_DECODE_ERROR, bytes, len, NULL, src, out);

	reason = fg_assess_validate(&pl->as, pl->rd, &pl->decl, pl->msg, sizeof(pl->msg));
	if (reason != FG_REASON_NONE)
		return dead(pl, reason, bytes, len, &pl->decl, src, out);

	if (map_slots(pl) || fg_assess_run(&pl->as, pl->rd, &pl->decl)) {
		pl->stats.in--;
		return -1;
	}
	count(pl);
	out->kind = FG_OUT_ASSESSMENT;
	out->reason = FG_REASON_NONE;
	out->decl = &pl->decl;
	return fg_encoder_assessment(pl->enc, &pl->as, src, &out->enc);
}

void fg_pipeline_stats_merge(struct fg_pipeline_stats *a, const struct fg_pipeline_stats *b)
{
	a->in += b->in;
	a->assessed += b->assessed;
	a->dead += b->dead;
	a->lines += b->lines;
	for (int i = 0; i < FG_REASON_COUNT; i++)
		a->dead_by_reason[i] += b->dead_by_reason[i];
	for (int i = 0; i < FG_TREAT_COUNT; i++) {
		a->duty_by_treatment[i] += b->duty_by_treatment[i];
		a->floor_by_treatment[i] += b->floor_by_treatment[i];
	}
	a->value_usd += b->value_usd;
	a->base_duty += b->base_duty;
	a->floor_duty += b->floor_duty;
	a->total_duty += b->total_duty;
	for (uint32_t j = 0; j < b->n_minerals; j++) {
		uint32_t i;
		for (i = 0; i < a->n_minerals; i++)
			if (strcmp(a->mineral[i].name, b->mineral[j].name) == 0)
				break;
		if (i == a->n_minerals) {
			if (i == FG_PIPELINE_MAX_MINERALS)
				continue;
			a->mineral[i] = b->mineral[j];
			a->mineral[i].lines = 0;
			a->mineral[i].floor_duty = a->mineral[i].total_duty = 0;
			a->n_minerals++;
		}
		a->mineral[i].lines += b->mineral[j].lines;
		a->mineral[i].floor_duty += b->mineral[j].floor_duty;
		a->mineral[i].total_duty += b->mineral[j].total_duty;
	}
}

static const char *money(fg_money_t v, char *buf, size_t size)
{
	char raw[64];
	size_t n = fg_decimal_format(v, 2, raw, sizeof(raw)), o = 0;
	size_t int_digits = n - 3 - (raw[0] == '-');

	/* thousands separators for people */
	for (size_t i = 0; i < n && o + 2 < size; i++) {
		buf[o++] = raw[i];
		size_t pos = i - (raw[0] == '-');
		if (raw[i] != '-' && pos + 1 < int_digits && (int_digits - pos - 1) % 3 == 0)
			buf[o++] = ',';
	}
	buf[o] = '\0';
	return buf;
}

void fg_pipeline_stats_print(const struct fg_pipeline_stats *st, FILE *f)
{
	char a[64], b[64];

	fprintf(f, "declarations in      %12llu\n", (unsigned long long)st->in);
	fprintf(f, "  assessed           %12llu  (%llu lines)\n", (unsigned long long)st->assessed,
		(unsigned long long)st->lines);
	fprintf(f, "  dead-lettered      %12llu\n", (unsigned long long)st->dead);
	for (int r = 1; r < FG_REASON_COUNT; r++)
		if (st->dead_by_reason[r])
			fprintf(f, "    %-18s %10llu\n", fg_reason_names[r],
				(unsigned long long)st->dead_by_reason[r]);
	fprintf(f, "value (USD)          %24s\n", money(st->value_usd, a, sizeof(a)));
	fprintf(f, "base duty (USD)      %24s\n", money(st->base_duty, a, sizeof(a)));
	fprintf(f, "floor duty (USD)     %24s\n", money(st->floor_duty, a, sizeof(a)));
	fprintf(f, "total duty (USD)     %24s\n", money(st->total_duty, a, sizeof(a)));
	fprintf(f, "by treatment                           floor duty               total duty\n");
	for (int t = 0; t < FG_TREAT_COUNT; t++)
		fprintf(f, "  %-12s %24s %24s\n", fg_treatment_names[t],
			money(st->floor_by_treatment[t], a, sizeof(a)),
			money(st->duty_by_treatment[t], b, sizeof(b)));
	fprintf(f, "by mineral              lines          floor duty               total duty\n");
	for (uint32_t i = 0; i < st->n_minerals; i++)
		if (st->mineral[i].lines)
			fprintf(f, "  %-16s %8llu %19s %24s\n", st->mineral[i].name,
			(unsigned long long)st->mineral[i].lines,
			money(st->mineral[i].floor_duty, a, sizeof(a)),
			money(st->mineral[i].total_duty, b, sizeof(b)));
}
