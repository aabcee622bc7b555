# The WCS statistics page (/?action=stat): dash-line section headers, `key=value` lines; format=json gives one
# flat JSON object of the same keys. Inputs, told apart by file name:
#   .../applied      config_* facts the entrypoint applied        .../streams  the test's control file
#   /proc/stat, /proc/self/status (allowed CPUs), .../cpu.last   CPU usage of this container's CPUs since the
#                                                                 previous request (sample written to `sample`)
#   /proc/meminfo and the cgroup memory files (a limit, when set, is the container's total)
# Every stat key set in the control file wins over the figure computed here.
function set(key, value) { if (!(key in ctl)) v[key] = value }
function num(key) { return (key in ctl) ? ctl[key] + 0 : 0 }
function cpu_allowed(list,    parts, n, i, r) {
    n = split(list, parts, ",")
    for (i = 1; i <= n; i++) {
        if (split(parts[i], r, "-") == 2) { for (c = r[1]; c <= r[2]; c++) allowed[c] = 1 }
        else allowed[parts[i] + 0] = 1
    }
}
FILENAME ~ /applied$/ { k = $0; sub(/=.*/, "", k); cfg[k] = substr($0, length(k) + 2); next }
FILENAME ~ /streams$/ {
    line = $0; gsub(/[ \t\r]/, "", line)
    if (line ~ /^[A-Za-z0-9_]+=/) { k = line; sub(/=.*/, "", k); ctl[k] = substr(line, length(k) + 2); order[++nctl] = k }
    next
}
FILENAME == "/proc/stat" { if ($1 ~ /^cpu[0-9]+$/) { id = substr($1, 4) + 0; cpuline[id] = $0 }; next }
FILENAME == "/proc/self/status" { if ($1 == "Cpus_allowed_list:") cpu_allowed($2); next }
FILENAME == "/proc/meminfo" { if ($1 == "MemTotal:") memtotal = $2 * 1024; if ($1 == "MemAvailable:") memfree = $2 * 1024; next }
FILENAME ~ /memory\.(limit_in_bytes|max)$/ { if ($1 ~ /^[0-9]+$/) cglimit = $1 + 0; next }
FILENAME ~ /memory\.(usage_in_bytes|current)$/ { cgusage = $1 + 0; next }
FILENAME ~ /cpu\.last$/ { prev_total = $1 + 0; prev_idle = $2 + 0; have_prev = 1; next }
END {
    # Streams: the control file's counts, zero by default.
    split("streams_webrtc_in streams_webrtc_out streams_rtsp_in streams_rtsp_out streams_rtmp_in streams_rtmp_out " \
          "streams_websocket_out", kinds, " ")
    total = 0
    for (i = 1; i in kinds; i++) total += num(kinds[i])
    webrtc = num("streams_webrtc_in") + num("streams_webrtc_out")

    set("connections", total)
    set("connections_rtmfp", 0)
    set("connections_websocket", ("connections" in ctl) ? num("connections") : total)

    # One even media port per WebRTC stream (RTP bundle), the WCS default.
    from = cfg["config_media_port_from"] + 0; to = cfg["config_media_port_to"] + 0
    even = int(to / 2) - int((from + 1) / 2) + 1
    if (even < 0) even = 0
    busy = ("ports_media_busy" in ctl) ? num("ports_media_busy") : webrtc
    quarantine = num("ports_media_quarantine")
    free = even - busy - quarantine
    set("ports_media_free", free < 0 ? 0 : free)
    set("ports_media_busy", busy)
    set("ports_media_quarantine", quarantine)

    for (i = 1; i in kinds; i++) set(kinds[i], num(kinds[i]))
    set("streams_viewers", num("streams_webrtc_out") + num("streams_rtmp_out") + num("streams_rtsp_out") + \
        num("streams_websocket_out"))
    degraded = num("degraded_streams")
    set("degraded_streams", degraded)
    set("degraded_streams_percent", total > 0 ? sprintf("%.2f", 100 * degraded / total) + 0 : 0)

    # CPU: the CPUs this container may use (its cpuset), from /proc/stat.
    cur_total = 0; cur_idle = 0
    for (id in cpuline) {
        if (!(id in allowed)) continue
        n = split(cpuline[id], f, " ")
        for (j = 2; j <= 9 && j <= n; j++) cur_total += f[j]
        cur_idle += f[5] + f[6]
    }
    dt = cur_total - (have_prev ? prev_total : 0); di = cur_idle - (have_prev ? prev_idle : 0)
    if (dt <= 0) { dt = cur_total; di = cur_idle }
    set("system_java_cpu_usage", dt > 0 ? sprintf("%.2f", 100 * (dt - di) / dt) + 0 : 0)
    if (sample != "") print cur_total, cur_idle > sample

    # Memory: a cgroup limit below the host's RAM is what the container has.
    if (cglimit > 0 && cglimit < memtotal) { memtotal = cglimit; memfree = cglimit - cgusage }
    if (memfree < 0) memfree = 0
    set("system_memory_total", sprintf("%.0f", memtotal))
    set("system_memory_free", sprintf("%.0f", memfree))

    # JVM figures: heap from -Xmx (the JVM's default, a quarter of RAM, without one); use grows with streams.
    heap_max = (cfg["config_heap_max_bytes"] != "") ? cfg["config_heap_max_bytes"] + 0 : int(memtotal / 4)
    used = 64 * 1048576 + total * 2 * 1048576
    if (used > heap_max) used = heap_max
    committed = used * 2; if (committed > heap_max) committed = heap_max
    set("core_threads", 60 + 2 * total)
    set("core_java_threads", 80 + 2 * total)
    set("core_java_committedMemory", sprintf("%.0f", committed))
    set("core_java_freePhysicalMemorySize", sprintf("%.0f", memfree))
    set("core_java_heap_max", sprintf("%.0f", heap_max))
    set("core_java_heap_used", sprintf("%.0f", used))
    zgc = cfg["config_zgc"] == "true"
    set("core_gc_pause_ms_last", zgc ? 0 : 8)
    set("core_gc_pause_ms_max", zgc ? 1 : 35)
    if (speed ~ /^[0-9]+$/) set("network_speed_mbit", speed)

    split("config_ip config_ip_local config_media_port_from config_media_port_to config_heap_max config_zgc " \
          "config_license_set config_password_set emulator_version", cfgkeys, " ")
    for (i = 1; i in cfgkeys; i++) set(cfgkeys[i], cfg[cfgkeys[i]])
    for (k in ctl) v[k] = ctl[k]

    sections = "Connection:connections connections_rtmfp connections_websocket|" \
        "Port:ports_media_free ports_media_busy ports_media_quarantine|" \
        "Stream:streams_webrtc_in streams_webrtc_out streams_rtsp_in streams_rtsp_out streams_rtmp_in " \
        "streams_rtmp_out streams_websocket_out streams_viewers degraded_streams degraded_streams_percent|" \
        "System:system_java_cpu_usage system_memory_total system_memory_free network_speed_mbit|" \
        "Core:core_threads core_java_threads core_java_committedMemory core_java_freePhysicalMemorySize " \
        "core_java_heap_max core_java_heap_used core_gc_pause_ms_last core_gc_pause_ms_max|" \
        "Config:config_ip config_ip_local config_media_port_from config_media_port_to config_heap_max config_zgc " \
        "config_license_set config_password_set emulator_version"
    ns = split(sections, sec, "|")
    out = 0
    for (s = 1; s <= ns; s++) {
        name = sec[s]; sub(/:.*/, "", name)
        keys = sec[s]; sub(/^[^:]*:/, "", keys)
        nk = split(keys, kk, " ")
        if (format != "json") print "-----" name " Stats-----"
        for (i = 1; i <= nk; i++) if (kk[i] in v) { emit(kk[i]); shown[kk[i]] = 1 }
    }
    # Other keys a test put in the control file, in the file's order.
    other = 0
    for (i = 1; i <= nctl; i++) {
        k = order[i]
        if (k in shown || k ~ /^metric_/ || k == "stream_metrics") continue  # the stream list's, not the page's
        if (!other++ && format != "json") print "-----Other Stats-----"
        emit(k); shown[k] = 1
    }
    if (format == "json") print "{" json "}"
}
function emit(key,    val) {
    if (format != "json") { print key "=" v[key]; return }
    val = v[key]
    if (val !~ /^-?[0-9]+(\.[0-9]+)?$/ && val != "true" && val != "false") {
        gsub(/\\/, "\\\\", val); gsub(/"/, "\\\"", val); val = "\"" val "\""
    }
    json = json (out++ ? "," : "") "\"" key "\":" val
}
