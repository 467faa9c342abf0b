# Reads the pinned versions from scripts/versions.sh (one source of truth).
file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/scripts/versions.sh _fastdml_versions REGEX "^[A-Z_]+=")
foreach(_line IN LISTS _fastdml_versions)
  string(REGEX MATCH "^([A-Z_]+)=(.*)$" _m "${_line}")
  set(FASTDML_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
endforeach()
