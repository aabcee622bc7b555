#!/usr/bin/env bash
# The whole test suite (the README's `make test`). Stages, in order:
#   unit         pure logic, hypothesis invariants, filters (pytest tests/unit)
#   integration  modules, emulator, monitoring, probe against the real Docker engine (pytest tests/integration)
#   molecule     the Molecule scenarios in molecule/ (default, multihost, bad_input)
#   matrix       the support matrix (tox.ini, one venv per cell under .tox/): ansible-core 2.16-2.19 on Python 3.11,
#                2.20 and 2.21 on 3.12 and 3.13, the next minor's newest pre-release on 3.13; each cell runs the filter
#                tests and a site / idempotence / rolling update / teardown cycle on one shared private engine;
#                one line per cell. scripts/pythons.sh finds (or pyenv-installs) the interpreters.
#   sanity       ansible-test sanity on a copy under ansible_collections/mediaops/wcs
#   lint         ansible-lint --profile production
#   build        ansible-galaxy collection build, then galaxy-importer on the tarball (scripts/galaxy-import.sh)
# `scripts/test.sh unit lint` runs only those stages. Every stage runs; the exit code is non-zero if any failed.
# Tests that pin containers or purge run on private engines (tests/labkit.py), so a running `make lab` and the
# user's own containers are neither seen nor touched. After the stages, `home` checks that ~/.ansible/collections
# gained nothing, and lists anything new in ~/.ansible, ~/.cache, ~/.local/share, ~/.config (fatal too with
# WCS_HOME_CHECK=strict, as .ci/run sets); scripts/test-env.sh points the tools' caches and temp dirs into .cache/.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
scripts/ensure-packages.sh || exit 1
# shellcheck source=/dev/null
source scripts/test-env.sh
# shellcheck source=/dev/null
source scripts/pythons.sh
mkdir -p reports
python3 tests/labkit.py home snapshot reports/home-before.json
scripts/bootstrap.sh
# shellcheck source=/dev/null
source scripts/venv.sh

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(unit integration molecule matrix sanity lint build)
summary=()

needs_engine() {
  scripts/ensure-docker.sh && tests/emulator/build.sh
}

run_pytest() {
  # pytest exits 5 when it collected nothing: that is a failure of the suite, not a pass.
  python -m pytest "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then echo "test.sh: pytest collected no tests in $*" >&2; fi
  return $rc
}

stage_unit()        { run_pytest -q tests/unit; }
stage_integration() { needs_engine && run_pytest -v -rs --durations=15 tests/integration; }
stage_molecule()    { needs_engine && scripts/molecule.sh; }
stage_sanity()      { scripts/sanity.sh; }

stage_matrix() {
  # One tox env per cell (tox.ini env_list: ansible-core x Python); envs are created once and reused. One private
  # engine (tests/labkit.py) serves every cell's lab cycle. WCS_MATRIX_CELLS="core216-py311 ..." runs some.
  needs_engine || return 1
  local env rc=0 result start version
  python tests/labkit.py engine up wcstx-eng --bridge wcstxbr0 198.51.100.184/30 >/dev/null || return 1
  export WCS_MATRIX_DOCKER_HOST=unix:///run/wcstx-eng/docker.sock
  for env in ${WCS_MATRIX_CELLS:-$(tox -q list --no-desc 2>/dev/null)}; do
    start=$SECONDS
    if tox -e "$env" >"reports/matrix-$env.log" 2>&1; then result=passed; else result=FAILED; rc=1; fi
    version=$(".tox/$env/bin/python" -c 'import sys; from ansible.release import __version__ as v
print("%s on Python %d.%d.%d" % ((v,) + sys.version_info[:3]))' 2>/dev/null || echo '?')
    summary+=("ansible-core $version ($env): $result in $((SECONDS - start))s - filter tests + site, idempotence, rolling update, teardown (reports/matrix-$env.log)")
    echo "${summary[-1]}"
    [ $result = passed ] || tail -n 40 "reports/matrix-$env.log"
  done
  unset WCS_MATRIX_DOCKER_HOST
  python tests/labkit.py engine down wcstx-eng || rc=1
  return $rc
}
stage_lint()        { ansible-lint --profile production --offline; }
stage_build() {
  # the tarball, then Galaxy's own importer on it (scripts/galaxy-import.sh; its ansible-test step is off: sanity
  # is its own stage)
  ansible-galaxy collection build --force --output-path build/ || return 1
  scripts/galaxy-import.sh "build/mediaops-wcs-$(sed -n 's/^version: *//p' galaxy.yml).tar.gz"
}

passed=0; failed=0; failed_names=()
for s in "${stages[@]}"; do
  echo; echo "===== stage: $s ====="
  start=$SECONDS
  if "stage_$s"; then
    passed=$((passed + 1)); echo "===== stage $s passed in $((SECONDS - start))s ====="
  else
    failed=$((failed + 1)); failed_names+=("$s"); echo "===== stage $s FAILED after $((SECONDS - start))s ====="
  fi
done
echo; echo "===== home directory ====="
if python tests/labkit.py home check reports/home-before.json; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); failed_names+=(home)
fi
echo
for line in "${summary[@]}"; do echo "$line"; done
[ $failed -eq 0 ] || echo "failed stages: ${failed_names[*]}"
echo "stages: $passed passed, $failed failed"
[ $failed -eq 0 ]
