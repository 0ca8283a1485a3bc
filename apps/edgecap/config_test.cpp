#include "apps/edgecap/config.h"

#include <gtest/gtest.h>

namespace edgecap::app {
namespace {

TEST(Config, Placeholder) { EXPECT_FALSE(ConfigKeys().empty()); }

}  // namespace
}  // namespace edgecap::app
