/*
 * test_sinks_outfile.c: an output file appears whole or not at all, and
 * an output that names an input or another output is refused before
 * anything is written. What an auditor relies on: a failed run never
 * leaves a partial file at the path, and never destroys the file an
 * earlier run (or the input) left there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../sinks/fg_outfile.h"

static char dir[] = "/tmp/fg-test-outfile.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64 + sizeof(dir)];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *in_dir(const char *name)
{
	static char paths[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(paths[k], sizeof(paths[k]), "%s/%s", dir, name);
	return paths[k];
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* The file's text, or "" when it does not exist. */
static const char *text_of(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = 0;
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return buf;
}

/* Names in the directory that are not in keep (the temporaries left over). */
static int strays(const char *const *keep, size_t nkeep)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		int known = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
		for (size_t i = 0; i < nkeep; i++)
			known |= !strcmp(e->d_name, keep[i]);
		n += !known;
	}
	closedir(d);
	return n;
}

static void test_commit_replaces_the_file_whole(void **state)
{
	struct fg_outfile o;
	char err[256];
	const char *path = in_dir("out.avro");
	const char *keep[] = { "out.avro" };

	(void)state;
	put(path, "earlier run\n");
	assert_int_equal(fg_outfile_open(&o, path, err, sizeof(err)), 0);
	fputs("new ", o.f);
	fflush(o.f);
	/* while it is written the path still holds the earlier file */
	assert_string_equal(text_of(path), "earlier run\n");
	fputs("run\n", o.f);
	assert_int_equal(fg_outfile_commit(&o, err, sizeof(err)), 0);
	assert_string_equal(text_of(path), "new run\n");
	assert_int_equal(strays(keep, 1), 0);
	assert_null(o.f);
}

static void test_discard_keeps_the_earlier_file(void **state)
{
	struct fg_outfile o;
	char err[256];
	const char *path = in_dir("out.avro");
	const char *keep[] = { "out.avro" };

	(void)state;
	put(path, "earlier run\n");
	assert_int_equal(fg_outfile_open(&o, path, err, sizeof(err)), 0);
	fputs("half of a run", o.f);
	fg_outfile_discard(&o);
	assert_string_equal(text_of(path), "earlier run\n");
	assert_int_equal(strays(keep, 1), 0);
	fg_outfile_discard(&o); /* again: nothing left to do */

	/* a new path that is discarded is never created */
	assert_int_equal(fg_outfile_open(&o, in_dir("new.avro"), err, sizeof(err)), 0);
	fg_outfile_discard(&o);
	assert_int_equal(access(in_dir("new.avro"), F_OK), -1);
	assert_int_equal(strays(keep, 1), 0);
	unlink(path);
}

