#!/usr/bin/env bash
# End-to-end benchmark of `appiscan scan` (issue 7; method of performance.md §1 and §9):
#
# 1. Throughput: a generated digit-dense tree (default 256 MiB in files of at most 1 MiB in 16
#    directories, like performance.md's tree1m) scanned by
#        appiscan scan -j 2 --no-progress -f jsonl -o /dev/null TREE
#    and by ripgrep with the 18 naive ASCII-flavour patterns of performance.md §2, both with 2
#    threads:
#        rg -c -j2 -f naive.txt TREE              (first match per line)
#        rg --count-matches -j2 -f naive.txt TREE (every match, like a scanner)
#    (plus --no-config --no-ignore, so that no ripgrep configuration or .gitignore above the
#    working directory changes what it reads). One warm-up run each, which also checks that every
#    file was read, then interleaved timed runs (A B C A B C …); the minimum wall time of each.
#    Prints bytes, seconds, GB/s (10^9 bytes), GB per CPU-second, and the ratios appiscan/rg.
# 2. Memory (skipped with --quick): peak resident memory (`/usr/bin/time -v`) of the same scan
#    command on (a) one 4 GiB digit-dense file and (b) a tree of 200,000 files of about 1 KiB;
#    each must stay under 200 MiB (PASS/FAIL; the script exits 1 on a FAIL).
#
# The machine kind is shared: figures are min-of-N and the load average is printed before and
# after. Generated data goes to a temporary directory (under $TMPDIR, else /tmp; --workdir to
# choose), which is removed at exit, also on failure or Ctrl-C (--keep keeps it).
#
# Usage: scripts/bench_e2e.sh [--quick] [--runs N] [--threads N] [--tree-size SIZE]
#                             [--big-size SIZE] [--small-files N] [--limit-mib N]
#                             [--workdir DIR] [--keep] [--no-build]
# Environment: RG (default: rg; the ripgrep comparison is skipped with a message without it).
# Exit: 0 fine, 1 a memory case failed its bound, 2 usage error or a command failed.

set -euo pipefail
export LC_ALL=C

RUNS=5
THREADS=2
QUICK=0
TREE_SIZE=256M
BIG_SIZE=4G
SMALL_FILES=200000
LIMIT_MIB=200
WORKDIR_PARENT="${TMPDIR:-/tmp}"
KEEP=0
BUILD=1
RG="${RG:-rg}"

usage() {
  sed -n '/^# Usage:/,/^# Exit:/p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
  echo "bench_e2e: $*" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --runs) RUNS="${2:?--runs needs a value}"; shift ;;
    --threads) THREADS="${2:?--threads needs a value}"; shift ;;
    --tree-size) TREE_SIZE="${2:?--tree-size needs a value}"; shift ;;
    --big-size) BIG_SIZE="${2:?--big-size needs a value}"; shift ;;
    --small-files) SMALL_FILES="${2:?--small-files needs a value}"; shift ;;
    --limit-mib) LIMIT_MIB="${2:?--limit-mib needs a value}"; shift ;;
    --workdir) WORKDIR_PARENT="${2:?--workdir needs a value}"; shift ;;
    --keep) KEEP=1 ;;
    --no-build) BUILD=0 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done
for n in "$RUNS" "$THREADS" "$SMALL_FILES" "$LIMIT_MIB"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "not a positive number: $n"
done

cd "$(dirname "$0")/.."
REPO="$PWD"

if [ "$BUILD" = 1 ]; then
  echo "== building (release)"
  cargo build --release --quiet --bin appiscan
  cargo build --release --quiet --example gen_corpus
fi
APPISCAN="$REPO/target/release/appiscan"
GEN="$REPO/target/release/examples/gen_corpus"
[ -x "$APPISCAN" ] || die "$APPISCAN is missing (run without --no-build)"
[ -x "$GEN" ] || die "$GEN is missing (run without --no-build)"

TIME=/usr/bin/time
[ -x "$TIME" ] || TIME=""
HAVE_RG=0
if command -v "$RG" > /dev/null 2>&1; then
  HAVE_RG=1
