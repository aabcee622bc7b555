"""Input checks shared by the planner, the modules and the roles (plugins/module_utils/validate.py)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils import validate
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

LINE_BREAKS = ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("char", LINE_BREAKS + ["\x00", "\t", "\u202e", "\u2066"])
def test_text_refuses_line_breaks_and_controls(char):
    with pytest.raises(PlanError) as err:
        validate.check_text("a%sb" % char, "wcs_extra_properties.x")
    assert "wcs_extra_properties.x" in str(err.value) and "U+%04X" % ord(char) in str(err.value)


@given(st.text())
def test_text_never_accepts_what_splitlines_splits(text):
    try:
        out = validate.check_text(text, "f")
    except PlanError:
        return
    assert len((out + "x").splitlines()) == 1


@pytest.mark.parametrize("name", ["wcs-1", "ab", "wcs_lab.2", "A9"])
def test_docker_names_accepted(name):
    assert validate.check_docker_name(name, "n") == name


def test_one_character_names_only_for_networks():
    # Docker refuses a one-character container name (daemon/names.go: [a-zA-Z0-9][a-zA-Z0-9_.-]+)
    with pytest.raises(PlanError):
        validate.check_docker_name("a", "n")
    assert validate.check_docker_name("a", "n", what="network") == "a"


@pytest.mark.parametrize("name", ["wcs-1\n", "-wcs", ".x", "", "wcs 1", "wcs/1", "x" * 129, "wcs\u2028", 5, None])
def test_docker_names_refused_whole(name):
    with pytest.raises(PlanError):
        validate.check_docker_name(name, "n")


@pytest.mark.parametrize("name", ["eth0", "ens1f0", "bond0.100", "wcslab0", "br-ex_1"])
def test_interface_names_accepted(name):
    assert validate.check_interface_name(name, "p") == name


@pytest.mark.parametrize("name", ["", "a" * 16, "eth0\n", "et h0", "eth0:1", "a/b", ".", ".."])
def test_interface_names_refused(name):
    with pytest.raises(PlanError):
        validate.check_interface_name(name, "p")


@pytest.mark.parametrize("path,want", [("/opt/wcs", "/opt/wcs"), ("/opt/wcs/", "/opt/wcs"),
                                       ("//opt//wcs/./x/.", "/opt/wcs/x")])
def test_abs_path_normalised(path, want):
    assert validate.check_abs_path(path, "wcs_conf_root") == want


@pytest.mark.parametrize("path", ["/", "//", "/etc", "/usr/", "/opt/..", "relative/dir", "", "/opt/wcs\n"])
def test_abs_path_refuses_root_system_and_relative(path):
    with pytest.raises(PlanError) as err:
        validate.check_abs_path(path, "wcs_conf_root")
    assert "wcs_conf_root" in str(err.value)


@pytest.mark.parametrize("value,want", [(2, 2), ("2", 2), (" 3 ", 3), (2.0, 2)])
def test_int_accepted(value, want):
    assert validate.check_int(value, "n", low=1) == want


@pytest.mark.parametrize("value", [True, 1.5, "1.5", "x", None, 0, "9" * 40, "\u0663"])
def test_int_refused(value):
    with pytest.raises(PlanError):
        validate.check_int(value, "n", low=1, high=1000)


@pytest.mark.parametrize("key,ok", [("JAVA_OPTS", True), ("_X", True), ("A=B", False), ("1A", False),
                                    ("A\nB", False), ("", False)])
def test_env_keys(key, ok):
    assert validate.is_safe_env_key(key) is ok


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), ("Yes", True), (" on ", True), (1, True), ("1", True),
    ("FALSE", False), ("off", False), (0, False), ("no", False),
])
def test_check_bool_reads_yes_and_no(value, expected):
    assert validate.check_bool(value, "wcs_x") is expected


@pytest.mark.parametrize("value", [None, "", "none", "null"])
def test_check_bool_unset_is_refused_unless_the_caller_says_what_it_means(value):
    with pytest.raises(PlanError) as err:
        validate.check_bool(value, "wcs_x")
    assert err.value.field == "wcs_x" and "give true or false" in str(err.value)
    assert validate.check_bool(value, "wcs_x", unset=False) is False
    assert validate.check_bool(value, "wcs_x", unset=None) is None


@pytest.mark.parametrize("value", ["maybe", "2", "true\n1", "ｔｒｕｅ", [True]])
def test_check_bool_refuses_anything_else_with_the_fix(value):
    with pytest.raises(PlanError) as err:
        validate.check_bool(value, "wcs_x", unset=None, fix="give true, false or leave it unset")
    assert "leave it unset" in str(err.value)


# -- the shared kinds of issue 20 ------------------------------------------------------------------------------------
KINDS = {
    "text": lambda v: validate.check_text(v, "f"),
    "int": lambda v: validate.check_int(v, "f", low=0, high=10 ** 6),
    "number": lambda v: validate.check_number(v, "f", low=0, high=1, low_open=True),
    "path": lambda v: validate.check_abs_path(v, "f"),
    "name": lambda v: validate.check_docker_name(v, "f"),
    "network": lambda v: validate.check_network_name(v, "f"),
    "image": lambda v: validate.check_image_ref(v, "f"),
    "unicast": lambda v: validate.check_unicast_address(v, "f"),
    "listen": lambda v: validate.check_listen_address(v, "f"),
}
ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=80), st.just(10 ** 5000),
                     st.binary(max_size=20), st.lists(st.text(max_size=5), max_size=3),
                     st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))


@pytest.mark.parametrize("kind", sorted(KINDS))
@given(value=ANYTHING)
@settings(max_examples=150, deadline=None)
def test_every_kind_gives_a_result_or_its_own_error(kind, value):
    try:
        KINDS[kind](value)
    except PlanError as err:
        assert err.field == "f" and err.fix


def test_text_length_is_capped_before_anything_else():
    assert validate.check_text("x" * validate.TEXT_MAX, "f")
    with pytest.raises(PlanError) as err:
        validate.check_text("x" * (validate.TEXT_MAX + 1), "f")
    assert "at most %d" % validate.TEXT_MAX in str(err.value) and len(str(err.value)) < 400


@pytest.mark.parametrize("value", ["\u00b2", "5\x1c", "\x1d5", "5\x1e", "\x1f5", "\u0663", "\uff15", "5\n",
                                   "1" * 19, "1" * 100000, "1_000", "0x10", "1e3", b"5"])
def test_int_refuses_what_int_would_read(value):
    with pytest.raises(PlanError):
        validate.check_int(value, "n", low=0)


@pytest.mark.parametrize("value,want", [("-3", -3), ("+4", 4), ("\t7 ", 7), ("0", 0)])
def test_int_ascii_forms(value, want):
    assert validate.check_int(value, "n") == want


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", float("nan"), float("inf"), "0.5\x1c", "\u0660.5", True,
                                   "1e999", "0", 0, 1.5, "1,5"])
def test_number_refused(value):
    with pytest.raises(PlanError):
        validate.check_number(value, "n", low=0, high=1, low_open=True)


@pytest.mark.parametrize("value,want", [("0.5", 0.5), (1, 1.0), (".25", 0.25), ("5e-1", 0.5)])
def test_number_accepted(value, want):
    assert validate.check_number(value, "n", low=0, high=1, low_open=True) == want


# every default and fixture path of the collection stays valid
@pytest.mark.parametrize("path", ["/opt/wcs", "/opt/wcs-monitoring", "/var/lib/mediaops-wcs",
                                  "/var/lib/mediaops-wcs-lab",
                                  "/var/lib/mediaops-wcs-mol/wcs-1/conf", "/run/wcscdn-1/wcs", "/run/wcsmh-1/firewall",
                                  "/tmp/pytest-of-root/x/conf", "/etc/mediaops-wcs/firewall",
                                  "/opt/mediaops-wcs-firewall", "/usr/local/wcs", "/home/alice/wcs", "/srv/wcs",
                                  "/var/lib/grafana/dashboards/mediaops-wcs", "/opt/wcs/wcs-1/conf"])
def test_abs_path_keeps_the_collections_directories(path):
    assert validate.check_abs_path(path, "f") == path


@pytest.mark.parametrize("path,words", [
    ("/opt/wcs/../../etc/cron.d", "'..'"), ("/opt/wcs/..", "'..'"), ("/opt/wcs:/etc", "':'"),
    ("/etc/systemd/system", "under the system directory /etc"), ("/proc/sys/kernel", "/proc"),
    ("/dev/shm", "/dev"), ("/sys/fs/cgroup", "/sys"), ("/boot/grub", "/boot"), ("/usr/share/conf", "/usr"),
    ("/usr/local/bin", "/usr"), ("/usr/local", "system directory"), ("/var/lib/docker/conf", "Docker"),
    ("/var/lib/containerd/x", "containerd"), ("/var/run/docker", "Docker"), ("/run/systemd/transient", "systemd"),
    ("/root/.ssh", "/root"), ("/home/alice", "/home"), ("/lib64/x", "/lib64"), ("/var/spool/cron", "cron"),
    ("//etc//cron.d/", "/etc"), ("/./etc/./x", "/etc"), ("/opt", "system directory"), ("/var/lib", "system"),
    ("/tmp", "system directory"), ("/bin/x", "/bin"), ("/sbin", "/sbin"),
])
def test_abs_path_deny_table_names_the_reason(path, words):
    with pytest.raises(PlanError) as err:
        validate.check_abs_path(path, "wcs_conf_root")
    assert words in str(err.value) and err.value.fix


def test_abs_path_refuse_system_false_still_refuses_dots_and_colons():
    assert validate.check_abs_path("/etc/wcs/tls.crt", "f", refuse_system=False) == "/etc/wcs/tls.crt"
    for bad in ("/etc/../x", "/a:b", "rel"):
        with pytest.raises(PlanError):
            validate.check_abs_path(bad, "f", refuse_system=False)


@given(st.lists(st.sampled_from(["", ".", "..", "etc", "opt", "wcs", "a:b", "proc", "x"]), max_size=6))
@settings(max_examples=200, deadline=None)
def test_abs_path_never_returns_a_climb_or_a_system_path(parts):
    try:
        out = validate.check_abs_path("/" + "/".join(parts), "f")
    except PlanError:
        return
    assert ".." not in out.split("/") and ":" not in out and "//" not in out
    assert validate.system_path_reason(out) is None


@pytest.mark.parametrize("name", ["host", "bridge", "none", "default"])
def test_docker_reserved_networks_refused(name):
    with pytest.raises(PlanError) as err:
        validate.check_network_name(name, "wcs_network_name")
    assert "Docker's own network" in str(err.value)
    assert validate.check_network_name("wcs-net", "n") == "wcs-net"


@pytest.mark.parametrize("ref", [
    "flashphoner/webcallserver:latest", "flashphoner/webcallserver", "busybox", "mediaops/wcs-emulator:test",
    "registry.example.net:5000/team/wcs:5.2.2000", "localhost/wcs:1", "localhost:5000/wcs", "a__b/c--d.e_f:T.1-x",
    "ghcr.io/org/img@sha256:" + "a" * 64, "img:tag@sha256:" + "0" * 64, "[::1]:5000/wcs:1", "Registry.Example/x"])
def test_image_references_accepted(ref):
    assert validate.check_image_ref(ref, "wcs_image") == ref


@pytest.mark.parametrize("ref", [
    "foo bar", "Flashphoner", "wcs:", "wcs:-x", "wcs:" + "t" * 129, "wcs@sha256:abc", "wcs@md5:" + "a" * 64,
    "-wcs", "wcs-", "a/_b", "a//b", "/wcs", "wcs/", "reg:port/x", "wcs\n", "", "a" * 256, "wcs:la test",
    "wcs@sha256:" + "A" * 64, 5, None, ["wcs"]])
def test_image_references_refused(ref):
    with pytest.raises(PlanError) as err:
        validate.check_image_ref(ref, "wcs_image")
    assert err.value.field == "wcs_image"


@pytest.mark.parametrize("addr,words", [
    ("127.0.0.1", "loopback"), ("0.0.0.0", "unspecified"), ("0.1.2.3", "unspecified"), ("224.0.0.1", "multicast"),
    ("255.255.255.255", "broadcast"), ("169.254.1.1", "link-local"), ("240.0.0.1", "reserved"), ("::1", "loopback"),
    ("::", "unspecified"), ("::ffff:127.0.0.1", "loopback"), ("::ffff:0.0.0.0", "unspecified"), ("fe80::1", "link"),
    ("ff02::1", "multicast"), ("not-an-ip", "unicast"), ("203.0.113.4\n", "U+000A")])
def test_unicast_refused(addr, words):
    with pytest.raises(PlanError) as err:
        validate.check_unicast_address(addr, "wcs_external_addresses[0]")
    assert words in str(err.value)


def test_unicast_subnet_broadcast_and_network_refused():
    assert validate.check_unicast_address("203.0.113.4", "f", subnet="203.0.113.0/29") == "203.0.113.4"
    for addr in ("203.0.113.7", "203.0.113.0"):
        with pytest.raises(PlanError):
            validate.check_unicast_address(addr, "f", subnet="203.0.113.0/29")
    assert validate.check_unicast_address("::ffff:203.0.113.4", "f") == "203.0.113.4"
    with pytest.raises(PlanError):
        validate.check_unicast_address("2001:db8::1", "f", version=4)


@pytest.mark.parametrize("value", ["0.0.0.0", "::", "::ffff:0.0.0.0", "[::]", "[::ffff:0.0.0.0]"])
def test_listen_wildcard_refused_in_every_spelling(value):
    with pytest.raises(PlanError) as err:
        validate.check_listen_address(value, "wcs_monitoring_listen_address")
    assert "every address" in str(err.value)


@pytest.mark.parametrize("nets,refused", [
    (["0.0.0.0/1", "128.0.0.0/1"], True), (["0.0.0.0/0"], True), (["::/1", "8000::/1"], True),
    (["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"], True), (["0.0.0.0/1", "128.0.0.0/2"], False),
    (["0.0.0.0/1", "::/1", "8000::/2"], False), ([], False)])
def test_cidr_set_union(nets, refused):
    import ipaddress
    objs = [ipaddress.ip_network(n) for n in nets]
    if refused:
        with pytest.raises(PlanError):
            validate.check_cidr_set(objs, "wcs_admin_cidrs")
    else:
        assert validate.check_cidr_set(objs, "wcs_admin_cidrs") == objs


def test_image_ids_stay_references():
    ident = "sha256:" + "0123456789abcdef" * 4
    assert validate.check_image_ref(ident, "wcs_image") == ident
