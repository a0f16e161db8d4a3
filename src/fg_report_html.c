/* fg_report_html.c: HTML + inline SVG report (fg_report_html.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fg_date.h"
#include "fg_report_html.h"

#define CHART_H 220 /* plot height in px */

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char *money(fg_money_t v, char *buf, size_t size)
{
	return fg_audit_money_str(v, 1, buf, size);
}

static void style(FILE *f)
{
	fputs("<style>\n"
	      "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em;color:#1b1f24;max-width:1200px}\n"
	      "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccd}\n"
	      "table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}\n"
	      "th,td{border:1px solid #d0d4da;padding:.25em .6em;text-align:left}\n"
	      "th{background:#eef1f5}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	      "td.neg{color:#a4161a}td.pos{color:#1a5e20}.meta{color:#555;font-size:.9em}\n"
	      ".bar.s0{fill:#6c8ebf}.bar.s1{fill:#d79b00}.bar.d{fill:#1a5e20}.bar.d.neg{fill:#b85450}\n"
	      ".axis{stroke:#888;stroke-width:1}.lbl{font-size:10px;fill:#333}\n"
	      ".legend{font-size:12px}.ok{color:#1a5e20}.bad{color:#a4161a;font-weight:bold}\n"
	      "</style>\n",
	      f);
}

/*
 * Grouped bar chart: n groups, n_series bars each (values in cents or
 * counts, both as __int128). Heights: v * CHART_H / max, integer division.
 */
static void bar_chart(FILE *f, const char *id, const char *title, size_t n,
		      const char *const *labels, const fg_money_t *const *series, size_t n_series,
		      const char *const *series_names, int is_money)
{
	fg_money_t max = 0;
	for (size_t s = 0; s < n_series; s++)
		for (size_t i = 0; i < n; i++) {
			fg_money_t v = series[s][i] < 0 ? -series[s][i] : series[s][i];
			if (v > max)
				max = v;
		}
	int bw = n_series > 1 ? 12 : 16, gw = (int)n_series * bw + 10;
	int left = 10, top = 30, width = left + (int)n * gw + 20;
	if (width < 400)
		width = 400;
	int height = top + CHART_H + 110;
	char m[64];

	fprintf(f, "<figure id=\"%s\">\n<figcaption>", id);
	esc(f, title);
	fprintf(f, " (largest bar: %s%s)</figcaption>\n",
		is_money ? money(max, m, sizeof(m)) : (snprintf(m, sizeof(m), "%lld", (long long)max), m),
		is_money ? " USD" : "");
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\" role=\"img\">\n", width, height, width, height);
	for (size_t s = 0; s < n_series && n_series > 1; s++) {
		fprintf(f, "<rect x=\"%d\" y=\"6\" width=\"10\" height=\"10\" class=\"key s%zu\" "
			   "style=\"fill:%s\"/><text x=\"%d\" y=\"15\" class=\"legend\">",
			left + (int)s * 140, s, s ? "#d79b00" : "#6c8ebf", left + (int)s * 140 + 14);
		esc(f, series_names[s]);
		fputs("</text>\n", f);
	}
	int base = top + CHART_H;
	fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", left, base,
		width - 10, base);
	for (size_t i = 0; i < n; i++) {
		int x0 = left + (int)i * gw + 5;
		for (size_t s = 0; s < n_series; s++) {
			fg_money_t v = series[s][i] < 0 ? -series[s][i] : series[s][i];
			int h = max ? (int)(v * CHART_H / max) : 0;
			if (v && !h)
				h = 1; /* visible, however small */
			/* One series: a delta or a count; a negative bar is marked, not drawn down. */
			fprintf(f, "<rect class=\"bar %s\" data-key=\"",
				n_series > 1 ? (s ? "s1" : "s0") : series[s][i] < 0 ? "d neg" : "d");
			esc(f, labels[i]);
			fprintf(f, "\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"><title>", x0 + (int)s * bw,
				base - h, bw - 1, h);
			esc(f, labels[i]);
			fputs(" ", f);
			if (n_series > 1) {
				esc(f, series_names[s]);
				fputs(": ", f);
			}
			if (is_money)
				fprintf(f, "%s%s USD", series[s][i] < 0 ? "-" : "", money(v, m, sizeof(m)));
			else
				fprintf(f, "%lld", (long long)series[s][i]);
			fputs("</title></rect>\n", f);
		}
		fprintf(f, "<text class=\"lbl\" transform=\"translate(%d,%d) rotate(60)\">",
			x0 + (int)n_series * bw / 2, base + 6);
		esc(f, labels[i]);
		fputs("</text>\n", f);
	}
	fputs("</svg>\n</figure>\n", f);
}

