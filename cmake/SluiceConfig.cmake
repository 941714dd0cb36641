# The Sluice SDK: find_package(Sluice 0.1) gives sluice_add_silo(NAME SOURCES
# ...), the imported libraries Sluice::sys (runtime) and Sluice::chan
# (libchan), and SLUICE_RUN, the sluice-run command that boots silos.
get_filename_component(_sluice_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

if(NOT TARGET Sluice::sys)
  add_library(Sluice::sys STATIC IMPORTED)
  set_target_properties(Sluice::sys PROPERTIES
    IMPORTED_LOCATION "${_sluice_prefix}/lib/libsluice_sys.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_sluice_prefix}/include")
  add_library(Sluice::chan STATIC IMPORTED)
  set_target_properties(Sluice::chan PROPERTIES
    IMPORTED_LOCATION "${_sluice_prefix}/lib/libchan.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_sluice_prefix}/include"
    INTERFACE_LINK_LIBRARIES Sluice::sys)
endif()

set(SLUICE_SILO_LINKER_SCRIPT "${_sluice_prefix}/lib/sluice/silo.ld")
# Boots silos with the installed kernel and chanserv: ${SLUICE_RUN} --silo PATH
set(SLUICE_RUN "${_sluice_prefix}/bin/sluice-run")
set(SLUICE_SYS_TARGET Sluice::sys)
set(SLUICE_CHAN_TARGET Sluice::chan)
include("${CMAKE_CURRENT_LIST_DIR}/SluiceSilo.cmake")
