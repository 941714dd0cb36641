# Building bootable images and QEMU scenarios.
#
# sluice_iso(NAME [CMDLINE text] [MODULES target-or-path[:arg...]...])
#   Writes ${CMAKE_BINARY_DIR}/NAME.iso with tools/sluice-image: GRUB, the
#   kernel with the given command line, one module per entry ("ticker:A:3"
#   boots silo ticker with argv {"ticker", "A", "3"}); grub.cfg is kept in
#   iso/NAME/, the resolved module list in iso/NAME.modules. "path*N:args"
#   repeats a module N times, as silos path-1 .. path-N (GRUB loads the one
#   file once per line, so the ISO holds a single copy).
#
# sluice_scenario(NAME [CMDLINE ...] [MODULES ...] MARKER text [TIMEOUT s])
#   An ISO plus a ctest test (labels qemu) that passes only when QEMU exits
#   with status 33 and the log holds MARKER.
#
# sluice_scenario_expect_failure(NAME [CMDLINE ...] [MODULES ...] EXPECT text...
#                                [FORBID text...] [STATUS n])
#   A ctest test that passes only when QEMU exits with STATUS (default 35,
#   the kernel's failure report), the log holds every EXPECT line and no
#   FORBID text: it shows the runner can fail, and checks what a failing
#   run reports.

# sluice_add_silo comes from SluiceSilo.cmake, shared with the installed SDK.
set(SLUICE_SILO_LINKER_SCRIPT ${CMAKE_SOURCE_DIR}/libsys/silo.ld)
set(SLUICE_SYS_TARGET sluice_sys)
set(SLUICE_CHAN_TARGET chan)
set(SLUICE_SILO_OUTPUT_DIR ${CMAKE_BINARY_DIR}/silos)
include(${CMAKE_CURRENT_LIST_DIR}/SluiceSilo.cmake)

# One generator makes every image: tools/sluice-image (./sluice run uses it too).
set(SLUICE_IMAGE_TOOL ${CMAKE_SOURCE_DIR}/tools/sluice-image)
set(SLUICE_RUNNER ${CMAKE_SOURCE_DIR}/test/qemu/run-scenario)

function(sluice_iso name)
  cmake_parse_arguments(A "" "CMDLINE" "MODULES" ${ARGN})
  # The module list, paths resolved, goes to a file the image depends on,
  # rewritten only when it changes (so does the command line, as a comment).
  set(specs "# cmdline: ${A_CMDLINE}\n")
  set(module_deps "")
  foreach(spec IN LISTS A_MODULES)
    string(FIND "${spec}" ":" colon)
    if(colon EQUAL -1)
      set(path "${spec}")
      set(rest "")
    else()
      string(SUBSTRING "${spec}" 0 ${colon} path)
      string(SUBSTRING "${spec}" ${colon} -1 rest)
    endif()
    set(times "")
    if(path MATCHES "^(.+)(\\*[0-9]+)$")
      set(path ${CMAKE_MATCH_1})
      set(times ${CMAKE_MATCH_2})
    endif()
    list(APPEND module_deps ${path})
    if(TARGET ${path})
      set(path ${SLUICE_SILO_OUTPUT_DIR}/${path})
    endif()
    set(path "${path}${times}")
    string(APPEND specs "${path}${rest}\n")
  endforeach()
  set(list_file ${CMAKE_BINARY_DIR}/iso/${name}.modules)
  set(old "")
  if(EXISTS ${list_file})
    file(READ ${list_file} old)
  endif()
  if(NOT old STREQUAL specs)
    file(WRITE ${list_file} "${specs}")
  endif()
  add_custom_command(
    OUTPUT ${CMAKE_BINARY_DIR}/${name}.iso
    COMMAND ${SLUICE_IMAGE_TOOL} --out ${CMAKE_BINARY_DIR}/${name}.iso
            --kernel $<TARGET_FILE:kernel.elf> --cmdline "${A_CMDLINE}"
            --workdir ${CMAKE_BINARY_DIR}/iso/${name} --specs ${list_file}
    DEPENDS kernel.elf ${module_deps} ${list_file} ${SLUICE_IMAGE_TOOL}
    COMMENT "Building ${name}.iso"
    VERBATIM)
  add_custom_target(iso-${name} ALL DEPENDS ${CMAKE_BINARY_DIR}/${name}.iso)
endfunction()

function(sluice_scenario name)
  cmake_parse_arguments(A "" "CMDLINE;MARKER;TIMEOUT" "MODULES;ORDER;QEMU_ARGS" ${ARGN})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT ${SLUICE_QEMU_TIMEOUT})
  endif()
  sluice_iso(${name} CMDLINE "${A_CMDLINE}" MODULES ${A_MODULES})
  set(orders "")
  foreach(o IN LISTS A_ORDER)
    list(APPEND orders --order "${o}")
  endforeach()
  add_test(NAME qemu.${name}
    COMMAND ${SLUICE_RUNNER} --iso ${CMAKE_BINARY_DIR}/${name}.iso
            --log ${CMAKE_BINARY_DIR}/logs/${name}.log
            --marker "${A_MARKER}" --timeout ${A_TIMEOUT} ${orders} -- ${A_QEMU_ARGS})
  math(EXPR ctest_timeout "${A_TIMEOUT} + 30")
  set_tests_properties(qemu.${name} PROPERTIES LABELS qemu TIMEOUT ${ctest_timeout})
endfunction()

function(sluice_scenario_expect_failure name)
  cmake_parse_arguments(A "" "CMDLINE;TIMEOUT;STATUS" "MODULES;EXPECT;FORBID" ${ARGN})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT ${SLUICE_QEMU_TIMEOUT})
  endif()
  if(NOT A_STATUS)
    set(A_STATUS 35)
  endif()
  sluice_iso(${name} CMDLINE "${A_CMDLINE}" MODULES ${A_MODULES})
  set(expects "")
  foreach(e IN LISTS A_EXPECT)
    list(APPEND expects --expect "${e}")
  endforeach()
  add_test(NAME qemu.${name}
    COMMAND ${SLUICE_RUNNER} --iso ${CMAKE_BINARY_DIR}/${name}.iso
            --log ${CMAKE_BINARY_DIR}/logs/${name}.log
            --expect-status ${A_STATUS} ${expects} --timeout ${A_TIMEOUT})
  math(EXPR ctest_timeout "${A_TIMEOUT} + 30")
  set_tests_properties(qemu.${name} PROPERTIES LABELS qemu TIMEOUT ${ctest_timeout})
  if(A_FORBID)
    # The runner prints the log of every run; ctest fails it on any of these.
    string(REPLACE ";" "|" forbid "${A_FORBID}")
    set_tests_properties(qemu.${name} PROPERTIES FAIL_REGULAR_EXPRESSION "${forbid}")
  endif()
endfunction()
