/*
 * fg_refstore.h: the reference tables in force, read without locks.
 *
 * DESIGN
 * Build, validate, publish, retire. A reload (SIGHUP) loads a new
 * fg_refdata off the hot path; if any file is refused, nothing changes and
 * the reason is returned. Otherwise the new set is published with one
 * pointer exchange (rcu_xchg_pointer), and the old one is freed after a
 * liburcu QSBR grace period: once every worker thread has passed a
 * quiescent state (between two batches) or is offline (waiting for work),
 * no worker can still hold the old pointer. Workers pay one plain load per
 * batch; nothing on the per-message path locks or fences.
 *
 * A batch is assessed entirely with the set its worker read at the batch
 * start, and every assessment carries that set's fingerprint.
 */
#ifndef FG_REFSTORE_H
#define FG_REFSTORE_H

#include <stddef.h>

#include "fg_refdata.h"

/* Installs the first set (owned by the store from now on). */
void fg_refstore_init(struct fg_refdata *rd);
/* Frees the current set; no reader may be online. */
void fg_refstore_fini(void);

/*
 * Loads dir and, if it is valid, makes it current and frees the previous
 * set after a grace period. Returns 0 (and the new fingerprint in fp, 33
 * bytes) or -1 with the reason; on -1 the current set stays. Not for worker
 * threads (it waits for them). One reloader at a time.
 */
int fg_refstore_reload(const char *dir, char *fp, char *errstr, size_t errstr_size);

/* Worker side (@locality: registered reader threads). */
void fg_refstore_reader_register(void);
void fg_refstore_reader_unregister(void);
/* The current set; valid until the caller's next quiescent state. */
const struct fg_refdata *fg_refstore_get(void);
/* "I hold no reference any more" (between batches). */
void fg_refstore_quiescent(void);
/* Around waits for work, so a reload never waits on an idle worker. */
void fg_refstore_offline(void);
void fg_refstore_online(void);

#endif
