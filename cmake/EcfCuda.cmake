# The CUDA toolchain for a CUDA build of libtorch (a CUDA PyTorch wheel, or LibTorch), included by
# CMakeLists.txt before find_package(Torch), whose CUDA setup (Caffe2's public/cuda.cmake) reads it.
#
#   nvcc           CMAKE_CUDA_COMPILER or CUDACXX, else CUDA_HOME / CUDA_PATH, else nvcc on PATH or
#                  in /usr/local/cuda. A wrapper script in front of a toolkit (/usr/local/bin/nvcc
#                  running /usr/local/cuda-13.0/bin/nvcc) is resolved to that toolkit: nvcc -dryrun
#                  prints TOP=<toolkit>/bin/.. . PyTorch's CMake takes nvcc's parent folder for the
#                  toolkit, which for a wrapper is the wrong one.
#   nvidia wheels  site-packages/nvidia/<package>/{include,lib} beside a torch wheel: the CUDA
#                  runtime, cuBLAS, cuSPARSE, cuSOLVER and NVRTC (which a minimal toolkit lacks),
#                  cuDNN and NCCL. Their headers go on the include path after the toolkit's, their
#                  folders on the addon's RUNPATH. Their libraries carry only versioned names
#                  (libcublas.so.13), which find_library does not take: unversioned links to them
#                  in the build folder let CMake find them; the addon records the SONAMEs.
#   standards      the .cu files include no torch header: C++17, whatever the .cc files need
#                  (Debian's cmake 3.25 cannot ask nvcc for C++20).
#   architectures  ECF_CUDA_ARCHS (-D or environment; default 80;90;100): the CUDA_ARCHITECTURES of
#                  the addon's target (CMakeLists.txt) for our .cu files, and TORCH_CUDA_ARCH_LIST
#                  (8.0;9.0;10.0) for PyTorch's CMake, which ignores (and turns off)
#                  CMAKE_CUDA_ARCHITECTURES and, with no GPU visible, would otherwise target every
#                  architecture from 5.0 (nvcc 13 rejects compute_50).
# Sets: ECF_CUDA_ROOT, ECF_CUDA_ARCHS, ECF_CUDA_INCLUDE_DIRS, ECF_CUDA_RUNPATH.

# -- nvcc and its toolkit ----------------------------------------------------------------------
set(ECF_NVCC "")
if(CMAKE_CUDA_COMPILER)
  set(ECF_NVCC "${CMAKE_CUDA_COMPILER}")
elseif(DEFINED ENV{CUDACXX})
  set(ECF_NVCC "$ENV{CUDACXX}")
else()
  foreach(home "$ENV{CUDA_HOME}" "$ENV{CUDA_PATH}")
    if(home AND EXISTS "${home}/bin/nvcc")
      set(ECF_NVCC "${home}/bin/nvcc")
      break()
    endif()
  endforeach()
  if(NOT ECF_NVCC)
    unset(ECF_NVCC_FOUND CACHE)
    find_program(ECF_NVCC_FOUND nvcc PATHS /usr/local/cuda/bin)
    set(ECF_NVCC "${ECF_NVCC_FOUND}")
  endif()
endif()
if(NOT ECF_NVCC)
  message(FATAL_ERROR
    "ecacface-torch: libtorch from ${ECF_TORCH_SOURCE} is a CUDA build, and nvcc was not found.\n"
    "  PyTorch's CMake config of a CUDA build needs the CUDA toolkit (nvcc), even to build the addon\n"
    "  for the CPU only (--cpu). Install the toolkit of that CUDA version and put nvcc on PATH (or set\n"
    "  CUDA_HOME), or build against a CPU build of PyTorch or libtorch.")
endif()
execute_process(COMMAND "${ECF_NVCC}" -dryrun -x cu -c /dev/null -o /dev/null
  OUTPUT_VARIABLE ECF_NVCC_OUT ERROR_VARIABLE ECF_NVCC_OUT RESULT_VARIABLE ECF_NVCC_RC)
