/* fg_csv_lines.c: assessed lines as CSV rows (see fg_csv_lines.h). */
#include "fg_csv_lines.h"

#include <stdio.h>
#include <string.h>

#include "../core/fg_date.h"
#include "../core/fg_decimal.h"

const char fg_csv_lines_header[] =
	"source,declaration_id,version,function_code,acceptance_date,item_no,commodity_code,"
	"status,rule_id,mineral,stage,treatment,value_usd,base_duty,floor_duty,line_duty,flags,"
	"reference_data_version\n";

static void csv_str(struct fg_avrobin *b, const char *s, size_t len)
{
	int quote = 0;

	for (size_t i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			quote = 1;
	uint8_t *p = fg_avrobin_room(b, len * 2 + 3);
	if (!p)
		return;
	if (quote)
		*p++ = '"';
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			*p++ = '"';
		*p++ = (uint8_t)s[i];
	}
	if (quote)
		*p++ = '"';
	b->len = (size_t)(p - b->buf);
}

static void csv_lit(struct fg_avrobin *b, const char *s)
{
	size_t n = strlen(s);
	uint8_t *p = fg_avrobin_room(b, n);
	if (!p)
		return;
	memcpy(p, s, n);
	b->len += n;
}

static void csv_money(struct fg_avrobin *b, fg_money_t v)
{
	char d[64];
	fg_decimal_format(v, 2, d, sizeof(d));
	csv_lit(b, d);
	csv_lit(b, ",");
}

void fg_csv_lines_append(struct fg_avrobin *b, const struct fg_assessment *as, const char *source)
{
	const struct fg_decl *d = as->decl;
	char num[64], date[FG_DATE_STR];

	for (uint32_t i = 0; i < as->n_lines; i++) {
		const struct fg_assessed_line *l = &as->lines[i];
		csv_str(b, source, strlen(source));
		csv_lit(b, ",");
		csv_str(b, d->declaration_id.p, d->declaration_id.len);
		snprintf(num, sizeof(num), ",%d,%s,", (int)d->version,
			 fg_function_code_names[d->function_code]);
		csv_lit(b, num);
		fg_date_format(d->acceptance_date, date);
		csv_lit(b, date);
		snprintf(num, sizeof(num), ",%d,", (int)l->in->item_no);
		csv_lit(b, num);
		csv_str(b, l->in->commodity_code.p, l->in->commodity_code.len);
		csv_lit(b, ",");
		csv_lit(b, fg_line_status_names[l->status]);
		csv_lit(b, ",");
		if (l->rule) {
			csv_str(b, l->rule->rule_id.p, l->rule->rule_id.len);
			csv_lit(b, ",");
			csv_str(b, as->rd->minerals[l->rule->mineral],
				strlen(as->rd->minerals[l->rule->mineral]));
			csv_lit(b, ",");
			csv_lit(b, fg_stage_names[l->rule->stage]);
			csv_lit(b, ",");
		} else {
			csv_lit(b, ",,,");
		}
		csv_lit(b, fg_treatment_names[l->treatment]);
		csv_lit(b, ",");
		csv_money(b, l->value_usd);
		csv_money(b, l->base_duty);
		csv_money(b, l->floor_duty);
		csv_money(b, l->line_duty);
		for (int f = 0, first = 1; f < FG_FLAG_COUNT; f++)
			if (l->flags & (1u << f)) {
				if (!first)
					csv_lit(b, "|");
				csv_lit(b, fg_flag_names[f]);
				first = 0;
			}
		csv_lit(b, ",");
		csv_lit(b, as->rd->fingerprint);
		csv_lit(b, "\n");
	}
}

