/* cmd_data.c: `floorgate data add|list`, the versioned reference-data store. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../pricing/fg_datastore.h"
#include "fg_cmd.h"

static void data_usage(FILE *f)
{
	fprintf(f,
		"usage: floorgate data add DIR --effective YYYY-MM-DD [--by NAME] [--store STORE]\n"
		"       floorgate data list [--store STORE]\n\n"
		"A store keeps every version of the six reference tables, each in a directory\n"
		"named by its fingerprint (the reference_data_version of the assessments made\n"
		"with it), with a MANIFEST: effective date, who filed it, when, row counts.\n\n"
		"  add    validates DIR (refusals name file:line:col; the store is left as it\n"
		"         was) and files a copy atomically. Filing a set that is already in the\n"
		"         store changes nothing and succeeds. Prints the fingerprint.\n"
		"  list   prints every version, by effective date then filing time, oldest first.\n\n"
		"  --store STORE      the store directory (default $FLOORGATE_STORE, else\n"
		"                     %s)\n"
		"  --effective DATE   the date the set takes effect (required for add)\n"
		"  --by NAME          who files it (default $USER, else the login name)\n\n"
		"Exit status: 0 done; 1 an I/O error (list: a version it could not read, named\n"
		"on stderr, the others listed); 2 bad arguments (a store that does not exist or\n"
		"is not a store) or reference data refused.\n",
		FG_DATASTORE_DEFAULT);
}

const char *fg_cmd_default_store(void)
{
	const char *s = getenv("FLOORGATE_STORE");
	return s && s[0] ? s : FG_DATASTORE_DEFAULT;
}

/* $USER, else the login name of the process's user. */
static const char *default_by(void)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if (u && u[0])
		return u;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "";
}

static int data_add(const char *store, const char *dir, const char *effective, const char *by)
{
	struct fg_datastore_version v;
	char err[1024];
	int existed, rc;

	rc = fg_datastore_add(store, dir, effective, by, &v, &existed, err, sizeof(err));
	if (rc == FG_DATASTORE_REFUSED) {
		fprintf(stderr, "floorgate data add: refused, store unchanged: %s\n", err);
		return FG_EXIT_USAGE;
	}
	if (rc) {
		fprintf(stderr, "floorgate data add: %s\n", err);
		return FG_EXIT_FAIL;
	}
	if (existed)
		fprintf(stderr,
			"floorgate data add: %s is already in %s (effective %s, filed %s by %s); "
			"nothing changed\n",
			v.fingerprint, store, v.effective, v.filed_at, v.by);
	else
		fprintf(stderr, "floorgate data add: filed %s in %s (effective %s, by %s)\n",
			v.fingerprint, store, v.effective, v.by);
	printf("%s\n", v.fingerprint);
	return fflush(stdout) ? FG_EXIT_FAIL : FG_EXIT_OK;
}

static void on_bad_version(void *ctx, const char *why)
{
	(void)ctx;
	fprintf(stderr, "floorgate data list: left out, unreadable: %s\n", why);
}

static int data_list(const char *store)
{
	struct fg_datastore_version *v;
	size_t n;
	char err[1024];
	int rc = fg_datastore_list(store, &v, &n, on_bad_version, NULL, err, sizeof(err));

	if (rc < 0) {
		fprintf(stderr, "floorgate data list: %s\n", err);
		return FG_EXIT_USAGE;
	}
	printf("%-32s  %-10s  %-12s  %-20s  %s\n", "fingerprint", "effective", "by", "filed at",
	       "rows (classification mfn prices tariffs membership fx)");
	for (size_t i = 0; i < n; i++) {
		printf("%-32s  %-10s  %-12s  %-20s ", v[i].fingerprint, v[i].effective, v[i].by,
		       v[i].filed_at);
		for (int t = 0; t < FG_DATASTORE_TABLES; t++)
			printf(" %llu", (unsigned long long)v[i].rows[t]);
		printf("\n");
	}
	free(v);
	if (fflush(stdout))
		return FG_EXIT_FAIL;
	return rc ? FG_EXIT_FAIL : FG_EXIT_OK;
}

int fg_cmd_data(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "effective", required_argument, NULL, 'e' },
		{ "by", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *store = fg_cmd_default_store(), *effective = NULL, *by = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'e': effective = optarg; break;
		case 'b': by = optarg; break;
		case 'h': data_usage(stdout); return FG_EXIT_OK;
		default: data_usage(stderr); return FG_EXIT_USAGE;
		}
	}
	if (optind < argc && !strcmp(argv[optind], "add")) {
		if (optind + 2 != argc || !effective) {
			fprintf(stderr, "floorgate data add: needs one DIR and --effective YYYY-MM-DD\n"
					"(floorgate data --help for usage)\n");
			return FG_EXIT_USAGE;
		}
		return data_add(store, argv[optind + 1], effective, by ? by : default_by());
	}
	if (optind < argc && !strcmp(argv[optind], "list") && optind + 1 == argc)
		return data_list(store);
	fprintf(stderr, "floorgate data: expected `add DIR` or `list`\n\n");
	data_usage(stderr);
	return FG_EXIT_USAGE;
}
