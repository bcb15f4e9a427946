#!/usr/bin/env bash
# Regenerates the configuration reference in README.md from `auditship check --reference`
# (the same option table that parses and validates configs). A test fails while they differ.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/auditship}
python3 - "$bin" <<'PY'
import subprocess, sys
ref = subprocess.run([sys.argv[1], "check", "--reference"], check=True, capture_output=True, text=True).stdout
begin, end = "<!-- config-reference:begin -->\n", "<!-- config-reference:end -->"
text = open("README.md").read()
i, j = text.index(begin) + len(begin), text.index(end)
open("README.md", "w").write(text[:i] + ref + text[j:])
PY
