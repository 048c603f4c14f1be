// Binding of corpus::ReadOptions into command schemas.
#include "cli/read_flags.h"

namespace nlm::cli {

void add_read_options(opt::Schema& schema, corpus::ReadOptions& read, corpus::ShardOptions* output) {
  size_t before = schema.fields().size();
  corpus::declare(schema, read);
  for (size_t i = before; i < schema.fields().size(); ++i) schema.fields()[i].no_yaml().no_json();
  if (output)
    schema.derive([&read, output] {
      output->write.text_field = read.text_field;
      output->write.id_field = read.id_field;
    });
}

}  // namespace nlm::cli