static void td_num(FILE *f, unsigned long long v)
{
	fprintf(f, "<td class=\"n\">%llu</td>", v);
}

static void td_money(FILE *f, fg_money_t v, int signed_class)
{
	char m[64];
	fprintf(f, "<td class=\"n%s\">%s</td>",
		signed_class ? (v < 0 ? " neg" : v > 0 ? " pos" : "") : "", money(v, m, sizeof(m)));
}

static void totals_table(FILE *f, struct fg_audit *a, enum fg_audit_dim_id d, const char *id,
			 const char *title, const char *what, const char *const side[2])
{
	size_t n;
	const struct fg_audit_tally *t = fg_audit_dim_sorted(a, d, &n);
	fg_money_t sum[2] = { 0, 0 };
	unsigned long long cnt[2] = { 0, 0 }, ch = 0;

	fputs("<h3>", f);
	esc(f, title);
	fprintf(f, "</h3>\n<table id=\"%s\"><thead><tr><th>", id);
	esc(f, what);
	fputs("</th><th>count ", f);
	esc(f, side[0]);
	fputs("</th><th>count ", f);
	esc(f, side[1]);
	fputs("</th><th>duty ", f);
	esc(f, side[0]);
	fputs(" (USD)</th><th>duty ", f);
	esc(f, side[1]);
	fputs(" (USD)</th><th>delta (USD)</th><th>changed</th></tr></thead><tbody>\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs("<tr><td>", f);
		esc(f, t[i].name);
		fputs("</td>", f);
		td_num(f, t[i].n[0]);
		td_num(f, t[i].n[1]);
		td_money(f, t[i].duty[0], 0);
		td_money(f, t[i].duty[1], 0);
		td_money(f, t[i].duty[1] - t[i].duty[0], 1);
		td_num(f, t[i].changed);
		fputs("</tr>\n", f);
		for (int s = 0; s < 2; s++) {
			sum[s] += t[i].duty[s];
			cnt[s] += t[i].n[s];
		}
		ch += t[i].changed;
	}
	fputs("</tbody><tfoot><tr><th>total</th>", f);
	td_num(f, cnt[0]);
	td_num(f, cnt[1]);
	td_money(f, sum[0], 0);
	td_money(f, sum[1], 0);
	td_money(f, sum[1] - sum[0], 1);
	td_num(f, ch);
	fputs("</tr></tfoot></table>\n", f);
}

static void summary_row(FILE *f, const char *k, unsigned long long a, unsigned long long b,
			int two)
{
	fputs("<tr><th>", f);
	esc(f, k);
	fputs("</th>", f);
	td_num(f, a);
	if (two)
		td_num(f, b);
	else
		fputs("<td></td>", f);
	fputs("</tr>\n", f);
}

