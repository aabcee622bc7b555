#!/usr/bin/env bash
# Regenerate CHANGELOG.rst and changelogs/changelog.yaml for the version in galaxy.yml from the fragments
# (fragments are kept, so this is repeatable while the release is being prepared).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^version: *//p' galaxy.yml)
rm -f changelogs/changelog.yaml CHANGELOG.rst
antsibull-changelog release --version "$version"
