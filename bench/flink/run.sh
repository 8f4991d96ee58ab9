#!/usr/bin/env bash
# Runs Flink 2.3.0 (the jars of PyPI's apache-flink-libraries) on Rivulet's
# benchmark jobs, one after another, each in a JVM of its own, and prints and
# records the figures. See README.md beside this file.
#
#   bench/flink/run.sh nexmark [q0 q1 ...]        Nexmark over the JSON-lines file (default: all but q6, q13)
#   bench/flink/run.sh throughput [datagen csv json-csv json-json json-blackhole]
#   bench/flink/run.sh script FILE [name=value]... any SQL script
#
# Environment: FLINK_BENCH (work directory, default /work/flink-bench), FLINK_HEAP
# (default 8g), EVENTS (default 10000000), RIVULET (the binary that writes the
# Nexmark file; default target/release/rivulet, else target/debug/rivulet),
# RUNSQL_ARGS (extra RunSql arguments, e.g. "--per-job" or "--explain"), JAVA_OPTS
# (extra JVM options, e.g. a flight recording), QUIET_WAIT (seconds to wait
# before each case for the rest of the machine to fall under a fifth of a core;
# default 900), RETRIES (how often to run a case again when other processes
# used more than a quarter of a core during it; default 1).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${FLINK_BENCH:-/work/flink-bench}"
HEAP="${FLINK_HEAP:-8g}"
EVENTS="${EVENTS:-10000000}"
FLINK_VERSION=2.3.0
LIB="$WORK/libs/pyflink/lib"
DATA="$WORK/data"
mkdir -p "$WORK" "$DATA" "$WORK/logs" "$WORK/scripts" "$WORK/results"

# 1. Flink's jars, from PyPI.
if [ ! -f "$LIB/flink-dist-$FLINK_VERSION.jar" ]; then
    python3 -m pip download "apache-flink-libraries==$FLINK_VERSION" --no-deps -d "$WORK/dl"
    rm -rf "$WORK/libs" && mkdir -p "$WORK/libs"
    python3 -m zipfile -e "$WORK"/dl/apache_flink_libraries-"$FLINK_VERSION"-*.whl "$WORK/libs"
fi

# 2. The harness.
CLASSES="$WORK/classes"
if [ ! -f "$CLASSES/RunSql.class" ] || [ "$HERE/RunSql.java" -nt "$CLASSES/RunSql.class" ]; then
    mkdir -p "$CLASSES"
    javac -cp "$LIB/*" -d "$CLASSES" "$HERE/RunSql.java"
fi

# What Flink's own launcher passes to a Java 17 JVM.
JVM_OPENS=(-XX:+IgnoreUnrecognizedVMOptions
    --add-exports=java.base/sun.net.util=ALL-UNNAMED
    --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED
    --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED
    --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED)

RESULTS="$WORK/results/results.tsv"
[ -f "$RESULTS" ] || printf 'date\tcase\trows\tcpu_s\tM_rows_per_cpu_s\twall_s\tjob_net_s\tgc_s\tpeak_rss_mb\theap\tother_cpu_s\n' > "$RESULTS"

# Busy ticks (1/100 s) of all CPUs.
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8; exit}' /proc/stat; }

# Waits up to QUIET_WAIT seconds until the machine is idle (under 0.2 of a
# core over 5 s): other processes' CPU use raises Flink's CPU-seconds too.
wait_quiet() {
    local waited=0 a b
    while [ "$waited" -lt "${QUIET_WAIT:-900}" ]; do
        a=$(busy_ticks); sleep 5; b=$(busy_ticks)
        [ $((b - a)) -lt 100 ] && return 0
        waited=$((waited + 5))
    done
    echo "(machine still busy after ${QUIET_WAIT:-900} s; running anyway)"
}

# run CASE SCRIPT ROWS [name=value]...: run_once, again while disturbed.
run() {
    local try=0
    while :; do
        wait_quiet
        run_once "$@"
        [ "$disturbed" = 1 ] && [ "$try" -lt "${RETRIES:-1}" ] || break
        try=$((try + 1))
        echo "(disturbed: other processes used more than a quarter of a core; running again)"
    done
}