/* Differing declarations over time: by day, or by month when there are many days. */
static int time_chart(FILE *f, struct fg_audit *a)
{
	size_t n, nb = 0;
	const struct fg_audit_tally *t = fg_audit_dim_sorted(a, FG_AUDIT_DIM_DATE, &n);
	int monthly = n > 62;
	char (*lab)[16] = calloc(n ? n : 1, sizeof(*lab));
	fg_money_t *cnt = calloc(n ? n : 1, sizeof(*cnt)), *dd = calloc(n ? n : 1, sizeof(*dd));
	const char **labels = calloc(n ? n : 1, sizeof(*labels));
	if (!lab || !cnt || !dd || !labels) {
		free(lab);
		free(cnt);
		free(dd);
		free(labels);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char k[16];
		snprintf(k, sizeof(k), "%.*s", monthly && t[i].name[0] != '(' ? 7 : 15, t[i].name);
		if (!nb || strcmp(lab[nb - 1], k)) {
			snprintf(lab[nb], sizeof(lab[nb]), "%s", k);
			labels[nb] = lab[nb];
			nb++;
		}
		cnt[nb - 1] += (fg_money_t)t[i].changed;
		dd[nb - 1] += t[i].duty[1] - t[i].duty[0];
	}
	const fg_money_t *s1[1] = { cnt };
	const char *nm[1] = { "declarations" };
	fprintf(f, "<h2>Differences over time</h2>\n");
	if (!nb) {
		fputs("<p id=\"chart-time\">No differing declarations.</p>\n", f);
	} else {
		bar_chart(f, "chart-time",
			  monthly ? "Differing declarations by month of acceptance" :
				    "Differing declarations by acceptance date",
			  nb, labels, s1, 1, nm, 0);
		fprintf(f, "<table id=\"time\"><thead><tr><th>%s</th><th>differing declarations</th>"
			   "<th>delta total_duty (USD)</th></tr></thead><tbody>\n",
			monthly ? "month" : "acceptance date");
		for (size_t i = 0; i < nb; i++) {
			fputs("<tr><td>", f);
			esc(f, labels[i]);
			fputs("</td>", f);
			td_num(f, (unsigned long long)cnt[i]);
			td_money(f, dd[i], 1);
			fputs("</tr>\n", f);
		}
		fputs("</tbody></table>\n", f);
	}
	free(lab);
	free(cnt);
	free(dd);
	free(labels);
	return 0;
}

static void diff_list(FILE *f, const struct fg_audit *a, const char *const side[2])
{
	char m0[64], m1[64], m2[64];
	fprintf(f, "<h2>Differences</h2>\n<p>The %zu largest of %llu differing declarations, by "
		   "|delta total_duty| (every field difference is in the CSV file).</p>\n",
		a->n_top, (unsigned long long)a->c.differing);
	fputs("<table id=\"differences\"><thead><tr><th>declaration</th><th>version</th>"
	      "<th>acceptance date</th><th>line</th><th>field</th><th>",
	      f);
	esc(f, side[0]);
	fputs("</th><th>", f);
	esc(f, side[1]);
	fputs("</th></tr></thead><tbody>\n", f);
	for (size_t i = 0; i < a->n_top; i++) {
		const struct fg_audit_top *t = &a->top[i];
		char d[16] = "";
		if (t->date != INT32_MIN)
			fg_date_format(t->date, d);
		fputs("<tr class=\"decl\"><td>", f);
		esc(f, t->id);
		/* The declaration's row: its total duty on each side and the change. */
		fprintf(f, "</td><td class=\"n\">%d</td><td>%s</td><td></td><td>total duty (USD), "
			   "delta %s</td>",
			(int)t->version, d, money(t->duty[1] - t->duty[0], m2, sizeof(m2)));
		fprintf(f, "<td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
			money(t->duty[0], m0, sizeof(m0)), money(t->duty[1], m1, sizeof(m1)));
		for (uint32_t k = 0; k < t->n_diffs; k++) {
			const struct fg_audit_diff *df = &t->diffs[k];
			fputs("<tr><td></td><td></td><td></td><td class=\"n\">", f);
			if (df->item >= 0)
				fprintf(f, "%d", (int)df->item);
			fputs("</td><td>", f);
			esc(f, df->field);
			fputs("</td><td>", f);
			esc(f, df->recorded);
			fputs("</td><td>", f);
			esc(f, df->recomputed);
			fputs("</td></tr>\n", f);
		}
		if (t->more_diffs)
			fprintf(f, "<tr><td></td><td></td><td></td><td></td><td colspan=\"3\">... %u more "
				   "field differences (in the CSV)</td></tr>\n", t->more_diffs);
	}
	fputs("</tbody></table>\n", f);
	fprintf(f, "<h2>On one side only</h2>\n<p>%llu only in ", (unsigned long long)a->c.only[0]);
	esc(f, side[0]);
	fprintf(f, ", %llu only in ", (unsigned long long)a->c.only[1]);
	esc(f, side[1]);
	fprintf(f, "; the first %zu:</p>\n<table id=\"one-sided\"><thead><tr><th>declaration</th>"
		   "<th>version</th><th>present in</th><th>total_duty (USD)</th></tr></thead><tbody>\n",
		a->n_only);
	for (size_t i = 0; i < a->n_only; i++) {
		const struct fg_audit_top *t = &a->only[i];
		fputs("<tr><td>", f);
		esc(f, t->id);
		fprintf(f, "</td><td class=\"n\">%d</td><td>", (int)t->version);
		esc(f, side[t->only_side]);
		fprintf(f, "</td><td class=\"n\">%s</td></tr>\n",
			money(t->duty[t->only_side], m0, sizeof(m0)));
	}
	fputs("</tbody></table>\n", f);
}

