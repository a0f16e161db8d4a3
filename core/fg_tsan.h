/*
 * fg_tsan.h: happens-before annotations for ThreadSanitizer.
 *
 * Concurrency Kit's rings and liburcu order memory with their own fences
 * and inline assembly, which TSan cannot see. Where ownership of memory
 * crosses threads through them, the code states the edge: the sender
 * releases the object before publishing it, the receiver acquires it after
 * taking it. Outside a TSan build these are empty.
 */
#ifndef FG_TSAN_H
#define FG_TSAN_H

#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define FG_TSAN_RELEASE(p) __tsan_release((void *)(p))
#define FG_TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
#else
#define FG_TSAN_RELEASE(p) ((void)(p))
#define FG_TSAN_ACQUIRE(p) ((void)(p))
#endif

#endif
