/*
 * cmd_whatif.c: `floorgate whatif`, the revenue impact of a proposed
 * reference-data directory on a period already assessed.
 *
 * DESIGN
 * The declarations of the period go through the same in-process pipeline
 * as `assess` (fg_pipeline, loaded with the proposed tables); each output's
 * Avro body is read back with the compiled-in output schema and handed to
 * fg_audit as the "proposed" side, together with the declaration it came
 * from (its lines carry the origin country, which an assessment does not).
 * The recorded assessments are the other side. fg_audit joins the two in
 * bounded memory (spilled hash partitions, see fg_audit.h) and tallies line
 * duty by mineral, treatment, origin and stage on both sides, so the impact
 * of a group is proposed minus recorded, in exact cents.
 */
#include <stdlib.h>
#include <string.h>

#include <avro.h>

#include "../ingest/fg_schemas.h"
#include "../sinks/fg_outfile.h"
#include "fg_audit.h"
#include "fg_audit_cli.h"
#include "fg_audit_src.h"
#include "fg_cmd.h"
#include "fg_pipeline.h"
#include "fg_report_html.h"

static void whatif_usage(FILE *f)
{
	fprintf(f,
		"usage: floorgate whatif --in DECLS... --recorded ASSESSMENTS... --data PROPOSED_DIR\n"
		"                        [--csv FILE] [--html FILE] [options]\n\n"
		"Assesses the declarations of a period (--in: Avro container files, or kafka:TOPIC\n"
		"with --from/--to) with the proposed reference data in PROPOSED_DIR, and reports the\n"
		"impact on revenue (line duty) and counts against the recorded assessments and dead\n"
		"letters (--recorded: files or kafka:TOPIC), matched by (declaration_id, version):\n"
		"by mineral, treatment, origin country and stage, with totals. Nothing is written\n"
		"to Kafka.\n\n"
		"  --csv FILE       the impact tables, one row per dimension and key\n"
		"  --html FILE      a self-contained report (charts and tables)\n"
		"  -X key=value, -c FILE, --from, --to, --memory MB, --partitions N, --spill-dir DIR,\n"
		"  --top N, --quiet  as for `floorgate audit`\n\n"
		"Exit status: 0 the proposed data changes no assessment; 1 it changes some;\n"
		"2 bad usage, reference data refused, or unreadable input.\n");
}

struct whatif {
	struct fg_audit a;
	struct fg_pipeline pl;
	struct fg_schema_registry reg;
	avro_value_iface_t *iface[2];
	avro_value_t out[2];
	avro_reader_t rd;
	char *errstr;
	size_t errstr_size;
};

static int on_recorded(void *ctx, avro_value_t *v, const uint8_t *bytes, size_t len,
		       const struct fg_source_pos *pos, const struct fg_ocf_reader *file)
{
	struct whatif *w = ctx;
	(void)bytes;
	(void)len;
	(void)file;
	return fg_audit_add(&w->a, FG_AUDIT_RECORDED, v, pos->file ? pos->file : pos->topic, NULL,
			    w->errstr, w->errstr_size);
}

static int on_decl(void *ctx, avro_value_t *v, const uint8_t *bytes, size_t len,
		   const struct fg_source_pos *pos, const struct fg_ocf_reader *file)
{
	struct whatif *w = ctx;
	const struct fg_schema_entry *entry = NULL;
	struct fg_output o;
	(void)v;

	if (file) {
		/* A file: its writer schema under the file id (replaced per file). */
		avro_schema_t writer = fg_ocf_reader_schema(file);
		entry = fg_schema_registry_get(&w->reg, FG_SCHEMA_ID_FILE);
		if (!entry || entry->schema != writer) {
			/* a file of other records (assessments given as --in) is refused
			 * whole, not recomputed as one dead letter per record */
			if (fg_decoder_check_writer(writer, pos->file, w->errstr, w->errstr_size))
				return -1;
			if (fg_schema_registry_add(&w->reg, FG_SCHEMA_ID_FILE, writer,
						   fg_ocf_reader_scales(file), pos->file))
				goto oom;
			entry = fg_schema_registry_get(&w->reg, FG_SCHEMA_ID_FILE);
		}
	}
	if (fg_pipeline_process(&w->pl, bytes, len, entry, pos, &o))
		goto oom;
	int k = o.kind == FG_OUT_ASSESSMENT ? 0 : 1;
	avro_reader_memory_set_source(w->rd, (const char *)o.enc.body, (int64_t)o.enc.body_len);
	if (avro_value_read(w->rd, &w->out[k])) {
		fg_errf(w->errstr, w->errstr_size, "reading back an output: %s", avro_strerror());
		return -1;
	}
	return fg_audit_add(&w->a, FG_AUDIT_RECOMPUTED, &w->out[k],
			    pos->file ? pos->file : pos->topic, o.decl, w->errstr, w->errstr_size);
oom:
	fg_errf(w->errstr, w->errstr_size, "out of memory");
	return -1;
}

