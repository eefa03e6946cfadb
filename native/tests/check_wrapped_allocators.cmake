cmake_minimum_required(VERSION 3.16)
# Fails when libpadata references an allocating libc function that
# alloc_failure_test does not wrap (its sweeps would then miss a fault point).
#   cmake -DNM=nm -DLIB=libpadata.a "-DWRAPPED=malloc;calloc;..." -P <this>
set(ALLOCATING
  malloc calloc realloc reallocarray aligned_alloc posix_memalign memalign valloc pvalloc
  strdup strndup asprintf vasprintf getline getdelim open_memstream
  fopen fdopen opendir scandir pthread_create)
# Allocating calls the library makes on purpose outside the constructors:
#   fopen  read_sysfs_list() at load; a failure falls back to sysconf().
set(ACCEPTED fopen)

execute_process(COMMAND ${NM} -u ${LIB} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -u ${LIB} failed (${rc})")
endif()
string(REGEX MATCHALL "U [A-Za-z_0-9@.]+" refs "${out}")
set(missed "")
foreach(r IN LISTS refs)
  string(REGEX REPLACE "^U ([A-Za-z_0-9]+).*" "\\1" sym "${r}")
  if(sym IN_LIST ALLOCATING AND NOT sym IN_LIST WRAPPED AND NOT sym IN_LIST ACCEPTED)
    list(APPEND missed ${sym})
  endif()
endforeach()
list(REMOVE_DUPLICATES missed)
if(missed)
  message(FATAL_ERROR "libpadata calls ${missed}, which alloc_failure_test does not wrap: "
                      "add it to PADATA_WRAPPED_ALLOCATORS and a __wrap_ to the test")
endif()
message(STATUS "every allocator libpadata references is wrapped")
