# Building silos: used by the Sluice tree itself and installed with the SDK.
#
# sluice_add_silo(NAME SOURCES src... [LIBRARIES lib...])
#   Builds the silo executable NAME: freestanding, static, linked at
#   0x400000 with the runtime (crt0, system calls, libc subset) and libchan.
#
# Expects SLUICE_SILO_LINKER_SCRIPT, SLUICE_SYS_TARGET and SLUICE_CHAN_TARGET
# (and optionally SLUICE_SILO_OUTPUT_DIR) to be set by whoever includes it.

# Silos may use x87, SSE and AVX (with -mavx or intrinsics): the kernel
# keeps every thread's FPU/vector registers apart (docs/architecture.md).
set(SLUICE_SILO_FLAGS
  -ffreestanding -fno-pie -fno-pic -fcf-protection=none -fno-stack-protector
  -fno-builtin -fno-tree-loop-distribute-patterns
  -std=gnu11 -O2 -g -Wall -Wextra -Werror)

# Sealed: silos see only Sluice's headers (libsys, libchan, abi) and the
# compiler's freestanding ones (stddef.h, stdint.h, stdarg.h, stdbool.h...),
# never the host's C library; calling what libsys lacks is a compile error.
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
  OUTPUT_VARIABLE SLUICE_CC_INCLUDE OUTPUT_STRIP_TRAILING_WHITESPACE)
list(APPEND SLUICE_SILO_FLAGS -nostdinc -isystem ${SLUICE_CC_INCLUDE}
  -Werror=implicit-function-declaration)

function(sluice_add_silo name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBRARIES" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_compile_options(${name} PRIVATE ${SLUICE_SILO_FLAGS})
  target_link_options(${name} PRIVATE
    -nostdlib -static -no-pie -Wl,-T,${SLUICE_SILO_LINKER_SCRIPT}
    -Wl,-z,max-page-size=0x1000 -Wl,--build-id=none -Wl,-z,noexecstack)
  target_link_libraries(${name} PRIVATE ${A_LIBRARIES} ${SLUICE_CHAN_TARGET} ${SLUICE_SYS_TARGET})
  set_target_properties(${name} PROPERTIES LINK_DEPENDS ${SLUICE_SILO_LINKER_SCRIPT})
  if(SLUICE_SILO_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${SLUICE_SILO_OUTPUT_DIR})
  endif()
endfunction()
