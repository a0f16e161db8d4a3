/*
 * cmd_audit.c: `floorgate audit`, recorded outputs against recomputed
 * ones, and `floorgate audit --completeness`, every input answered exactly
 * once.
 *
 * DESIGN
 * Both are joins that may not fit in memory, done by fg_spill (a Grace hash
 * join: both sides hash-partitioned by XXH3 of the key into N spill files,
 * then joined one partition at a time). N comes from --memory: the sources'
 * sizes (files) or a guess per topic, times the growth of a flattened
 * record, over the budget; --partitions overrides it.
 *
 *   audit:        key (declaration_id, version); fg_audit does the diff,
 *                 the totals, the CSV; fg_report_html the report.
 *   completeness: key = the input's position (file record number, or
 *                 topic/partition/offset); side 0 the inputs (read, not
 *                 decoded), side 1 the outputs by their source_* fields,
 *                 with an XXH3 of each output's bytes, so duplicates can
 *                 be called identical or not.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <xxhash.h>

#include "../ingest/fg_decode.h"
#include "../sinks/fg_outfile.h"

#include "fg_audit.h"
#include "fg_audit_cli.h"
#include "fg_audit_src.h"
#include "fg_cmd.h"
#include "fg_config.h"
#include "fg_report_html.h"
#include "fg_spill.h"


static void audit_usage(FILE *f)
{
	fprintf(f,
		"usage: floorgate audit --recorded SRC... --recomputed SRC... [options]\n"
		"       floorgate audit --completeness --input SRC --outputs SRC... [options]\n\n"
		"Compares recorded assessments and dead letters with recomputed ones (from\n"
		"`floorgate replay` or `floorgate assess`), matched by (declaration_id, version),\n"
		"field by field and line by line (lines matched by item_no). A SRC is an Avro\n"
		"container file of assessments and/or dead letters, or kafka:TOPIC (a topic range,\n"
		"read by plain assignment: no consumer group's offsets move).\n\n"
		"  --tolerance USD      ignore declarations whose total_duty differs by less than USD\n"
		"                       (e.g. 20.00; a changed outcome always counts)\n"
		"  --ignore FIELD       do not compare FIELD (repeatable; e.g. reference_data_version)\n"
		"  --csv FILE           every difference, one row per field (and per one-sided declaration)\n"
		"  --html FILE          a self-contained report (charts, totals, the largest differences)\n"
		"  --top N              declarations kept for the report and summary (default 200)\n"
		"  --from B, --to B     topic range bounds for every kafka: source, [from, to):\n"
		"                       OFFSET, P:OFFSET,P:OFFSET..., YYYY-MM-DDTHH:MM:SSZ or @MILLISECONDS\n"
		"                       (default: the watermarks when reading starts)\n"
		"  --outputs-from B, --outputs-to B\n"
		"                       the same for --completeness's kafka: outputs (default: whole topics)\n"
		"  -X key=value, -c FILE  kafka.* properties (kafka.bootstrap.servers=...) and schema.dir\n"
		"  --memory MB          memory budget for the join (default 256): sets the spill partitions\n"
		"  --partitions N       spill partitions, overriding --memory\n"
		"  --spill-dir DIR      where the spill files go (default $TMPDIR or /tmp)\n"
		"  --quiet              no summary on stdout\n\n"
		"Completeness (--completeness): every record of --input (an Avro file of declarations, or\n"
		"kafka:TOPIC with --from/--to) must be answered by exactly one assessment or dead letter\n"
		"in --outputs (matched by their source_index, or source_topic/partition/offset). Lists\n"
		"gaps and duplicates (saying whether the duplicates are identical). --csv FILE writes\n"
		"them. Output topics are read whole unless --outputs-from/--outputs-to bound them.\n"
		"--tolerance, --ignore, --html and --top are the comparison's and are refused here.\n\n"
		"Exit status: 0 nothing differs beyond the tolerance (completeness: complete);\n"
		"1 differences, one-sided declarations (incomplete); 2 bad usage or unreadable input.\n");
}

static long peak_rss_kb(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_maxrss;
}

/* ---- audit ------------------------------------------------------------ */

