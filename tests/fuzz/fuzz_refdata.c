/*
 * fuzz_refdata.c: libFuzzer target, the six reference tables loader
 * (pricing/fg_refdata.c, fg_refdata_load on a directory).
 *
 * Input layout: the six files, in the order of FILES below, separated by
 * the three bytes "%%\n" (a line holding "%%"). A file cannot hold that
 * line; missing files are empty; after the fifth separator everything is
 * the sixth file. tests/fuzz/make_refdata_corpus.sh writes the seeds from
 * data/ and tests/cases/edge/data in this layout.
 *
 * Each input is written into a directory of this process under
 * $FG_FUZZ_TMPDIR (default /dev/shm; removed at exit, and by run.sh after
 * an abort) and loaded. The harness abort()s unless:
 *
 *   - a refusal reads "DIR/FILE:LINE:COL: reason" for one of the six
 *     files, with LINE a line of that file and COL at most one past its
 *     last byte; unless it is a CSV syntax error or an empty file, LINE:COL
 *     is where a field of that file starts, and when the reason begins
 *     with a column name of that file ("price_usd: ..."), that field is
 *     under that column's header (an overlap or a repeated date: the
 *     row's effective_from, or date in fx_rates.csv);
 *   - a loaded set answers every row's own key, as of the row's first
 *     day, with that very row (rows of a key never overlap, so nothing
 *     else may answer), and classifies each rule's own prefix and keyword
 *     to a rule at least as good (same prefix length, priority <=);
 *   - nothing crashes, reads out of bounds, leaks or trips UBSan.
 *
 * Build and run: tests/fuzz/Makefile, tests/fuzz/run.sh; docs/FUZZING.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/fg_csv.h"
#include "../../pricing/fg_refdata.h"

#define NFILES 6
static const char *const FILES[NFILES] = {
	"classification.csv",    "mfn.csv",        "reference_prices.csv",
	"tariff_parameters.csv", "membership.csv", "fx_rates.csv",
};
/* Column names of each file (contract section 2), to recognise "column: reason". */
static const char *const COLS[NFILES][10] = {
	{ "rule_id", "hs_prefix", "keyword", "mineral", "stage", "priority", "effective_from",
	  "effective_to" },
	{ "hs_prefix", "ad_valorem_pct", "effective_from", "effective_to" },
	{ "mineral", "stage", "price_usd", "unit", "basis", "content_element",
	  "default_content_pct", "effective_from", "effective_to" },
	{ "mineral", "stage", "treatment", "gap_share", "cap_pct", "effective_from",
	  "effective_to" },
	{ "country", "treatment", "agreement", "effective_from", "effective_to" },
	{ "currency", "date", "usd_per_unit" },
};
/* Refusals that come from the CSV reader or an empty file: any position inside. */
static const char *const ANYWHERE[] = {
	"quoted field is not closed", "unexpected character after closing quote",
	"quote inside an unquoted field", "more than ", "empty file", NULL,
};

/* Refusals about a row's dates, and the column they point at. */
static const char *const ABOUT[3][2] = {
	{ "effective range overlaps", "effective_from" },
	{ "rule ", "effective_from" },
	{ "a rate for the same currency and date", "date" },
};

static char dir[512];
static int verbose; /* FG_FUZZ_VERBOSE=1: print each verdict (replaying an input) */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((noreturn)) static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_refdata: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static void cleanup(void)
{
	char path[600];

	for (int i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, FILES[i]);
		unlink(path);
	}
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("FG_FUZZ_TMPDIR"); /* run.sh: a directory it removes */

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/floorgate-fuzz-refdata.%ld", base && *base ? base : "/dev/shm",
		 (long)getpid());
	if (mkdir(dir, 0700) && access(dir, W_OK))
		die("cannot make the table directory", dir);
	atexit(cleanup);
	verbose = getenv("FG_FUZZ_VERBOSE") != NULL;
	return 0;
}

struct file {
	const char *p;
	size_t len;
};

static void split(const uint8_t *data, size_t size, struct file f[NFILES])
{
	const char *p = (const char *)data, *end = p + size;

	for (int i = 0; i < NFILES; i++) {
		const char *sep = i + 1 < NFILES ? memmem(p, (size_t)(end - p), "%%\n", 3) : NULL;
		f[i].p = p;
		f[i].len = (size_t)((sep ? sep : end) - p);
		p = sep ? sep + 3 : end;
	}
}

static void write_file(const char *name, const struct file *f)
{
	char path[600];
	FILE *out;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(out = fopen(path, "wb")) || fwrite(f->p, 1, f->len, out) != f->len || fclose(out))
		die("cannot write", path);
}

/* Bytes of line (1-based) of f, before its '\n'; SIZE_MAX when there is no such line. */
static size_t line_len(const struct file *f, unsigned line)
{
	size_t start = 0;

	if (f->len >= 3 && memcmp(f->p, "\xef\xbb\xbf", 3) == 0)
		start = 3;
	for (unsigned k = 1; k < line; k++) {
		const char *nl = memchr(f->p + start, '\n', f->len - start);
		if (!nl)
			return SIZE_MAX;
		start = (size_t)(nl - f->p) + 1;
	}
	const char *nl = memchr(f->p + start, '\n', f->len - start);
	return (nl ? (size_t)(nl - f->p) : f->len) - start;
}

/*
 * The header name of the field of file i that starts at line:col, through
 * *name (NULL for a field outside the header's columns). Returns 0 when
 * no field starts there.
 */