static void test_mode_follows_the_umask_or_the_replaced_file(void **state)
{
	struct fg_outfile o;
	struct stat st;
	char err[256];
	mode_t old = umask(027);

	(void)state;
	assert_int_equal(fg_outfile_open(&o, in_dir("m.csv"), err, sizeof(err)), 0);
	assert_int_equal(fg_outfile_commit(&o, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(stat(in_dir("m.csv"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* a replaced file keeps its own mode */
	assert_int_equal(chmod(in_dir("m.csv"), 0600), 0);
	assert_int_equal(fg_outfile_open(&o, in_dir("m.csv"), err, sizeof(err)), 0);
	assert_int_equal(fg_outfile_commit(&o, err, sizeof(err)), 0);
	assert_int_equal(stat(in_dir("m.csv"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	unlink(in_dir("m.csv"));
}

static void test_link_and_device_are_written_through(void **state)
{
	struct fg_outfile o;
	struct stat st;
	char err[256];

	(void)state;
	put(in_dir("target.avro"), "old\n");
	assert_int_equal(symlink("target.avro", in_dir("link.avro")), 0);
	assert_int_equal(fg_outfile_open(&o, in_dir("link.avro"), err, sizeof(err)), 0);
	fputs("new\n", o.f);
	assert_int_equal(fg_outfile_commit(&o, err, sizeof(err)), 0);
	assert_int_equal(lstat(in_dir("link.avro"), &st), 0);
	assert_true(S_ISLNK(st.st_mode)); /* the link stays a link */
	assert_string_equal(text_of(in_dir("target.avro")), "new\n");
	unlink(in_dir("link.avro"));
	unlink(in_dir("target.avro"));

	/* --dlq /dev/null: written in place, never replaced */
	assert_int_equal(fg_outfile_open(&o, "/dev/null", err, sizeof(err)), 0);
	assert_null(o.tmp);
	fputs("dropped\n", o.f);
	assert_int_equal(fg_outfile_commit(&o, err, sizeof(err)), 0);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
}

static void test_open_failure_names_the_path(void **state)
{
	struct fg_outfile o;
	char err[256];

	(void)state;
	assert_int_equal(fg_outfile_open(&o, in_dir("no-such-dir/out.avro"), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot create "));
	assert_non_null(strstr(err, "no-such-dir/out.avro: No such file or directory"));
	assert_null(o.f);
	assert_int_equal(fg_outfile_open(&o, dir, err, sizeof(err)), -1); /* a directory */
	assert_non_null(strstr(err, "Is a directory"));
}

static void test_same_file_by_any_spelling(void **state)
{
	char other[600], dotted[600];

	(void)state;
	put(in_dir("in.avro"), "declarations\n");
	snprintf(dotted, sizeof(dotted), "%s/./sub/../in.avro", dir);
	mkdir(in_dir("sub"), 0755);
	assert_true(fg_outfile_same(in_dir("in.avro"), dotted));
	assert_int_equal(link(in_dir("in.avro"), in_dir("hard.avro")), 0);
	assert_true(fg_outfile_same(in_dir("in.avro"), in_dir("hard.avro")));
	assert_false(fg_outfile_same(in_dir("in.avro"), in_dir("absent.avro")));
	/* neither exists yet: the same once the directories are resolved */
	snprintf(other, sizeof(other), "%s/sub/../x.avro", dir);
	assert_true(fg_outfile_same(in_dir("x.avro"), other));
	assert_false(fg_outfile_same(in_dir("x.avro"), in_dir("y.avro")));
	/* devices may be shared: --out /dev/null --dlq /dev/null */
	assert_false(fg_outfile_same("/dev/null", "/dev/null"));

	char err[256];
	const struct fg_path_use ins[] = { { "--in", in_dir("in.avro") } };
	const struct fg_path_use outs[] = { { "--out", in_dir("a.avro") },
					    { "--dlq", dotted },
					    { "--csv", NULL } };
	assert_int_equal(fg_outfile_check_paths(outs, 3, ins, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--dlq and --in name the same file"));
	const struct fg_path_use outs2[] = { { "--out", in_dir("a.avro") },
					     { "--dlq", other },
					     { "--csv", in_dir("x.avro") } };
	assert_int_equal(fg_outfile_check_paths(outs2, 3, ins, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--dlq and --csv name the same file"));
	const struct fg_path_use outs3[] = { { "--out", in_dir("a.avro") },
					     { "--dlq", in_dir("d.avro") } };
	const struct fg_path_use ins3[] = { { "--in", in_dir("in.avro") },
					    { "--in", in_dir("hard.avro") } };
	assert_int_equal(fg_outfile_check_paths(outs3, 2, ins3, 2, err, sizeof(err)), 0);
	unlink(in_dir("in.avro"));
	unlink(in_dir("hard.avro"));
	rmdir(in_dir("sub"));
}

static void test_tables_and_store_are_not_outputs(void **state)
{
	static const char *const tables[] = { "mfn.csv", "fx_rates.csv" };
	char err[512], dotted[600];

	(void)state;
	mkdir(in_dir("tables"), 0755);
	put(in_dir("tables/mfn.csv"), "hs_code\n");
	/* a table, by any spelling (fx_rates.csv does not exist yet) */
	const struct fg_path_use ins[] = { { "--data", in_dir("tables"), tables, 2 } };
	snprintf(dotted, sizeof(dotted), "%s/tables/../tables/mfn.csv", dir);
	const struct fg_path_use o1[] = { { "--out", dotted } };
	assert_int_equal(fg_outfile_check_paths(o1, 1, ins, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is the table mfn.csv of --data"));
	const struct fg_path_use o2[] = { { "--csv", in_dir("tables/fx_rates.csv") } };
	assert_int_equal(fg_outfile_check_paths(o2, 1, ins, 1, err, sizeof(err)), -1);
	/* other files beside the tables are the user's */
	const struct fg_path_use o3[] = { { "--out", in_dir("tables/out.avro") } };
	assert_int_equal(fg_outfile_check_paths(o3, 1, ins, 1, err, sizeof(err)), 0);

	/* a store is read whole: nothing may be written anywhere inside it */
	mkdir(in_dir("store"), 0755);
	mkdir(in_dir("store/v1"), 0755);
	const struct fg_path_use st[] = { { "--store", in_dir("store") } };
	const struct fg_path_use o4[] = { { "--out", in_dir("store/v1/mfn.csv") } };
	assert_int_equal(fg_outfile_check_paths(o4, 1, st, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is inside --store"));
	/* and a name that merely starts like the store is not inside it */
	const struct fg_path_use o5[] = { { "--out", in_dir("store2.avro") } };
	assert_int_equal(fg_outfile_check_paths(o5, 1, st, 1, err, sizeof(err)), 0);

	unlink(in_dir("tables/mfn.csv"));
	rmdir(in_dir("tables"));
	rmdir(in_dir("store/v1"));
	rmdir(in_dir("store"));
}

/* Entries of dir whose name ends in ".partial". */
static int partials(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strlen(e->d_name) > 8 &&
		     !strcmp(e->d_name + strlen(e->d_name) - 8, ".partial");
	closedir(d);
	return n;
}

static void test_a_signal_removes_the_temporaries(void **state)
{
	(void)state;
	for (int k = 0; k < 2; k++) {
		const int sig = k ? SIGTERM : SIGINT;
		put(in_dir("s1.csv"), "earlier\n");
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct fg_outfile a, b;
			char err[256];
			fg_outfile_remove_on_signal();
			if (fg_outfile_open(&a, in_dir("s1.csv"), err, sizeof(err)) ||
			    fg_outfile_open(&b, in_dir("s2.html"), err, sizeof(err)))
				_exit(3);
			fputs("half a report", a.f);
			fflush(a.f);
			if (partials() != 2)
				_exit(4);
			raise(sig);
			_exit(5); /* not reached: the signal ends the process */
		}
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), sig);
		assert_int_equal(partials(), 0);
		assert_string_equal(text_of(in_dir("s1.csv")), "earlier\n");
		assert_string_equal(text_of(in_dir("s2.html")), "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_replaces_the_file_whole),
		cmocka_unit_test(test_discard_keeps_the_earlier_file),
		cmocka_unit_test(test_mode_follows_the_umask_or_the_replaced_file),
		cmocka_unit_test(test_link_and_device_are_written_through),
		cmocka_unit_test(test_open_failure_names_the_path),
		cmocka_unit_test(test_same_file_by_any_spelling),
		cmocka_unit_test(test_tables_and_store_are_not_outputs),
		cmocka_unit_test(test_a_signal_removes_the_temporaries),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