struct add_ctx {
	struct fg_audit *a;
	int side;
	const char *src;
	char *errstr;
	size_t errstr_size;
};

static int on_output(void *ctx, avro_value_t *v, const uint8_t *bytes, size_t len,
		     const struct fg_source_pos *pos, const struct fg_ocf_reader *file)
{
	(void)file;
	struct add_ctx *c = ctx;
	(void)bytes;
	(void)len;
	(void)pos;
	return fg_audit_add(c->a, c->side, v, c->src, NULL, c->errstr, c->errstr_size);
}

static int run_audit(struct fg_audit_args *g)
{
	char err[1024];
	struct fg_audit a;
	struct fg_audit_opts o = { 0 };
	struct fg_outfile csv_out = { 0 }, html_out = { 0 };
	FILE *csv = NULL; /* csv_out.f with --csv */
	int rc = FG_EXIT_USAGE, init = 0;
	const char *const *lists[2] = { g->recorded, g->recomputed };
	const size_t ns[2] = { g->n_recorded, g->n_recomputed };

	if (!g->n_recorded || !g->n_recomputed) {
		fprintf(stderr, "floorgate audit: --recorded and --recomputed are required\n\n");
		audit_usage(stderr);
		return FG_EXIT_USAGE;
	}
	if (g->tolerance) {
		if (fg_audit_parse_money(g->tolerance, &o.tolerance) || o.tolerance < 0) {
			fprintf(stderr, "floorgate audit: --tolerance: \"%s\" is not an amount of USD "
					"(e.g. 20.00)\n", g->tolerance);
			return FG_EXIT_USAGE;
		}
		o.have_tolerance = 1;
	}
	if (g->csv) {
		if (fg_outfile_open(&csv_out, g->csv, err, sizeof(err))) {
			fprintf(stderr, "floorgate audit: %s\n", err);
			return FG_EXIT_USAGE;
		}
		csv = csv_out.f;
	}
	if (g->html && fg_outfile_open(&html_out, g->html, err, sizeof(err))) {
		fprintf(stderr, "floorgate audit: %s\n", err);
		goto done;
	}
	o.ignore = g->ignore;
	o.n_ignore = g->n_ignore;
	o.csv = csv;
	o.spill_dir = g->spill_dir;
	o.parts = fg_audit_args_parts(g, lists, ns, 2);
	o.part_limit = fg_audit_args_part_limit(g);
	o.top_k = g->top;
	if (fg_audit_init(&a, &o, err, sizeof(err))) {
		fprintf(stderr, "floorgate audit: %s\n", err);
		goto done;
	}
	init = 1;
	struct fg_audit_src_opts so = { .cfg = &g->cfg, .from = g->from, .to = g->to, .decode = 1 };
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < ns[s]; i++) {
			struct add_ctx c = { &a, s, lists[s][i], err, sizeof(err) };
			if (fg_audit_src_read(lists[s][i], &so, on_output, &c, err, sizeof(err))) {
				fprintf(stderr, "floorgate audit: %s\n", err);
				goto done;
			}
		}
	if (fg_audit_run(&a, err, sizeof(err))) {
		fprintf(stderr, "floorgate audit: %s\n", err);
		rc = FG_EXIT_FAIL;
		goto done;
	}
	if (g->html) {
		char m0[64], l0[1024], l1[1024], l2[256];
		size_t k = 0;
		k += (size_t)snprintf(l0 + k, sizeof(l0) - k, "recorded:");
		for (size_t i = 0; i < g->n_recorded && k < sizeof(l0); i++)
			k += (size_t)snprintf(l0 + k, sizeof(l0) - k, " %s", g->recorded[i]);
		k = 0;
		k += (size_t)snprintf(l1 + k, sizeof(l1) - k, "recomputed:");
		for (size_t i = 0; i < g->n_recomputed && k < sizeof(l1); i++)
			k += (size_t)snprintf(l1 + k, sizeof(l1) - k, " %s", g->recomputed[i]);
		snprintf(l2, sizeof(l2), "tolerance: %s", o.have_tolerance ?
			 fg_audit_money_str(o.tolerance, 1, m0, sizeof(m0)) : "none (every difference counts)");
		const char *meta[3] = { l0, l1, l2 };
		struct fg_report_html_opts ro = { .title = "floorgate audit",
						  .side = { "recorded", "recomputed" },
						  .meta = meta, .n_meta = 3 };
		if (fg_report_html_write(&a, html_out.f, &ro, err, sizeof(err))) {
			fprintf(stderr, "floorgate audit: %s\n", err);
			rc = FG_EXIT_FAIL;
			goto done;
		}
	}
	/* the reports land together, only once both are written */
	if ((csv && fg_outfile_commit(&csv_out, err, sizeof(err))) ||
	    (g->html && fg_outfile_commit(&html_out, err, sizeof(err)))) {
		fprintf(stderr, "floorgate audit: %s\n", err);
		rc = FG_EXIT_FAIL;
		goto done;
	}
	if (!g->quiet) {
		fg_audit_print_summary(&a, stdout, "recorded", "recomputed");
		printf("join: %llu records spilled (%llu bytes) into %u partitions, largest read back "
		       "%llu bytes; peak RSS %ld kB\n",
		       (unsigned long long)a.spill_records, (unsigned long long)a.spill_bytes, o.parts,
		       (unsigned long long)a.spill_largest, peak_rss_kb());
	}
	rc = fg_audit_found_differences(&a) ? FG_EXIT_FAIL : FG_EXIT_OK;
	if (!g->quiet)
		printf("%s\n", rc ? "audit: DIFFERENCES FOUND" : "audit: no differences beyond the tolerance");
