#include "fg_outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/fg_common.h"

static _Atomic unsigned tmp_seq;

/* The temporaries open now, for fg_outfile_remove_on_signal(). */
#define LIVE_MAX 16
static char *_Atomic live[LIVE_MAX];

static void live_add(char *tmp)
{
	for (int i = 0; i < LIVE_MAX; i++) {
		char *expected = NULL;
		if (atomic_compare_exchange_strong(&live[i], &expected, tmp))
			return;
	}
}

static void live_remove(const char *tmp)
{
	for (int i = 0; i < LIVE_MAX; i++) {
		char *expected = (char *)tmp;
		if (atomic_compare_exchange_strong(&live[i], &expected, NULL))
			return;
	}
}

static void on_fatal_signal(int sig)
{
	/* unlink and raise are async-signal-safe; the lock-free loads too. The
	 * commands that install this are single-threaded where it matters
	 * (librdkafka's threads block signals), so the handler runs on the
	 * thread that commits and discards: a name it loads is not freed under
	 * it. */
	for (int i = 0; i < LIVE_MAX; i++) {
		char *tmp = atomic_load(&live[i]);
		if (tmp)
			unlink(tmp);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

void fg_outfile_remove_on_signal(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < FG_ARRAY_LEN(sigs); i++)
		fg_catch_signal(sigs[i], &sa);
}

/* A malloc'd copy of the directory part of path ("." for a bare name, "/"
 * for a file at the root), or NULL when out of memory. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
}

/* A malloc'd copy of path with its directory resolved ("a/../b/x" ->
 * "/abs/b/x"); the path itself when the directory does not resolve. */
static char *resolved(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char *dir = dir_of(path);
	char *real = dir ? realpath(dir, NULL) : NULL;
	char *out = NULL;

	if (real) {
		size_t n = strlen(real) + strlen(base) + 2;
		out = malloc(n);
		if (out)
			snprintf(out, n, "%s%s%s", real, real[strlen(real) - 1] == '/' ? "" : "/",
				 base);
	}
	free(real);
	free(dir);
	return out ? out : strdup(path);
}

int fg_outfile_open(struct fg_outfile *o, const char *path, char *errstr, size_t errstr_size)
{
	struct stat st;
	int fd = -1;

	memset(o, 0, sizeof(*o));
	/* A link is followed: the file it names is replaced, the link kept. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		o->path = realpath(path, NULL);
	if (!o->path)
		o->path = strdup(path);
	if (!o->path)
		goto err;
	int existed = stat(o->path, &st) == 0;
	if (existed && !S_ISREG(st.st_mode)) {
		/* /dev/null, a FIFO, a directory (which fopen refuses): nothing to replace */
		o->f = fopen(o->path, "wb");
		if (!o->f)
			goto err;
		return 0;
	}
	const char *slash = strrchr(o->path, '/');
	int dir_len = slash ? (int)(slash - o->path) + 1 : 0;
	size_t n = strlen(o->path) + 48;
	o->tmp = malloc(n);
	if (!o->tmp)
		goto err;
	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		snprintf(o->tmp, n, "%.*s.%s.%ld.%u.partial", dir_len, o->path, o->path + dir_len,
			 (long)getpid(), atomic_fetch_add(&tmp_seq, 1));
		/* 0666 and the umask: the mode fopen(path, "w") gives a new file */
		fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd >= 0)
		live_add(o->tmp);
	/* a file that is replaced keeps its permissions, as fopen(path, "w") would */
	if (fd >= 0 && existed)
		(void)fchmod(fd, st.st_mode & 07777);
	if (fd < 0 || !(o->f = fdopen(fd, "wb"))) {
		int e = errno;
		if (fd >= 0) {
			close(fd);
			live_remove(o->tmp);
			unlink(o->tmp);
		}
		errno = e;
		goto err;
	}
	return 0;
err:
	fg_errf(errstr, errstr_size, "cannot create %s: %s", path, strerror(errno));
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
	return -1;
}

/* fsync of the directory that holds path (a directory entry is made durable
 * by syncing its directory, not the file). */
static int fsync_parent(const char *path)
{
	char *dir = dir_of(path);
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1, rc = -1;

	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(dir);
	return rc;
}

