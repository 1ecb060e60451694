# Installs photong into a scratch prefix, then configures, builds and runs a separate project
# that finds it with find_package(photong) — what a user embedding the library does. The compiled C library
# (PHOTONG_C_API) is left out: installing it needs a build first, and ctest c_api tests it.
file(REMOVE_RECURSE "${WORK_DIR}")
set(build "${WORK_DIR}/photong-build")
set(prefix "${WORK_DIR}/prefix")
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}")
  endif()
endfunction()
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${build}" -G "${GENERATOR}" -DPHOTONG_BUILD_TESTS=OFF
    -DPHOTONG_BUILD_BENCH=OFF -DPHOTONG_BUILD_EXAMPLES=OFF -DPHOTONG_C_API=OFF "-DCMAKE_INSTALL_PREFIX=${prefix}")
run(${CMAKE_COMMAND} --install "${build}")
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer" -B "${WORK_DIR}/consumer-build" -G "${GENERATOR}"
    "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build "${WORK_DIR}/consumer-build")
run("${WORK_DIR}/consumer-build/consumer")
