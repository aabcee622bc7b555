"""wcs_config's per-container properties (the CDN keys of each node), run as users run it (`ansible -m`), on files
in a temporary directory: applied to the named container only, removed when the container leaves the CDN, a clash
with extra_properties and an unknown container name refused before anything is written."""
from __future__ import annotations

from pathlib import Path

from ansible_collections.mediaops.wcs.plugins.module_utils.properties import parse_properties


def containers(tmp_path):
    return [{"name": "wcscdn-c-%d" % i, "conf_dir": str(tmp_path / ("wcscdn-c-%d" % i) / "conf"),
             "local_ip": "203.0.113.%d" % (51 + i), "external_ip": "203.0.113.%d" % (51 + i), "heap": "512m"}
            for i in (1, 2)]


def props(tmp_path, name):
    return dict(parse_properties((tmp_path / name / "conf" / "flashphoner.properties").read_text()))


CDN = {"cdn_enabled": True, "cdn_role": "edge", "cdn_ip": "203.0.113.52", "cdn_point_of_entry": "203.0.113.68",
       "cdn_port": 8084, "cdn_nodes_resolve_ip": False, "cdn_nodes_timeout": None}


def test_container_properties_go_to_their_container_only_and_leave_with_it(module, tmp_path):
    args = {"containers": containers(tmp_path), "properties": {"media_port_from": 31001},
            "container_properties": {"wcscdn-c-1": CDN}}
    result = module("wcs_config", args)
    assert not result.get("failed") and result["changed_containers"] == ["wcscdn-c-1", "wcscdn-c-2"], result
    one, two = props(tmp_path, "wcscdn-c-1"), props(tmp_path, "wcscdn-c-2")
    assert one["cdn_enabled"] == "true" and one["cdn_point_of_entry"] == "203.0.113.68"
    assert "cdn_nodes_timeout" not in one  # None: not managed
    assert not [k for k in two if k.startswith("cdn_")] and two["media_port_from"] == "31001"
    assert module("wcs_config", args)["changed_containers"] == []  # idempotent
    args["container_properties"] = {}
    result = module("wcs_config", args)
    assert result["changed_containers"] == ["wcscdn-c-1"], result
    assert not [k for k in props(tmp_path, "wcscdn-c-1") if k.startswith("cdn_")]


def test_clashes_and_unknown_containers_are_refused_before_writing(module, tmp_path):
    base = {"containers": containers(tmp_path)}
    result = module("wcs_config", dict(base, container_properties={"wcscdn-c-1": CDN},
                                       extra_properties={"cdn_port": 9000}))
    assert result.get("failed") and "extra_properties.cdn_port" in result["msg"], result
    result = module("wcs_config", dict(base, container_properties={"wcscdn-x": CDN}))
    assert result.get("failed") and "container_properties: 'wcscdn-x'" in result["msg"], result
    assert not Path(tmp_path / "wcscdn-c-1").exists()