fi

mkdir -p "$WORKDIR_PARENT"
WORK="$(mktemp -d "$WORKDIR_PARENT/appiscan-e2e.XXXXXX")"
cleanup() {
  if [ "$KEEP" = 1 ]; then
    echo "bench_e2e: kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2> /dev/null || echo "n/a"; }
# Bytes free where the data goes.
free_bytes() { df -P -B1 "$WORK" | awk 'NR == 2 { print $4 }'; }
# Size arguments as gen_corpus reads them (K, M, G binary).
to_bytes() {
  local s="${1%iB}"
  s="${s%B}"
  case "$s" in
    *[Kk]) echo $(("${s%?}" << 10)) ;;
    *[Mm]) echo $(("${s%?}" << 20)) ;;
    *[Gg]) echo $(("${s%?}" << 30)) ;;
    *) echo $((s)) ;;
  esac
}
tree_bytes() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d\n", s }'; }
# A number field of the jsonl summary line in file $1.
summary_field() { grep -o "\"$2\":[0-9]*" "$1" | head -n 1 | cut -d: -f2; }

# Runs "$@" with stdout to /dev/null; sets WALL (seconds), CPU (user+sys seconds, or "n/a") and
# RC. Exit codes above 1 (appiscan: 2 fatal, 3 unreadable input; rg: 2 error) stop the script.
measure() {
  local t0 t1 err="$WORK/measure.err"
  RC=0
  t0=$EPOCHREALTIME
  if [ -n "$TIME" ]; then
    "$TIME" -f '%U %S' -o "$WORK/measure.time" "$@" > /dev/null 2> "$err" || RC=$?
  else
    "$@" > /dev/null 2> "$err" || RC=$?
  fi
  t1=$EPOCHREALTIME
  if [ "$RC" -gt 1 ]; then
    cat "$err" >&2
    die "exit $RC from: $*"
  fi
  WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
  if [ -n "$TIME" ]; then
    CPU=$(tail -n 1 "$WORK/measure.time" | awk '{ printf "%.2f", $1 + $2 }')
  else
    CPU="n/a"
  fi
}

min() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }'; }
gbps() { awk -v n="$1" -v t="$2" 'BEGIN { if (t == "n/a" || t + 0 <= 0) print "n/a"; else printf "%.3f", n / t / 1e9 }'; }

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo 2> /dev/null | cut -d: -f2 | sed 's/^ *//'), load average $(loadavg)"
echo "== appiscan $(git -C "$REPO" describe --always --dirty 2> /dev/null || echo '?'), threads $THREADS, runs $RUNS, data in $WORK ($(($(free_bytes) >> 30)) GiB free)"

# ---------------------------------------------------------------------------------------------
# 1. Throughput against ripgrep.

# performance.md §2, "ASCII flavour": \b -> (?-u:\b), \d -> [0-9], \s -> [ \t].
cat > "$WORK/naive.txt" << 'EOF'
(?-u:\b)[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}(?-u:\b)
(?-u:\b)[A-Z]{2}[0-9]{7}(?-u:\b)
(?-u:\b)[0-9]{4}-?[0-9]{6}(?-u:\b)
(?-u:\b)0[0-9]{1,4}-[0-9]{1,4}-[0-9]{4}(?-u:\b)
(?-u:\b)0[789]0-?[0-9]{4}-?[0-9]{4}(?-u:\b)
〒?[0-9]{3}-[0-9]{4}
(?-u:\b)(?:[0-9]{4}[ -]?){3}[0-9]{4}(?-u:\b)
[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}
(?-u:\b)T?[0-9]{13}(?-u:\b)
(?-u:\b)[A-Z]{2}[0-9]{8}[A-Z]{2}(?-u:\b)
口座番号[:：]?[ \t]*[0-9]{7}
生年月日[:：]?[ \t]*[0-9]{4}[年/-][0-9]{1,2}[月/-][0-9]{1,2}
[０-９]{4}[－ー]?[０-９]{4}[－ー]?[０-９]{4}
旅券番号|個人番号|マイナンバー|パスポート|運転免許証|基礎年金番号|在留カード
(?i)passport|social security|date of birth|driver'?s license
(?i)fingerprint|face_?id|iris_?scan|voiceprint|biometric
指紋|顔認証|静脈|虹彩|声紋
(?-u:\b)[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?-u:\b)
EOF

