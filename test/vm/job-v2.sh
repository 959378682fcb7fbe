#!/bin/bash
# The cgroup v2 job: runs as root inside the guest that test/vm/run-v2.sh boots, on the
# checkout this file belongs to, as it was built on the host (npm ci ran there; the guest
# only runs node: compiling under TCG would be ~10x slower).
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")/../.."
# test/helpers/root.ts turns a skipped integration test into a failure when CI is set:
# inside the guest nothing may pass by testing nothing.
export CI=true
# Plain text in CI logs (the console is a pipe, but vitest colours when CI is set).
export NO_COLOR=1

echo "job: $(pwd), node $(node --version), kernel $(uname -r), /sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup)"
echo "job: controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
[ -d node_modules/vitest ] || { echo "job: no node_modules here: run npm ci on the host first" >&2; exit 1; }

# Step 1: the CgroupDriver contract suite and the v2 kernel facts, on the real hierarchy.
step_start=$SECONDS
node node_modules/vitest/vitest.mjs run --config test/vm/vitest.config.ts --project cgroup-v2
echo "job: step 1 (cgroup v2 suite) took $((SECONDS - step_start))s"

# Step 2: end to end with the CLI (issue 10, test/vm/e2e/cli.vm.ts): `zonectl up` of a
# 2-zone project with limits and a network, a hot limit change, stats, a contained OOM kill,
# down leaving nothing. It runs when this build has `zonectl up` and the test file is there.
commands=$(node bin/zonectl.cjs --help 2>/dev/null || true)
if grep -qE '^  up( |$)' <<<"$commands"; then
  if compgen -G 'test/vm/e2e/*.vm.ts' >/dev/null; then
    step_start=$SECONDS
    node node_modules/vitest/vitest.mjs run --config test/vm/vitest.config.ts --project e2e-v2
    echo "job: step 2 (end to end) took $((SECONDS - step_start))s"
  else
    echo "job: NOTICE: zonectl up exists but test/vm/e2e/ has no *.vm.ts yet: the end-to-end step of issue 10 is still to write"
  fi
else
  echo "job: step 2 (end to end) not run: this build has no 'zonectl up' yet"
fi
