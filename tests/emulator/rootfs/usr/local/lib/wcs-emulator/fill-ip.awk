# Fills `ip` / `ip_local` in a (validated) flashphoner.properties from EXTERNAL_IP / LOCAL_IP, as the real image
# does when it copies /conf. Keeps the file's own alignment (`ip                     =` stays aligned); adds the
# line when the file has none; leaves the value alone when the env var is empty.
function fill(key, value) {
    if (value == "") return 0
    if ($0 ~ ("^[ \t]*" key "[ \t]*=")) {
        match($0, "^[ \t]*" key "[ \t]*=")
        $0 = substr($0, 1, RLENGTH) value
        done[key] = 1
    }
}
{
    fill("ip", ext)
    fill("ip_local", loc)
    print
}
END {
    if (ext != "" && !done["ip"]) print "ip=" ext
    if (loc != "" && !done["ip_local"]) print "ip_local=" loc
}
