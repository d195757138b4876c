#!/usr/bin/env bash
# BenchBase TPC-C through plain pgjdbc and through Bellows with a rename of customer.c_balance (issue 23 §3):
# paired rounds per phase (expand, switch, contract), the order of each pair rotating, on the embedded PostgreSQL
# of the test fixture. Prints throughput, latency percentiles and CPU per transaction per run, each round's
# Bellows / plain ratio, and per phase the median ratio with the spread. Figures: docs/performance.md (TPC-C).
#
#   benchmarks/tpcc/run.sh BENCHBASE_DIR
#
# BENCHBASE_DIR is an unpacked BenchBase postgres distribution (benchbase.jar and lib/). This script neither
# downloads nor builds it. To get one (Java 23+; BenchBase pulls its dependencies from Maven Central):
#   git clone https://github.com/cmu-db/benchbase.git && cd benchbase
#   JAVA_HOME=/path/to/jdk-23-or-later ./mvnw -B -P postgres package -DskipTests
#   tar xzf target/benchbase-postgres.tgz -C /some/dir        # BENCHBASE_DIR=/some/dir/benchbase-postgres
# Bellows must be built first (the driver's -all and -cli jars, the benchmarks module and its classpath):
#   ./mvnw -B install -DskipTests           (add -Dmaven.repo.local=... and pass the same in MVN_ARGS)
# The script copies the driver's -all jar (pgjdbc not bundled; BenchBase's own pgjdbc serves both variants)
# into BENCHBASE_DIR/lib, replacing an older bellows-driver jar there.
#
# Settings (environment):
#   BENCHBASE_JAVA  the java that runs BenchBase (default: java on the PATH; it must be 23 or later)
#   PHASES="expand switch contract"  ROUNDS=4  TIME=60 (measured s per run)  WARMUP=15 (s per run, not measured)
#   SCALE=2 (warehouses)  TERMINALS=4  HEAP=1g (BenchBase's -Xms/-Xmx)
#   JFR=1           a JFR recording (profile settings, exact stacks) of every run in $OUT/jfr
#   OUT             results directory (default benchmarks/target/tpcc-<UTC time>): results.csv, per-run logs
#   MVN_ARGS        extra Maven arguments for the one classpath lookup (e.g. -Dmaven.repo.local=...)
#   PG_ENV          the env file of a server already started with `exec:exec@pg`: use it, do not start one;
#   LOAD=0          with PG_ENV: the database is loaded and expanded already, skip both
#   PIN=1           the server (postmaster and every backend) on SERVER_CPUS, BenchBase on CLIENT_CPUS (taskset;
#                   defaults: the last CPU for BenchBase, the others for the server), as when the database has its
#                   own host: the client's CPU then no longer comes out of the server's
#
# What it does: starts the embedded server (dev.bellows.bench.tpcc.TpccServer) with a fresh database; loads TPC-C
# through plain pgjdbc; `bellows plan` and the plan's expand file (ADD COLUMN c_balance_new); the backfill as one
# UPDATE (`bellows backfill` needs a single-column primary key and customer's is (c_w_id, c_d_id, c_id)), checked
# to leave no row diverging; VACUUM ANALYZE; CHECKPOINT. Then per phase ROUNDS rounds of two BenchBase runs,
# plain pgjdbc and Bellows (rules file with that phase), the first of the pair alternating round by round.
# The old column is never dropped, so the plain variant runs in every phase; in contract Bellows writes only
# c_balance_new and reads it under the old label.
#
# CPU per transaction is measured over the measured window only: the BenchBase JVM's utime+stime, and the server's
# (every child of the postmaster, live or ended), sampled when BenchBase logs the end of its warm-up and the end
# of its measurement, divided by the measured transactions. The load average is read before every run.
set -euo pipefail

BB=${1:?usage: $0 BENCHBASE_DIR (an unpacked BenchBase postgres distribution; see the header of this script)}
BB=$(cd "$BB" && pwd)
REPO=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$REPO/benchmarks/tpcc
PHASES=${PHASES:-"expand switch contract"}
ROUNDS=${ROUNDS:-4}
TIME=${TIME:-60}
WARMUP=${WARMUP:-15}
SCALE=${SCALE:-2}
TERMINALS=${TERMINALS:-4}
HEAP=${HEAP:-1g}
JFR=${JFR:-0}
PIN=${PIN:-0}
NCPU=$(nproc)
CLIENT_CPUS=${CLIENT_CPUS:-$((NCPU - 1))}
SERVER_CPUS=${SERVER_CPUS:-0-$((NCPU > 1 ? NCPU - 2 : 0))}
LOAD=${LOAD:-1}
BENCHBASE_JAVA=${BENCHBASE_JAVA:-java}
OUT=${OUT:-$REPO/benchmarks/target/tpcc-$(date -u +%Y%m%d-%H%M%S)}
MIGRATION=tpcc-c-balance
TICK=$(getconf CLK_TCK)

