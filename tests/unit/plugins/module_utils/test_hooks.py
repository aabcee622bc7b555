"""wcs_rollout_hooks: every refusal names the variable path, the value and the fix; secrets never shown."""
from __future__ import annotations

import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.hooks import PHASES, check_hooks, hooks_for

C1 = {"name": "wcs-1", "image": "img:1", "ipv4_address": "192.0.2.5", "external_ip": "203.0.113.5"}


@pytest.fixture
def task_file(tmp_path):
    path = tmp_path / "lb.yml"
    path.write_text("- ansible.builtin.debug: {msg: hi}\n")
    return str(path)


def refused(value, field, fix):
    with pytest.raises(PlanError) as err:
        check_hooks(value)
    assert err.value.field == field, str(err.value)
    assert fix in err.value.fix, str(err.value)
    return str(err.value)


def test_empty_means_no_hooks():
    for value in (None, "", {}):
        assert check_hooks(value) == {p: [] for p in PHASES}


def test_http_defaults_and_fill():
    hooks = {"before_drain": [{"url": "https://lb/api/${name}/drain?ip=${address}", "headers":
                               {"Authorization": "Bearer ${host}-s3cret"}, "body": {"who": "${name}", "n": [1, "$$x"]}}]}
    [hook] = hooks_for(hooks, "before_drain", C1, host="h1")
    assert hook["url"] == "https://lb/api/wcs-1/drain?ip=192.0.2.5"
    assert hook["headers"] == {"Authorization": "Bearer h1-s3cret"}
    assert hook["body"] == {"who": "wcs-1", "n": [1, "$x"]}
    assert hook["body_format"] == "json"
    assert (hook["method"], hook["status_code"], hook["timeout"], hook["delegate_to"], hook["validate_certs"]) == \
        ("POST", [200, 201, 202, 204], 30, "localhost", True)
    assert hook["label"] == "before_drain[0] POST https://lb/api/${name}/drain?ip=${address}"
    assert "s3cret" not in hook["label"]
    assert hooks_for(hooks, "after_ready", C1) == []


def test_single_hook_mapping_and_string_body_and_image():
    [hook] = hooks_for({"on_rollback": {"url": "http://x/${phase}/${image}/${external_address}", "method": "put",
                                        "body": "server=${name}", "status_code": 200, "timeout": "5"}},
                       "on_rollback", C1, image="img:2")
    assert hook["url"] == "http://x/on_rollback/img:2/203.0.113.5"
    assert (hook["method"], hook["body"], hook["body_format"], hook["status_code"], hook["timeout"]) == \
        ("PUT", "server=wcs-1", "raw", [200], 5)


def test_tasks_hook(task_file):
    [hook] = hooks_for({"after_ready": [{"tasks": task_file, "vars": {"server": "${name}", "port": 8081}}]},
                       "after_ready", C1)
    assert hook["kind"] == "tasks" and hook["tasks"] == task_file
    assert hook["vars"] == {"server": "wcs-1", "port": 8081}
    assert hook["label"] == "after_ready[0] tasks lb.yml"


