"""The alert rules the monitoring role ships: rendered from the role's template with its defaults (as Ansible
renders it: trim_blocks), checked with `promtool check rules` and unit-tested with `promtool test rules`
(alerts.test.yml: each alert fires in one case and stays silent in another). promtool comes from Debian's
`prometheus` package (scripts/ensure-packages.sh installs it)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles/monitoring"
TEMPLATE = ROLE / "templates/wcs-alerts.rules.yml.j2"
TESTS = Path(__file__).resolve().parent / "alerts.test.yml"
PROMTOOL = shutil.which("promtool") or ("/usr/bin/promtool" if Path("/usr/bin/promtool").exists() else None)
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool missing: scripts/ensure-packages.sh installs Debian's prometheus package")


def alert_defaults():
    defaults = yaml.safe_load((ROLE / "defaults/main.yml").read_text())
    return {k: v for k, v in defaults.items() if k.startswith("wcs_monitoring_alert_")}


def render(**overrides):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, keep_trailing_newline=True)
    return env.from_string(TEMPLATE.read_text()).render(**dict(alert_defaults(), **overrides))


def promtool(*args, cwd=None):
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60, cwd=cwd, check=False)


def test_every_threshold_is_a_documented_role_variable():
    names = set(alert_defaults())
    specs = yaml.safe_load((ROLE / "meta/argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    readme = (ROLE / "README.md").read_text()
    assert names and names <= set(specs), names - set(specs)
    assert all(name in readme for name in names), [n for n in names if n not in readme]
    used = set(__import__("re").findall(r"wcs_monitoring_alert_\w+", TEMPLATE.read_text()))
    assert used == names - {"wcs_monitoring_alerts_enabled"}, used ^ names


@needs_promtool
def test_rules_pass_promtool_check(tmp_path):
    rules = tmp_path / "rules.yml"
    rules.write_text(render())
    result = promtool("check", "rules", str(rules))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 7 rules found" in result.stdout


@needs_promtool
def test_rules_unit_tests_pass_and_cover_every_alert_both_ways(tmp_path):
    rules = yaml.safe_load(render())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    cases = [c for t in yaml.safe_load(TESTS.read_text())["tests"] for c in t["alert_rule_test"]]
    fires = {c["alertname"] for c in cases if c["exp_alerts"]}
    silent = {c["alertname"] for c in cases if not c["exp_alerts"]}
    assert alerts == fires == silent, (alerts, fires, silent)
    (tmp_path / "rules.yml").write_text(render())
    shutil.copy(TESTS, tmp_path / "alerts.test.yml")
    result = promtool("test", "rules", "alerts.test.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_the_thresholds_are_what_the_rules_use(tmp_path):
    """The same cases with stricter thresholds fail: the variables reach the rules."""
    (tmp_path / "rules.yml").write_text(render(wcs_monitoring_alert_degraded_percent=50,
                                               wcs_monitoring_alert_probe_p99_ms=10))
    shutil.copy(TESTS, tmp_path / "alerts.test.yml")
    result = promtool("test", "rules", "alerts.test.yml", cwd=tmp_path)
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "WCSDegradedStreams" in out and "WCSProbeLatenessAboveIsolationThreshold" in out
