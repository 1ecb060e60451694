// tests/kernel_checks.hpp — comparisons shared by the kernel backend's tests through the host executor
// (test_kernel_models.cpp) and on a device (gpu/test_gpu_models.cpp), so both judge by the same rule.
#pragma once

#include <algorithm>
#include <cmath>

#include <doctest/doctest.h>
#include <photong/core/tensor.hpp>

namespace photong_test {

/// Worst |a - b| over a block, divided by the block's largest |b|: the error relative to the layer's scale. Checks the
/// shapes match and that `a` holds no NaN (an output a kernel never wrote, as the buffers are poisoned).
inline double scaled_error(const photong::Tensor& a, const photong::Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    double worst = 0, scale = 0;
    long nan = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        nan += std::isnan(a[i]);
        worst = std::max(worst, double(std::fabs(a[i] - b[i])));
        scale = std::max(scale, double(std::fabs(b[i])));
    }
    CHECK(nan == 0);
    return scale > 0 ? worst / scale : worst;
}

}  // namespace photong_test
