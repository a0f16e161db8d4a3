/* cmd_gen.c: `floorgate gen`, synthetic declarations into an Avro file. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <avro.h>

#include "../core/fg_common.h"
#include "../core/fg_date.h"
#include "../ingest/fg_gen.h"
#include "../ingest/fg_schemas.h"
#include "../sinks/fg_ocf.h"
#include "fg_cmd.h"

static void gen_usage(FILE *f)
{
	fprintf(f,
		"usage: floorgate gen --count N --seed S --out FILE.avro [--data DIR]\n"
		"                     [--invalid-per-mille M] [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n\n"
		"Writes N synthetic floorgate.v1.ImportDeclaration records to an Avro object\n"
		"container file. The same seed and reference data (default: data) give the same\n"
		"file. M per mille of them (default 30) are invalid on purpose (bad country,\n"
		"duplicate item, negative value, ...). Acceptance dates are drawn from\n"
		"--from..--to (default 2025-06-01..2026-10-31).\n");
}

int fg_cmd_gen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' }, { "seed", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },   { "data", required_argument, NULL, 'd' },
		{ "invalid-per-mille", required_argument, NULL, 'm' },
		{ "from", required_argument, NULL, 'f' },  { "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 }
	};
	const char *out = NULL, *data = "data", *from = "2025-06-01", *to = "2026-10-31";
	long long count = -1;
	unsigned long long seed = 0;
	int have_seed = 0, c, rc = FG_EXIT_USAGE;
	unsigned invalid = 30;
	char err[1024], key[64], *end;
	struct fg_refdata *rd = NULL;
	struct fg_gen *g = NULL;
	struct fg_gen_opts go = { 0 };
	struct fg_avrobin w = { 0 };
	struct fg_ocf_writer fw = { 0 };

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': {
			unsigned long long u;
			count = fg_parse_uint(optarg, INT64_MAX, &u) ? -2 : (long long)u;
			break;
		}
		case 's': have_seed = !fg_parse_uint(optarg, UINT64_MAX, &seed); break;
		case 'o': out = optarg; break;
		case 'd': data = optarg; break;
		case 'm':
			errno = 0;
			invalid = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg)
				invalid = UINT_MAX;
			break;
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'h': gen_usage(stdout); return FG_EXIT_OK;
		default: gen_usage(stderr); return FG_EXIT_USAGE;
		}
	}
	if (count < 0 || !have_seed || !out) {
		fprintf(stderr, "floorgate gen: --count (a whole number), --seed (a whole number) "
				"and --out are required\n\n");
		gen_usage(stderr);
		return FG_EXIT_USAGE;
	}
	if (optind != argc) {
		fprintf(stderr, "floorgate gen: unexpected argument \"%s\"\n", argv[optind]);
		return FG_EXIT_USAGE;
	}
	if (invalid > 1000) {
		fprintf(stderr, "floorgate gen: --invalid-per-mille is a whole number from 0 to 1000\n");
		return FG_EXIT_USAGE;
	}
	if (fg_date_parse(from, strlen(from), &go.date_from) ||
	    fg_date_parse(to, strlen(to), &go.date_to) || go.date_to < go.date_from) {
		fprintf(stderr, "floorgate gen: --from and --to must be dates, from <= to\n");
		return FG_EXIT_USAGE;
	}
	const struct fg_path_use outs[] = { { "--out", out } };
	const struct fg_path_use ins[] = { fg_cmd_tables_input(data) };
	if (fg_outfile_check_paths(outs, 1, ins, 1, err, sizeof(err))) {
		fprintf(stderr, "floorgate gen: %s\n", err);
		return FG_EXIT_USAGE;
	}
	fg_outfile_remove_on_signal(); /* an interrupted gen leaves no temporary */
	rd = fg_refdata_load(data, err, sizeof(err));
	if (!rd) {
		fprintf(stderr, "floorgate gen: reference data refused: %s\n", err);
		goto done;
	}
	go.seed = seed;
	go.invalid_per_mille = invalid;
	go.schema_id = 1;
	g = fg_gen_create(rd, &go);
	if (!g || fg_avrobin_init(&w, 1024)) {
		fprintf(stderr, "floorgate gen: out of memory\n");
		goto done;
	}
	if (fg_ocf_writer_open(&fw, out, fg_schema_text_declaration, err, sizeof(err))) {
		fprintf(stderr, "floorgate gen: %s\n", err);
		goto done;
	}
	for (long long i = 0; i < count; i++) {
		if (fg_gen_next(g, 0, &w, key, sizeof(key))) {
			fprintf(stderr, "floorgate gen: out of memory\n");
			goto done;
		}
		if (fg_ocf_writer_append(&fw, w.buf, w.len, err, sizeof(err))) {
			fprintf(stderr, "floorgate gen: %s\n", err);
			goto done;
		}
	}
	if (fg_ocf_writer_close(&fw, err, sizeof(err))) {
		fprintf(stderr, "floorgate gen: cannot finish %s: %s\n", out, err);
		goto done;
	}
	rc = FG_EXIT_OK;
done:
	fg_ocf_writer_discard(&fw);
	fg_avrobin_fini(&w);
	fg_gen_destroy(g);
	fg_refdata_destroy(rd);
	return rc;
}
