#!/usr/bin/env bash
# Regenerates crds/ from the Java model in api/ (fabric8 crd-generator) and shows what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -pl api -am test -Dtest=CrdsAreUpToDateTest -Dsurefire.failIfNoSpecifiedTests=false -Dsharedipc.updateCrds=true
git status --short crds/
# The Helm chart carries the same CRDs (HelmChartIT checks they are identical).
cp crds/*.yaml charts/sharedipc/crds/
git status --short charts/sharedipc/crds/
