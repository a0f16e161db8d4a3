#include "fg_refstore.h"

#include <urcu/urcu-qsbr.h>

#include "../core/fg_tsan.h"

static struct fg_refdata *current;

void fg_refstore_init(struct fg_refdata *rd)
{
	FG_TSAN_RELEASE(rd);
	rcu_assign_pointer(current, rd);
}

void fg_refstore_fini(void)
{
	struct fg_refdata *rd = rcu_xchg_pointer(&current, NULL);

	urcu_qsbr_synchronize_rcu();
	FG_TSAN_ACQUIRE(&current);
	fg_refdata_destroy(rd);
}

int fg_refstore_reload(const char *dir, char *fp, char *errstr, size_t errstr_size)
{
	struct fg_refdata *next = fg_refdata_load(dir, errstr, errstr_size), *old;

	if (!next)
		return -1;
	if (fp)
		snprintf(fp, 33, "%s", next->fingerprint);
	FG_TSAN_RELEASE(next);
	old = rcu_xchg_pointer(&current, next);
	/* Every reader passes a quiescent state (or is offline) after this. */
	urcu_qsbr_synchronize_rcu();
	FG_TSAN_ACQUIRE(&current); /* readers released it at their quiescent states */
	fg_refdata_destroy(old);
	return 0;
}

void fg_refstore_reader_register(void)
{
	urcu_qsbr_register_thread();
}

void fg_refstore_reader_unregister(void)
{
	urcu_qsbr_unregister_thread();
}

const struct fg_refdata *fg_refstore_get(void)
{
	const struct fg_refdata *rd = rcu_dereference(current);

	FG_TSAN_ACQUIRE(rd);
	return rd;
}

void fg_refstore_quiescent(void)
{
	FG_TSAN_RELEASE(&current);
	urcu_qsbr_quiescent_state();
}

void fg_refstore_offline(void)
{
	FG_TSAN_RELEASE(&current);
	urcu_qsbr_thread_offline();
}

void fg_refstore_online(void)
{
	urcu_qsbr_thread_online();
}
