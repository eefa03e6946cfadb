# padata_topology(<variant> <label-var> <env-var>)
#   The test topologies: <variant> is "real" (the machine's CPUs) or a CPU
#   count N (N virtual CPUs, docs/contract.md section 3). Sets <label-var>
#   to "real" or "nrN" and <env-var> to the PADATA_NR_CPUS setting for the
#   test's ENVIRONMENT ("PADATA_NR_CPUS=" for "real": set but empty, so a
#   value in the caller's environment cannot leak in).
function(padata_topology v label_var env_var)
  if(v STREQUAL "real")
    set(${label_var} "real" PARENT_SCOPE)
    set(${env_var} "PADATA_NR_CPUS=" PARENT_SCOPE)
  else()
    set(${label_var} "nr${v}" PARENT_SCOPE)
    set(${env_var} "PADATA_NR_CPUS=${v}" PARENT_SCOPE)
  endif()
endfunction()
