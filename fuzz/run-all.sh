#!/bin/sh
# Every fuzz target for $1 seconds (default 660), one after another on one core, from the
# seeds of fuzz/seed.py. Logs in fuzz/logs/<target>.log; crashes in fuzz/artifacts/<target>/.
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-660}
python3 fuzz/seed.py
mkdir -p fuzz/logs
for target in redis_conf quantity yaml_lint admission_review; do
    # -timeout: an input that takes 10 s is a hang; -rss_limit_mb: runaway memory is a bug.
    cargo +nightly fuzz run "$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 > "fuzz/logs/$target.log" 2>&1 || echo "$target: FAILED (see fuzz/logs/$target.log)"
done
