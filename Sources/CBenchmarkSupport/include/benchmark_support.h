#ifndef SWITCHBOARD_BENCHMARK_SUPPORT_H
#define SWITCHBOARD_BENCHMARK_SUPPORT_H
#include <stddef.h>

/** Bytes of heap currently allocated (glibc's mallinfo2().uordblks). */
size_t switchboard_bench_heap_in_use(void);

#endif
