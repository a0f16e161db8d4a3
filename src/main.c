/*
 * floorgate: assesses critical-mineral import declarations against
 * reference price floors, from Kafka or from Avro files.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "../core/fg_common.h"
#include "../ingest/fg_schemas.h"
#include "fg_cmd.h"

#ifndef FG_VERSION
#define FG_VERSION "0.1.0"
#endif

/* lock-free, so safe in the handler and read race-free by other threads */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "stop flags need lock-free int");
_Atomic int fg_cmd_stop_signal;

static void on_stop_signal(int sig)
{
	fg_cmd_stop_signal = sig;
}

void fg_cmd_catch_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	fg_catch_signal(SIGINT, &sa);
	fg_catch_signal(SIGTERM, &sa);
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
	{ "run", fg_cmd_run, "consume declarations from Kafka, produce assessments and dead letters" },
	{ "demo", fg_cmd_demo, "run the whole path on an embedded Kafka cluster with generated traffic" },
	{ "assess", fg_cmd_assess, "assess an Avro file of declarations into two Avro files" },
	{ "dump", fg_cmd_dump, "print an Avro object container file as JSON lines" },
	{ "gen", fg_cmd_gen, "write synthetic declarations to an Avro file" },
	{ "bench", fg_cmd_bench, "measure throughput, latency and memory; print a capacity plan" },
	{ "replay", fg_cmd_replay, "recompute assessments from files or a topic range, live path untouched" },
	{ "data", fg_cmd_data, "file and list versions of the reference tables (the data store)" },
	{ "audit", fg_cmd_audit, "compare recorded and recomputed assessments; prove completeness" },
	{ "whatif", fg_cmd_whatif, "revenue impact of proposed reference data on recorded assessments" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: floorgate COMMAND [OPTIONS]   (floorgate COMMAND --help for more)\n\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nfloorgate %s\n", FG_VERSION);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return FG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return FG_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("floorgate %s\n", FG_VERSION);
		return FG_EXIT_OK;
	}
	fg_schemas_limit_allocations(FG_AVRO_MAX_ALLOC);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name)) {
			/* getopt names the program as argv[0] in its messages */
			char name[64];
			snprintf(name, sizeof(name), "floorgate %s", commands[i].name);
			argv[1] = name;
			return commands[i].fn(argc - 1, argv + 1);
		}
	fprintf(stderr, "floorgate: unknown command \"%s\"\n\n", argv[1]);
	usage(stderr);
	return FG_EXIT_USAGE;
}
