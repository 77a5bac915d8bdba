#!/usr/bin/env bash
# `npm run fuzz:extractor [-- SECONDS]`: builds the libFuzzer target with
# ASan+UBSan through cmake and runs it for a bounded time (default 60 s, or
# FUZZ_SECONDS / the first argument). Exit status is libFuzzer's: non-zero on
# a crash, a sanitizer report, a leak or a broken split == whole invariant.
# FUZZ_TARGET=http_fuzzer fuzzes the HTTP/1.1 response framer instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN="${1:-${FUZZ_SECONDS:-60}}"
CXX_BIN="${CXX_FUZZ:-clang++}"
if ! command -v "$CXX_BIN" >/dev/null 2>&1; then
  echo "fuzz:extractor needs clang (libFuzzer ships with it)." >&2
  echo "On Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y clang" >&2
  echo "Or point CXX_FUZZ at a clang++ binary." >&2
  exit 2
fi
BUILD=native/fuzz/out  # ignored by .gitignore
cmake -S . -B "$BUILD" -DTCE_FUZZ=ON -DCMAKE_CXX_COMPILER="$CXX_BIN" -DCMAKE_BUILD_TYPE=Debug >/dev/null
TARGET="${FUZZ_TARGET:-extractor_fuzzer}"
cmake --build "$BUILD" --target "$TARGET" -j2
if [ "$TARGET" = http_fuzzer ]; then
  CORPUS="$BUILD/corpus-http"
  mkdir -p "$CORPUS"
  # Byte 0: bit 0 = the peer closes at the end; the rest seeds the splits.
  printf '\x02HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext="a b"\r\nhello\r\n0\r\nx-trailer: 1\r\n\r\n' > "$CORPUS/seed-chunked"
  printf '\x04HTTP/1.1 503 Busy\r\nretry-after: 1\r\ncontent-length: 4\r\n\r\nbusy' > "$CORPUS/seed-length"
  printf '\x01HTTP/1.0 200 OK\r\n\r\nuntil the close' > "$CORPUS/seed-close"
  echo "fuzzing the HTTP framer for ${SECONDS_TO_RUN}s (ASan+UBSan, leak detection on)"
  exec "$BUILD/native/fuzz/http_fuzzer" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -detect_leaks=1 -print_final_stats=1 "$CORPUS"
fi
CORPUS="$BUILD/corpus"
mkdir -p "$CORPUS"
# Seeds: an SSE body and a text (first byte picks the mode, see the harness).
printf '\x00data: {"choices":[{"delta":{"content":"<tool_call>{\\"name\\": \\"a\\", \\"arguments\\": {}}</tool_call>"}}]}\n\ndata: [DONE]\n\n' > "$CORPUS/seed-sse"
# Repeated framing, as vLLM sends it: exercises the fast path for such events.
printf '\x00data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"<tool_"},"finish_reason":null}]}\n\ndata: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"call>\\u00e9"},"finish_reason":null}]}\n\ndata: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}]}\n\n' > "$CORPUS/seed-sse-repeat"
printf "\x01<think>x</think><tool_call>{'name': 'a', 'arguments': {'b': True,},}</tool_call>FINAL_SCENE: nominal" > "$CORPUS/seed-text"
# The other tag syntaxes and an unescaped quote, with the offered set known (bit 1 of byte 0).
printf '\x03<function=a>{"r": "sign "STOP" here"}</function><function name="b">{}</function><function name="x"y">{}</function>' > "$CORPUS/seed-function"
echo "fuzzing the extractor for ${SECONDS_TO_RUN}s (ASan+UBSan, leak detection on)"
"$BUILD/native/fuzz/extractor_fuzzer" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -detect_leaks=1 -print_final_stats=1 "$CORPUS"