TREE="$WORK/tree"
need=$(($(to_bytes "$TREE_SIZE") * 11 / 10))
[ "$(free_bytes)" -gt "$need" ] || die "not enough disk space under $WORK for a $TREE_SIZE tree"
echo "== generating a $TREE_SIZE digit-dense tree (files <= 1 MiB, 16 dirs)"
"$GEN" tree digit-dense "$TREE_SIZE" "$TREE" --file-size 1M --dirs 16
BYTES=$(tree_bytes "$TREE")
FILES=$(find "$TREE" -type f | wc -l)

SCAN=("$APPISCAN" scan -j "$THREADS" --no-progress -f jsonl -o /dev/null "$TREE")
RG_C=("$RG" --no-config --no-ignore -c -j"$THREADS" -f "$WORK/naive.txt" "$TREE")
RG_M=("$RG" --no-config --no-ignore --count-matches -j"$THREADS" -f "$WORK/naive.txt" "$TREE")
NAMES=("appiscan")
if [ "$HAVE_RG" = 1 ]; then
  NAMES+=("rg -c" "rg --count-matches")
else
  echo "== ripgrep ($RG) not found: timing appiscan alone (set RG=/path/to/rg to compare)"
fi

echo "== warm-up and checks"
# appiscan: every file read, nothing unreadable.
set +e
"$APPISCAN" scan -j "$THREADS" --no-progress -f jsonl "$TREE" | tail -n 1 > "$WORK/summary.json"
rc=("${PIPESTATUS[@]}")
set -e
[ "${rc[0]}" -le 1 ] || die "appiscan exited ${rc[0]} on the tree"
scanned=$(summary_field "$WORK/summary.json" files_scanned)
scanned_bytes=$(summary_field "$WORK/summary.json" bytes_scanned)
errors=$(summary_field "$WORK/summary.json" errors)
[ "$scanned" = "$FILES" ] && [ "$scanned_bytes" = "$BYTES" ] && [ "$errors" = 0 ] ||
  die "appiscan read $scanned files / $scanned_bytes bytes ($errors errors) of $FILES / $BYTES"
echo "   appiscan: $scanned files, $scanned_bytes bytes, findings by rule:" \
  "$(grep -o '"findings":{[^}]*}' "$WORK/summary.json" | cut -c12-)"
if [ "$HAVE_RG" = 1 ]; then
  lines=$("${RG_C[@]}" | awk -F: '{ s += $NF } END { printf "%d\n", s }')
  matches=$("${RG_M[@]}" | awk -F: '{ s += $NF } END { printf "%d\n", s }')
  echo "   $("$RG" --version | head -n 1): $lines matching lines, $matches matches"
fi

declare -A WMIN CMIN
echo "== $RUNS interleaved runs (load average before: $(loadavg))"
for ((r = 1; r <= RUNS; r++)); do
  line="   run $r:"
  for name in "${NAMES[@]}"; do
    case "$name" in
      appiscan) measure "${SCAN[@]}" ;;
      "rg -c") measure "${RG_C[@]}" ;;
      *) measure "${RG_M[@]}" ;;
    esac
    WMIN[$name]=$(min "$WALL" "${WMIN[$name]:-}")
    [ "$CPU" = "n/a" ] || CMIN[$name]=$(min "$CPU" "${CMIN[$name]:-}")
    line="$line $name ${WALL}s"
  done
  echo "$line"
done
echo "== results: $BYTES bytes in $FILES files, $THREADS threads, min of $RUNS (load average after: $(loadavg))"
printf '   %-20s %10s %8s %10s %12s\n' "" "seconds" "GB/s" "cpu-s" "GB/cpu-s"
for name in "${NAMES[@]}"; do
  printf '   %-20s %10s %8s %10s %12s\n' "$name" "${WMIN[$name]}" "$(gbps "$BYTES" "${WMIN[$name]}")" \
    "${CMIN[$name]:-n/a}" "$(gbps "$BYTES" "${CMIN[$name]:-n/a}")"
