# Writes OUTPUT: a C++ file defining EmbeddedDefaultConfig() with INPUT's text.
file(READ ${INPUT} text)
set(delim "DCYAML")
file(WRITE ${OUTPUT} "namespace demandcenter {\nconst char* EmbeddedDefaultConfig() {\n  return R\"${delim}(${text})${delim}\";\n}\n}  // namespace demandcenter\n")
