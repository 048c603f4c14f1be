// backend_for(): device names resolve to backends, unknown or unavailable devices are usage
// errors that list what this build has, and registered backends join the list (so the
// parametrised op tests in ops_test.cc run on them too).
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "fake_backend.h"
#include "tensor/backend.h"

namespace nlm::testing {
namespace {

std::string usage_message(const std::string& device) {
  try {
    tensor::backend_for(device);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    return e.what();
  }
  ADD_FAILURE() << "no error for device '" << device << "'";
  return {};
}

TEST(BackendRegistry, CpuIsAlwaysThere) {
  EXPECT_EQ(tensor::backend_for("cpu").name(), "cpu");
  EXPECT_EQ(&tensor::backend_for("cpu"), &tensor::backend_for("cpu"));
  EXPECT_EQ(tensor::registered_devices().front(), "cpu");
}

TEST(BackendRegistry, RegisteredBackendIsFoundByName) {
  FakeBackend& fake = fake_backend();
  EXPECT_EQ(&tensor::backend_for("fake"), &fake);
  auto names = tensor::registered_devices();
  EXPECT_NE(std::find(names.begin(), names.end(), "fake"), names.end());
  // The same backend again is fine; another one under a taken name is not.
  tensor::register_backend("fake", fake);
  FakeBackend other;
  EXPECT_THROW(tensor::register_backend("fake", other), Error);
  EXPECT_THROW(tensor::register_backend("cpu", other), Error);
}

TEST(BackendRegistry, UnknownAndUnavailableDevicesAreUsageErrors) {
  fake_backend();
  std::string unknown = usage_message("tpu");
  EXPECT_NE(unknown.find("unknown device 'tpu'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("this build has: cpu, "), std::string::npos) << unknown;  // cpu first
  EXPECT_NE(unknown.find("fake"), std::string::npos) << unknown;
  // "cuda" is only unavailable without a GPU (or in a build without CUDA); "cuda:99" always is.
  auto names = tensor::registered_devices();
  bool gpu = std::find(names.begin(), names.end(), "cuda:0") != names.end();
  for (std::string dev : gpu ? std::vector<std::string>{"cuda:99"}
                             : std::vector<std::string>{"cuda", "cuda:1", "cuda:99"}) {
    std::string msg = usage_message(dev);
    EXPECT_NE(msg.find("'" + dev + "' is not available"), std::string::npos) << msg;
    EXPECT_NE(msg.find("this build has: cpu"), std::string::npos) << msg;
  }
}

TEST(BackendRegistry, SupportsAndOpNames) {
  auto& cpu = tensor::backend_for("cpu");
  for (int i = 0; i < tensor::kOpCount; ++i) {
    auto op = static_cast<tensor::Op>(i);
    for (auto dt : {tensor::DType::F32, tensor::DType::F64, tensor::DType::BF16})
      EXPECT_TRUE(cpu.supports(op, dt)) << tensor::op_name(op) << " " << tensor::dtype_name(dt);
    EXPECT_FALSE(cpu.supports(op, tensor::DType::F16)) << tensor::op_name(op);
    EXPECT_FALSE(cpu.supports(op, tensor::DType::I32)) << tensor::op_name(op);
    EXPECT_STRNE(tensor::op_name(op), "unknown op");
  }
  EXPECT_GT(cpu.peak_flops(), 1e8);  // any machine that runs the tests does 0.1 GFLOP/s
  // An unsupported op throws instead of computing something.
  FakeBackend fake;
  EXPECT_FALSE(fake.supports(tensor::Op::AttentionCached, tensor::DType::F32));
  tensor::Tensor q = fake.zeros({1, 1, 4}, tensor::DType::F32), o = fake.empty({1, 1, 4}, tensor::DType::F32);
  tensor::Tensor cache = fake.zeros({2, 1, 4}, tensor::DType::F32);
  EXPECT_THROW(fake.attention_cached(o, q, cache, cache, 0, 1), Error);
  EXPECT_EQ(fake.calls(tensor::Op::AttentionCached), 0);
}

}  // namespace
}  // namespace nlm::testing
