# check_exports.cmake - fails when libpadata.so exports a symbol outside the
# library's namespace: every defined dynamic symbol must be padata_<name>
# (not a kernel name such as cpumask_set_cpu, not a padata__ internal).
#   cmake -DNM=<nm> -DLIB=<libpadata.so> -P check_exports.cmake
# Registered as the test abi.exported_symbols_are_prefixed.
if(NOT NM OR NOT LIB)
  message(FATAL_ERROR "usage: cmake -DNM=<nm> -DLIB=<shared library> -P check_exports.cmake")
endif()
execute_process(COMMAND ${NM} -D --defined-only ${LIB}
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -D --defined-only ${LIB} failed (${rc}): ${err}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(bad "")
set(good 0)
foreach(line IN LISTS lines)
  if(line STREQUAL "")
    continue()
  endif()
  # "<value> <type> <name>[@[@]version]"
  if(NOT line MATCHES "^[0-9a-fA-F]* *[A-Za-z] ([^ ]+)$")
    message(FATAL_ERROR "cannot read this line of nm output: '${line}'")
  endif()
  string(REGEX REPLACE "@.*$" "" name "${CMAKE_MATCH_1}")
  if(name MATCHES "^padata_[A-Za-z0-9]")
    math(EXPR good "${good} + 1")
  else()
    list(APPEND bad "${name}")
  endif()
endforeach()
if(bad)
  list(LENGTH bad n)
  string(REPLACE ";" "\n  " list "${bad}")
  message(FATAL_ERROR "${LIB} exports ${n} symbol(s) outside the padata_ namespace "
                      "(see native/src/padata.map):\n  ${list}")
endif()
if(good EQUAL 0)
  message(FATAL_ERROR "${LIB} exports no padata_ symbol at all: is it libpadata?")
endif()
message(STATUS "${LIB}: ${good} exported symbols, all padata_-prefixed")
