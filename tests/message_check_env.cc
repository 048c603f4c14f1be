// Linked into every test binary: while the tests run, each error message and warning line the
// library forms (core/message_check.h) must have no control character and fit in
// kMaxMessageBytes; a message that breaks the rule fails the test that produced it, quoting the
// message escaped.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "core/message_check.h"

namespace {

void check_message(std::string_view message) {
  if (nlm::message_is_clean(message)) return;
  ADD_FAILURE() << "a user-facing message breaks the message rule (" << message.size()
                << " bytes, at most " << nlm::kMaxMessageBytes << ", no control characters): "
                << nlm::printable(message, 2000);
}

class MessageCheck : public ::testing::Environment {
 public:
  void SetUp() override { nlm::set_message_observer(check_message); }
  void TearDown() override { nlm::set_message_observer(nullptr); }
};

[[maybe_unused]] ::testing::Environment* const kMessageCheck =
    ::testing::AddGlobalTestEnvironment(new MessageCheck);

}  // namespace
