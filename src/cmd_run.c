/* cmd_run.c: `floorgate run`, the long-running Kafka processor. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../ingest/fg_schemas.h"
#include "../pricing/fg_refdata.h"
#include "../pricing/fg_refstore.h"
#include "fg_cmd.h"
#include "fg_config.h"
#include "fg_runner.h"

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: floorgate run [-c FILE] [-X key=value ...] [--help-config]\n\n"
		"Consumes Confluent-framed floorgate.v1.ImportDeclaration messages from\n"
		"input.topic, assesses each against the reference tables in data.dir, and\n"
		"produces one floorgate.v1.DutyAssessment to output.topic or one\n"
		"floorgate.v1.DeadLetter to deadletter.topic per input message.\n"
		"processing.guarantee=at_least_once (default): offsets are committed only for\n"
		"inputs whose outputs were acknowledged. processing.guarantee=exactly_once:\n"
		"outputs and input offsets are committed in one Kafka transaction (read the\n"
		"outputs with isolation.level=read_committed).\n\n"
		"  -c, --config FILE   `key = value` lines (# comments)\n"
		"  -X key=value        set one key (wins over the file); repeatable\n"
		"  --help-config       list every key with its default\n\n"
		"SIGINT or SIGTERM: stop fetching, finish the batches in hand (waiting at most\n"
		"run.flush_timeout_ms for acknowledgements), commit, exit 0. A second signal\n"
		"exits at once (uncommitted inputs are read again next time). SIGHUP reloads\n"
		"the reference tables from data.dir; a refused set leaves the running one.\n"
		"Exit status: 0 stopped cleanly; 1 Kafka failure (brokers unreachable within\n"
		"run.connect_timeout_ms, a missing topic, an undelivered output, a producer\n"
		"fenced by another instance with its transactional.id); 2 bad\n"
		"arguments, configuration, reference data or schema directory.\n");
}

/* Parses -c/-X options shared by run and demo into cfg. Returns -1 on error. */
static int parse(int argc, char **argv, struct fg_config *cfg, int *help)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "help-config", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	char err[1024];
	int c;
	const char *file = NULL;

	/* The file first, then every -X in order, whatever the order on the line. */
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:X:h", opts, NULL)) != -1) {
		if (c == 'c')
			file = optarg;
		else if (c == 'h')
			*help = 1;
		else if (c == 'H')
			*help = 2;
		else if (c != 'X')
			return -1;
	}
	if (optind != argc) {
		fprintf(stderr, "floorgate run: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (*help)
		return 0;
	if (file && fg_config_load_file(cfg, file, err, sizeof(err))) {
		fprintf(stderr, "floorgate run: %s\n", err);
		return -1;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:X:h", opts, NULL)) != -1)
		if (c == 'X' && fg_config_set_arg(cfg, optarg, err, sizeof(err))) {
			fprintf(stderr, "floorgate run: %s\n", err);
			return -1;
		}
	return 0;
}

int fg_cmd_run(int argc, char **argv)
{
	struct fg_config cfg;
	struct fg_schema_registry reg = { 0 };
	struct fg_refdata *rd = NULL;
	struct fg_pipeline_stats st;
	char err[1024];
	int help = 0, rc = FG_EXIT_USAGE;

	fg_config_init(&cfg);
	if (parse(argc, argv, &cfg, &help)) {
		if (!help)
			fprintf(stderr, "(floorgate run --help for usage)\n");
		goto done;
	}
	if (help == 1) {
		run_usage(stdout);
		rc = FG_EXIT_OK;
		goto done;
	}
	if (help == 2) {
		fg_config_print_table(stdout);
		rc = FG_EXIT_OK;
		goto done;
	}
	if (fg_config_check(&cfg, err, sizeof(err))) {
		fprintf(stderr, "floorgate run: %s\n", err);
		goto done;
	}
	if (!fg_config_kafka_get(&cfg, "bootstrap.servers") &&
	    !fg_config_kafka_get(&cfg, "test.mock.num.brokers")) {
		fprintf(stderr, "floorgate run: kafka.bootstrap.servers is not set\n");
		goto done;
	}
	if (cfg.guarantee != FG_CONFIG_EXACTLY_ONCE && fg_config_kafka_get(&cfg, "transactional.id")) {
		fprintf(stderr, "floorgate run: kafka.transactional.id is for processing.guarantee="
				"exactly_once (use run.transactional_id there)\n");
		goto done;
	}
	rd = fg_refdata_load(cfg.data_dir, err, sizeof(err));
	if (!rd) {
		fprintf(stderr, "floorgate run: reference data refused: %s\n", err);
		goto done;
	}
	if (fg_schema_registry_load_dir(&reg, cfg.schema_dir, err, sizeof(err))) {
		fprintf(stderr, "floorgate run: %s\n", err);
		goto done;
	}
	fprintf(stderr, "floorgate run: %s -> %s / %s, reference data %s (%s)\n", cfg.input_topic,
		cfg.output_topic, cfg.deadletter_topic, rd->fingerprint, cfg.data_dir);
	fg_runner_install_signals();
	fg_refstore_init(rd); /* the store owns it from here; SIGHUP reloads data.dir */
	rd = NULL;
	rc = fg_runner_run(&cfg, &reg, &st, err, sizeof(err));
	fg_refstore_fini();
	if (rc) {
		fprintf(stderr, "floorgate run: %s\n", err);
		rc = FG_EXIT_FAIL;
		goto done;
	}
	fg_pipeline_stats_print(&st, stderr);
	rc = FG_EXIT_OK;
done:
	fg_schema_registry_fini(&reg);
	fg_refdata_destroy(rd);
	fg_config_fini(&cfg);
	return rc;
}
