/* fg_audit_cli.c: the command line of `audit` and `whatif` (fg_audit_cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fg_common.h"
#include "../sinks/fg_outfile.h"
#include "fg_audit_cli.h"
#include "fg_cmd.h"
#include "fg_audit_src.h"
#include "fg_spill.h"


static int push(const char ***v, size_t *n, const char *s)
{
	const char **nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return -1;
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

void fg_audit_args_fini(struct fg_audit_args *a)
{
	free(a->recorded);
	free(a->recomputed);
	free(a->outputs);
	free(a->ignore);
	free(a->in);
	fg_config_fini(&a->cfg);
}

/* A report must not replace a source (or the other report), nor land among
 * whatif's proposed tables. */
static int check_paths(const struct fg_audit_args *a, const char *cmd)
{
	const struct fg_path_use outs[] = { { "--csv", a->csv }, { "--html", a->html } };
	const struct {
		const char *option;
		const char *const *v;
		size_t n;
	} lists[] = { { "--recorded", a->recorded, a->n_recorded },
		      { "--recomputed", a->recomputed, a->n_recomputed },
		      { "--outputs", a->outputs, a->n_outputs },
		      { "--in", a->in, a->n_in },
		      { "--input", &a->input, a->input ? 1 : 0 } };
	struct fg_path_use *ins;
	size_t n = 0;
	char err[1024];
	int rc;

	for (size_t l = 0; l < FG_ARRAY_LEN(lists); l++)
		n += lists[l].n;
	ins = calloc(n + 1, sizeof(*ins));
	if (!ins) {
		fprintf(stderr, "floorgate %s: out of memory\n", cmd);
		return -1;
	}
	n = 0;
	for (size_t l = 0; l < FG_ARRAY_LEN(lists); l++)
		for (size_t i = 0; i < lists[l].n; i++)
			ins[n++] = (struct fg_path_use){ lists[l].option, lists[l].v[i] };
	if (a->data) /* whatif's proposed tables */
		ins[n++] = fg_cmd_tables_input(a->data);
	rc = fg_outfile_check_paths(outs, FG_ARRAY_LEN(outs), ins, n, err, sizeof(err));
	if (rc)
		fprintf(stderr, "floorgate %s: %s\n", cmd, err);
	free(ins);
	return rc;
}

/*
 * audit, audit --completeness and whatif share this parser, not their
 * options: an option the mode does not use is refused rather than ignored
 * (a --tolerance on a completeness check, a --data on an audit).
 */
static int check_mode(const struct fg_audit_args *a, const char *cmd)
{
	enum { AUDIT = 1, COMPL = 2, WHATIF = 4 };
	const int mode = !strcmp(cmd, "whatif") ? WHATIF : a->completeness ? COMPL : AUDIT;
	const char *const names[] = { [AUDIT] = "audit", [COMPL] = "audit --completeness",
				      [WHATIF] = "whatif" };
	const struct {
		const char *option;
		int given, modes;
	} v[] = {
		{ "--completeness", a->completeness, AUDIT | COMPL },
		{ "--recorded", a->n_recorded > 0, AUDIT | WHATIF },
		{ "--recomputed", a->n_recomputed > 0, AUDIT },
		{ "--input", a->input != NULL, COMPL },
		{ "--outputs", a->n_outputs > 0, COMPL },
		{ "--outputs-from", a->out_from != NULL, COMPL },
		{ "--outputs-to", a->out_to != NULL, COMPL },
		{ "--in", a->n_in > 0, WHATIF },
		{ "--data", a->data != NULL, WHATIF },
		{ "--tolerance", a->tolerance != NULL, AUDIT },
		{ "--ignore", a->n_ignore > 0, AUDIT },
		{ "--html", a->html != NULL, AUDIT | WHATIF },
		{ "--top", a->top != 0, AUDIT | WHATIF },
	};

	for (size_t i = 0; i < FG_ARRAY_LEN(v); i++)
		if (v[i].given && !(v[i].modes & mode)) {
			fprintf(stderr, "floorgate %s: %s does not apply to %s\n", cmd, v[i].option,
				names[mode]);
			return -1;
		}
	return 0;
}

