# Shared by bin/jnetmap, bin/test and bench/run: finds a JDK >= 25 and builds the project when needed.
# Sourced, not executed.

JNETMAP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
JNETMAP_MIN_JAVA=25

# Prints the feature version (22, 25, ...) of the JDK at $1, or nothing.
jnetmap_jdk_version() {
    local home="$1" v=""
    [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
    if [ -f "$home/release" ]; then
        v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
    fi
    if [ -z "$v" ]; then
        v=$("$home/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
    fi
    echo "$v"
}

# Sets JAVA_HOME and JAVA to a JDK >= 25: $JAVA_HOME if it qualifies, else the newest under /usr/lib/jvm or /opt.
jnetmap_find_jdk() {
    local v best="" bestv=0 home
    if [ -n "${JAVA_HOME:-}" ]; then
        v=$(jnetmap_jdk_version "$JAVA_HOME")
        if [ -n "$v" ] && [ "$v" -ge "$JNETMAP_MIN_JAVA" ]; then
            JAVA="$JAVA_HOME/bin/java"
            export JAVA_HOME
            return 0
        fi
    fi
    for home in /usr/lib/jvm/* /opt/*jdk* /opt/java/*; do
        [ -d "$home" ] || continue
        v=$(jnetmap_jdk_version "$home")
        if [ -n "$v" ] && [ "$v" -ge "$JNETMAP_MIN_JAVA" ] && [ "$v" -gt "$bestv" ]; then
            best="$home"
            bestv="$v"
        fi
    done
    if [ -z "$best" ]; then
        echo "jnetmap: no JDK >= $JNETMAP_MIN_JAVA found (looked at \$JAVA_HOME, /usr/lib/jvm, /opt)." >&2
        echo "jnetmap: install one (e.g. apt-get install openjdk-25-jdk-headless) or set JAVA_HOME." >&2
        exit 1
    fi
    export JAVA_HOME="$best"
    JAVA="$JAVA_HOME/bin/java"
}

# The Debian packages whose tools the tests and benchmarks run (command:package). Tests never skip
# for a missing one: bin/test and bench/run install what is missing (as root, with apt-get).
JNETMAP_PACKAGES=(ip:iproute2 ping:iputils-ping ethtool:ethtool tcpdump:tcpdump tshark:tshark
    iperf3:iperf3 socat:socat nc:netcat-openbsd trafgen:netsniff-ng gcc:gcc setpriv:util-linux
    setcap:libcap2-bin nstat:iproute2 prometheus:prometheus promtool:prometheus chromium:chromium
    qemu-system-x86_64:qemu-system-x86 busybox:busybox-static cpio:cpio)

# Installs the packages of JNETMAP_PACKAGES whose command is missing.
jnetmap_ensure_packages() {
    local entry missing=()
    for entry in "${JNETMAP_PACKAGES[@]}"; do
        command -v "${entry%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${entry%%:*}" ] || missing+=("${entry#*:}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "jnetmap: the tests need these Debian packages: ${missing[*]} (run as root, or apt-get install them)" >&2
        exit 1
    fi
    echo "jnetmap: installing ${missing[*]} ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || {
        echo "jnetmap: apt-get install ${missing[*]} failed" >&2
        exit 1
    }
}

# Runs Maven with the JDK found above.
jnetmap_mvn() {
    if ! command -v mvn >/dev/null 2>&1; then
        echo "jnetmap: Maven 3.8+ is needed to build (apt-get install maven)." >&2
        exit 1
    fi
    local v
    v=$(jnetmap_jdk_version "$JAVA_HOME")
    if [ "$v" -ge 24 ]; then
        # Maven's own guava uses sun.misc.Unsafe; silence its warning (the project itself never does)
        export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
    fi
    # Maven 3.8 in quiet batch mode still prints colour resets (ESC[0m) before its first line: strip them
    (cd "$JNETMAP_ROOT" && mvn -B -ntp "$@") 2>&1 | sed -u 's/\x1b\[0m//g'
    return "${PIPESTATUS[0]}"
}

# True if $1 is missing or older than any source or pom of the project.
jnetmap_stale() {
    local stamp="$1"
    [ -f "$stamp" ] || return 0
    [ -n "$(find "$JNETMAP_ROOT" \( -path "$JNETMAP_ROOT/.git" -o -name target \) -prune -o \
        \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \) -newer "$stamp" -print -quit)" ]
}

# Builds the tools (examples/target/lib) if any source changed since the last build.
jnetmap_build_tools() {
    local stamp="$JNETMAP_ROOT/examples/target/lib/jnetmap-examples.jar"
    if jnetmap_stale "$stamp"; then
        echo "jnetmap: building (first use or sources changed) ..." >&2
        jnetmap_mvn -q -DskipTests -pl examples -am package >&2
        touch "$stamp"
    fi
}

# JVM flags for the tools: native access for FFM and a small heap. Packets live off-heap in the regions
# (mapped with MAP_POPULATE, so pre-touched at creation) and the hot paths allocate nothing, so the
# heap only serves start-up: serial GC, 8 MB to start, the C2 compiler's arenas trimmed after warm-up
# (a pkt-gen holds ~60 MB beyond its region instead of ~330 MB with -Xms256m -XX:+AlwaysPreTouch).
JNETMAP_JVM_FLAGS=(--enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Xms8m -Xmx1g -XX:TrimNativeHeapInterval=2000)

# The tools' class path: the jars of examples/target/lib in a fixed order (an AOT cache holds for one class path).
jnetmap_tools_classpath() {
    local jar cp=""
    for jar in "$JNETMAP_ROOT"/examples/target/lib/*.jar; do
        cp="${cp:+$cp:}$jar"
    done
    echo "$cp"
}

# True if $1 is missing or older than a jar of the tools.
jnetmap_older_than_jars() {
    [ ! -f "$1" ] || [ -n "$(find "$JNETMAP_ROOT/examples/target/lib" -newer "$1" -print -quit 2>/dev/null)" ]
}

# Sets JNETMAP_AOT_FLAGS to start the tools from their ahead-of-time cache (JDK 25, JEP 483/514: classes loaded
# and linked), made by one training run (io.jnetmap.examples.StartupTraining: capture -r through
# filters, pcap and pcapng) when missing or older than the jars. The cache lives in examples/target/aot, or under
# $XDG_CACHE_HOME/jnetmap when the tree is read-only. Never a failure: without a cache the tools start as before.
# JNETMAP_AOT=off leaves it out. $1: the class path.
jnetmap_aot() {
    JNETMAP_AOT_FLAGS=()
    [ "${JNETMAP_AOT:-on}" = off ] && return 0
    [ "$(jnetmap_jdk_version "$JAVA_HOME")" -ge 25 ] || return 0
    local dir="$JNETMAP_ROOT/examples/target/aot"
    if ! mkdir -p "$dir" 2>/dev/null || [ ! -w "$dir" ]; then
        dir="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/jnetmap/$(printf '%s' "$JNETMAP_ROOT" | cksum | cut -d' ' -f1)"
        mkdir -p "$dir" 2>/dev/null || return 0
    fi
    local cache="$dir/tools.aot"
    if jnetmap_older_than_jars "$cache" && jnetmap_older_than_jars "$cache.failed"; then
        (
            # one trainer at a time; a second launcher waits for it rather than training again
            flock 9 || exit 0
            if jnetmap_older_than_jars "$cache"; then
                echo "jnetmap: training the start-up cache (once per build) ..." >&2
                rm -f "$cache" "$cache.tmp" "$cache.failed"
                # classes only, no method profiles (JEP 515): the training's filters and sinks made the profiled call
                # sites megamorphic, and a long capture -r ran 1.6x slower with them (hidden filter classes differ per run)
                if "$JAVA" "${JNETMAP_JVM_FLAGS[@]}" -XX:AOTCacheOutput="$cache.tmp" -XX:+IgnoreUnrecognizedVMOptions \
                        -XX:+UnlockDiagnosticVMOptions -XX:-AOTRecordTraining -cp "$1" \
                        io.jnetmap.examples.StartupTraining >"$dir/training.log" 2>&1 && [ -s "$cache.tmp" ]; then
                    mv -f "$cache.tmp" "$cache"
                else
                    rm -f "$cache.tmp"
                    echo "jnetmap: no start-up cache (see $dir/training.log); the tools start without it" >&2
                    touch "$cache.failed"
                fi
            fi
        ) 9>"$dir/lock"
    fi
    [ -s "$cache" ] && JNETMAP_AOT_FLAGS=(-XX:AOTCache="$cache" -Xlog:aot=off -Xlog:cds=off)
    return 0
}
