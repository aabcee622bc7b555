"""container_set's engine side against a fake engine: removals (purge, state=absent) wait until the run's new and
recreated containers run, and a failure puts back what was to be removed (issue 20)."""
from __future__ import annotations

import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils import container_set as cs
from ansible_collections.mediaops.wcs.plugins.module_utils.constants import DIR_MARKER, MANAGED_LABEL
from ansible_collections.mediaops.wcs.plugins.module_utils.container_spec import (
    check_unique_names, desired_container)
from ansible_collections.mediaops.wcs.plugins.module_utils.docker_client import APIError, NotFound
from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError


class FakeEngine:
    """The calls container_set makes, on a dict of containers; ``refuse`` names containers whose create fails."""

    def __init__(self, running=(), refuse=(), refuse_start=()):
        self.containers_by_id = {}
        self.calls = []
        self.refuse, self.refuse_start = set(refuse), set(refuse_start)
        for name in running:
            self._add(name, running=True, labels={MANAGED_LABEL: "true"})

    def _add(self, name, running=False, labels=None):
        cid = "id-%s-%d" % (name, len(self.containers_by_id))
        self.containers_by_id[cid] = {"Id": cid, "Name": name, "Running": running, "Labels": labels or {}}
        return cid

    def _get(self, ref):
        if ref in self.containers_by_id:
            return self.containers_by_id[ref]
        for c in self.containers_by_id.values():
            if c["Name"] == ref:
                return c
        raise NotFound("no such container: %s" % ref)

    def names(self):
        return sorted((c["Name"], c["Running"]) for c in self.containers_by_id.values())

    # the engine's API as container_set calls it
    def containers(self, all=True, filters=None):  # noqa: A002 - the SDK's name
        return [{"Id": c["Id"], "Names": ["/" + c["Name"]], "State": "running" if c["Running"] else "exited"}
                for c in self.containers_by_id.values() if c["Labels"].get(MANAGED_LABEL) == "true"]

    def inspect_container(self, ref):
        c = self._get(ref)
        return {"Id": c["Id"], "Name": "/" + c["Name"], "State": {"Running": c["Running"]},
                "Config": {"Labels": c["Labels"], "Image": "busybox:latest", "Env": []}, "HostConfig": {},
                "NetworkSettings": {"Networks": {}}, "Mounts": []}

    def create_host_config(self, **kwargs):
        return kwargs

    def create_container(self, image, name=None, labels=None, **_kw):
        self.calls.append(("create", name))
        if name in self.refuse:
            raise APIError("refused: %s" % name)
        if any(c["Name"] == name for c in self.containers_by_id.values()):
            raise APIError("Conflict. The container name %s is already in use" % name)
        return {"Id": self._add(name, labels=labels)}

    def start(self, ref):
        c = self._get(ref)
        self.calls.append(("start", c["Name"]))
        if c["Name"] in self.refuse_start:
            raise APIError("cannot start %s" % c["Name"])
        c["Running"] = True

    def stop(self, ref, timeout=10):
        c = self._get(ref)
        self.calls.append(("stop", c["Name"]))
        c["Running"] = False

    def restart(self, ref, timeout=10):
        self.calls.append(("restart", self._get(ref)["Name"]))

    def rename(self, ref, name):
        c = self._get(ref)
        self.calls.append(("rename", c["Name"], name))
        c["Name"] = name

    def remove_container(self, ref, force=False):
        c = self._get(ref)
        self.calls.append(("remove", c["Name"]))
        del self.containers_by_id[c["Id"]]


def wanted(*names, **extra):
    return [desired_container(dict(dict(name=n, image="busybox"), **extra), i) for i, n in enumerate(names)]


def run(engine, desired, purge=True):
    managed = cs.managed_containers(engine)
    leftovers = cs.leftovers_of(managed)
    steps = cs.plan(engine, desired, managed, {}, purge, leftovers)
    cs.execute(engine, steps)
    return steps


def test_purge_removes_the_old_only_after_the_new_runs():
    engine = FakeEngine(running=["wcs-old"])
    steps = run(engine, wanted("wcs-new"))
    assert [s["action"] for s in steps] == ["created", "removed"]
    order = [c for c in engine.calls if c[0] in ("stop", "create", "start", "remove")]
    assert order == [("stop", "wcs-old"), ("create", "wcs-new"), ("start", "wcs-new"), ("remove", "wcs-old")]
    assert engine.names() == [("wcs-new", True)]