@pytest.mark.parametrize("value,field,fix", [
    (["x"], "wcs_rollout_hooks", "mapping of phase"),
    ({"before_update": []}, "wcs_rollout_hooks", "use the phases"),
    ({"before_drain": "http://x"}, "wcs_rollout_hooks.before_drain", "list of hooks"),
    ({"before_drain": ["http://x"]}, "wcs_rollout_hooks.before_drain[0]", "give a mapping"),
    ({"before_drain": [{"name": "x"}]}, "wcs_rollout_hooks.before_drain[0]", "not neither"),
    ({"before_drain": [{"url": "http://x", "tasks": "/a.yml"}]}, "wcs_rollout_hooks.before_drain[0]", "not both"),
    ({"after_ready": [{"url": "http://x", "verb": "GET"}]}, "wcs_rollout_hooks.after_ready[0]", "remove verb"),
    ({"after_ready": [{"url": "ftp://x"}]}, "wcs_rollout_hooks.after_ready[0].url", "http:// or https://"),
    ({"after_ready": [{"url": "http://x/a b"}]}, "wcs_rollout_hooks.after_ready[0].url", "without spaces"),
    ({"after_ready": [{"url": "http://x/\n"}]}, "wcs_rollout_hooks.after_ready[0].url", "one line"),
    ({"after_ready": [{"url": ""}]}, "wcs_rollout_hooks.after_ready[0].url", "give the URL"),
    ({"after_ready": [{"url": "http://x/${nme}"}]}, "wcs_rollout_hooks.after_ready[0].url", "use one of ${name}"),
    ({"after_ready": [{"url": "http://x/$name"}]}, "wcs_rollout_hooks.after_ready[0].url", "write ${name}"),
    ({"after_ready": [{"url": "http://x", "method": "FETCH"}]}, "wcs_rollout_hooks.after_ready[0].method", "use one of"),
    ({"after_ready": [{"url": "http://x", "headers": ["a"]}]}, "wcs_rollout_hooks.after_ready[0].headers", "mapping"),
    ({"after_ready": [{"url": "http://x", "headers": {"Bad Name": "v"}}]}, "wcs_rollout_hooks.after_ready[0].headers",
     "HTTP token"),
    ({"after_ready": [{"url": "http://x", "body": 3}]}, "wcs_rollout_hooks.after_ready[0].body", "as JSON"),
    ({"after_ready": [{"url": "http://x", "body": {"a": "${x}"}}]}, "wcs_rollout_hooks.after_ready[0].body.a",
     "use one of"),
    ({"after_ready": [{"url": "http://x", "status_code": [200, "ok"]}]},
     "wcs_rollout_hooks.after_ready[0].status_code", "whole numbers"),
    ({"after_ready": [{"url": "http://x", "status_code": [99]}]}, "wcs_rollout_hooks.after_ready[0].status_code",
     "between 100 and 599"),
    ({"after_ready": [{"url": "http://x", "status_code": []}]}, "wcs_rollout_hooks.after_ready[0].status_code",
     "at least one"),
    ({"after_ready": [{"url": "http://x", "timeout": 0}]}, "wcs_rollout_hooks.after_ready[0].timeout", "between 1"),
    ({"after_ready": [{"url": "http://x", "timeout": "5s"}]}, "wcs_rollout_hooks.after_ready[0].timeout", "whole"),
    ({"after_ready": [{"url": "http://x", "timeout": True}]}, "wcs_rollout_hooks.after_ready[0].timeout", "whole"),
    ({"after_ready": [{"url": "http://x", "validate_certs": "no"}]}, "wcs_rollout_hooks.after_ready[0].validate_certs",
     "true or false"),
    ({"after_ready": [{"url": "http://x", "delegate_to": "a host"}]}, "wcs_rollout_hooks.after_ready[0].delegate_to",
     "inventory host"),
    ({"after_ready": [{"url": "http://x", "name": ""}]}, "wcs_rollout_hooks.after_ready[0].name", "give a value"),
    ({"on_rollback": [{"tasks": 3}]}, "wcs_rollout_hooks.on_rollback[0].tasks", "absolute path"),
    ({"on_rollback": [{"tasks": "hooks/lb.yml"}]}, "wcs_rollout_hooks.on_rollback[0].tasks", "give an absolute"),
    ({"on_rollback": [{"tasks": "/etc/hosts"}]}, "wcs_rollout_hooks.on_rollback[0].tasks", "YAML task file"),
    ({"on_rollback": [{"tasks": "/nonexistent/lb.yml"}]}, "wcs_rollout_hooks.on_rollback[0].tasks", "create it"),
    ({"on_rollback": [{"tasks": "/a\n.yml"}]}, "wcs_rollout_hooks.on_rollback[0].tasks", "control characters"),
])
def test_refusals(value, field, fix):
    refused(value, field, fix)


def test_tasks_hook_refusals(task_file):
    refused({"before_drain": [{"tasks": task_file, "vars": ["a"]}]}, "wcs_rollout_hooks.before_drain[0].vars",
            "mapping")
    refused({"before_drain": [{"tasks": task_file, "vars": {"1x": 1}}]}, "wcs_rollout_hooks.before_drain[0].vars",
            "letters, digits")
    refused({"before_drain": [{"tasks": task_file, "vars": {"wcs_hook_phase": 1}}]},
            "wcs_rollout_hooks.before_drain[0].vars", "set by the role")
    refused({"before_drain": [{"tasks": task_file, "vars": {"s": ["${who}"]}}]},
            "wcs_rollout_hooks.before_drain[0].vars.s[0]", "use one of")
    refused({"before_drain": [{"tasks": task_file, "url": "http://x"}]}, "wcs_rollout_hooks.before_drain[0]",
            "not both")
    refused({"before_drain": [{"tasks": task_file, "delegate_to": "x"}]}, "wcs_rollout_hooks.before_drain[0]",
            "remove delegate_to")


