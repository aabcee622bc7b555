"""The harness itself: it tells a clean refusal from a traceback and a hang (so the hostile tests can fail)."""
from __future__ import annotations

import time

import pytest

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError

from .harness import Hang, assert_clean, clean_call, run_module


def test_a_clean_refusal_passes_and_a_traceback_fails():
    assert assert_clean({"failed": True, "msg": "wcs_image: give an image"}) == "refused"
    with pytest.raises(AssertionError):
        assert_clean({"failed": True, "msg": "MODULE FAILURE", "module_stderr": "Traceback (most recent call last)"})
    with pytest.raises(AssertionError):
        assert_clean({"changed": False}, allow_ok=False)


def test_a_module_run_from_an_args_file_answers_json():
    answer = run_module("wcs_config", {"containers": [], "no_such_option": 1}, timeout=60)
    assert assert_clean(answer) == "refused"
    assert "no_such_option" in answer["msg"], answer["msg"]


def test_clean_call_catches_other_exceptions_and_hangs():
    def boom():
        raise ValueError("x")

    def refuse():
        raise PlanError("wcs_x", 1, "give 2")

    assert clean_call(refuse)[0] == "refused"
    with pytest.raises(ValueError):
        clean_call(boom)
    with pytest.raises(Hang):
        clean_call(time.sleep, 5, seconds=0.2)
