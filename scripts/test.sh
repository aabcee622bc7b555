#!/usr/bin/env bash
# The whole test suite (the README's `make test`). Stages, in order:
#   unit         pure logic, hypothesis invariants, filters (pytest tests/unit)
#   integration  modules, emulator, monitoring, probe against the real Docker engine (pytest tests/integration)
#   molecule     the Molecule scenarios in molecule/ (default, multihost, bad_input)
#   sanity       ansible-test sanity on a copy under ansible_collections/mediaops/wcs
#   lint         ansible-lint --profile production
#   build        ansible-galaxy collection build
# `scripts/test.sh unit lint` runs only those stages. Every stage runs; the exit code is non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
scripts/ensure-packages.sh || exit 1
scripts/bootstrap.sh
# shellcheck source=/dev/null
source scripts/venv.sh

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(unit integration molecule sanity lint build)

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
stage_integration() { needs_engine && run_pytest -v -rs tests/integration; }
stage_molecule()    { needs_engine && scripts/molecule.sh; }
stage_sanity()      { scripts/sanity.sh; }
stage_lint()        { ansible-lint --profile production --offline; }
stage_build()       { ansible-galaxy collection build --force --output-path build/; }

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
echo
[ $failed -eq 0 ] || echo "failed stages: ${failed_names[*]}"
echo "stages: $passed passed, $failed failed"
[ $failed -eq 0 ]