# run_once CASE SCRIPT ROWS [name=value]...: one JVM, its output to the console
# and results/CASE.out, Flink's log to logs/CASE.log, one line to results.tsv.
run_once() {
    local case="$1" script="$2" rows="$3"; shift 3
    local out="$WORK/results/$case.out"
    disturbed=0
    echo "== $case ($(date -u +%FT%TZ), heap $HEAP)"
    # shellcheck disable=SC2086
    java -Xmx"$HEAP" "${JVM_OPENS[@]}" ${JAVA_OPTS:-} \
        -Dlog.file="$WORK/logs/$case.log" -Dlog4j.configurationFile="$HERE/log4j2.properties" \
        -Djava.io.tmpdir="$WORK/tmp" \
        -cp "$CLASSES:$LIB/*" RunSql ${RUNSQL_ARGS:-} --events "$rows" "$script" "$@" \
        --set io.tmp.dirs="$WORK/tmp" 2>&1 | tee "$out"
    local status=${PIPESTATUS[0]}
    if [ "$status" -ne 0 ] || ! grep -q '^cpu_s' "$out"; then
        echo "!! $case failed (exit $status), see $out and $WORK/logs/$case.log"
        printf '%s\t%s\tFAILED\n' "$(date -u +%F)" "$case" >> "$RESULTS"
        return 0
    fi
    awk -v d="$(date -u +%F)" -v c="$case" -v h="$HEAP" '
        /^rows /{r=$2} /^cpu_s /{cpu=$2} /^wall_s /{w=$2} /^job_net_s /{n=$2} /^gc_s /{g=$2}
        /^M_rows_per_cpu_s /{m=$2} /^peak_rss_mb /{p=$2} /^other_cpu_s /{o=$2}
        END {printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d, c, r, cpu, m, w, n, g, p, h, o}' \
        "$out" >> "$RESULTS"
    disturbed=$(awk '/^wall_s /{w=$2} /^other_cpu_s /{o=$2} END {print (o > 0.25 * w) ? 1 : 0}' "$out")
}

# Flink reserves DATETIME as a keyword: quote the identifier dateTime, as
# Flink's Nexmark scripts do (the only change made to Rivulet's SQL).
flinkify() { perl -pe 's/(?<![\w`])dateTime(?![\w`])/`dateTime`/g'; }

mkdir -p "$WORK/tmp"
mode="${1:-nexmark}"; shift || true
case "$mode" in
nexmark)
    file="$WORK/nexmark-events-$EVENTS.json"
    if [ ! -f "$file" ]; then
        bin="${RIVULET:-}"
        [ -n "$bin" ] || { [ -x "$REPO/target/release/rivulet" ] && bin="$REPO/target/release/rivulet"; } \
            || bin="$REPO/target/debug/rivulet"
        "$bin" nexmark-json --events "$EVENTS" -o "$file.partial"
        mv "$file.partial" "$file"
    fi
    queries=("$@")
    [ ${#queries[@]} -gt 0 ] || queries=(q0 q1 q2 q3 q4 q5 q7 q8 q9 q10 q11 q12 q14 q15 q16 q17 q18 q19 q20 q21 q22)
    ex="$REPO/examples/nexmark"
    for q in "${queries[@]}"; do
        script="$WORK/scripts/nexmark-$q.sql"
        cat "$ex/source-file.sql" "$ex/views.sql" "$ex/$q.sql" | flinkify > "$script"
        run "nexmark-$q" "$script" "$EVENTS" "path=$file" "sink='connector' = 'blackhole'"
    done
    ;;
throughput)
    cases=("$@")
    [ ${#cases[@]} -gt 0 ] || cases=(datagen csv json-csv json-json json-blackhole)
    bids="$DATA/bids-$EVENTS.csv"; nex="$DATA/nexmark-$EVENTS.json"
    for c in "${cases[@]}"; do
        case "$c" in
        datagen) run "throughput-datagen" "$HERE/sql/datagen.sql" "$EVENTS" "rows=$EVENTS" ;;
        csv)
            [ -f "$bids" ] || python3 "$HERE/gen_data.py" csv "$EVENTS" "$bids"
            rm -rf "$WORK/out/csv"
            run "throughput-csv" "$HERE/sql/csv.sql" "$EVENTS" "input=$bids" "output=$WORK/out/csv"
            du -sb "$WORK/out/csv" | awk '{printf "output      %.1f MB\n", $1/1e6}'
            rm -rf "$WORK/out/csv" ;;
        json-csv|json-json|json-blackhole)
            [ -f "$nex" ] || python3 "$HERE/gen_data.py" json "$EVENTS" "$nex"
            rm -rf "$WORK/out/$c"
            case "$c" in
            json-blackhole) sink="'connector' = 'blackhole'" ;;
            *) sink="'connector' = 'filesystem', 'path' = '$WORK/out/$c', 'format' = '${c#json-}'" ;;
            esac
            run "throughput-$c" "$HERE/sql/json-q0.sql" "$EVENTS" "input=$nex" "sink=$sink"
            [ ! -d "$WORK/out/$c" ] || du -sb "$WORK/out/$c" | awk '{printf "output      %.1f MB\n", $1/1e6}'
            rm -rf "$WORK/out/$c" ;;
        *) echo "unknown case $c"; exit 2 ;;
        esac
    done
    ;;
script)
    file="$1"; shift
    run "script-$(basename "$file" .sql)" "$file" "$EVENTS" "$@"
    ;;
*) echo "usage: $0 nexmark [QUERY...] | throughput [CASE...] | script FILE [name=value]..."; exit 2 ;;
esac
