# CMake package config for an installed libcb (cbreaker's C ABI).
#
#   find_package(libcb REQUIRED)
#   target_link_libraries(app PRIVATE libcb::libcb)    # shared: libcb.so
#   target_link_libraries(app PRIVATE libcb::static)   # static: libcb.a (+ pthread, dl, m, rt)
#
# Installed by `make install PREFIX=...` as PREFIX/lib/cmake/libcb/libcbConfig.cmake; it finds
# the rest relative to itself, so the prefix can be moved.

get_filename_component(_libcb_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
set(libcb_INCLUDE_DIRS "${_libcb_prefix}/include")

if(NOT TARGET libcb::libcb)
  add_library(libcb::libcb SHARED IMPORTED)
  set_target_properties(libcb::libcb PROPERTIES
    IMPORTED_LOCATION "${_libcb_prefix}/lib/libcb.so"
    IMPORTED_NO_SONAME TRUE
    INTERFACE_INCLUDE_DIRECTORIES "${_libcb_prefix}/include")
endif()

if(NOT TARGET libcb::static)
  find_package(Threads REQUIRED)
  add_library(libcb::static STATIC IMPORTED)
  set_target_properties(libcb::static PROPERTIES
    IMPORTED_LOCATION "${_libcb_prefix}/lib/libcb.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_libcb_prefix}/include"
    INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS};m;rt")
endif()

set(libcb_LIBRARIES libcb::libcb)
set(libcb_FOUND TRUE)
unset(_libcb_prefix)