static void csv_impact(FILE *f, struct fg_audit *a)
{
	static const struct {
		enum fg_audit_dim_id d;
		const char *name;
	} dims[] = {
		{ FG_AUDIT_DIM_MINERAL, "mineral" }, { FG_AUDIT_DIM_TREATMENT, "treatment" },
		{ FG_AUDIT_DIM_ORIGIN, "origin" },   { FG_AUDIT_DIM_STAGE, "stage" },
		{ FG_AUDIT_DIM_OUTCOME, "outcome" },
	};
	char m0[64], m1[64], m2[64];
	fputs("dimension,key,recorded_count,proposed_count,recorded_duty,proposed_duty,delta_duty,"
	      "changed\n", f);
	for (size_t i = 0; i < FG_ARRAY_LEN(dims); i++) {
		size_t n;
		const struct fg_audit_tally *t = fg_audit_dim_sorted(a, dims[i].d, &n);
		for (size_t k = 0; k < n; k++)
			fprintf(f, "%s,%s,%llu,%llu,%s,%s,%s,%llu\n", dims[i].name, t[k].name,
				(unsigned long long)t[k].n[0], (unsigned long long)t[k].n[1],
				fg_audit_money_str(t[k].duty[0], 0, m0, sizeof(m0)),
				fg_audit_money_str(t[k].duty[1], 0, m1, sizeof(m1)),
				fg_audit_money_str(t[k].duty[1] - t[k].duty[0], 0, m2, sizeof(m2)),
				(unsigned long long)t[k].changed);
	}
	fprintf(f, "total,total_duty,%llu,%llu,%s,%s,%s,%llu\n",
		(unsigned long long)a->c.keys[0], (unsigned long long)a->c.keys[1],
		fg_audit_money_str(a->c.duty[0], 0, m0, sizeof(m0)),
		fg_audit_money_str(a->c.duty[1], 0, m1, sizeof(m1)),
		fg_audit_money_str(a->c.duty[1] - a->c.duty[0], 0, m2, sizeof(m2)),
		(unsigned long long)a->c.duty_changed);
}

