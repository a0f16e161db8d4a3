/*
 * cmd_file.c: file mode. `assess` runs Avro object container files
 * through the same pipeline as Kafka messages; `dump` prints any such
 * file as JSON lines.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <avro.h>

#include "../core/fg_date.h"
#include "../core/fg_decimal.h"
#include "../ingest/fg_decode.h"
#include "../ingest/fg_ocf_reader.h"
#include "../sinks/fg_ocf.h"
#include "../sinks/fg_outfile.h"
#include "fg_cmd.h"
#include "fg_pipeline.h"

static void assess_usage(FILE *f)
{
	fprintf(f,
		"usage: floorgate assess --data DIR --in DECLS.avro --out ASSESSMENTS.avro\n"
		"                        --dlq DEADLETTERS.avro [--quiet]\n\n"
		"Reads an Avro object container file of floorgate.v1.ImportDeclaration records\n"
		"(any writer schema that resolves against schemas/declaration.avsc), assesses each\n"
		"with the reference tables in DIR, and writes, in input order, one\n"
		"floorgate.v1.DutyAssessment per accepted record to --out and one\n"
		"floorgate.v1.DeadLetter per rejected record to --dlq. An output replaces the\n"
		"file at its path only when the run completes (a failed run leaves the paths\n"
		"as they were), and may not name the input or the other output. The same\n"
		"input and reference data give byte-identical files.\n"
		"A summary goes to standard error.\n\n"
		"Exit status: 0 done (dead letters are not a failure); 1 stopped by SIGINT or\n"
		"SIGTERM (nothing written); 2 bad arguments, reference data refused, or an input\n"
		"file that is not a readable Avro container.\n");
}

int fg_cmd_assess(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' }, { "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },  { "dlq", required_argument, NULL, 'q' },
		{ "quiet", no_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },      { NULL, 0, NULL, 0 }
	};
	const char *data = NULL, *in = NULL, *out = NULL, *dlq = NULL;
	int quiet = 0, c, rc = FG_EXIT_USAGE;
	char err[1024];
	struct fg_refdata *rd = NULL;
	struct fg_schema_registry reg = { 0 };
	struct fg_pipeline pl;
	int pl_ok = 0;
	struct fg_ocf_reader *rdr = NULL;
	struct fg_ocf_writer fw_out = { 0 }, fw_dlq = { 0 };

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'i': in = optarg; break;
		case 'o': out = optarg; break;
		case 'q': dlq = optarg; break;
		case 'Q': quiet = 1; break;
		case 'h': assess_usage(stdout); return FG_EXIT_OK;
		default: assess_usage(stderr); return FG_EXIT_USAGE;
		}
	}
	if (!data || !in || !out || !dlq || optind != argc) {
		fprintf(stderr, "floorgate assess: --data, --in, --out and --dlq are required\n\n");
		assess_usage(stderr);
		return FG_EXIT_USAGE;
	}
	const struct fg_path_use outs[] = { { "--out", out }, { "--dlq", dlq } };
	const struct fg_path_use ins[] = { { "--in", in }, fg_cmd_tables_input(data) };
	if (fg_outfile_check_paths(outs, 2, ins, 2, err, sizeof(err))) {
		fprintf(stderr, "floorgate assess: %s\n", err);
		return FG_EXIT_USAGE;
	}
	/* SIGINT/SIGTERM: stop between records and write nothing (the paths keep
	 * what they had), rather than die and leave the temporaries behind */
	fg_cmd_catch_stop();
	rd = fg_refdata_load(data, err, sizeof(err));
	if (!rd) {
		fprintf(stderr, "floorgate assess: reference data refused: %s\n", err);
		goto done;
	}
	rdr = fg_ocf_reader_open(in, err, sizeof(err));
	if (!rdr) {
		fprintf(stderr, "floorgate assess: %s\n", err);
		goto done;
	}
	if (fg_decoder_check_writer(fg_ocf_reader_schema(rdr), in, err, sizeof(err))) {
		fprintf(stderr, "floorgate assess: %s\n", err);
		goto done;
	}
	if (fg_schema_registry_add(&reg, FG_SCHEMA_ID_FILE, fg_ocf_reader_schema(rdr),
				   fg_ocf_reader_scales(rdr), in)) {
		fprintf(stderr, "floorgate assess: out of memory\n");
		goto done;
	}
	const struct fg_schema_entry *entry = fg_schema_registry_get(&reg, FG_SCHEMA_ID_FILE);
	if (fg_pipeline_init(&pl, &reg, rd, 2, 3, err, sizeof(err))) {
		fprintf(stderr, "floorgate assess: %s\n", err);
		goto done;
	}
	pl_ok = 1;
	if (fg_ocf_writer_open(&fw_out, out, fg_schema_text_assessment, err, sizeof(err)) ||
	    fg_ocf_writer_open(&fw_dlq, dlq, fg_schema_text_deadletter, err, sizeof(err))) {
		fprintf(stderr, "floorgate assess: %s\n", err);
		goto done;
	}

	for (int64_t index = 0;; index++) {
		struct fg_source_pos src = { .file = in, .index = index };
		if (fg_cmd_stop_signal) {
			fprintf(stderr,
				"floorgate assess: stopped by signal %d after %lld records; no "
				"output written\n",
				(int)fg_cmd_stop_signal, (long long)index);
			rc = FG_EXIT_FAIL;
			goto done;
		}
		struct fg_output o;
		const uint8_t *body;
		size_t len;
		/* each record's bytes as written, so a dead letter keeps them */
		int r = fg_ocf_reader_next(rdr, &body, &len, err, sizeof(err));

		if (r == 0)
			break;
		if (r < 0) {
			fprintf(stderr, "floorgate assess: %s\n", err);
			goto done;
		}
		if (fg_pipeline_process(&pl, body, len, entry, &src, &o)) {
			fprintf(stderr, "floorgate assess: out of memory at record %lld\n",
				(long long)index);
			goto done;
		}
		if (fg_ocf_writer_append(o.kind == FG_OUT_ASSESSMENT ? &fw_out : &fw_dlq, o.enc.body,
					 o.enc.body_len, err, sizeof(err))) {
			fprintf(stderr, "floorgate assess: %s\n", err);
			goto done;
		}
	}
	if (fg_ocf_writer_close(&fw_out, err, sizeof(err)) ||
	    fg_ocf_writer_close(&fw_dlq, err, sizeof(err))) {
		fprintf(stderr, "floorgate assess: cannot finish the output files: %s\n", err);
		goto done;
	}
	if (!quiet) {
		fprintf(stderr, "reference data %s (%s)\n", rd->fingerprint, data);
		fg_pipeline_stats_print(&pl.stats, stderr);
	}
	rc = FG_EXIT_OK;