/* Returns 0, 1 for --help, or -1 after printing the problem. */
int fg_audit_args_parse(struct fg_audit_args *a, int argc, char **argv, const char *cmd)
{
	char err[1024];
	const char ***list = NULL;
	size_t *nlist = NULL;

	memset(a, 0, sizeof(*a));
	fg_config_init(&a->cfg);
	a->memory_mb = 256;
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long long u;
#define NEED_ARG                                                                          \
	do {                                                                              \
		if (!next) {                                                              \
			fprintf(stderr, "floorgate %s: %s needs a value\n", cmd, s);        \
			return -1;                                                        \
		}                                                                         \
		i++;                                                                      \
	} while (0)
		if (s[0] != '-' || !strcmp(s, "-")) {
			if (!list) {
				fprintf(stderr, "floorgate %s: unexpected argument \"%s\"\n", cmd, s);
				return -1;
			}
			if (push(list, nlist, s))
				return -1;
			continue;
		}
		list = NULL;
		if (!strcmp(s, "--help") || !strcmp(s, "-h"))
			return 1;
		else if (!strcmp(s, "--recorded"))
			list = &a->recorded, nlist = &a->n_recorded;
		else if (!strcmp(s, "--recomputed"))
			list = &a->recomputed, nlist = &a->n_recomputed;
		else if (!strcmp(s, "--outputs"))
			list = &a->outputs, nlist = &a->n_outputs;
		else if (!strcmp(s, "--in"))
			list = &a->in, nlist = &a->n_in;
		else if (!strcmp(s, "--completeness"))
			a->completeness = 1;
		else if (!strcmp(s, "--quiet"))
			a->quiet = 1;
		else if (!strcmp(s, "--ignore")) {
			NEED_ARG;
			if (push(&a->ignore, &a->n_ignore, next))
				return -1;
		} else if (!strcmp(s, "--data")) {
			NEED_ARG;
			a->data = next;
		} else if (!strcmp(s, "--input")) {
			NEED_ARG;
			a->input = next;
		} else if (!strcmp(s, "--csv")) {
			NEED_ARG;
			a->csv = next;
		} else if (!strcmp(s, "--html")) {
			NEED_ARG;
			a->html = next;
		} else if (!strcmp(s, "--from")) {
			NEED_ARG;
			a->from = next;
		} else if (!strcmp(s, "--to")) {
			NEED_ARG;
			a->to = next;
		} else if (!strcmp(s, "--outputs-from")) {
			NEED_ARG;
			a->out_from = next;
		} else if (!strcmp(s, "--outputs-to")) {
			NEED_ARG;
			a->out_to = next;
		} else if (!strcmp(s, "--spill-dir")) {
			NEED_ARG;
			a->spill_dir = next;
		} else if (!strcmp(s, "--tolerance")) {
			NEED_ARG;
			a->tolerance = next;
		} else if (!strcmp(s, "--memory") || !strcmp(s, "--partitions") ||
			   !strcmp(s, "--top")) {
			NEED_ARG;
			unsigned long long max = !strcmp(s, "--memory") ? 1ull << 30 :
						 !strcmp(s, "--top")	? 100000 : 1024;
			if (fg_parse_uint(next, max, &u) || !u) {
				fprintf(stderr, "floorgate %s: %s: \"%s\" is not a whole number from 1 to %llu\n",
					cmd, s, next, max);
				return -1;
			}
			if (!strcmp(s, "--memory"))
				a->memory_mb = u;
			else if (!strcmp(s, "--top"))
				a->top = (unsigned)u;
			else
				a->parts = (unsigned)u;
		} else if (!strcmp(s, "-X")) {
			NEED_ARG;
			if (fg_config_set_arg(&a->cfg, next, err, sizeof(err))) {
				fprintf(stderr, "floorgate %s: %s\n", cmd, err);
				return -1;
			}
		} else if (!strcmp(s, "-c")) {
			NEED_ARG;
			if (fg_config_load_file(&a->cfg, next, err, sizeof(err))) {
				fprintf(stderr, "floorgate %s: %s\n", cmd, err);
				return -1;
			}
		} else {
			fprintf(stderr, "floorgate %s: unknown option \"%s\"\n", cmd, s);
			return -1;
		}
#undef NEED_ARG
	}
	if (check_mode(a, cmd))
		return -1;
	return check_paths(a, cmd);
}

unsigned fg_audit_args_parts(const struct fg_audit_args *a, const char *const *srcs[], const size_t ns[],
			  size_t n_lists)
{
	unsigned long long est = 0;
	if (a->parts)
		return a->parts;
	for (size_t l = 0; l < n_lists; l++)
		for (size_t i = 0; i < ns[l]; i++) {
			unsigned long long h = fg_audit_src_size_hint(srcs[l][i]);
			est += h ? h * FG_AUDIT_FLATTEN_GROWTH : FG_AUDIT_TOPIC_GUESS;
		}
	return fg_spill_parts_for(est, a->memory_mb << 20);
}


uint64_t fg_audit_args_part_limit(const struct fg_audit_args *a)
{
	return (uint64_t)(a->memory_mb << 20) / 2;
}
