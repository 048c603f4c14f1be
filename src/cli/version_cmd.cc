// `nativelm version`: version, compiler, BLAS, CUDA/MPI, the devices this process sees and CPU
// features, for bug reports.
#include "cli/command.h"
#include "core/build_info.h"
#include "tensor/backend.h"

namespace {

void setup(CLI::App& root, nlm::cli::Actions& actions) {
  auto* sub = root.add_subcommand("version", "Print the version, compiler, BLAS, CUDA and CPU features");
  actions[sub] = [] {
    nlm::BuildInfo b = nlm::build_info();
    std::string features;
    for (const auto& f : b.cpu_features) features += (features.empty() ? "" : " ") + f;
    std::printf("nativelm %s\n", b.version.c_str());
    std::printf("compiler:  %s (%s build)\n", b.compiler.c_str(), b.build_flags.c_str());
    std::printf("blas:      %s\n", b.blas.c_str());
    std::printf("cuda:      %s\n", b.cuda ? "on" : "off");
    std::string devices;
    for (const auto& d : nlm::tensor::registered_devices()) devices += (devices.empty() ? "" : ", ") + d;
    std::printf("devices:   %s\n", devices.c_str());
    std::printf("mpi:       %s\n", b.mpi ? "on" : "off");
    std::printf("cpu:       %s (%d hardware threads)\n", features.empty() ? "baseline" : features.c_str(),
                b.hardware_threads);
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(90, setup);
