// Turns what the user typed (files, directories, glob patterns) into a sorted, de-duplicated list
// of input files. Directories are walked recursively; hidden files and the manifest/report files
// that nativelm writes beside its outputs are left out, so an output folder is a valid input.
#pragma once
#include <string>
#include <vector>

namespace nlm::corpus {

// Throws a usage nlm::Error naming the spec when a path does not exist or a glob matches nothing.
std::vector<std::string> expand_inputs(const std::vector<std::string>& specs);
// Sum of the on-disk sizes (for progress ETAs).
unsigned long long total_size(const std::vector<std::string>& files);

}  // namespace nlm::corpus
