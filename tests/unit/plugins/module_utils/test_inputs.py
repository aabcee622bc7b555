"""The one input model (plugins/module_utils/inputs.py) against what documents it: the wcs_plan module's options,
the plan and cdn roles' argument specs and defaults, the other roles' defaults of the variables it declares, and the
action plugin's options. A variable documented with another name, type or default than declared fails here."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.mediaops.wcs.plugins.action import wcs_plan as action
from ansible_collections.mediaops.wcs.plugins.module_utils import inputs
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.modules import wcs_plan as module

ROOT = Path(__file__).resolve().parents[4]
DOC_OPTIONS = yaml.safe_load(module.DOCUMENTATION)["options"]
MODULE_ONLY = {"deploy_variables"}


def role_spec(role):
    return yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())[
        "argument_specs"]["main"]["options"]


def role_defaults(role):
    path = ROOT / "roles" / role / "defaults" / "main.yml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def test_every_module_option_is_declared_with_its_type_and_default():
    for option, doc in DOC_OPTIONS.items():
        if option in MODULE_ONLY:
            continue
        assert option in inputs.OPTIONS, "wcs_plan option %s is not declared in inputs.MODEL" % option
        inp = inputs.MODEL[inputs.OPTIONS[option]]
        assert doc.get("type") == inp.option_type, option
        assert bool(doc.get("required")) == inp.required, option
        if inp.required:
            assert "default" not in doc, option
        else:
            assert doc.get("default") == inp.default, option


def test_every_declared_option_is_documented_and_taken_by_the_action():
    declared = set(inputs.OPTIONS)
    assert declared <= set(DOC_OPTIONS), sorted(declared - set(DOC_OPTIONS))
    assert set(action.ActionModule._VALID_ARGS) == declared | MODULE_ONLY
    assert set(action.OPTIONS.values()) == set(inputs.PLAN_INPUTS)


@pytest.mark.parametrize("role,scopes", [("plan", ("plan", "action", "role", "deploy")), ("cdn", ("cdn",))])
def test_role_argument_specs_agree_with_the_model(role, scopes):
    spec = role_spec(role)
    for name, doc in spec.items():
        assert name in inputs.MODEL, "%s of role %s is not declared in inputs.MODEL" % (name, role)
        inp = inputs.MODEL[name]
        assert inp.scope in scopes, name
        assert doc.get("type", "str") == inp.spec, name
        if "default" in doc:
            assert doc["default"] == inp.default, name
        else:
            assert inp.default_from != role or inp.default is None, name
    own = [inp.name for inp in inputs.MODEL.values() if inp.default_from == role and inp.scope in scopes]
    assert set(own) <= set(spec), sorted(set(own) - set(spec))


@pytest.mark.parametrize("role", ["plan", "cdn", "config", "containers", "firewall", "monitoring", "isolation"])
def test_role_defaults_agree_with_the_model(role):
    defaults = role_defaults(role)
    for inp in inputs.MODEL.values():
        if inp.default_from == role and inp.default is not None:
            assert inp.name in defaults, "%s: declared with the default of role %s, which has none" % (inp.name, role)
            assert defaults[inp.name] == inp.default, inp.name
    if role in ("plan", "cdn"):
        for name, value in defaults.items():
            assert name in inputs.MODEL, "%s (roles/%s/defaults) is not declared in inputs.MODEL" % (name, role)
            assert inputs.MODEL[name].default == value, name


@pytest.mark.parametrize("name", sorted(inputs.MODEL))
def test_every_default_passes_its_own_kind_and_the_kinds_are_idempotent(name):
    inp = inputs.MODEL[name]
    if inp.default is None and inp.scope == "deploy":
        pytest.skip("the default lives in the owning role")
    once = inp.check(inp.default, name)
    assert inp.check(once, name) == once


def test_the_plan_and_the_filter_read_one_declaration():
    # issue 20, class 8: wcs_image "foo bar" passed one registry and not the other
    from ansible_collections.mediaops.wcs.plugins.module_utils import host_plan, plan_inputs
    for name in inputs.PLAN_INPUTS:
        assert plan_inputs.CHECKS[name] is inputs.MODEL[name].check
    with pytest.raises(PlanError) as err:
        plan_inputs.check_plan_inputs({"wcs_image": "foo bar"})
    assert err.value.field == "wcs_image"
    with pytest.raises(PlanError) as err:
        host_plan.read_inputs({"wcs_image": "foo bar", "wcs_network_parent": "eth0",
                               "wcs_network_block": "203.0.113.0/29"})
    assert err.value.field == "wcs_image"


@pytest.mark.parametrize("value,ok", [("unix:///var/run/docker.sock", True), ("tcp://10.0.0.5:2376", True),
                                      ("ssh://ops@media1", True), ("10.0.0.5:2375", True),
                                      ("unix:///run/wcsmh-1/docker.sock", True), ("ftp://x", False),
                                      ("unix://", False), ("tcp://a b", False), ("", False), ("unix:///x\n", False)])
def test_docker_host(value, ok):
    if ok:
        assert inputs.check("wcs_docker_host", value) == value
    else:
        with pytest.raises(PlanError):
            inputs.check("wcs_docker_host", value)
