# Writes OUTPUT: a C++ file defining `const char* FUNCTION()` in namespace
# demandcenter, returning INPUT's text (the default config, the console page),
# so the binary needs no files beside it.
file(READ ${INPUT} text)
set(delim "DCEMBED")
string(FIND "${text}" ")${delim}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )${delim}\"")
endif()
file(WRITE ${OUTPUT} "namespace demandcenter {\nconst char* ${FUNCTION}() {\n  return R\"${delim}(${text})${delim}\";\n}\n}  // namespace demandcenter\n")