def test_header_values_are_never_shown():
    for value in ({"after_ready": [{"url": "http://x", "headers": {"Authorization": "top\nsecret"}}]},
                  {"after_ready": [{"url": "http://x", "headers": {"Authorization": "top${bad}secret"}}]},
                  {"after_ready": [{"url": "http://x", "headers": {"Authorization": ["topsecret"]}}]},
                  {"after_ready": [{"url": "http://x", "headers": {"Authorization": "topsecret"}, "x": 1}]}):
        msg = refused(value, refused_field(value), "")
        assert "secret" not in msg and "(hidden)" in msg


def refused_field(value):
    with pytest.raises(PlanError) as err:
        check_hooks(value)
    return err.value.field


def test_hooks_for_refuses_bad_phase_and_container():
    with pytest.raises(PlanError, match="phase"):
        hooks_for({}, "before_update", C1)
    with pytest.raises(PlanError, match="wcs_plan.containers"):
        hooks_for({}, "before_drain", {"image": "x"})


# ---------------------------------------------------------------------------------------------------- issue 20
from ansible_collections.mediaops.wcs.plugins.module_utils.hooks import (  # noqa: E402
    check_header, check_url, fill_url, redact_url)


@pytest.mark.parametrize("url", ["https://lb.example.net/x", "http://192.0.2.1:8080/a?b=c#d", "https://[2001:db8::1]/",
                                 "https://u:p@lb/x", "http://x:/a", "https://lb."])
def test_check_url_accepts(url):
    assert check_url(url, "u") == url


@pytest.mark.parametrize("url", ["", "ftp://x/", "https:///x", "https://x y/", "https://x\\y/", "https://x:0/",
                                 "https://x:65536/", "https://x:8a/", "https://[zz]/", "https://a..b/", "//x/",
                                 "https://-x/", "https://x/\u2028", 5, None])
def test_check_url_refuses(url):
    with pytest.raises(PlanError) as err:
        check_url(url, "u")
    assert err.value.field == "u"


def test_check_header():
    assert check_header("X-A", 5, "h") == ("X-A", "5")
    for name, value in (("X A", "v"), ("X:A", "v"), ("", "v"), ("X-A", "a\r\nb"), ("X-A", "a\tb"),
                        ("X-A", "\u20ac"), ("X-A", True), ("X-A", ["v"])):
        with pytest.raises(PlanError) as err:
            check_header(name, value, "h")
        assert "a\r\nb" not in str(err.value)


@pytest.mark.parametrize("url, shown", [
    ("https://u:p@lb/x?token=t&ip=${address}#f", "https://***@lb/x?token=***&ip=${address}#***"),
    ("https://lb/x?flag&a=", "https://lb/x?***&a="),
    ("not a url?token=x", "***"),
    ("https://lb/x", "https://lb/x"),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_fill_url_per_component():
    values = {"name": "a b/c", "address": "192.0.2.5", "external_address": "", "host": "lb2", "phase": "p",
              "image": "r/i:1"}
    assert fill_url("https://${host}.example.net:8443/s/${name}?i=${image}&n=${name}#${name}", values, "u") == \
        "https://lb2.example.net:8443/s/a%20b%2Fc?i=r%2Fi%3A1&n=a%20b%2Fc#a%20b%2Fc"
    for key, value in (("host", "lb2@evil"), ("host", "lb2:1"), ("name", ".."), ("name", "x/../y")):
        with pytest.raises(PlanError):
            fill_url("https://${host}.example.net/s/${name}", dict(values, **{key: value}), "u")


def test_default_label_redacts_and_given_name_stays():
    [hook] = hooks_for({"before_drain": [{"url": "https://u:pw@lb/x?token=t"}]}, "before_drain", C1)
    assert hook["label"] == "before_drain[0] POST https://***@lb/x?token=***"
    [hook] = hooks_for({"before_drain": [{"url": "https://u:pw@lb/x?token=t", "name": "drain"}]}, "before_drain", C1)
    assert hook["label"] == "before_drain[0] drain"


def test_an_internationalised_host_name_still_passes():
    assert check_url("https://b\u00fccher.example/x", "u")
    [hook] = hooks_for({"before_drain": [{"url": "https://b\u00fccher.example/${name}"}]}, "before_drain", C1)
    assert hook["url"] == "https://b\u00fccher.example/wcs-1"
