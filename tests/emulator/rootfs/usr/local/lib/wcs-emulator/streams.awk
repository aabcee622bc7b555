# /rest-api/stream/find_all (and find): one stream object per stream counted in the control file. `_in` counts are
# publishers (published=true, PUBLISHING, mediaType publish), `_out` counts are players of the published streams.
# Names, ids and createDate (the control file's mtime, in ms) are stable while the counts do not change.
# Inputs: .../applied (ip_local for sessionId) and .../streams (the control file); -v created=<seconds>.
# -v metrics=1 (find with "display": ["metrics"], WCS 5.2.923+): each stream also has a "metrics" object with
# VIDEO_RATE AUDIO_RATE VIDEO_FPS VIDEO_NACK VIDEO_PLI VIDEO_LOST AUDIO_LOST (0 unless set) and any other
# `metric_<KEY>=` of the control file: `metric_VIDEO_RATE=1000000,500000` gives the list's streams these values in
# turn (stream n gets value ((n - 1) mod count) + 1); values that are not numbers are 0.
FILENAME ~ /applied$/ { if ($0 ~ /^config_ip_local=/) ip = substr($0, 17); next }
FILENAME ~ /streams$/ {
    line = $0; gsub(/[ \t\r]/, "", line)
    if (line ~ /^streams_[a-z]+_(in|out)=[0-9]+$/) { k = line; sub(/=.*/, "", k); count[k] = substr(line, length(k) + 2) + 0 }
    if (line ~ /^metric_[A-Z0-9_]+=/) {
        k = line; sub(/=.*/, "", k); mk = substr(k, 8)
        if (!(mk in mvals)) morder[++nm] = mk
        mvals[mk] = substr(line, length(k) + 2)
    }
    next
}
function metrics_json(n,    i, k, parts, c, val, o) {
    o = ""
    for (i = 1; i <= nd; i++) {
        k = keys[i]
        c = (k in mvals) ? split(mvals[k], parts, ",") : 0
        val = c ? parts[(n - 1) % c + 1] : 0
        if (val !~ /^[0-9]+(\.[0-9]+)?$/) val = 0
        o = o (o == "" ? "" : ",") "\"" k "\":" val
    }
    return ",\"metrics\":{" o "}"
}
function stream(name, provider, published, n,    o) {
    o = "{\"name\":\"" name "\",\"published\":" (published ? "true" : "false") \
        ",\"status\":\"" (published ? "PUBLISHING" : "PLAYING") "\",\"mediaProvider\":\"" provider "\"" \
        ",\"mediaType\":\"" (published ? "publish" : "play") "\",\"hasAudio\":true,\"hasVideo\":true" \
        ",\"width\":1280,\"height\":720,\"createDate\":" sprintf("%.0f", created * 1000 + n) \
        ",\"sessionId\":\"/198.51.100.250:" (40000 + n) "/" (ip == "" ? "127.0.0.1" : ip) ":8443-emu-" n "\"" \
        ",\"mediaSessionId\":\"" sprintf("00000000-0000-4000-8000-%012d", n) "\"" (metrics ? metrics_json(n) : "") "}"
    out = out (out == "" ? "" : ",") o
}
END {
    # the reference's keys first (0 unless the control file sets them), then the control file's others
    nd = split("VIDEO_RATE AUDIO_RATE VIDEO_FPS VIDEO_NACK VIDEO_PLI VIDEO_LOST AUDIO_LOST", keys, " ")
    for (i = 1; i <= nd; i++) isdefault[keys[i]] = 1
    for (i = 1; i <= nm; i++) if (!(morder[i] in isdefault)) keys[++nd] = morder[i]
    # kind:provider, in the order WCS's own stat page lists them
    nk = split("webrtc:WebRTC rtsp:RTSP rtmp:Flash websocket:WSPlayer", kinds, " ")
    n = 0; npub = 0
    for (i = 1; i <= nk; i++) {
        split(kinds[i], kp, ":")
        for (j = 1; j <= count["streams_" kp[1] "_in"]; j++) {
            pub[++npub] = kp[1] "-stream-" j
            stream(pub[npub], kp[2], 1, ++n)
        }
    }
    for (i = 1; i <= nk; i++) {
        split(kinds[i], kp, ":")
        for (j = 1; j <= count["streams_" kp[1] "_out"]; j++)
            stream(npub ? pub[(j - 1) % npub + 1] : kp[1] "-play-" j, kp[2], 0, ++n)
    }
    print "[" out "]"
}
