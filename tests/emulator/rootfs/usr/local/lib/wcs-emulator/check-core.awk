# Validates wcs-core.properties (JVM and server options, read by WCS's setenv.sh) and prints heap and ZGC facts.
# Non-comment lines hold options that start with `-`; the seed puts two on one line, so each word is checked.
# `### SERVER OPTIONS ###` / `### JVM OPTIONS ###` are comments. An -Xmx / -Xms that is not a size is malformed.
function bad(why) {
    printf "wcs-emulator: %s:%d: %s\n", name, FNR, why > "/dev/stderr"
    failed = 1
    exit 1
}
function bytes(size,    n, unit) {
    n = size; sub(/[kKmMgGtT]$/, "", n)
    unit = tolower(substr(size, length(size)))
    if (unit == "k") return n * 1024
    if (unit == "m") return n * 1024 * 1024
    if (unit == "g") return n * 1024 * 1024 * 1024
    if (unit == "t") return n * 1024 * 1024 * 1024 * 1024
    return n + 0
}
BEGIN { zgc = "false" }
{ sub(/\r$/, "") }
/^[ \t]*$/ || /^[ \t]*#/ { next }
{
    n = split($0, words, /[ \t]+/)
    for (i = 1; i <= n; i++) {
        w = words[i]
        if (w == "") continue
        if (w !~ /^-/)
            bad("options must start with '-' (JVM or server option); got \"" substr(w, 1, 60) "\"")
        if (w ~ /^-Xm[xs]/) {
            size = substr(w, 5)
            if (size !~ /^[1-9][0-9]*[kKmMgGtT]?$/)
                bad(substr(w, 1, 4) " needs a size such as 16g, 512m or 1073741824; got \"" substr(w, 1, 60) "\"")
            if (w ~ /^-Xmx/) heap = size
        }
        if (w == "-XX:+UseZGC") zgc = "true"
        if (w == "-XX:-UseZGC") zgc = "false"
    }
}
END {
    if (failed) exit 1
    print "heap_max=" heap
    print "heap_max_bytes=" (heap == "" ? "" : sprintf("%.0f", bytes(heap)))
    print "zgc=" zgc
}