done
if [ "$HAVE_RG" = 1 ]; then
  for name in "rg -c" "rg --count-matches"; do
    awk -v a="${WMIN[appiscan]}" -v b="${WMIN[$name]}" -v n="$name" \
      'BEGIN { printf "   ratio appiscan/%s: throughput %.3f (time %.3f)\n", n, b / a, a / b }'
  done
fi
rm -rf "$TREE"

# ---------------------------------------------------------------------------------------------
# 2. Peak memory.

if [ "$QUICK" = 1 ]; then
  echo "== memory cases skipped (--quick)"
  exit 0
fi
if [ -z "$TIME" ]; then
  echo "== memory cases skipped: /usr/bin/time is not installed"
  exit 0
fi

FAILED=0
# Scans $1 (a file or a tree) under /usr/bin/time -v and checks peak RSS against the bound;
# $2 names the case, $3 the files it must have read.
memory_case() {
  local target="$1" label="$2" want_files="$3" rss rss_mib wall rc
  echo "== memory: $label (load average $(loadavg))"
  set +e
  "$TIME" -v -o "$WORK/mem.txt" "$APPISCAN" scan -j "$THREADS" --no-progress -f jsonl "$target" |
    tail -n 1 > "$WORK/summary.json"
  rc=("${PIPESTATUS[@]}")
  set -e
  [ "${rc[0]}" -le 1 ] || { cat "$WORK/mem.txt" >&2; die "appiscan exited ${rc[0]} on $label"; }
  local scanned errors
  scanned=$(summary_field "$WORK/summary.json" files_scanned)
  errors=$(summary_field "$WORK/summary.json" errors)
  [ "$scanned" = "$want_files" ] && [ "$errors" = 0 ] ||
    die "$label: appiscan read $scanned files ($errors errors), expected $want_files"
  rss=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$WORK/mem.txt")
  wall=$(awk '/Elapsed \(wall clock\)/ { print $NF }' "$WORK/mem.txt")
  rss_mib=$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')
  echo "   $(summary_field "$WORK/summary.json" bytes_scanned) bytes in $scanned files, wall $wall, peak RSS $rss_mib MiB"
  if [ "$rss" -lt $((LIMIT_MIB * 1024)) ]; then
    echo "   PASS: peak RSS $rss_mib MiB < $LIMIT_MIB MiB"
  else
    echo "   FAIL: peak RSS $rss_mib MiB >= $LIMIT_MIB MiB"
    FAILED=1
  fi
}

# (a) One big file.
BIG="$WORK/big.txt"
need=$(($(to_bytes "$BIG_SIZE") * 11 / 10))
if [ "$(free_bytes)" -gt "$need" ]; then
  echo "== generating one $BIG_SIZE digit-dense file"
  "$GEN" digit-dense "$BIG_SIZE" "$BIG"
  memory_case "$BIG" "one $BIG_SIZE file" 1
  rm -f "$BIG"
else
  echo "== memory: one $BIG_SIZE file SKIPPED: $(($(free_bytes) >> 20)) MiB free under $WORK, $((need >> 20)) MiB needed"
fi

# (b) Many small files (about 1 KiB each; a file takes a 4 KiB block on most file systems).
SMALL="$WORK/small"
need=$((SMALL_FILES * 8192))
if [ "$(free_bytes)" -gt "$need" ]; then
  echo "== generating $SMALL_FILES files of about 1 KiB (200 dirs)"
  "$GEN" tree digit-dense 16G "$SMALL" --file-size 1K --files "$SMALL_FILES" --dirs 200
  memory_case "$SMALL" "$SMALL_FILES small files" "$SMALL_FILES"
  rm -rf "$SMALL"
else
  echo "== memory: $SMALL_FILES small files SKIPPED: not enough disk space under $WORK"
fi

exit "$FAILED"
