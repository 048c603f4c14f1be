// gumbo parsing into tracked memory, freed without recursion, and the tree's measured size.
#include "curate/gumbo_tree.h"

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

namespace nlm::curate {

// A header in front of each allocation; its size keeps the payload aligned for any type.
struct alignas(std::max_align_t) GumboTree::Block {
  Block* prev;
  Block* next;
};

void* GumboTree::allocate(void* self, size_t bytes) {
  auto* tree = static_cast<GumboTree*>(self);
  auto* b = static_cast<Block*>(std::malloc(sizeof(Block) + bytes));
  if (!b) throw std::bad_alloc();  // gumbo cannot take a null block; the constructor frees all
  b->prev = nullptr;
  b->next = tree->blocks_;
  if (tree->blocks_) tree->blocks_->prev = b;
  tree->blocks_ = b;
  return b + 1;
}

void GumboTree::deallocate(void* self, void* ptr) {
  if (!ptr) return;
  auto* tree = static_cast<GumboTree*>(self);
  Block* b = static_cast<Block*>(ptr) - 1;
  if (b->prev) b->prev->next = b->next;
  else tree->blocks_ = b->next;
  if (b->next) b->next->prev = b->prev;
  std::free(b);
}

GumboTree::GumboTree(std::string_view html) {
  GumboOptions options = kGumboDefaultOptions;
  options.max_errors = 0;
  options.allocator = &GumboTree::allocate;
  options.deallocator = &GumboTree::deallocate;
  options.userdata = this;
  try {
    output_ = gumbo_parse_with_options(&options, html.data(), html.size());
  } catch (...) {
    release();
    throw;
  }
}

GumboTree::~GumboTree() { release(); }

// The whole tree at once, in a loop; gumbo_destroy_output would recurse per nesting level.
void GumboTree::release() {
  while (blocks_) {
    Block* next = blocks_->next;
    std::free(blocks_);
    blocks_ = next;
  }
  output_ = nullptr;
}

GumboTreeSize GumboTree::size() const {
  GumboTreeSize size;
  std::vector<std::pair<const GumboNode*, int64_t>> stack;
  auto push_children = [&stack](const GumboVector& children, int64_t depth) {
    for (unsigned i = 0; i < children.length; ++i)
      stack.emplace_back(static_cast<const GumboNode*>(children.data[i]), depth);
  };
  push_children(output_->document->v.document.children, 1);
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    ++size.nodes;
    if (node->type != GUMBO_NODE_ELEMENT && node->type != GUMBO_NODE_TEMPLATE) continue;
    size.depth = std::max(size.depth, depth);
    push_children(node->v.element.children, depth + 1);
  }
  return size;
}

}  // namespace nlm::curate
