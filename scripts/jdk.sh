# Sourced by ./accr and ./build: sets ACCR_JAVA_HOME to a JDK >= 25, or explains in one line.
accr_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'
}

accr_find_jdk() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* \
      "$HOME"/.sdkman/candidates/java/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(accr_java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      ACCR_JAVA_HOME=$candidate
      return 0
    fi
  done
  echo "accr: no JDK 25 or newer found (looked at JAVA_HOME and /usr/lib/jvm); install one or set JAVA_HOME" >&2
  return 1
}
