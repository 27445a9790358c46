// The fixture most end-to-end tests share: a LocalCluster of their own, and when a test fails,
// every process's log printed and the cluster's directory kept for a look.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>

#include "testing/local_cluster.hpp"

namespace hostline::testing {

class ClusterTest : public ::testing::Test {
  protected:
    void TearDown() override {
        if (HasFailure()) {
            cluster.keep_dir();
            std::fprintf(stderr, "%s", cluster.logs().c_str());
        }
    }

    LocalCluster cluster;
};

}  // namespace hostline::testing
