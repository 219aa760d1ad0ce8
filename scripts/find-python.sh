#!/usr/bin/env sh
# Print a command that runs Python 3.12 or newer, or explain and fail.
ok() { "$@" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }
for cand in python3.14 python3.13 python3.12 python3; do
  if ok "$cand"; then echo "$cand"; exit 0; fi
done
# pyenv installs that are not the global default (as on the team's machines).
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])' | sort -rV); do
    py="$(pyenv root)/versions/$v/bin/python3"
    if ok "$py"; then echo "$py"; exit 0; fi
  done
fi
echo "No Python 3.12 or newer found (Django 6 needs it). Install one, e.g. 'pyenv install 3.12', then run make again." >&2
exit 1