done:
	/* a failed audit leaves no partial report */
	fg_outfile_discard(&csv_out);
	fg_outfile_discard(&html_out);
	if (init)
		fg_audit_fini(&a);
	return rc;
}

/* ---- completeness ----------------------------------------------------- */

#define FG_COMPL_LIST 1000

struct pos_key {
	char topic[128];
	int32_t partition;
	int64_t offset; /* or record number */
	uint32_t outputs;
	int identical;
};

struct compl {
	struct fg_spill *sp;
	int file_mode;
	const char *input;
	uint64_t inputs, outputs, assessments, dead, unplaced;
	uint64_t ok, gaps, dups, dups_identical, orphans, orphan_outputs;
	struct pos_key *gap, *dup, *orphan;
	size_t n_gap, n_dup, n_orphan;
	FILE *csv;                 /* csv_out.f with --csv */
	struct fg_outfile csv_out;
	char *errstr;
	size_t errstr_size;
};

static size_t make_key(uint8_t *k, const char *topic, int32_t partition, int64_t offset)
{
	size_t n = 0;
	if (topic) {
		size_t tl = strlen(topic);
		if (tl > 127)
			tl = 127;
		memcpy(k, topic, tl);
		n = tl;
	}
	k[n++] = 0;
	uint64_t p = (uint32_t)partition, o = (uint64_t)offset;
	for (int i = 3; i >= 0; i--)
		k[n++] = (uint8_t)(p >> (8 * i));
	for (int i = 7; i >= 0; i--)
		k[n++] = (uint8_t)(o >> (8 * i));
	return n;
}

static void parse_key(const uint8_t *k, size_t len, struct pos_key *pk)
{
	size_t tl = strnlen((const char *)k, len);
	memset(pk, 0, sizeof(*pk));
	snprintf(pk->topic, sizeof(pk->topic), "%.*s", (int)tl, (const char *)k);
	const uint8_t *p = k + tl + 1;
	uint32_t part = 0;
	uint64_t off = 0;
	for (int i = 0; i < 4; i++)
		part = part << 8 | p[i];
	for (int i = 0; i < 8; i++)
		off = off << 8 | p[4 + i];
	pk->partition = (int32_t)part;
	pk->offset = (int64_t)off;
}

