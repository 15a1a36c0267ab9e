#!/usr/bin/env bash
# bench/compare.sh REV [ROUNDS] — the benchmark of an older commit and of
# this tree, alternately in one run (REV, this tree, REV, this tree, ...),
# so that a change is judged against the same machine at the same time.
#
#   bash bench/compare.sh 4c6a1b1 2
#
# Each side runs test/harness run bench/run.py in its own checkout (REV in
# a temporary git worktree, removed at the end).  Prints each run's table.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rev=${1:?usage: bench/compare.sh REV [ROUNDS]}
rounds=${2:-2}
base=$(mktemp -d /tmp/ddbstream_fdw_base.XXXXXX)
trap 'git -C "$here" worktree remove --force "$base" >/dev/null 2>&1 || rm -rf "$base"' EXIT
git -C "$here" worktree add --detach "$base" "$rev" >/dev/null 2>&1
for ((i = 1; i <= rounds; i++)); do
  for tree in "$base" "$here"; do
    echo "=== $( [ "$tree" = "$base" ] && echo "before ($rev)" || echo "after (this tree)" ), round $i"
    (cd "$tree" && bash test/harness run bench/run.py --reps 5 2>/dev/null | sed -n '/^| case/,$p')
  done
done