static int field_at(const struct file *f, unsigned line, unsigned col, char *name,
		    size_t name_size)
{
	struct fg_csv c;
	struct fg_csv_record r;
	char err[256], hdr[FG_CSV_MAX_FIELDS][32];
	unsigned nh = 0;
	int found = 0, first = 1;

	if (fg_csv_init(&c, f->p, f->len))
		die("out of memory", NULL);
	while (!found && fg_csv_next(&c, &r, err, sizeof(err)) == 1) {
		for (unsigned k = 0; k < r.n; k++) {
			if (first)
				snprintf(hdr[k], sizeof(hdr[k]), "%.*s", (int)r.f[k].s.len,
					 r.f[k].s.p);
			if (r.f[k].line == line && r.f[k].col == col) {
				found = 1;
				snprintf(name, name_size, "%s", first ? "header" :
							       k < nh ? hdr[k] : "");
			}
		}
		if (first)
			nh = r.n;
		first = 0;
	}
	fg_csv_fini(&c);
	return found;
}

static void check_refusal(const struct file f[NFILES], const char *err)
{
	size_t dl = strlen(dir);
	const char *rest;
	unsigned line, col;
	int i, used = 0;
	char at[64];

	if (strncmp(err, dir, dl) != 0 || err[dl] != '/')
		die("refusal does not start with the directory", err);
	for (i = 0; i < NFILES; i++) {
		size_t n = strlen(FILES[i]);
		if (!strncmp(err + dl + 1, FILES[i], n) && err[dl + 1 + n] == ':')
			break;
	}
	if (i == NFILES)
		die("refusal names none of the six files", err);
	rest = err + dl + 1 + strlen(FILES[i]) + 1;
	if (sscanf(rest, "%u:%u: %n", &line, &col, &used) != 2 || !used || !rest[used])
		die("refusal is not FILE:LINE:COL: reason", err);
	rest += used;
	size_t ll = line >= 1 ? line_len(&f[i], line) : SIZE_MAX;
	if (ll == SIZE_MAX || col < 1 || col > ll + 1)
		die("refusal points outside the file", err);
	for (const char *const *a = ANYWHERE; *a; a++)
		if (!strncmp(rest, *a, strlen(*a)))
			return;
	if (!field_at(&f[i], line, col, at, sizeof(at)))
		die("refusal does not point at the start of a field", err);
	for (int k = 0; k < 3; k++)
		if (!strncmp(rest, ABOUT[k][0], strlen(ABOUT[k][0])) && strcmp(at, ABOUT[k][1]))
			die("refusal about effective dates points at another column", err);
	for (int k = 0; k < 10 && COLS[i][k]; k++) {
		size_t n = strlen(COLS[i][k]);
		if (!strncmp(rest, COLS[i][k], n) && rest[n] == ':' && strcmp(at, COLS[i][k]))
			die("refusal names a column other than the one it points at", err);
	}
}

/* Each row's own key, as of its first day, finds that row. */
static void check_lookups(const struct fg_refdata *rd)
{
	char key[4];

	for (size_t i = 0; i < rd->n_mfn; i++)
		if (fg_refdata_mfn(rd, rd->mfn[i].hs_prefix, rd->mfn[i].eff.from) != &rd->mfn[i])
			die("mfn lookup of a row's own prefix finds another row", NULL);
	for (size_t i = 0; i < rd->n_prices; i++) {
		const struct fg_price *p = &rd->prices[i];
		if (fg_refdata_price(rd, p->mineral, p->stage, p->eff.from) != p)
			die("price lookup of a row's own key finds another row", NULL);
	}
	for (size_t i = 0; i < rd->n_tariffs; i++) {
		const struct fg_tariff *t = &rd->tariffs[i];
		if (fg_refdata_tariff(rd, t->mineral, (enum fg_stage)t->stage, t->treatment,
				      t->eff.from) != t)
			die("tariff lookup of a row's own key finds another row", NULL);
	}
	for (size_t i = 0; i < rd->n_members; i++) {
		const struct fg_member *m = &rd->members[i];
		key[0] = (char)('A' + m->country / 26);
		key[1] = (char)('A' + m->country % 26);
		if (fg_refdata_treatment(rd, key, m->eff.from) != m->treatment)
			die("membership lookup of a row's own country gives another treatment", NULL);
	}
	for (size_t i = 0; i < rd->n_fx; i++) {
		const struct fg_fx *x = &rd->fx[i];
		key[0] = (char)('A' + x->currency / 676);
		key[1] = (char)('A' + x->currency / 26 % 26);
		key[2] = (char)('A' + x->currency % 26);
		if (fg_refdata_fx(rd, key, x->date) != x)
			die("fx lookup of a row's own currency and date finds another row", NULL);
	}
	for (size_t i = 0; i < rd->rules.n; i++) {
		const struct fg_rule *r = &rd->rules.v[i];
		const struct fg_rule *w =
			fg_rules_classify(&rd->rules, r->hs_prefix, r->keyword, r->eff.from);
		if (!w || w->hs_prefix.len != r->hs_prefix.len || w->priority > r->priority)
			die("a rule's own prefix and keyword classify to a worse rule or none",
			    NULL);
	}
	if (strlen(rd->fingerprint) != 32 || strspn(rd->fingerprint, "0123456789abcdef") != 32)
		die("fingerprint is not 32 lower-case hex digits", rd->fingerprint);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct file f[NFILES];
	struct fg_refdata *rd;
	char err[2048];

	split(data, size, f);
	for (int i = 0; i < NFILES; i++)
		write_file(FILES[i], &f[i]);
	err[0] = '\0';
	rd = fg_refdata_load(dir, err, sizeof(err));
	if (verbose)
		fprintf(stderr, "fuzz_refdata: %s\n", rd ? "loaded" : err);
	if (rd) {
		if (err[0])
			die("a loaded set also has an error", err);
		check_lookups(rd);
		fg_refdata_destroy(rd);
	} else {
		check_refusal(f, err);
	}
	return 0;
}