def test_a_replacement_the_engine_refuses_leaves_the_purged_containers_running():
    engine = FakeEngine(running=["wcs-old", "wcs-old2"], refuse={"wcs-b"})
    with pytest.raises(cs.EngineFailure) as err:
        run(engine, wanted("wcs-a", "wcs-b"))
    assert "refused to create it: refused: wcs-b" in str(err.value)
    assert "Nothing was removed; kept: wcs-old, wcs-old2 (the running ones run again)" in str(err.value)
    assert "(wcs-a) were removed again" in str(err.value)
    assert engine.names() == [("wcs-old", True), ("wcs-old2", True)]
    assert not any(c[0] == "remove" and c[1].startswith("wcs-old") for c in engine.calls)


def test_a_start_that_fails_also_puts_the_purged_container_back():
    engine = FakeEngine(running=["wcs-old"], refuse_start={"wcs-new"})
    with pytest.raises(cs.EngineFailure, match="cannot start wcs-new.*Nothing was removed; kept: wcs-old "):
        run(engine, wanted("wcs-new"))
    assert engine.names() == [("wcs-old", True)]


def test_state_absent_is_also_removed_last_and_a_stopped_one_is_not_started_on_failure():
    engine = FakeEngine(running=["wcs-x"])
    engine._add("wcs-y", running=False, labels={MANAGED_LABEL: "true"})
    desired = wanted("wcs-x", state="absent") + wanted("wcs-y", state="absent") + \
        [desired_container(dict(name="wcs-z", image="busybox"), 2)]
    engine.refuse = {"wcs-z"}
    with pytest.raises(cs.EngineFailure, match="Nothing was removed"):
        run(engine, desired, purge=False)
    assert engine.names() == [("wcs-x", True), ("wcs-y", False)]
    engine.refuse = set()
    run(engine, desired, purge=False)
    assert engine.names() == [("wcs-z", True)]
    assert engine.calls[-2:] == [("remove", "wcs-x"), ("remove", "wcs-y")]


def test_only_containers_with_the_collections_label_are_purged():
    engine = FakeEngine(running=["wcs-old"])
    engine._add("someone-elses", running=True)
    run(engine, wanted("wcs-new"))
    assert ("someone-elses", True) in engine.names() and ("wcs-old", True) not in engine.names()


def test_without_removals_a_failure_is_reported_as_before():
    engine = FakeEngine(refuse={"wcs-b"})
    with pytest.raises(cs.EngineFailure) as err:
        run(engine, wanted("wcs-a", "wcs-b"), purge=False)
    assert "Nothing was removed" not in str(err.value) and "refused to create" in str(err.value)


@pytest.mark.parametrize("name", ["a", "7", "wcs-1.mediaops-old", "wcs 1", "-wcs", "wcs-1\n", "", None])
def test_every_name_is_checked_before_anything_changes(name):
    with pytest.raises(PlanError) as err:
        desired_container(dict(name=name, image="busybox"), 3)
    assert err.value.field == "containers[3].name"


@pytest.mark.parametrize("conf_dir", ["/opt/wcs:/x", "/opt/wcs/wcs-1/conf:rw", "/opt/wcs/../../etc/cron.d",
                                      "relative/conf", "/"])
def test_a_conf_dir_that_would_not_be_one_bind_source_is_refused(conf_dir):
    with pytest.raises(PlanError) as err:
        desired_container(dict(name="wcs-1", image="busybox", conf_dir=conf_dir), 0)
    assert err.value.field == "containers[0].conf_dir"


def test_the_bind_refuses_a_colon_on_its_own():
    d = desired_container(dict(name="wcs-1", image="busybox", conf_dir="/opt/wcs/wcs-1/conf"), 0)
    d["spec"]["conf_dir"] = "/opt/wcs:/etc"  # as if the spec check had been bypassed
    with pytest.raises(cs.EngineFailure, match="cannot be a bind source"):
        cs.create(FakeEngine(), d)


def test_names_are_unique_across_states():
    with pytest.raises(PlanError, match="its own name"):
        check_unique_names(wanted("wcs-1") + wanted("wcs-1", state="absent"))


def test_the_directory_marker_is_not_part_of_the_conf_hash(tmp_path):
    (tmp_path / "flashphoner.properties").write_text("ip=203.0.113.4\n")
    before = cs.conf_files_hash(str(tmp_path))
    (tmp_path / DIR_MARKER).write_text('{"owner": "mediaops.wcs"}\n')
    assert cs.conf_files_hash(str(tmp_path)) == before
    (tmp_path / "wcs-core.properties").write_text("-Xmx1g\n")
    assert cs.conf_files_hash(str(tmp_path)) != before
