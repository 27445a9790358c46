# Warnings and sanitizers as an INTERFACE target that every Hostline target links.
add_library(hostline_warnings INTERFACE)
target_compile_options(hostline_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
# GCC 12 at -O2 reports `"literal" + std::string&&` as an overlapping memcpy (GCC bug 105651).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(hostline_warnings INTERFACE -Wno-restrict)
endif()
target_compile_definitions(hostline_warnings INTERFACE HOSTLINE_VERSION="${PROJECT_VERSION}")

if(HOSTLINE_SANITIZE)
  target_compile_options(hostline_warnings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(hostline_warnings INTERFACE -fsanitize=address,undefined)
endif()
