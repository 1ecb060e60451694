// tests/gpu/device_test_main.hpp — the main() of the GPU test programs: exit 77 (ctest: skipped, never passed) when
// no CUDA device is usable, else name the device and run the doctest cases.
#pragma once

#include <cstdio>
#include <string>

#include <doctest/doctest.h>
#include <photong/cuda/runtime.hpp>

namespace photong_test {

/// `skipped_because` is printed when there is no device; `about` (may be empty) after the device's name.
inline int run_device_tests(int argc, char** argv, const char* skipped_because, const std::string& about = "") {
    if (photong::cuda::device_count() == 0) {
        std::printf("skipped: no CUDA device (%s)\n", skipped_because);
        return 77;
    }
    cudaDeviceProp prop{};
    photong::cuda::check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    std::printf("device 0: %s, sm_%d%d, %.1f GiB%s\n", prop.name, prop.major, prop.minor, prop.totalGlobalMem / 1073741824.0, about.c_str());
    doctest::Context context(argc, argv);
    return context.run();
}

}  // namespace photong_test