string(REGEX MATCH "#\\$ TOP=([^\n]+)" _ "${ECF_NVCC_OUT}")
if(CMAKE_MATCH_1)
  get_filename_component(ECF_CUDA_ROOT "${CMAKE_MATCH_1}" REALPATH)
else()
  get_filename_component(ECF_NVCC_REAL "${ECF_NVCC}" REALPATH)
  get_filename_component(ECF_CUDA_ROOT "${ECF_NVCC_REAL}/../.." REALPATH)
endif()
if(NOT EXISTS "${ECF_CUDA_ROOT}/bin/nvcc")
  message(FATAL_ERROR "ecacface-torch: ${ECF_NVCC} runs no toolkit found at ${ECF_CUDA_ROOT}: set CUDA_HOME to the CUDA toolkit")
endif()
set(CMAKE_CUDA_COMPILER "${ECF_CUDA_ROOT}/bin/nvcc" CACHE FILEPATH "nvcc" FORCE)
set(CUDA_TOOLKIT_ROOT_DIR "${ECF_CUDA_ROOT}" CACHE PATH "the CUDA toolkit" FORCE)
set(CUDAToolkit_ROOT "${ECF_CUDA_ROOT}")

# -- the nvidia wheels beside a torch wheel ----------------------------------------------------
set(ECF_CUDA_INCLUDE_DIRS "")
set(ECF_CUDA_RUNPATH "")
get_filename_component(ECF_NVIDIA_DIR "${ECF_TORCH_ROOT}/../nvidia" ABSOLUTE)
if(IS_DIRECTORY "${ECF_NVIDIA_DIR}")
  file(GLOB ECF_CUDA_INCLUDE_DIRS LIST_DIRECTORIES true "${ECF_NVIDIA_DIR}/*/include")
  file(GLOB ECF_CUDA_RUNPATH LIST_DIRECTORIES true "${ECF_NVIDIA_DIR}/*/lib")
  set(links "${CMAKE_BINARY_DIR}/nvidia-lib-links")
  file(REMOVE_RECURSE "${links}")
  file(MAKE_DIRECTORY "${links}")
  foreach(dir ${ECF_CUDA_RUNPATH})
    file(GLOB sos "${dir}/lib*.so.*")
    foreach(so ${sos})
      get_filename_component(name "${so}" NAME)
      string(REGEX REPLACE "\\.so\\..*$" ".so" plain "${name}")
      if(NOT EXISTS "${links}/${plain}")
        file(CREATE_LINK "${so}" "${links}/${plain}" SYMBOLIC)
      endif()
    endforeach()
  endforeach()
  list(APPEND CMAKE_LIBRARY_PATH "${links}")
  list(APPEND CMAKE_INCLUDE_PATH ${ECF_CUDA_INCLUDE_DIRS})
endif()

# -- standards and architectures ---------------------------------------------------------------
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
if(NOT ECF_CUDA_ARCHS)
  if(DEFINED ENV{ECF_CUDA_ARCHS} AND NOT "$ENV{ECF_CUDA_ARCHS}" STREQUAL "")
    set(ECF_CUDA_ARCHS "$ENV{ECF_CUDA_ARCHS}")
  else()
    set(ECF_CUDA_ARCHS "80;90;100")
  endif()
endif()
string(REPLACE "," ";" ECF_CUDA_ARCHS "${ECF_CUDA_ARCHS}")
set(TORCH_CUDA_ARCH_LIST "")
foreach(a ${ECF_CUDA_ARCHS})
  string(REGEX REPLACE "^([0-9]+)([0-9])([a-z]?)$" "\\1.\\2\\3" dotted "${a}")
  list(APPEND TORCH_CUDA_ARCH_LIST "${dotted}")
endforeach()
message(STATUS "ecacface-torch: CUDA toolkit ${ECF_CUDA_ROOT} (nvcc ${ECF_NVCC}); architectures ${ECF_CUDA_ARCHS}; nvidia wheels: ${ECF_NVIDIA_DIR}")
