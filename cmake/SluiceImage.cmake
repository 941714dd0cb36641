# Building bootable images and QEMU scenarios.
#
# sluice_iso(NAME [CMDLINE text] [MODULES path[:args]...])
#   Writes ${CMAKE_BINARY_DIR}/NAME.iso: GRUB, the kernel with the given
#   command line, and one module2 line per module (its command line is the
#   module's name followed by its arguments; "path:a:b" passes "a b").
#
# sluice_scenario(NAME [CMDLINE ...] [MODULES ...] MARKER text [TIMEOUT s])
#   An ISO plus a ctest test (labels qemu) that passes only when QEMU exits
#   with status 33 and the log holds MARKER.
#
# sluice_scenario_expect_failure(NAME [CMDLINE ...] [MODULES ...] EXPECT text...
#                                [FORBID text...])
#   A ctest test that passes only when the runner reports the scenario as
#   failed, the log holds every EXPECT line and no FORBID line: it shows
#   the runner can fail, and checks what a failing run reports.

# sluice_add_silo comes from SluiceSilo.cmake, shared with the installed SDK.
set(SLUICE_SILO_LINKER_SCRIPT ${CMAKE_SOURCE_DIR}/libsys/silo.ld)
set(SLUICE_SYS_TARGET sluice_sys)
set(SLUICE_CHAN_TARGET chan)
set(SLUICE_SILO_OUTPUT_DIR ${CMAKE_BINARY_DIR}/silos)
include(${CMAKE_CURRENT_LIST_DIR}/SluiceSilo.cmake)

find_program(GRUB_MKRESCUE grub-mkrescue)
find_program(QEMU_SYSTEM qemu-system-x86_64)
set(SLUICE_RUNNER ${CMAKE_SOURCE_DIR}/test/qemu/run-scenario)
# chanserv's memory quota (pages): channels, handles, names and rings of
# every silo come out of it (docs/chanserv.md).
set(SLUICE_CHANSERV_MEM_PAGES 16384)
set(SLUICE_EXPECT_FAILURE ${CMAKE_SOURCE_DIR}/test/qemu/expect-failure)

function(sluice_iso name)
  cmake_parse_arguments(A "" "CMDLINE" "MODULES" ${ARGN})
  set(root ${CMAKE_BINARY_DIR}/iso/${name})
  set(module_lines "")
  set(module_deps "")
  set(copy_cmds "")
  foreach(spec IN LISTS A_MODULES)
    string(REPLACE ":" ";" parts "${spec}")
    list(GET parts 0 path)
    if(TARGET ${path})
      list(APPEND module_deps ${path})
      set(path ${CMAKE_BINARY_DIR}/silos/${path})
    endif()
    list(LENGTH parts n)
    set(args "")
    if(n GREATER 1)
      list(SUBLIST parts 1 -1 rest)
      string(JOIN " " args ${rest})
    endif()
    get_filename_component(mod_name ${path} NAME)
    if(mod_name STREQUAL "chanserv" AND NOT args MATCHES "mem=")
      string(APPEND args " mem=${SLUICE_CHANSERV_MEM_PAGES}")   # its tables grow into this
    endif()
    string(APPEND module_lines "  module2 /boot/${mod_name} ${mod_name} ${args}\n")
    list(APPEND module_deps ${path})
    list(APPEND copy_cmds COMMAND ${CMAKE_COMMAND} -E copy ${path} ${root}/boot/${mod_name})
  endforeach()
  set(SLUICE_CMDLINE "${A_CMDLINE}")
  set(SLUICE_MODULE_LINES "${module_lines}")
  configure_file(${CMAKE_SOURCE_DIR}/boot/grub.cfg.in ${CMAKE_BINARY_DIR}/iso/${name}.grub.cfg @ONLY)
  add_custom_command(
    OUTPUT ${CMAKE_BINARY_DIR}/${name}.iso
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${root}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${root}/boot/grub
    COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_BINARY_DIR}/iso/${name}.grub.cfg ${root}/boot/grub/grub.cfg
    COMMAND ${CMAKE_COMMAND} -E copy $<TARGET_FILE:kernel.elf> ${root}/boot/kernel.elf
    ${copy_cmds}
    COMMAND ${GRUB_MKRESCUE} -o ${CMAKE_BINARY_DIR}/${name}.iso ${root} 2> ${CMAKE_BINARY_DIR}/iso/${name}.mkrescue.log
    DEPENDS kernel.elf ${module_deps} ${CMAKE_BINARY_DIR}/iso/${name}.grub.cfg
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
  cmake_parse_arguments(A "" "CMDLINE;TIMEOUT" "MODULES;EXPECT;FORBID" ${ARGN})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT ${SLUICE_QEMU_TIMEOUT})
  endif()
  sluice_iso(${name} CMDLINE "${A_CMDLINE}" MODULES ${A_MODULES})
  set(expects "")
  foreach(e IN LISTS A_EXPECT)
    list(APPEND expects --expect "${e}")
  endforeach()
  foreach(f IN LISTS A_FORBID)
    list(APPEND expects --forbid "${f}")
  endforeach()
  add_test(NAME qemu.${name}
    COMMAND ${SLUICE_EXPECT_FAILURE} ${expects} --
            ${SLUICE_RUNNER} --iso ${CMAKE_BINARY_DIR}/${name}.iso
            --log ${CMAKE_BINARY_DIR}/logs/${name}.log
            --marker "never printed" --timeout ${A_TIMEOUT})
  math(EXPR ctest_timeout "${A_TIMEOUT} + 30")
  set_tests_properties(qemu.${name} PROPERTIES LABELS qemu TIMEOUT ${ctest_timeout})
endfunction()
