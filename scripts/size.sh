#!/usr/bin/env bash
# make size: lines of code of the hypervisor (boot/ and hv/, C and assembly, no tests),
# counted without blank and comment-only lines, and the size of the loaded image.
set -euo pipefail
cd "$(dirname "$0")/.."
elf=${1:-build/hv.elf}
count() { # non-blank lines that are not only a comment
	awk '
	/^[[:space:]]*$/ { next }
	incomment { if ($0 ~ /\*\//) { incomment = 0; sub(/.*\*\//, ""); if ($0 ~ /^[[:space:]]*$/) next } else next }
	/^[[:space:]]*\/\*/ { if ($0 !~ /\*\//) { incomment = 1; next } line = $0; sub(/\/\*.*\*\//, "", line); if (line ~ /^[[:space:]]*$/) next }
	/^[[:space:]]*(\/\/|#[[:space:]]|;)/ { next }
	{ n++ }
	END { print n + 0 }' "$@"
}
c=$(count $(git ls-files 'boot/*.c' 'boot/*.h' 'hv/*.c' 'hv/*.h'))
s=$(count $(git ls-files 'boot/*.S' 'hv/*.S'))
echo "size: lines of code: C $c, asm $s, total $((c + s)) (boot/ and hv/)"
read -r text data bss _ < <(size "$elf" | tail -1)
echo "size: loaded image: text $text, data $data, bss $bss, total $((text + data + bss)) bytes"