int fg_outfile_commit(struct fg_outfile *o, char *errstr, size_t errstr_size)
{
	int e = 0;

	if (!o->f) {
		e = EBADF;
	} else {
		errno = 0;
		if (fflush(o->f) || ferror(o->f))
			e = errno ? errno : EIO;
		/* fsync before the rename: after a crash the path holds the old file
		 * or the whole new one, never an empty one */
		else if (o->tmp && fsync(fileno(o->f)))
			e = errno;
		if (fclose(o->f) && !e)
			e = errno;
		o->f = NULL;
		if (!e && o->tmp && rename(o->tmp, o->path))
			e = errno;
		if (o->tmp)
			live_remove(o->tmp);
		/* and the directory after it, so that the rename itself survives a
		 * crash; the file is in place whatever this returns */
		if (!e && o->tmp)
			(void)fsync_parent(o->path);
	}
	if (e) {
		fg_errf(errstr, errstr_size, "cannot write %s: %s", o->path ? o->path : "(closed)",
			strerror(e));
		if (o->tmp)
			unlink(o->tmp);
	}
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
	return e ? -1 : 0;
}

void fg_outfile_discard(struct fg_outfile *o)
{
	if (o->f)
		fclose(o->f);
	if (o->tmp) {
		live_remove(o->tmp);
		unlink(o->tmp);
	}
	free(o->tmp);
	free(o->path);
	memset(o, 0, sizeof(*o));
}

int fg_outfile_same(const char *a, const char *b)
{
	struct stat sa, sb;
	int ha = stat(a, &sa) == 0, hb = stat(b, &sb) == 0;

	if (ha && hb)
		return S_ISREG(sa.st_mode) && S_ISREG(sb.st_mode) && sa.st_dev == sb.st_dev &&
		       sa.st_ino == sb.st_ino;
	if (ha || hb)
		return 0; /* one exists, the other does not */
	char *ra = resolved(a), *rb = resolved(b);
	int same = ra && rb ? strcmp(ra, rb) == 0 : strcmp(a, b) == 0;
	free(ra);
	free(rb);
	return same;
}

/* Whether path (a file that may not exist yet) lies inside directory dir,
 * at any depth, once links and dot segments are resolved. */
static int inside_dir(const char *path, const char *dir)
{
	char *rd = realpath(dir, NULL), *rp = realpath(path, NULL);
	int in = 0;

	if (!rp)
		rp = resolved(path);
	if (rd && rp) {
		size_t n = strlen(rd);
		in = strncmp(rp, rd, n) == 0 && (rp[n] == '/' || (n == 1 && rd[0] == '/'));
	}
	free(rd);
	free(rp);
	return in;
}

int fg_outfile_check_paths(const struct fg_path_use *outs, size_t nout,
			   const struct fg_path_use *ins, size_t nin, char *errstr,
			   size_t errstr_size)
{
	for (size_t i = 0; i < nout; i++) {
		if (!outs[i].path)
			continue;
		for (size_t j = 0; j < nin; j++) {
			struct stat st;
			for (size_t k = 0; ins[j].path && k < ins[j].nfiles; k++) {
				size_t n = strlen(ins[j].path) + strlen(ins[j].files[k]) + 2;
				char *f = malloc(n);
				int same = 0;
				if (f) {
					snprintf(f, n, "%s/%s", ins[j].path, ins[j].files[k]);
					same = fg_outfile_same(outs[i].path, f);
					free(f);
				}
				if (same) {
					fg_errf(errstr, errstr_size,
						"%s %s is the table %s of %s %s (an output would "
						"replace an input)",
						outs[i].option, outs[i].path, ins[j].files[k],
						ins[j].option, ins[j].path);
					return -1;
				}
			}
			if (ins[j].nfiles)
				continue;
			if (ins[j].path && stat(ins[j].path, &st) == 0 && S_ISDIR(st.st_mode)) {
				if (inside_dir(outs[i].path, ins[j].path)) {
					fg_errf(errstr, errstr_size,
						"%s %s is inside %s %s (no output may be written "
						"into an input directory)",
						outs[i].option, outs[i].path, ins[j].option, ins[j].path);
					return -1;
				}
				continue;
			}
			if (ins[j].path && fg_outfile_same(outs[i].path, ins[j].path)) {
				fg_errf(errstr, errstr_size,
					"%s and %s name the same file: %s (an output would replace "
					"an input)",
					outs[i].option, ins[j].option, outs[i].path);
				return -1;
			}
		}
		for (size_t j = 0; j < i; j++) {
			if (outs[j].path && fg_outfile_same(outs[i].path, outs[j].path)) {
				fg_errf(errstr, errstr_size,
					"%s and %s name the same file: %s (give each output its own)",
					outs[j].option, outs[i].option, outs[i].path);
				return -1;
			}
		}
	}
	return 0;
}