[ -f "$BB/benchbase.jar" ] && [ -d "$BB/lib" ] || { echo "$BB has no benchbase.jar and lib/: not a BenchBase distribution" >&2; exit 2; }
[ "$WARMUP" -gt 0 ] || { echo "WARMUP must be > 0 (CPU is sampled at the end of the warm-up)" >&2; exit 2; }
bbver=$("$BENCHBASE_JAVA" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
[ "${bbver%%.*}" -ge 23 ] 2>/dev/null || { echo "BenchBase needs Java 23+; $BENCHBASE_JAVA is $bbver (set BENCHBASE_JAVA)" >&2; exit 2; }
ALL_JAR=$(ls "$REPO"/driver/target/bellows-driver-*-all.jar 2>/dev/null | head -1)
CLI_JAR=$(ls "$REPO"/driver/target/bellows-driver-*-cli.jar 2>/dev/null | head -1)
[ -n "$ALL_JAR" ] && [ -n "$CLI_JAR" ] && [ -d "$REPO/benchmarks/target/classes" ] \
  || { echo "build Bellows first: ./mvnw -B install -DskipTests" >&2; exit 2; }

mkdir -p "$OUT"/config "$OUT"/runs
[ "$JFR" = 1 ] && mkdir -p "$OUT"/jfr
rm -f "$BB"/lib/bellows-driver-*.jar
cp "$ALL_JAR" "$BB/lib/"
"$REPO/mvnw" -q -B ${MVN_ARGS:-} -f "$REPO/pom.xml" -pl benchmarks dependency:build-classpath \
  -Dmdep.outputFile="$OUT/classpath.txt" >/dev/null
TOOLS_CP="$REPO/benchmarks/target/classes:$(cat "$OUT/classpath.txt")"

log() { echo "[$(date -u +%H:%M:%S)] $*"; }
sql() { java -cp "$TOOLS_CP" dev.bellows.bench.tpcc.TpccSql "$@"; }

SERVER_PID=
cleanup() { if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi; }
trap cleanup EXIT
if [ -z "${PG_ENV:-}" ]; then
  PG_ENV=$OUT/pg.env
  java -cp "$TOOLS_CP" dev.bellows.bench.tpcc.TpccServer "$PG_ENV" > "$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 240); do [ -f "$PG_ENV" ] && break; kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
  [ -f "$PG_ENV" ] || { echo "the embedded server did not start:" >&2; cat "$OUT/server.log" >&2; exit 1; }
  LOAD=1
fi
# shellcheck disable=SC1090
. "$PG_ENV"
URL="$PG_URL?user=$PG_USER&password=$PG_PASSWORD"
PIN_CLIENT=()
if [ "$PIN" = 1 ]; then
  command -v taskset >/dev/null || { echo "PIN=1 needs taskset (util-linux)" >&2; exit 2; }
  [ "$NCPU" -ge 2 ] || { echo "PIN=1 needs at least 2 CPUs" >&2; exit 2; }
  # backends forked from now on inherit the postmaster's affinity; the running background processes are moved too
  for pid in "$PG_POSTMASTER_PID" $(awk -v pp="$PG_POSTMASTER_PID" '{ pid = $1; sub(/^.*\) /, ""); if ($2 == pp) print pid }' \
      /proc/[0-9]*/stat 2>/dev/null || true); do
    taskset -a -p -c "$SERVER_CPUS" "$pid" >/dev/null 2>&1 || true # it may have ended since
  done
  PIN_CLIENT=(taskset -c "$CLIENT_CPUS")
fi
log "server $PG_URL (postmaster $PG_POSTMASTER_PID$([ "$PIN" = 1 ] && echo ", CPUs $SERVER_CPUS; BenchBase on CPUs $CLIENT_CPUS")), results in $OUT"

# Literal replacement of @NAME@ placeholders (no regex, so & and / in URLs are safe).
config() { # template out NAME=value...
  local tpl=$1 out=$2; shift 2
  awk -v pairs="$(printf '%s\n' "$@")" 'BEGIN { n = split(pairs, kv, "\n") }
    { for (i = 1; i <= n; i++) { if (kv[i] == "") continue; p = index(kv[i], "="); k = "@" substr(kv[i], 1, p - 1) "@"; v = substr(kv[i], p + 1)
        while ((j = index($0, k)) > 0) $0 = substr($0, 1, j - 1) v substr($0, j + length(k)) }
      print }' "$tpl" > "$out"
}
xml_url() { printf '%s' "$1" | sed 's/&/\&amp;/g'; }
QUERY="sslmode=disable&ApplicationName=tpcc&reWriteBatchedInserts=true"
common=(USER="$PG_USER" PASSWORD="$PG_PASSWORD" SCALE="$SCALE" TERMINALS="$TERMINALS" TIME="$TIME" WARMUP="$WARMUP")
config "$HERE/tpcc.xml" "$OUT/config/plain.xml" DRIVER=org.postgresql.Driver URL="$(xml_url "$PG_URL?$QUERY")" "${common[@]}"
for phase in $PHASES; do
  sed "s/^\(    phase:\).*/\1 $phase/" "$HERE/bellows-rules.yaml" > "$OUT/config/rules-$phase.yaml"
  burl="jdbc:bellows:${PG_URL#jdbc:}?$QUERY&bellows.rules=$OUT/config/rules-$phase.yaml&bellows.appName=benchbase-tpcc"
  config "$HERE/tpcc.xml" "$OUT/config/bellows-$phase.xml" DRIVER=dev.bellows.jdbc.BellowsDriver URL="$(xml_url "$burl")" "${common[@]}"
done
sed "s/^\(    phase:\).*/\1 expand/" "$HERE/bellows-rules.yaml" > "$OUT/config/rules-plan.yaml"

if [ "$LOAD" = 1 ]; then
  log "loading TPC-C, scale $SCALE"
  (cd "$BB" && "$BENCHBASE_JAVA" -cp "benchbase.jar:lib/*" com.oltpbenchmark.DBWorkload -b tpcc -c "$OUT/config/plain.xml" \
    -d "$OUT/load" --create=true --load=true --execute=false) > "$OUT/load.log" 2>&1 || { tail -30 "$OUT/load.log"; exit 1; }
  log "bellows plan $MIGRATION"
  java -jar "$CLI_JAR" plan "$MIGRATION" --url "$URL" --rules "$OUT/config/rules-plan.yaml" --out "$OUT/plan" > "$OUT/plan.log" 2>&1 \
    || { cat "$OUT/plan.log"; exit 1; }
  expand=$(ls "$OUT"/plan/*_expand.sql | grep -v '\.down\.sql$' | head -1)
  sql "$URL" -f "$expand"
  log "backfill (one UPDATE), VACUUM ANALYZE, CHECKPOINT"
  sql "$URL" -e "UPDATE customer SET c_balance_new = c_balance WHERE c_balance_new IS DISTINCT FROM c_balance" \
    -e "SELECT 'rows diverging after the backfill: ' || count(*) FROM customer WHERE c_balance_new IS DISTINCT FROM c_balance" \
    -e "VACUUM ANALYZE" -e "CHECKPOINT"
fi

client_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# every child of the postmaster (backends, background processes) plus the children it has reaped
server_ticks() {
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pp="$PG_POSTMASTER_PID" '
    { pid = $1; sub(/^.*\) /, ""); if ($2 == pp) s += $12 + $13; if (pid == pp) s += $12 + $13 + $14 + $15 }
    END { print s + 0 }'
}
json() { grep -m1 "\"$2" "$1" | sed 's/.*: *//; s/[",]//g'; }

CSV=$OUT/results.csv
[ -f "$CSV" ] || echo "phase,round,pos,variant,tps,goodput,requests,avg_us,p50_us,p95_us,p99_us,client_us_tx,server_us_tx,load1" > "$CSV"

run_one() { # phase round pos variant
  local phase=$1 round=$2 pos=$3 variant=$4 cfg name dir out load pid c0= s0= c1= s1= jfr=()
  if [ "$variant" = plain ]; then cfg=$OUT/config/plain.xml; else cfg=$OUT/config/bellows-$phase.xml; fi
  name=$phase-r$round-$variant
  dir=$OUT/runs/$name
  out=$dir.log
  mkdir -p "$dir"
  [ "$JFR" = 1 ] && jfr=(-XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints "-XX:StartFlightRecording=filename=$OUT/jfr/$name.jfr,settings=profile")
  load=$(cut -d' ' -f1 /proc/loadavg)
  # the subshell execs java, so $! is BenchBase's JVM
  (cd "$BB" && exec "${PIN_CLIENT[@]}" "$BENCHBASE_JAVA" -Xms"$HEAP" -Xmx"$HEAP" "${jfr[@]}" -cp "benchbase.jar:lib/*" com.oltpbenchmark.DBWorkload \
    -b tpcc -c "$cfg" -d "$dir" --create=false --load=false --execute=true) > "$out" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ -z "$c0" ] && grep -q "Warmup complete" "$out" 2>/dev/null; then c0=$(client_ticks "$pid"); s0=$(server_ticks); fi
    if [ -n "$c0" ] && [ -z "$c1" ] && grep -q "Waiting for all terminals" "$out" 2>/dev/null; then c1=$(client_ticks "$pid"); s1=$(server_ticks); fi
    sleep 0.1
  done
  wait "$pid" || { echo "BenchBase failed ($out):" >&2; tail -30 "$out" >&2; exit 1; }
  local summary
  summary=$(ls "$dir"/*.summary.json | head -1)
  local tps goodput req avg p50 p95 p99 cus sus
  tps=$(json "$summary" "Throughput (requests/second)")
  goodput=$(json "$summary" "Goodput (requests/second)")
  req=$(json "$summary" "Measured Requests")
  avg=$(json "$summary" "Average Latency")
  p50=$(json "$summary" "Median Latency")
  p95=$(json "$summary" "95th Percentile Latency")
  p99=$(json "$summary" "99th Percentile Latency")
  cus=$(awk -v a="${c0:-0}" -v b="${c1:-0}" -v n="$req" -v t="$TICK" 'BEGIN { printf "%.0f", (b - a) / t / n * 1e6 }')
  sus=$(awk -v a="${s0:-0}" -v b="${s1:-0}" -v n="$req" -v t="$TICK" 'BEGIN { printf "%.0f", (b - a) / t / n * 1e6 }')
  echo "$phase,$round,$pos,$variant,$tps,$goodput,$req,$avg,$p50,$p95,$p99,$cus,$sus,$load" >> "$CSV"
  printf '  %-8s %-8s %9.1f tx/s (goodput %8.1f)  latency avg %6s p50 %6s p95 %6s p99 %6s us  CPU/tx client %5s server %5s us  load %s\n' \
    "$phase" "$variant" "$tps" "$goodput" "$avg" "$p50" "$p95" "$p99" "$cus" "$sus" "$load"
}

phase_index=0
for phase in $PHASES; do
  log "phase $phase: $ROUNDS rounds of plain and Bellows, ${WARMUP}s warm-up + ${TIME}s each"
  for round in $(seq 1 "$ROUNDS"); do
    if [ $(((round + phase_index) % 2)) = 1 ]; then order="plain bellows"; else order="bellows plain"; fi
    log "round $round ($order), $(uptime | sed 's/.*load/load/')"
    pos=1
    for variant in $order; do run_one "$phase" "$round" "$pos" "$variant"; pos=$((pos + 1)); done
    awk -F, -v ph="$phase" -v r="$round" '$1 == ph && $2 == r { t[$4] = $5 }
      END { printf "  round %d: Bellows / plain = %.3f\n", r, t["bellows"] / t["plain"] }' "$CSV"
  done
  phase_index=$((phase_index + 1))
done

# Per phase: each round's ratio, their median and range, and the medians of each variant's figures.
echo
awk -F, 'function median(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
                                            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  NR > 1 { k = $1 SUBSEP $2; tps[k, $4] = $5; if (!($1 in seen)) { seen[$1] = 1; order[++np] = $1 }
           if ($2 > rounds[$1]) rounds[$1] = $2
           nv = ++cnt[$1, $4]; for (f = 5; f <= 13; f++) col[$1, $4, f, nv] = $f }
  END {
    split("tps goodput requests avg_us p50_us p95_us p99_us client_us_tx server_us_tx", names, " ")
    for (p = 1; p <= np; p++) {
      ph = order[p]; n = 0; list = ""
      for (r = 1; r <= rounds[ph]; r++) if (tps[ph, r, "plain"] > 0 && tps[ph, r, "bellows"] > 0) {
        x = tps[ph, r, "bellows"] / tps[ph, r, "plain"]; ratios[++n] = x; list = list sprintf(" %.3f", x) }
      if (n == 0) continue
      lo = hi = ratios[1]; for (i = 1; i <= n; i++) { if (ratios[i] < lo) lo = ratios[i]; if (ratios[i] > hi) hi = ratios[i] }
      printf "%-8s Bellows / plain per round:%s   median %.3f (range %.3f-%.3f, %d rounds)\n", ph, list, median(ratios, n), lo, hi, n
      for (v = 1; v <= 2; v++) {
        var = v == 1 ? "plain" : "bellows"; line = sprintf("         %-8s medians:", var)
        for (f = 5; f <= 13; f++) { m = cnt[ph, var]; for (i = 1; i <= m; i++) vals[i] = col[ph, var, f, i]; line = line sprintf(" %s %s", names[f - 4], median(vals, m)) }
        print line
      }
    }
  }' "$CSV" | tee "$OUT/summary.txt"
log "done: $OUT/results.csv, $OUT/summary.txt, $(uptime | sed 's/.*load/load/')"
