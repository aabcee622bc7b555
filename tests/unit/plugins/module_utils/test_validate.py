"""Input checks shared by the planner, the modules and the roles (plugins/module_utils/validate.py)."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

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