static int on_input(void *ctx, avro_value_t *v, const uint8_t *bytes, size_t len,
		    const struct fg_source_pos *pos, const struct fg_ocf_reader *file)
{
	struct compl *c = ctx;
	uint8_t k[160];
	size_t kl = c->file_mode ? make_key(k, NULL, -1, pos->index) :
				   make_key(k, pos->topic, pos->partition, pos->offset);
	/* A file names one writer for all its records: assessments or dead
	 * letters given as the input are refused whole. (Every message of a
	 * topic is an input, even one that is not a declaration.) */
	if (file && c->inputs == 0 &&
	    fg_decoder_check_writer(fg_ocf_reader_schema(file), c->input, c->errstr,
				    c->errstr_size))
		return -1;
	(void)v;
	(void)bytes;
	(void)len;
	c->inputs++;
	return fg_spill_add(c->sp, k, kl, 0, "", 0, c->errstr, c->errstr_size);
}

/* The union field's value: 1 set, 0 null or absent. */
static int get_opt(avro_value_t *v, const char *name, avro_value_t *out)
{
	avro_value_t f;
	if (avro_value_get_by_name(v, name, &f, NULL))
		return 0;
	if (avro_value_get_type(&f) == AVRO_UNION) {
		if (avro_value_get_current_branch(&f, out))
			return 0;
	} else {
		*out = f;
	}
	return avro_value_get_type(out) != AVRO_NULL;
}

static int on_compl_output(void *ctx, avro_value_t *v, const uint8_t *bytes, size_t len,
			   const struct fg_source_pos *pos, const struct fg_ocf_reader *file)
{
	(void)file;
	struct compl *c = ctx;
	avro_value_t f;
	const char *topic = NULL;
	size_t tl = 0;
	int32_t part = -1;
	int64_t off = -1, index = -1;
	uint8_t k[160];
	size_t kl;
	const char *sname = avro_schema_name(avro_value_get_schema(v));

	c->outputs++;
	if (sname && !strcmp(sname, "DutyAssessment"))
		c->assessments++;
	else if (sname && !strcmp(sname, "DeadLetter"))
		c->dead++;
	else {
		fg_errf(c->errstr, c->errstr_size, "%s: a %s record is neither an assessment nor a "
			"dead letter", pos->file ? pos->file : pos->topic, sname ? sname : "non-record");
		return -1;
	}
	if (get_opt(v, "source_topic", &f))
		avro_value_get_string(&f, &topic, &tl);
	if (get_opt(v, "source_partition", &f))
		avro_value_get_int(&f, &part);
	if (get_opt(v, "source_offset", &f))
		avro_value_get_long(&f, &off);
	if (get_opt(v, "source_index", &f))
		avro_value_get_long(&f, &index);
	if (c->file_mode ? index < 0 : (!topic || part < 0 || off < 0)) {
		/* Not from this kind of input at all: it answers nothing we check. */
		c->unplaced++;
		return 0;
	}
	kl = c->file_mode ? make_key(k, NULL, -1, index) : make_key(k, topic, part, off);
	uint64_t h = XXH3_64bits(bytes, len);
	return fg_spill_add(c->sp, k, kl, 1, &h, sizeof(h), c->errstr, c->errstr_size);
}

static int keep(struct pos_key **v, size_t *n, const struct pos_key *pk)
{
	if (*n >= FG_COMPL_LIST)
		return 0;
	if (!*v && !(*v = calloc(FG_COMPL_LIST, sizeof(**v))))
		return -1;
	(*v)[(*n)++] = *pk;
	return 0;
}

static void csv_pos(struct compl *c, const char *kind, const struct pos_key *pk)
{
	if (!c->csv)
		return;
	if (c->file_mode)
		fprintf(c->csv, "%s,%s,,%lld,%u,%s\n", kind, c->input, (long long)pk->offset,
			pk->outputs, pk->outputs > 1 ? (pk->identical ? "yes" : "no") : "");
	else
		fprintf(c->csv, "%s,%s,%d,%lld,%u,%s\n", kind, pk->topic, (int)pk->partition,
			(long long)pk->offset, pk->outputs,
			pk->outputs > 1 ? (pk->identical ? "yes" : "no") : "");
}

