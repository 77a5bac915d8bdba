#!/usr/bin/env bash
# Leak check of the addon as Node uses it: runs native/fuzz/leak-driver.js
# (streams, batches, handle errors, engines dropped and collected) under
# valgrind and fails if any definitely/indirectly lost block was allocated
# by tce_native.node. V8/Node's own exit-time allocations are not ours and
# are ignored. The core alone is also leak-checked by LSan in fuzz:extractor.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v valgrind >/dev/null 2>&1; then
  echo "leak-check needs valgrind: sudo apt-get install -y valgrind" >&2
  exit 2
fi
[ -f build/Release/tce_native.node ] || { echo "build the addon first: npm run build:native" >&2; exit 2; }
[ -f dist/test/helpers/extract-fuzz.js ] || { echo "compile first: npx tsc -p ." >&2; exit 2; }
LOG="${TMPDIR:-/tmp}/tce-leak-check.$$.log"
valgrind --leak-check=full --show-leak-kinds=definite,indirect --num-callers=30 --log-file="$LOG" \
  node --expose-gc --jitless native/fuzz/leak-driver.js "${1:-300}"
# A loss record is ours when the addon made the allocation itself: the first
# caller of the allocator is in tce_native.node. Node's own bookkeeping for
# N-API externals still alive at exit (allocated inside napi_create_external)
# is reported as lost by valgrind but is Node's, not ours.
OURS=$(awk '/are (definitely|indirectly) lost/{rec=$0; first=1; next}
  rec!="" && /   by 0x/ && first {first=0; if ($0 ~ /tce_native|tce::/) print rec; rec=""}' "$LOG" | wc -l)
NODE_OWN=$(grep -c "by 0x[0-9A-F]*: napi_create_external" "$LOG" || true)
grep -E "definitely lost:|indirectly lost:|ERROR SUMMARY" "$LOG" | sed 's/^==[0-9]*== */valgrind: /'
if [ "$OURS" -ne 0 ]; then
  echo "LEAK: $OURS loss record(s) from tce_native.node; see $LOG" >&2
  exit 1
fi
echo "no leaks from tce_native.node (valgrind records inside Node's napi_create_external: $NODE_OWN; full log: $LOG)"
