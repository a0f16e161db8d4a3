#!/bin/sh
# embed.sh FILE SYMBOL: prints a C definition `const char SYMBOL[] = "...";`
# holding FILE's text, so the schemas floorgate was written against are
# compiled into it.
set -eu
printf 'const char %s[] =\n' "$2"
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$/\\n"/' "$1"
printf ';\n'