static int on_position(void *ctx, const uint8_t *key, size_t key_len,
		       const struct fg_spill_item *items, size_t n)
{
	struct compl *c = ctx;
	size_t n_in = 0, n_out = 0;
	int identical = 1;
	uint64_t first = 0;
	struct pos_key pk;

	for (size_t i = 0; i < n; i++) {
		if (items[i].side == 0) {
			n_in++;
			continue;
		}
		uint64_t h;
		memcpy(&h, items[i].payload, sizeof(h));
		if (!n_out)
			first = h;
		else if (h != first)
			identical = 0;
		n_out++;
	}
	if (n_in && n_out == 1) {
		c->ok++;
		return 0;
	}
	parse_key(key, key_len, &pk);
	pk.outputs = (uint32_t)n_out;
	pk.identical = identical;
	if (!n_in) {
		c->orphans++;
		c->orphan_outputs += n_out;
		if (!c->file_mode) /* outputs of the rest of the topic: counted, not listed */
			return 0;
		csv_pos(c, "no_input", &pk);
		return keep(&c->orphan, &c->n_orphan, &pk);
	}
	if (!n_out) {
		c->gaps++;
		csv_pos(c, "gap", &pk);
		return keep(&c->gap, &c->n_gap, &pk);
	}
	c->dups++;
	c->dups_identical += (uint64_t)identical;
	csv_pos(c, "duplicate", &pk);
	return keep(&c->dup, &c->n_dup, &pk);
}

static int pos_cmp(const void *x, const void *y)
{
	const struct pos_key *a = x, *b = y;
	int t = strcmp(a->topic, b->topic);
	if (t)
		return t;
	if (a->partition != b->partition)
		return a->partition < b->partition ? -1 : 1;
	return a->offset < b->offset ? -1 : a->offset > b->offset;
}

static void print_list(const struct compl *c, const char *title, uint64_t total,
		       struct pos_key *v, size_t n)
{
	if (n) /* qsort(NULL, 0) is undefined */
		qsort(v, n, sizeof(*v), pos_cmp);
	printf("%s: %llu\n", title, (unsigned long long)total);
	for (size_t i = 0; i < n && i < 50; i++) {
		if (c->file_mode)
			printf("  record %lld", (long long)v[i].offset);
		else
			printf("  %s/%d@%lld", v[i].topic, (int)v[i].partition, (long long)v[i].offset);
		if (v[i].outputs > 1)
			printf(": %u outputs, %s", v[i].outputs,
			       v[i].identical ? "identical" : "NOT identical");
		putchar('\n');
	}
	if (total > 50)
		printf("  ... %llu more%s\n", (unsigned long long)(total - 50),
		       c->csv ? " (all in the CSV)" : " (all with --csv FILE)");
}

