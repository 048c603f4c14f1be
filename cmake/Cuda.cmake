# The optional CUDA backend (src/tensor/cuda/): nvcc, cuBLASLt and NCCL. NATIVELM_CUDA is AUTO
# (on when check_language finds nvcc), ON (fail without nvcc) or OFF. The CUDA sources build into
# their own static library, nativelm_cuda, linked into nativelm_lib; code that needs to know sees
# the compile definition NATIVELM_HAS_CUDA. CMake 3.25 cannot ask nvcc for C++20 on its own, hence
# the explicit flags (../shared/DEPS.md).
# A build folder configured when NATIVELM_CUDA was an OFF-by-default option() holds it as a
# BOOL; that default moves to AUTO. (Scripts that want it off say -DNATIVELM_CUDA:STRING=OFF:
# an untyped -D would keep the old BOOL type and be moved too.)
get_property(nativelm_cuda_type CACHE NATIVELM_CUDA PROPERTY TYPE)
if(nativelm_cuda_type STREQUAL "BOOL")
  set(NATIVELM_CUDA AUTO CACHE STRING
      "Build the CUDA backend: AUTO (when nvcc is found), ON or OFF" FORCE)
endif()
set(NATIVELM_CUDA AUTO CACHE STRING "Build the CUDA backend: AUTO (when nvcc is found), ON or OFF")
set_property(CACHE NATIVELM_CUDA PROPERTY STRINGS AUTO ON OFF)
string(TOUPPER "${NATIVELM_CUDA}" NATIVELM_CUDA_MODE)
set(NATIVELM_CUDA_ENABLED OFF)
if(NATIVELM_CUDA_MODE STREQUAL "AUTO" OR NATIVELM_CUDA)
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(NATIVELM_CUDA_ENABLED ON)
  elseif(NOT NATIVELM_CUDA_MODE STREQUAL "AUTO")
    message(FATAL_ERROR "NATIVELM_CUDA=ON but no nvcc was found; install the CUDA toolkit or pass -DNATIVELM_CUDA=OFF")
  endif()
endif()
message(STATUS "nativelm: CUDA backend ${NATIVELM_CUDA_ENABLED} (NATIVELM_CUDA=${NATIVELM_CUDA})")
if(NOT NATIVELM_CUDA_ENABLED)
  return()
endif()

# sm_80 (A100) and sm_90 (H100/H200): one SASS pass each, plus PTX of the newest for later GPUs.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES "80-real;90")
endif()
enable_language(CUDA)
if(CMAKE_VERSION VERSION_LESS 3.26)
  set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION  "-std=c++20")
  set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
endif()
set(CMAKE_CUDA_STANDARD 20)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
set(CMAKE_CUDA_EXTENSIONS OFF)
find_package(CUDAToolkit REQUIRED)
# NCCL, for multi-GPU training: the imported target NCCL::nccl exists when it is installed.
find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR})
if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
  add_library(NCCL::nccl UNKNOWN IMPORTED)
  set_target_properties(NCCL::nccl PROPERTIES IMPORTED_LOCATION "${NCCL_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${NCCL_INCLUDE_DIR}")
else()
  message(STATUS "nativelm: NCCL not found; multi-GPU training needs it")
endif()

file(GLOB NATIVELM_CUDA_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/src/tensor/cuda/*.cu ${CMAKE_SOURCE_DIR}/src/tensor/cuda/*.cc)
add_library(nativelm_cuda STATIC ${NATIVELM_CUDA_SOURCES})
target_include_directories(nativelm_cuda PRIVATE ${CMAKE_SOURCE_DIR}/src)
# nvcc warnings: the host compiler's -Wall -Wextra, and nvcc's own (reordered initialisers,
# kernels launched on the legacy default stream).
target_compile_options(nativelm_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra --Wreorder --Wdefault-stream-launch>)
# cuBLASLt and cuBLAS are opened with dlopen at the first matmul (cublas_loader.h): linking them
# would add ~0.13 s and ~200 MB to the start of every process, GPU or not.
target_compile_definitions(nativelm_cuda PRIVATE NLM_CUDA_LIBRARY_DIR="${CUDAToolkit_LIBRARY_DIR}")
target_link_libraries(nativelm_cuda PUBLIC CUDA::cudart ${CMAKE_DL_LIBS}
  PRIVATE $<LINK_ONLY:nativelm_lib>)
target_link_libraries(nativelm_lib PUBLIC nativelm_cuda)
# NATIVELM_HAVE_CUDA is the older spelling (build_info.cc, the attention tests): the same meaning.
target_compile_definitions(nativelm_lib PUBLIC NATIVELM_HAS_CUDA NATIVELM_HAVE_CUDA=1)
