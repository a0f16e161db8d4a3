/*
 * thrd_shim.c: linked into ThreadSanitizer builds only.
 *
 * librdkafka uses C11 threads (thrd_create, mtx_lock, cnd_wait, ...).
 * glibc implements them by calling its internal pthread functions
 * directly, past the interceptors GCC 12's TSan installs: threads started
 * that way crash at their first allocation, and their locks are invisible,
 * which makes every hand-over through librdkafka look like a data race.
 * Defining the C11 functions in the executable routes them through the
 * intercepted pthread calls, as glibc's own definitions do (mtx_t and
 * cnd_t are glibc's pthread types underneath; the start routine is cast
 * the way glibc casts it).
 */
#include <errno.h>
#include <pthread.h>
#include <threads.h>
#include <time.h>

#pragma GCC diagnostic ignored "-Wcast-function-type"

static int c11(int rc)
{
	return rc == 0 ? thrd_success : rc == ETIMEDOUT ? thrd_timedout : rc == EBUSY ? thrd_busy :
	       rc == ENOMEM || rc == EAGAIN ? thrd_nomem : thrd_error;
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
	return c11(pthread_create((pthread_t *)thr, NULL, (void *(*)(void *))func, arg));
}

int thrd_join(thrd_t thr, int *res)
{
	void *r;
	int rc = pthread_join((pthread_t)thr, &r);
	if (rc == 0 && res)
		*res = (int)(long)r;
	return c11(rc);
}

int thrd_detach(thrd_t thr)
{
	return c11(pthread_detach((pthread_t)thr));
}

int mtx_init(mtx_t *m, int type)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	if (type & mtx_recursive)
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	int rc = pthread_mutex_init((pthread_mutex_t *)m, &a);
	pthread_mutexattr_destroy(&a);
	return c11(rc);
}

int mtx_lock(mtx_t *m) { return c11(pthread_mutex_lock((pthread_mutex_t *)m)); }
int mtx_trylock(mtx_t *m) { return c11(pthread_mutex_trylock((pthread_mutex_t *)m)); }
int mtx_unlock(mtx_t *m) { return c11(pthread_mutex_unlock((pthread_mutex_t *)m)); }
void mtx_destroy(mtx_t *m) { pthread_mutex_destroy((pthread_mutex_t *)m); }
int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts)
{
	return c11(pthread_mutex_timedlock((pthread_mutex_t *)m, ts));
}

int cnd_init(cnd_t *c) { return c11(pthread_cond_init((pthread_cond_t *)c, NULL)); }
int cnd_signal(cnd_t *c) { return c11(pthread_cond_signal((pthread_cond_t *)c)); }
int cnd_broadcast(cnd_t *c) { return c11(pthread_cond_broadcast((pthread_cond_t *)c)); }
void cnd_destroy(cnd_t *c) { pthread_cond_destroy((pthread_cond_t *)c); }
int cnd_wait(cnd_t *c, mtx_t *m)
{
	return c11(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}
int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict ts)
{
	return c11(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, ts));
}
