#!/usr/bin/env bash
# Makes the JDK AOT cache of accr's jar (run by the build): a training run of `accr ps`
# against a node started for it, so that the cache holds what a thin client loads, from its
# options to the node's answer. Should the node not start, the run trains on a `ps` that
# finds no node (a smaller cache), and says so. Usage: aot-cache.sh JAVA JAR CACHE LOGDIR
set -euo pipefail
java=$1 jar=$2 cache=$3 logs=$4
rm -rf "$logs" "$cache"
mkdir -p "$logs"
# A short run directory: a node's socket path must fit in 107 bytes.
run=$(mktemp -d "${TMPDIR:-/tmp}/accr-aot.XXXXXX")
export ACCR_RUN_DIR=$run ACCR_PLUGIN_DIR=${jar%/*}/plugins
accr() { "$java" --enable-native-access=ALL-UNNAMED -jar "$jar" "$@"; }
stop() {
  accr node stop --name aot-training --force > "$logs/node-stop.log" 2>&1 || true
  rm -rf "$run"
}
trap stop EXIT
if ! accr node start --name aot-training --heap 256m > "$logs/node-start.log" 2>&1; then
  echo "aot-cache.sh: the training node did not start (see $logs/node-start.log):" \
    "training without it" >&2
fi
code=0
"$java" -XX:AOTCacheOutput="$cache" -Xlog:aot=off -Xlog:cds=off \
  --enable-native-access=ALL-UNNAMED -jar "$jar" ps --node aot-training > "$logs/ps.log" 2>&1 \
  || code=$?
if [ ! -f "$cache" ] || { [ "$code" != 0 ] && [ "$code" != 5 ]; }; then
  echo "aot-cache.sh: training run failed (exit $code, see $logs/ps.log)" >&2
  exit 1
fi
