/* fg_cmd.h: the floorgate sub-commands (src/cmd_*.c). Each returns the exit code. */
#ifndef FG_CMD_H
#define FG_CMD_H

#include <signal.h>

#include "../pricing/fg_datastore.h"
#include "../sinks/fg_outfile.h"

#define FG_EXIT_OK 0
#define FG_EXIT_FAIL 1  /* the work failed (e.g. a broker error) */
#define FG_EXIT_USAGE 2 /* bad arguments, config or input files */

int fg_cmd_assess(int argc, char **argv);
int fg_cmd_dump(int argc, char **argv);
int fg_cmd_gen(int argc, char **argv);
int fg_cmd_run(int argc, char **argv);
int fg_cmd_demo(int argc, char **argv);
int fg_cmd_bench(int argc, char **argv);
int fg_cmd_replay(int argc, char **argv);
int fg_cmd_data(int argc, char **argv);

/* The reference-data store `data` and `replay` use without --store ($FLOORGATE_STORE wins). */
#define FG_DATASTORE_DEFAULT "/var/lib/floorgate/data"
const char *fg_cmd_default_store(void);
int fg_cmd_audit(int argc, char **argv);
int fg_cmd_whatif(int argc, char **argv);

/*
 * The file commands (assess, replay) stop on SIGINT/SIGTERM between records
 * and write nothing: fg_cmd_catch_stop() makes the first signal set
 * fg_cmd_stop_signal (its number), and a second one end the process at once
 * (SA_RESETHAND), for an operator who does not want to wait. A signal the
 * process was started with ignored stays ignored.
 */
extern _Atomic int fg_cmd_stop_signal;
void fg_cmd_catch_stop(void);

/* The reference tables a command reads from `--data DIR`, as an input for
 * fg_outfile_check_paths: no output may replace one of them. */
static inline struct fg_path_use fg_cmd_tables_input(const char *dir)
{
	return (struct fg_path_use){ "--data", dir, fg_datastore_table_names,
				     FG_DATASTORE_TABLES };
}

/* Largest single allocation Avro C may make while decoding untrusted bytes. */
#define FG_AVRO_MAX_ALLOC (64u << 20)

#endif
