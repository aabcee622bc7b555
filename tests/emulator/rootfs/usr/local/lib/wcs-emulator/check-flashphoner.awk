# Validates flashphoner.properties and prints the facts the emulator applies (ip, ip_local, media, ws and wss ports,
# the cdn_* keys).
# Allowed lines: blank, `#` comments, `key=value` with key [A-Za-z0-9_.-]+ and spaces around `=` (the seed
# aligns its `=` with spaces). Anything else is malformed: `wcs-emulator: <file>:<line>: <why>` and exit 1.
function bad(why) {
    printf "wcs-emulator: %s:%d: %s\n", name, FNR, why > "/dev/stderr"
    failed = 1
    exit 1
}
BEGIN { props["media_port_from"] = 31001; props["media_port_to"] = 32000; props["ws.port"] = 8080; props["wss.port"] = 8443 }
{ sub(/\r$/, "") }
/^[ \t]*$/ || /^[ \t]*#/ { next }
{
    if ($0 !~ /^[ \t]*[A-Za-z0-9_.-]+[ \t]*=/)
        bad("expected key=value, a # comment or a blank line; got \"" substr($0, 1, 60) "\"")
    key = $0; sub(/^[ \t]*/, "", key); sub(/[ \t]*=.*$/, "", key)
    val = $0; sub(/^[^=]*=[ \t]*/, "", val); sub(/[ \t]*$/, "", val)
    if (key ~ /^(media_port_(from|to)|wss?\.port|cdn_port)$/ && (val !~ /^[0-9]+$/ || val + 0 < 1 || val + 0 > 65535))
        bad(key " must be a port number (1-65535); got \"" val "\"")
    if (key == "cdn_nodes_timeout" && (val !~ /^[0-9]+$/ || val + 0 < 1))
        bad(key " must be a whole number of seconds (1 or more); got \"" val "\"")
    if (key == "cdn_enabled" && val !~ /^(true|false)$/)
        bad(key " must be true or false; got \"" val "\"")
    props[key] = val
}
END {
    if (failed) exit 1
    if (props["media_port_from"] + 0 > props["media_port_to"] + 0) {
        FNR = 0
        bad("media_port_from (" props["media_port_from"] ") is above media_port_to (" props["media_port_to"] ")")
    }
    print "ip=" props["ip"]
    print "ip_local=" props["ip_local"]
    print "media_port_from=" props["media_port_from"]
    print "media_port_to=" props["media_port_to"]
    print "ws.port=" props["ws.port"]
    print "wss.port=" props["wss.port"]
    # CDN (Flashphoner CDN documentation): the node's own address, role, entry point and port
    print "cdn_enabled=" props["cdn_enabled"]
    print "cdn_role=" props["cdn_role"]
    print "cdn_ip=" props["cdn_ip"]
    print "cdn_point_of_entry=" props["cdn_point_of_entry"]
    print "cdn_port=" props["cdn_port"]
    print "cdn_nodes_timeout=" props["cdn_nodes_timeout"]
}
