# Locates libxgboost.so (from the PyPI wheel in .venv, or FASTDML_XGBOOST_LIB)
# and the C headers (from the sdist, or FASTDML_XGBOOST_INCLUDE), and defines
# the imported target fastdml::xgboost.
include(${CMAKE_CURRENT_SOURCE_DIR}/cmake/versions.cmake)
set(FASTDML_XGBOOST_LIB "" CACHE FILEPATH "Path to libxgboost.so")
set(FASTDML_XGBOOST_INCLUDE "" CACHE PATH "Directory holding xgboost/c_api.h")
if(NOT FASTDML_XGBOOST_LIB)
  file(GLOB _xgb_candidates
       ${CMAKE_CURRENT_SOURCE_DIR}/.venv/lib/python3*/site-packages/xgboost/lib/libxgboost.so)
  if(NOT _xgb_candidates AND Python_EXECUTABLE)
    # Building the Python package outside the repo's venv: the interpreter's wheel.
    execute_process(COMMAND ${Python_EXECUTABLE} -c
                    "import importlib.util as u, os; print(os.path.dirname(u.find_spec('xgboost').origin))"
                    OUTPUT_VARIABLE _xgb_pkg OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    file(GLOB _xgb_candidates ${_xgb_pkg}/lib/libxgboost.so)
  endif()
  list(GET _xgb_candidates 0 _xgb_lib)
  set(FASTDML_XGBOOST_LIB ${_xgb_lib} CACHE FILEPATH "Path to libxgboost.so" FORCE)
endif()
if(NOT FASTDML_XGBOOST_INCLUDE)
  set(FASTDML_XGBOOST_INCLUDE
      ${CMAKE_CURRENT_SOURCE_DIR}/.deps/xgboost-${FASTDML_XGBOOST_VERSION}/include
      CACHE PATH "Directory holding xgboost/c_api.h" FORCE)
endif()
if(NOT EXISTS "${FASTDML_XGBOOST_LIB}")
  message(FATAL_ERROR "libxgboost.so not found (FASTDML_XGBOOST_LIB='${FASTDML_XGBOOST_LIB}'). "
                      "Run scripts/setup, or pass -DFASTDML_XGBOOST_LIB=/path/to/libxgboost.so")
endif()
if(NOT EXISTS "${FASTDML_XGBOOST_INCLUDE}/xgboost/c_api.h")
  message(FATAL_ERROR "xgboost/c_api.h not found under '${FASTDML_XGBOOST_INCLUDE}'. "
                      "Run scripts/setup, or pass -DFASTDML_XGBOOST_INCLUDE=/path/to/include")
endif()
get_filename_component(FASTDML_XGBOOST_LIBDIR ${FASTDML_XGBOOST_LIB} DIRECTORY)
add_library(fastdml::xgboost SHARED IMPORTED GLOBAL)
set_target_properties(fastdml::xgboost PROPERTIES
  IMPORTED_LOCATION ${FASTDML_XGBOOST_LIB}
  INTERFACE_INCLUDE_DIRECTORIES ${FASTDML_XGBOOST_INCLUDE})
# The wheel's library carries no SONAME; without this CMake would record its
# absolute build-time path in DT_NEEDED. With it the binaries need
# "libxgboost.so" and find it through the RPATH below.
execute_process(COMMAND objdump -p ${FASTDML_XGBOOST_LIB} OUTPUT_VARIABLE _xgb_dyn ERROR_QUIET)
if(NOT _xgb_dyn MATCHES "SONAME")
  set_target_properties(fastdml::xgboost PROPERTIES IMPORTED_NO_SONAME TRUE)
endif()
set(CMAKE_BUILD_RPATH ${FASTDML_XGBOOST_LIBDIR})
set(CMAKE_INSTALL_RPATH ${FASTDML_XGBOOST_LIBDIR})
message(STATUS "fastdml: XGBoost ${FASTDML_XGBOOST_VERSION} library ${FASTDML_XGBOOST_LIB}")
