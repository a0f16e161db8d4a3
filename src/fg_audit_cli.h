/*
 * fg_audit_cli.h: the command line shared by `audit` and `whatif`.
 *
 * Lists of sources follow their option (`--recorded A.avro B.avro
 * --recomputed C.avro`), so getopt's one-value options do not fit; the
 * rest are the usual `--name value`, `-X key=value` and `-c FILE` of
 * floorgate's other commands.
 */
#ifndef FG_AUDIT_CLI_H
#define FG_AUDIT_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "fg_config.h"

/* Spilled bytes per byte of Avro input (flattened text is larger; measured 2.2 on gen output). */
#define FG_AUDIT_FLATTEN_GROWTH 3u
/* Bytes assumed for a topic source, whose size is not known before reading. */
#define FG_AUDIT_TOPIC_GUESS (256ull << 20)

struct fg_audit_args {
	const char **recorded, **recomputed, **outputs, **ignore, **in;
	size_t n_recorded, n_recomputed, n_outputs, n_ignore, n_in;
	const char *input, *csv, *html, *from, *to, *out_from, *out_to, *spill_dir;
	const char *tolerance, *data;
	unsigned long long memory_mb;
	unsigned parts, top;
	int completeness, quiet;
	struct fg_config cfg;
};

/* Returns 0, 1 for --help, or -1 after printing the problem to stderr. */
int fg_audit_args_parse(struct fg_audit_args *a, int argc, char **argv, const char *cmd);
void fg_audit_args_fini(struct fg_audit_args *a);
/* Spill partitions for the sources (--partitions, else from --memory and their sizes). */
unsigned fg_audit_args_parts(const struct fg_audit_args *a, const char *const *srcs[],
			     const size_t ns[], size_t n_lists);

/* Bytes of one spill partition read back at once: half of --memory (the rest: index, slack). */
uint64_t fg_audit_args_part_limit(const struct fg_audit_args *a);

#endif