done:
	/* a failed run leaves no partial output; earlier files stay as they were */
	fg_ocf_writer_discard(&fw_out);
	fg_ocf_writer_discard(&fw_dlq);
	fg_ocf_reader_close(rdr);
	if (pl_ok)
		fg_pipeline_fini(&pl);
	fg_schema_registry_fini(&reg);
	fg_refdata_destroy(rd);
	return rc;
}

/* ---- dump ---------------------------------------------------------- */

/*
 * Avro C 1.11 does not keep logical types, so dump knows floorgate's:
 * decimal fields by name (with their scale) and `date` fields. A
 * declaration's three decimals print at the scales the file's schema
 * declares (fg_ocf_reader_scales), as the decoder reads them; the others
 * are floorgate's outputs, always written at scale 2.
 */
#define FILE_DEC(name, d) { .field = name, .file = 1, .dec = d }
#define OUTPUT_DEC(name) { .field = name, .scale = 2 }
static const struct {
	const char *field;
	int file;  /* 1: a declaration decimal, at the file's scale for dec */
	enum fg_dec_field dec; /* when file */
	int scale; /* otherwise: floorgate's outputs */
} decimal_fields[] = {
	FILE_DEC("net_mass_kg", FG_DEC_NET_MASS),
	FILE_DEC("customs_value", FG_DEC_CUSTOMS_VALUE),
	FILE_DEC("percent", FG_DEC_PERCENT),
	OUTPUT_DEC("value_usd"),        OUTPUT_DEC("base_duty"),
	OUTPUT_DEC("floor_duty"),       OUTPUT_DEC("line_duty"),
	OUTPUT_DEC("total_value_usd"),  OUTPUT_DEC("total_base_duty"),
	OUTPUT_DEC("total_floor_duty"), OUTPUT_DEC("total_duty"),
};
#undef FILE_DEC
#undef OUTPUT_DEC