int fg_cmd_whatif(int argc, char **argv)
{
	struct fg_audit_args g;
	struct whatif w;
	struct fg_refdata *rd = NULL;
	char err[1024];
	int rc = FG_EXIT_USAGE, audit_ok = 0, pl_ok = 0;
	struct fg_outfile csv_out = { 0 }, html_out = { 0 };
	FILE *csv = NULL; /* csv_out.f with --csv */

	memset(&w, 0, sizeof(w));
	int r = fg_audit_args_parse(&g, argc, argv, "whatif");
	if (r) {
		fg_audit_args_fini(&g);
		if (r > 0) {
			whatif_usage(stdout);
			return FG_EXIT_OK;
		}
		/* the problem was printed; the whole usage would scroll it away */
		fprintf(stderr, "(floorgate whatif --help for usage)\n");
		return FG_EXIT_USAGE;
	}
	fg_outfile_remove_on_signal(); /* an interrupted report leaves no temporary */
	if (!g.n_in || !g.n_recorded || !g.data) {
		fprintf(stderr, "floorgate whatif: --in, --recorded and --data are required\n\n");
		whatif_usage(stderr);
		goto done;
	}
	w.errstr = err;
	w.errstr_size = sizeof(err);
	rd = fg_refdata_load(g.data, err, sizeof(err));
	if (!rd) {
		fprintf(stderr, "floorgate whatif: reference data refused: %s\n", err);
		goto done;
	}
	/* Kafka inputs are framed: their writer schemas come from schema.dir. */
	for (size_t i = 0; i < g.n_in; i++)
		if (!strncmp(g.in[i], "kafka:", 6)) {
			if (fg_schema_registry_load_dir(&w.reg, g.cfg.schema_dir, err, sizeof(err))) {
				fprintf(stderr, "floorgate whatif: %s\n", err);
				goto done;
			}
			break;
		}
	if (fg_pipeline_init(&w.pl, &w.reg, rd, 2, 3, err, sizeof(err))) {
		fprintf(stderr, "floorgate whatif: %s\n", err);
		goto done;
	}
	pl_ok = 1;
	const char *texts[2] = { fg_schema_text_assessment, fg_schema_text_deadletter };
	for (int k = 0; k < 2; k++) {
		avro_schema_t s = fg_schemas_parse(texts[k], err, sizeof(err));
		w.iface[k] = s ? avro_generic_class_from_schema(s) : NULL;
		if (s)
			avro_schema_decref(s);
		if (!w.iface[k] || avro_generic_value_new(w.iface[k], &w.out[k])) {
			if (w.iface[k])
				avro_value_iface_decref(w.iface[k]);
			w.iface[k] = NULL;
			fprintf(stderr, "floorgate whatif: output schema: %s\n", avro_strerror());
			goto done;
		}
	}
	w.rd = avro_reader_memory("", 0);
	if (g.csv) {
		if (fg_outfile_open(&csv_out, g.csv, err, sizeof(err))) {
			fprintf(stderr, "floorgate whatif: %s\n", err);
			goto done;
		}
		csv = csv_out.f;
	}
	if (g.html && fg_outfile_open(&html_out, g.html, err, sizeof(err))) {
		fprintf(stderr, "floorgate whatif: %s\n", err);
		goto done;
	}
	const char *const *lists[2] = { g.recorded, g.in };
	const size_t ns[2] = { g.n_recorded, g.n_in };
	/* The proposed set always has another fingerprint: not a difference worth listing. */
	static const char *const ignore[] = { "reference_data_version" };
	struct fg_audit_opts o = { .spill_dir = g.spill_dir, .top_k = g.top, .by_origin = 1,
				   .ignore = ignore, .n_ignore = 1,
				   .parts = fg_audit_args_parts(&g, lists, ns, 2),
				   .part_limit = fg_audit_args_part_limit(&g) };
	if (!w.rd || fg_audit_init(&w.a, &o, err, sizeof(err))) {
		fprintf(stderr, "floorgate whatif: %s\n", w.rd ? err : "out of memory");
		goto done;
	}
	audit_ok = 1;
	struct fg_audit_src_opts so = { .cfg = &g.cfg, .from = g.from, .to = g.to, .decode = 1 };
	for (size_t i = 0; i < g.n_recorded; i++)
		if (fg_audit_src_read(g.recorded[i], &so, on_recorded, &w, err, sizeof(err))) {
			fprintf(stderr, "floorgate whatif: %s\n", err);
			goto done;
		}
	struct fg_audit_src_opts si = { .cfg = &g.cfg, .from = g.from, .to = g.to };
	for (size_t i = 0; i < g.n_in; i++)
		if (fg_audit_src_read(g.in[i], &si, on_decl, &w, err, sizeof(err))) {
			fprintf(stderr, "floorgate whatif: %s\n", err);
			goto done;
		}
	if (fg_audit_run(&w.a, err, sizeof(err))) {
		fprintf(stderr, "floorgate whatif: %s\n", err);
		rc = FG_EXIT_FAIL;
		goto done;
	}
	if (!g.quiet) {
		char m0[64], m1[64], m2[64];
		printf("proposed reference data %s (%s)\n", rd->fingerprint, g.data);
		fg_audit_print_summary(&w.a, stdout, "recorded", "proposed");
		printf("revenue impact: total duty %s -> %s USD, delta %s USD; total_duty changes on %llu "
		       "declarations\n",
		       fg_audit_money_str(w.a.c.duty[0], 1, m0, sizeof(m0)),
		       fg_audit_money_str(w.a.c.duty[1], 1, m1, sizeof(m1)),
		       fg_audit_money_str(w.a.c.duty[1] - w.a.c.duty[0], 1, m2, sizeof(m2)),
		       (unsigned long long)w.a.c.duty_changed);
	}
	if (csv)
		csv_impact(csv, &w.a);
	if (g.html) {
		char l0[512], l1[512];
		snprintf(l0, sizeof(l0), "proposed reference data: %s (version %s)", g.data,
			 rd->fingerprint);
		snprintf(l1, sizeof(l1), "%zu declaration source(s), %zu recorded source(s)", g.n_in,
			 g.n_recorded);
		const char *meta[2] = { l0, l1 };
		struct fg_report_html_opts ro = { .title = "floorgate what-if",
						  .side = { "recorded", "proposed" },
						  .meta = meta, .n_meta = 2, .whatif = 1 };
		if (fg_report_html_write(&w.a, html_out.f, &ro, err, sizeof(err))) {
			fprintf(stderr, "floorgate whatif: %s\n", err);
			rc = FG_EXIT_FAIL;
			goto done;
		}
	}
	/* the reports land together, only once both are written */
	if ((csv && fg_outfile_commit(&csv_out, err, sizeof(err))) ||
	    (g.html && fg_outfile_commit(&html_out, err, sizeof(err)))) {
		fprintf(stderr, "floorgate whatif: %s\n", err);
		rc = FG_EXIT_FAIL;
		goto done;
	}
	rc = fg_audit_found_differences(&w.a) ? FG_EXIT_FAIL : FG_EXIT_OK;
done:
	/* a failed what-if leaves no partial report */
	fg_outfile_discard(&csv_out);
	fg_outfile_discard(&html_out);
	if (audit_ok)
		fg_audit_fini(&w.a);
	if (w.rd)
		avro_reader_free(w.rd);
	for (int k = 0; k < 2; k++)
		if (w.iface[k]) {
			avro_value_decref(&w.out[k]);
			avro_value_iface_decref(w.iface[k]);
		}
	if (pl_ok)
		fg_pipeline_fini(&w.pl);
	fg_schema_registry_fini(&w.reg);
	fg_refdata_destroy(rd);
	fg_audit_args_fini(&g);
	return rc;
}
