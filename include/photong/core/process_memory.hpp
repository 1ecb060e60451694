// photong/core/process_memory.hpp — a program-wide choice about freed memory, for programs that run one job.
//
// Every page a process touches for the first time costs a page fault; on the virtual machines we measured
// (a 2-core AMD EPYC and a 2-core AVX2 cloud machine) that is several microseconds per 4 KiB page, so a
// 125 MB working set costs over 100 ms in faults alone. glibc hands out blocks above 128 KiB (rising to 32 MiB
// as they are freed) with mmap and returns them on free, so each InceptionV3 layer's output map, each
// temporary while loading, arrives as fresh pages and faults again. Keeping freed blocks in the heap lets the
// next map reuse pages already touched. It is a process-wide setting, so the library never makes it by
// itself: the command-line programs call keep_freed_memory() first thing, and an embedding program may.
#pragma once

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace photong {

/// Serve blocks up to 32 MiB (InceptionV3's largest map is 5.5 MB) from the heap and keep freed ones for reuse
/// (glibc; elsewhere nothing). Returns whether it changed anything. Costs address space the size of the largest working set, which a one-shot program
/// gives back at exit anyway.
inline bool keep_freed_memory() {
#if defined(__GLIBC__)
    const bool mmap_ok = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;  // glibc's largest (half its 64 MiB heap size)
    const bool trim_ok = mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
    return mmap_ok && trim_ok;
#else
    return false;
#endif
}

}  // namespace photong