/* The scale of the decimal field named field in a file whose declaration
 * decimals have scales file_scale, or -1 when it is none of floorgate's. */
static int decimal_scale(const char *field, const int *file_scale)
{
	if (!field)
		return -1;
	for (size_t i = 0; i < FG_ARRAY_LEN(decimal_fields); i++)
		if (!strcmp(field, decimal_fields[i].field))
			return decimal_fields[i].file ? file_scale[decimal_fields[i].dec]
						      : decimal_fields[i].scale;
	return -1;
}

static void json_str(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

static int dump_value(FILE *f, avro_value_t *v, const char *field, const int *file_scale)
{
	switch (avro_value_get_type(v)) {
	case AVRO_NULL:
		fputs("null", f);
		return 0;
	case AVRO_BOOLEAN: {
		int b;
		avro_value_get_boolean(v, &b);
		fputs(b ? "true" : "false", f);
		return 0;
	}
	case AVRO_INT32: {
		int32_t i;
		avro_value_get_int(v, &i);
		if (field && !strcmp(field, "acceptance_date")) {
			char d[FG_DATE_STR];
			fg_date_format(i, d);
			fprintf(f, "\"%s\"", d);
		} else {
			fprintf(f, "%d", (int)i);
		}
		return 0;
	}
	case AVRO_INT64: {
		int64_t l;
		avro_value_get_long(v, &l);
		fprintf(f, "%lld", (long long)l);
		return 0;
	}
	case AVRO_FLOAT: {
		float x;
		avro_value_get_float(v, &x);
		fprintf(f, "%.9g", (double)x);
		return 0;
	}
	case AVRO_DOUBLE: {
		double x;
		avro_value_get_double(v, &x);
		fprintf(f, "%.17g", x);
		return 0;
	}
	case AVRO_STRING: {
		const char *s;
		size_t size;
		avro_value_get_string(v, &s, &size);
		json_str(f, s, size ? size - 1 : 0);
		return 0;
	}
	case AVRO_BYTES:
	case AVRO_FIXED: {
		const void *b;
		size_t size;
		__int128 x;
		int scale = decimal_scale(field, file_scale);
		if (avro_value_get_type(v) == AVRO_BYTES)
			avro_value_get_bytes(v, &b, &size);
		else
			avro_value_get_fixed(v, &b, &size);
		if (scale >= 0 && fg_decimal_from_be_bytes128(b, size, &x) == 0) {
			char d[64];
			fg_decimal_format(x, (unsigned)scale, d, sizeof(d));
			fprintf(f, "\"%s\"", d);
		} else {
			fputc('"', f);
			for (size_t i = 0; i < size; i++)
				fprintf(f, "%02x", ((const uint8_t *)b)[i]);
			fputc('"', f);
		}
		return 0;
	}
	case AVRO_ENUM: {
		int e;
		avro_value_get_enum(v, &e);
		avro_schema_t s = avro_value_get_schema(v);
		json_str(f, avro_schema_enum_get(s, e), strlen(avro_schema_enum_get(s, e)));
		return 0;
	}
	case AVRO_RECORD:
	case AVRO_MAP: {
		/* A record's field name tells a decimal's scale; a map's key does not. */
		int record = avro_value_get_type(v) == AVRO_RECORD;
		size_t n;
		avro_value_get_size(v, &n);
		fputc('{', f);
		for (size_t i = 0; i < n; i++) {
			avro_value_t child;
			const char *name;
			avro_value_get_by_index(v, i, &child, &name);
			if (i)
				fputs(", ", f);
			json_str(f, name, strlen(name));
			fputs(": ", f);
			dump_value(f, &child, record ? name : NULL, file_scale);
		}
		fputc('}', f);
		return 0;
	}
	case AVRO_ARRAY: {
		size_t n;
		avro_value_get_size(v, &n);
		fputc('[', f);
		for (size_t i = 0; i < n; i++) {
			avro_value_t child;
			avro_value_get_by_index(v, i, &child, NULL);
			if (i)
				fputs(", ", f);
			dump_value(f, &child, NULL, file_scale);
		}
		fputc(']', f);
		return 0;
	}
	case AVRO_UNION: {
		avro_value_t branch;
		avro_value_get_current_branch(v, &branch);
		return dump_value(f, &branch, field, file_scale);
	}
	default:
		fputs("null", f);
		return -1;
	}
}

int fg_cmd_dump(int argc, char **argv)
{
	struct fg_ocf_reader *rdr;
	avro_value_iface_t *iface = NULL;
	avro_reader_t mr = NULL;
	avro_value_t value;
	int rc = FG_EXIT_OK, r, have_value = 0;
	const uint8_t *body;
	size_t len;
	char err[1024];

	if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		FILE *f = argc == 2 ? stdout : stderr;
		fprintf(f, "usage: floorgate dump FILE.avro\n\n"
			   "Prints each record of an Avro object container file as one JSON object a\n"
			   "line, fields in schema order. floorgate's decimals (money, masses,\n"
			   "percentages) print as decimal strings at the scale the file's schema\n"
			   "declares, acceptance_date as YYYY-MM-DD, other bytes as hex, unions as\n"
			   "their value.\n");
		return argc == 2 ? FG_EXIT_OK : FG_EXIT_USAGE;
	}
	/* Blocks come from floorgate's reader (its messages name the file, the
	 * block and the fault); each record is read by Avro C into a generic
	 * value of the file's schema, which dump_value prints. */
	rdr = fg_ocf_reader_open(argv[1], err, sizeof(err));
	if (!rdr) {
		fprintf(stderr, "floorgate dump: %s\n", err);
		return FG_EXIT_USAGE;
	}
	iface = avro_generic_class_from_schema(fg_ocf_reader_schema(rdr));
	mr = avro_reader_memory("", 0);
	if (!iface || !mr || avro_generic_value_new(iface, &value)) {
		fprintf(stderr, "floorgate dump: %s: %s\n", argv[1], avro_strerror());
		rc = FG_EXIT_USAGE;
		goto done;
	}
	have_value = 1;
	for (int64_t index = 0; (r = fg_ocf_reader_next(rdr, &body, &len, err, sizeof(err))) == 1;
	     index++) {
		avro_reader_memory_set_source(mr, (const char *)body, (int64_t)len);
		if (avro_value_read(mr, &value)) {
			fprintf(stderr, "floorgate dump: %s: record %lld: %s\n", argv[1],
				(long long)index, avro_strerror());
			rc = FG_EXIT_USAGE;
			goto done;
		}
		dump_value(stdout, &value, NULL, fg_ocf_reader_scales(rdr));
		fputc('\n', stdout);
	}
	if (r < 0) {
		fprintf(stderr, "floorgate dump: %s\n", err);
		rc = FG_EXIT_USAGE;
	}
done:
	if (have_value)
		avro_value_decref(&value);
	if (iface)
		avro_value_iface_decref(iface);
	if (mr)
		avro_reader_free(mr);
	fg_ocf_reader_close(rdr);
	if (fflush(stdout))
		rc = FG_EXIT_FAIL;
	return rc;
}