static int run_completeness(struct fg_audit_args *g)
{
	char err[1024];
	struct compl c = { 0 };
	int rc = FG_EXIT_USAGE;

	if (!g->input || !g->n_outputs) {
		fprintf(stderr, "floorgate audit --completeness: --input and --outputs are required\n\n");
		audit_usage(stderr);
		return FG_EXIT_USAGE;
	}
	c.file_mode = strncmp(g->input, "kafka:", 6) != 0;
	c.input = g->input;
	c.errstr = err;
	c.errstr_size = sizeof(err);
	const char *in1[1] = { g->input };
	const char *const *lists[2] = { in1, g->outputs };
	const size_t ns[2] = { 1, g->n_outputs };
	c.sp = fg_spill_create(g->spill_dir, fg_audit_args_parts(g, lists, ns, 2), err, sizeof(err));
	if (!c.sp) {
		fprintf(stderr, "floorgate audit: %s\n", err);
		return FG_EXIT_USAGE;
	}
	fg_spill_set_part_limit(c.sp, fg_audit_args_part_limit(g));
	if (g->csv) {
		if (fg_outfile_open(&c.csv_out, g->csv, err, sizeof(err))) {
			fprintf(stderr, "floorgate audit: %s\n", err);
			goto done;
		}
		c.csv = c.csv_out.f;
		fputs("kind,input,partition,position,outputs,identical\n", c.csv);
	}
	struct fg_audit_src_opts si = { .cfg = &g->cfg, .from = g->from, .to = g->to };
	if (fg_audit_src_read(g->input, &si, on_input, &c, err, sizeof(err))) {
		fprintf(stderr, "floorgate audit: %s\n", err);
		goto done;
	}
	struct fg_audit_src_opts so = { .cfg = &g->cfg, .from = g->out_from, .to = g->out_to,
					.decode = 1 };
	for (size_t i = 0; i < g->n_outputs; i++)
		if (fg_audit_src_read(g->outputs[i], &so, on_compl_output, &c, err, sizeof(err))) {
			fprintf(stderr, "floorgate audit: %s\n", err);
			goto done;
		}
	if (fg_spill_join(c.sp, on_position, &c, err, sizeof(err))) {
		fprintf(stderr, "floorgate audit: %s\n", err);
		rc = FG_EXIT_FAIL;
		goto done;
	}
	int complete = !c.gaps && !c.dups && (!c.file_mode || !c.orphans);
	if (!g->quiet) {
		printf("completeness of %s\n", g->input);
		printf("inputs                         %llu\n", (unsigned long long)c.inputs);
		printf("outputs                        %llu  (%llu assessments, %llu dead letters)\n",
		       (unsigned long long)c.outputs, (unsigned long long)c.assessments,
		       (unsigned long long)c.dead);
		printf("answered exactly once          %llu\n", (unsigned long long)c.ok);
		print_list(&c, "gaps (inputs without an output)", c.gaps, c.gap, c.n_gap);
		print_list(&c, "duplicates (inputs with more than one output)", c.dups, c.dup, c.n_dup);
		if (c.dups)
			printf("  identical: %llu of %llu\n", (unsigned long long)c.dups_identical,
			       (unsigned long long)c.dups);
		if (c.file_mode)
			print_list(&c, "outputs naming a record the input does not have", c.orphans,
				   c.orphan, c.n_orphan);
		else /* the output topics answer the whole topic, not only the range: not listed */
			printf("outputs of inputs outside the range (not checked): %llu (%llu outputs)\n",
			       (unsigned long long)c.orphans, (unsigned long long)c.orphan_outputs);
		if (c.unplaced)
			printf("outputs from another kind of input (ignored): %llu\n",
			       (unsigned long long)c.unplaced);
		printf("%s\n", complete ? "completeness: COMPLETE, every input answered exactly once"
					 : "completeness: INCOMPLETE");
	}
	rc = complete ? FG_EXIT_OK : FG_EXIT_FAIL;
	if (c.csv && fg_outfile_commit(&c.csv_out, err, sizeof(err))) {
		fprintf(stderr, "floorgate audit: %s\n", err);
		rc = FG_EXIT_FAIL;
	}
done:
	fg_outfile_discard(&c.csv_out);
	free(c.gap);
	free(c.dup);
	free(c.orphan);
	fg_spill_destroy(c.sp);
	return rc;
}

int fg_cmd_audit(int argc, char **argv)
{
	struct fg_audit_args g;
	int r = fg_audit_args_parse(&g, argc, argv, "audit");
	if (r) {
		fg_audit_args_fini(&g);
		if (r > 0) {
			audit_usage(stdout);
			return FG_EXIT_OK;
		}
		/* the problem was printed; the whole usage would scroll it away */
		fprintf(stderr, "(floorgate audit --help for usage)\n");
		return FG_EXIT_USAGE;
	}
	fg_outfile_remove_on_signal(); /* an interrupted report leaves no temporary */
	r = g.completeness ? run_completeness(&g) : run_audit(&g);
	fg_audit_args_fini(&g);
	return r;
}
