// gumbo's tree, owned so that a hostile page cannot hurt us after it is parsed: every block gumbo
// allocates is tracked, so the tree is freed in one loop instead of gumbo's teardown (which
// recurses once per level of nesting), and the tree's real depth and node count are measured
// with an explicit stack. HtmlOptions' max_depth and max_nodes are checked against these.
#pragma once
#include <gumbo.h>

#include <cstdint>
#include <string_view>

namespace nlm::curate {

struct GumboTreeSize {
  int64_t depth = 0;  // elements on the longest path from the root (html = 1)
  int64_t nodes = 0;  // elements, text runs (whitespace included), comments and CDATA
};

class GumboTree {
 public:
  // Parses `html` without recording parse errors (they would copy the open-element stack each
  // time). Throws std::bad_alloc when memory runs out.
  explicit GumboTree(std::string_view html);
  ~GumboTree();
  GumboTree(const GumboTree&) = delete;
  GumboTree& operator=(const GumboTree&) = delete;

  GumboNode* document() const { return output_->document; }
  GumboTreeSize size() const;

 private:
  struct Block;
  static void* allocate(void* self, size_t bytes);
  static void deallocate(void* self, void* ptr);
  void release();
  Block* blocks_ = nullptr;  // every live allocation, in a doubly linked list
  GumboOutput* output_ = nullptr;
};

}  // namespace nlm::curate
