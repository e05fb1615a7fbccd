# Sourced by ./accr and ./build: sets ACCR_JAVA_HOME to a JDK >= 25, or explains in one line.
# The JDK found is remembered in a cache file, keyed by $JAVA_HOME, and used again while its
# java is still there; a JDK's version is read from its release file, without starting it.

# The major version of the JDK in $1 (empty if unknown).
accr_java_major() {
  local v
  if [ -f "$1/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release")
    if [ -n "$v" ]; then
      echo "$v"
      return
    fi
  fi
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'
}

accr_find_jdk() {
  local candidate major cache key line
  cache=${ACCR_JDK_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/accr/jdk}
  key="JAVA_HOME=${JAVA_HOME:-}"
  if [ -r "$cache" ]; then
    { read -r line; read -r candidate; } < "$cache" || true
    if [ "$line" = "$key" ] && [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] \
        && [ -x "$candidate/bin/javac" ]; then
      ACCR_JAVA_HOME=$candidate
      return 0
    fi
  fi
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* \
      "${HOME:-/nonexistent}"/.sdkman/candidates/java/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(accr_java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      ACCR_JAVA_HOME=$candidate
      # Best effort: a cache that cannot be written only costs the search next time.
      { mkdir -p "$(dirname "$cache")" && printf '%s\n%s\n' "$key" "$candidate" > "$cache.$$" \
          && mv -f "$cache.$$" "$cache"; } 2>/dev/null || rm -f "$cache.$$" 2>/dev/null
      return 0
    fi
  done
  echo "accr: no JDK 25 or newer found (looked at JAVA_HOME and /usr/lib/jvm); install one or set JAVA_HOME" >&2
  return 1
}