int fg_report_html_write(struct fg_audit *a, FILE *f, const struct fg_report_html_opts *o,
			 char *errstr, size_t errstr_size)
{
	const struct fg_audit_counts *c = &a->c;
	const char *const *side = o->side;
	char m0[64], m1[64], m2[64];
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
	esc(f, o->title);
	fputs("</title>\n", f);
	style(f);
	fputs("</head><body>\n<h1>", f);
	esc(f, o->title);
	fputs("</h1>\n", f);
	for (size_t i = 0; i < o->n_meta; i++) {
		fputs("<p class=\"meta\">", f);
		esc(f, o->meta[i]);
		fputs("</p>\n", f);
	}
	int found = fg_audit_found_differences(a);
	fprintf(f, "<p id=\"verdict\" class=\"%s\">%s</p>\n", found ? "bad" : "ok",
		o->whatif ? (found ? "The proposed reference data changes these assessments." :
				     "The proposed reference data changes no assessment.") :
			    (found ? "Differences found beyond the tolerance." :
				     "No differences beyond the tolerance."));

	fputs("<h2>Summary</h2>\n<table id=\"summary\"><thead><tr><th></th><th>", f);
	esc(f, side[0]);
	fputs("</th><th>", f);
	esc(f, side[1]);
	fputs("</th></tr></thead><tbody>\n", f);
	summary_row(f, "records", c->records[0], c->records[1], 1);
	summary_row(f, "distinct declarations", c->keys[0], c->keys[1], 1);
	summary_row(f, "duplicate records", c->duplicates[0], c->duplicates[1], 1);
	summary_row(f, "on this side only", c->only[0], c->only[1], 1);
	summary_row(f, "matched", c->matched, 0, 0);
	summary_row(f, "equal", c->equal, 0, 0);
	summary_row(f, "differing", c->differing, 0, 0);
	if (a->o.have_tolerance) {
		fprintf(f, "<tr><th>within tolerance (|delta total_duty| &lt; %s USD)</th>",
			money(a->o.tolerance, m0, sizeof(m0)));
		td_num(f, c->within_tolerance);
		fputs("<td></td></tr>\n", f);
	}
	summary_row(f, "outcome changed", c->outcome_changed, 0, 0);
	summary_row(f, "field differences", c->field_diffs, 0, 0);
	fputs("<tr><th>total duty (USD)</th>", f);
	td_money(f, c->duty[0], 0);
	td_money(f, c->duty[1], 0);
	fprintf(f, "</tr>\n<tr><th>delta total duty (USD)</th><td class=\"n\" id=\"delta\">%s</td>"
		   "<td></td></tr>\n</tbody></table>\n",
		money(c->duty[1] - c->duty[0], m2, sizeof(m2)));
	(void)m1;

	/* Duty by mineral, both sides. */
	size_t n;
	const struct fg_audit_tally *t = fg_audit_dim_sorted(a, FG_AUDIT_DIM_MINERAL, &n);
	const char **labels = calloc(n ? n : 1, sizeof(*labels));
	fg_money_t *v0 = calloc(n ? n : 1, sizeof(*v0)), *v1 = calloc(n ? n : 1, sizeof(*v1));
	if (!labels || !v0 || !v1) {
		free(labels);
		free(v0);
		free(v1);
		fg_errf(errstr, errstr_size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		labels[i] = t[i].name;
		v0[i] = t[i].duty[0];
		v1[i] = t[i].duty[1];
	}
	const fg_money_t *ser[2] = { v0, v1 };
	fputs("<h2>Duty by mineral</h2>\n", f);
	bar_chart(f, "chart-mineral", "Line duty by mineral", n, labels, ser, 2, side, 1);
	/* The change is usually small beside the totals: its own chart, minerals that moved. */
	size_t nd = 0;
	for (size_t i = 0; i < n; i++)
		if (t[i].duty[1] != t[i].duty[0]) {
			labels[nd] = t[i].name;
			v0[nd++] = t[i].duty[1] - t[i].duty[0];
		}
	if (nd) {
		const fg_money_t *dser[1] = { v0 };
		const char *dname[1] = { "delta" };
		bar_chart(f, "chart-mineral-delta",
			  "Change in line duty by mineral (green up, red down; minerals that changed)",
			  nd, labels, dser, 1, dname, 1);
	}
	free(labels);
	free(v0);
	free(v1);

	if (o->whatif) {
		fputs("<h2>Impact</h2>\n", f);
		totals_table(f, a, FG_AUDIT_DIM_MINERAL, "totals-mineral", "By mineral", "mineral", side);
		totals_table(f, a, FG_AUDIT_DIM_TREATMENT, "totals-treatment", "By treatment",
			     "treatment", side);
		totals_table(f, a, FG_AUDIT_DIM_ORIGIN, "totals-origin", "By origin country",
			     "origin", side);
		totals_table(f, a, FG_AUDIT_DIM_STAGE, "totals-stage", "By stage", "stage", side);
	} else {
		fputs("<h2>Totals</h2>\n", f);
		totals_table(f, a, FG_AUDIT_DIM_MINERAL, "totals-mineral", "By mineral (line duty)",
			     "mineral", side);
		totals_table(f, a, FG_AUDIT_DIM_STAGE, "totals-stage", "By stage (line duty)", "stage",
			     side);
		totals_table(f, a, FG_AUDIT_DIM_TREATMENT, "totals-treatment",
			     "By treatment (line duty)", "treatment", side);
		if (a->o.by_origin)
			totals_table(f, a, FG_AUDIT_DIM_ORIGIN, "totals-origin",
				     "By origin country (line duty)", "origin", side);
	}
	totals_table(f, a, FG_AUDIT_DIM_RDV, "totals-rdv",
		     "By reference data version (declarations, total duty)", "reference_data_version",
		     side);
	totals_table(f, a, FG_AUDIT_DIM_OUTCOME, "totals-outcome",
		     "By outcome (declarations, total duty)", "outcome", side);

	if (time_chart(f, a)) {
		fg_errf(errstr, errstr_size, "out of memory");
		return -1;
	}
	t = fg_audit_dim_sorted(a, FG_AUDIT_DIM_FIELD, &n);
	fputs("<h2>Differences by field</h2>\n<table id=\"fields\"><thead><tr><th>field</th>"
	      "<th>differences</th></tr></thead><tbody>\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		fputs("<tr><td>", f);
		esc(f, t[i].name);
		fputs("</td>", f);
		td_num(f, t[i].changed);
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	diff_list(f, a, side);
	fputs("<p class=\"meta\">Made by floorgate. Money is exact: sums of cents, no rounding.</p>\n"
	      "</body></html>\n",
	      f);
	return 0;
}
