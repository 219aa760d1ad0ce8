#!/usr/bin/env sh
# Print a Python 3.12 command (Django 6 needs 3.12+, and the embedded Postgres,
# PyPI pgserver 0.1.4, has wheels up to 3.12 only), or explain and fail.
ok() { "$@" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; }
for cand in python3.12 python3; do
  if ok "$cand"; then command -v "$cand"; exit 0; fi
done
# pyenv installs that are not the global default (as on the team's machines).
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.12\.' | sort -rV); do
    py="$(pyenv root)/versions/$v/bin/python3"
    if ok "$py"; then echo "$py"; exit 0; fi
  done
fi
echo "No Python 3.12 found (Django 6 needs 3.12+; the embedded Postgres package has wheels up to 3.12)." >&2
echo "Install one, e.g. 'pyenv install 3.12', then run make again." >&2
exit 1
