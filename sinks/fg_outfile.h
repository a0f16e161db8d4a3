/*
 * fg_outfile.h: output files that appear whole or not at all.
 *
 * Auditors keep floorgate's outputs as evidence and compare them by hash,
 * so a run that fails half way (a truncated input, a full disk, a signal)
 * must neither leave a partial file that could pass for a complete one nor
 * destroy the file an earlier run left at that path. An output is written
 * to a temporary file beside its path (".NAME.PID.N.partial", same
 * directory, so the rename is atomic) and renamed into place by
 * fg_outfile_commit(), which syncs the file before the rename and the
 * directory after it: after a power cut the path holds the old file or the
 * whole new one. fg_outfile_discard() removes the temporary and leaves the
 * path as it was.
 *
 * A file that is replaced keeps its permission bits; a new one gets what
 * fopen(path, "w") would give (0666 less the umask).
 *
 * A path that exists and is not a regular file (/dev/null, a FIFO, a
 * terminal) is written directly: there is nothing to replace. A symbolic
 * link is followed: the file it names is the one replaced.
 *
 * fg_outfile_check_paths() refuses, before anything is opened, an output
 * that names an input or another output, one of the reference tables, or
 * lies inside the data store: replacing the input being read,
 * or two outputs renamed onto one path, would lose data.
 */
#ifndef FG_OUTFILE_H
#define FG_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

struct fg_outfile {
	FILE *f;     /* write here */
	char *path;  /* where the file lands on commit */
	char *tmp;   /* where it is written until then; NULL when written in place */
};

/* Opens o for writing. Returns 0, or -1 with "cannot create PATH: why" (o then holds nothing). */
int fg_outfile_open(struct fg_outfile *o, const char *path, char *errstr, size_t errstr_size);

/* Flushes, closes and moves the file to its path. Returns 0, or -1 with a
 * message, the temporary removed and the path as it was. Always releases o. */
int fg_outfile_commit(struct fg_outfile *o, char *errstr, size_t errstr_size);

/* Closes and removes the temporary; the path keeps what it had. Safe on a
 * released or zeroed o. */
void fg_outfile_discard(struct fg_outfile *o);

/*
 * For commands that do not stop on a signal by themselves (gen, audit,
 * whatif): SIGINT, SIGTERM and SIGHUP remove the temporaries of the outputs
 * open at that moment (up to 16) and end the process as the signal would.
 * The paths keep what they had. A signal ignored at start (nohup) stays
 * ignored.
 */
void fg_outfile_remove_on_signal(void);

/* Whether a and b name the same file: the same device and inode when both
 * exist, else the same path once the directories are resolved. Paths that
 * are not regular files (devices, FIFOs) never count as the same. */
int fg_outfile_same(const char *a, const char *b);

struct fg_path_use {
	const char *option; /* "--out", for the message */
	const char *path;   /* NULL: not given */
	/* An input only: path is a directory and the files read are these names
	 * in it (the reference tables). Without them, an input directory is read
	 * whole (the data store): no output may lie inside it, at any depth. */
	const char *const *files;
	size_t nfiles;
};

/* Refuses an output that names an input or another output, or an input
 * directory's files (see struct fg_path_use). Inputs may repeat. Returns 0,
 * or -1 with "--out and --in name the same file: PATH". */
int fg_outfile_check_paths(const struct fg_path_use *outs, size_t nout,
			   const struct fg_path_use *ins, size_t nin, char *errstr,
			   size_t errstr_size);

#endif
