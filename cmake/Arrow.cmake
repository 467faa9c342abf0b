# Locates Apache Arrow C++ (libarrow, libparquet and their headers) in the
# pyarrow wheel of the project venv (scripts/setup installs PYARROW_VERSION
# from scripts/versions.sh), or in FASTDML_PYARROW_DIR, and defines the
# imported target fastdml::arrow for the Parquet / Arrow reader
# (src/io/columnar.cc). Same pattern as cmake/XGBoost.cmake: the binaries find
# the wheel's libraries through the RPATH.
set(FASTDML_PYARROW_DIR "" CACHE PATH "pyarrow package directory (include/, libarrow.so.*, libparquet.so.*)")
if(NOT FASTDML_PYARROW_DIR)
  file(GLOB _pa_candidates
       ${CMAKE_CURRENT_SOURCE_DIR}/.venv/lib/python3*/site-packages/pyarrow/include/arrow/api.h)
  if(_pa_candidates)
    list(GET _pa_candidates 0 _pa_api)
    get_filename_component(_pa_dir ${_pa_api} DIRECTORY)
    get_filename_component(_pa_dir ${_pa_dir}/../.. ABSOLUTE)
  elseif(Python_EXECUTABLE)
    # Building the Python package outside the repo's venv: the interpreter's wheel.
    execute_process(COMMAND ${Python_EXECUTABLE} -c
                    "import importlib.util as u, os; print(os.path.dirname(u.find_spec('pyarrow').origin))"
                    OUTPUT_VARIABLE _pa_dir OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  endif()
  set(FASTDML_PYARROW_DIR "${_pa_dir}" CACHE PATH "pyarrow package directory" FORCE)
endif()
# The wheel ships only versioned names (libarrow.so.2600): link those by full
# path; their SONAME is what the binaries then need.
file(GLOB _pa_arrow "${FASTDML_PYARROW_DIR}/libarrow.so.[0-9]*")
file(GLOB _pa_parquet "${FASTDML_PYARROW_DIR}/libparquet.so.[0-9]*")
list(FILTER _pa_arrow INCLUDE REGEX "libarrow\\.so\\.[0-9]+$")
list(FILTER _pa_parquet INCLUDE REGEX "libparquet\\.so\\.[0-9]+$")
if(NOT _pa_arrow OR NOT _pa_parquet OR NOT EXISTS "${FASTDML_PYARROW_DIR}/include/arrow/api.h")
  if(FASTDML_PYTHON)
    # A pip build of the package only: the extension never reads files.
    message(STATUS "fastdml: pyarrow not found; the CLI in this build reads CSV only")
    set(FASTDML_ARROW OFF)
    return()
  endif()
  message(FATAL_ERROR "Arrow C++ not found in the pyarrow wheel (FASTDML_PYARROW_DIR='${FASTDML_PYARROW_DIR}'). "
                      "Run scripts/setup, pass -DFASTDML_PYARROW_DIR=/path/to/site-packages/pyarrow, "
                      "or -DFASTDML_ARROW=OFF for a CLI that reads CSV only")
endif()
list(GET _pa_arrow 0 FASTDML_ARROW_LIB)
list(GET _pa_parquet 0 FASTDML_PARQUET_LIB)
add_library(fastdml::arrow_core SHARED IMPORTED GLOBAL)
set_target_properties(fastdml::arrow_core PROPERTIES
  IMPORTED_LOCATION ${FASTDML_ARROW_LIB}
  INTERFACE_INCLUDE_DIRECTORIES ${FASTDML_PYARROW_DIR}/include)
add_library(fastdml::arrow SHARED IMPORTED GLOBAL)
set_target_properties(fastdml::arrow PROPERTIES
  IMPORTED_LOCATION ${FASTDML_PARQUET_LIB}
  INTERFACE_LINK_LIBRARIES fastdml::arrow_core)
list(APPEND CMAKE_BUILD_RPATH ${FASTDML_PYARROW_DIR})
list(APPEND CMAKE_INSTALL_RPATH ${FASTDML_PYARROW_DIR})
message(STATUS "fastdml: Arrow C++ from ${FASTDML_PYARROW_DIR} (${FASTDML_ARROW_LIB})")
