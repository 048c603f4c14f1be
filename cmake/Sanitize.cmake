# Instrumented builds for issue 11 (hostile input): NATIVELM_SANITIZE adds ASan+UBSan to every
# target so the test suites fail on memory errors and undefined behaviour; NATIVELM_FUZZ builds
# the libFuzzer harnesses in fuzz/ and needs clang (CMAKE_CXX_COMPILER=clang++-14), in a build
# folder of its own (scripts/fuzz.sh uses build-fuzz/).
option(NATIVELM_SANITIZE "Build everything with -fsanitize=address,undefined (UB is fatal)" OFF)
option(NATIVELM_FUZZ "Build the libFuzzer harnesses in fuzz/ (clang only; implies the sanitizers)" OFF)

set(NATIVELM_SANITIZER_FLAGS
  -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)

if(NATIVELM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "NATIVELM_FUZZ needs clang for libFuzzer: "
                        "configure with -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14")
  endif()
  # Every object gets coverage edges and the sanitizers; only the harnesses link libFuzzer's main.
  add_compile_options(${NATIVELM_SANITIZER_FLAGS} -fsanitize=fuzzer-no-link -g)
  add_link_options(-fsanitize=address,undefined)
elseif(NATIVELM_SANITIZE)
  add_compile_options(${NATIVELM_SANITIZER_FLAGS} -g)
  add_link_options(-fsanitize=address,undefined)
endif()
