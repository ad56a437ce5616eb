//go:build linux && cgo

package main

/*
#include <malloc.h>
#include <stddef.h>

// glibc gives each thread that contends for the C heap an arena of its
// own, up to eight per core, and an arena hardly ever shrinks: SQLite,
// called from many threads, leaves memory scattered over a dozen of them.

// malloc_trim is glibc's. It is declared weak so that Herald still links
// against a C library without it (musl), where the call is skipped.
extern int malloc_trim(size_t pad) __attribute__((weak));

static void herald_limit_c_arenas(int n) {
#ifdef M_ARENA_MAX
	mallopt(M_ARENA_MAX, n);
#endif
}

static void herald_trim_c_heap(void) {
	if (malloc_trim) {
		malloc_trim(0);
	}
}
*/
import "C"

// limitCArenas caps how many arenas the C allocator keeps, so that the
// memory SQLite frees can be reused and returned. Call it before the
// database is opened.
func limitCArenas(n int) { C.herald_limit_c_arenas(C.int(n)) }

// trimCHeap returns the C allocator's free memory (SQLite's, mostly) to
// the operating system.
func trimCHeap() { C.herald_trim_c_heap() }
