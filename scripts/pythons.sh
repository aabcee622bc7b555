# shellcheck shell=bash
# Source me (scripts/test.sh and sanity.sh do): finds the controller Pythons the ansible-core matrix needs
# (tox.ini) and exports each as WCS_PYTHON3NN (absolute path), so tox's base_python and sanity's venvs use them.
# Where it looks, in order: an already exported WCS_PYTHON3NN, pythonX.Y on PATH (when it really runs: a pyenv shim
# for a version that is not active does not), pyenv's versions ($(pyenv root)/versions/X.Y.*, newest patch), then
# /usr/local/bin and /usr/bin. Missing and pyenv present: `pyenv install X.Y` (the newest patch pyenv knows). Still
# missing: a message, and the variable stays unset (the cells on that Python then fail in tox, which names it).
#   WCS_PYTHONS="3.11 3.12 3.13"   the minors wanted (default)
_wcs_real_python() {  # the interpreter itself (not a pyenv shim, not a virtualenv's copy), if it runs
  "$1" -c 'import sys; print(getattr(sys, "_base_executable", "") or sys.executable)' 2>/dev/null
}

_wcs_find_python() {
  local minor=$1 cand root
  cand=$(command -v "python$minor" 2>/dev/null) && _wcs_real_python "$cand" && return 0
  if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root)
    # newest patch first
    for cand in $(printf '%s\n' "$root/versions/$minor".* | sort -rV); do
      [ -x "$cand/bin/python$minor" ] && _wcs_real_python "$cand/bin/python$minor" && return 0
    done
  fi
  for cand in "/usr/local/bin/python$minor" "/usr/bin/python$minor"; do
    [ -x "$cand" ] && _wcs_real_python "$cand" && return 0
  done
  return 1
}

for _wcs_minor in ${WCS_PYTHONS:-3.11 3.12 3.13}; do
  _wcs_var=WCS_PYTHON${_wcs_minor//./}
  [ -n "${!_wcs_var:-}" ] && [ -x "${!_wcs_var}" ] && continue
  if ! _wcs_path=$(_wcs_find_python "$_wcs_minor"); then
    if command -v pyenv >/dev/null 2>&1; then
      echo "pythons: installing Python $_wcs_minor with pyenv (once)" >&2
      pyenv install -s "$_wcs_minor" >&2 || true
    fi
    _wcs_path=$(_wcs_find_python "$_wcs_minor") || {
      echo "pythons: no Python $_wcs_minor found (PATH, pyenv, /usr/bin); export $_wcs_var=/path/to/python$_wcs_minor" >&2
      continue
    }
  fi
  export "$_wcs_var=$_wcs_path"
done
unset _wcs_minor _wcs_var _wcs_path
