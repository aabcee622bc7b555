"""`preflight` over N recorded hosts: this tree against the 1.0.0 release, side by side in one run.

Each host of a generated inventory is the article's 40-CPU host (the recorded tree of inventories/example), with a
block of its own from 198.18.0.0/15 (RFC 2544's range for benchmarks; the plan is computed, never deployed). The
1.0.0 side is a temporary git worktree of the release commit with its own collection link; both sides run the same
`ansible-playbook mediaops.wcs.preflight`, same config, same forks, alternating which goes first. Prints the wall
time of each and the ratio 1.0.0 / this tree.

    python benchmarks/fleet_plan.py                  # 10, 50 and 200 hosts
    python benchmarks/fleet_plan.py --hosts 10,50 --baseline <rev>
"""
from __future__ import annotations

import argparse
import ipaddress
import shutil
import sys
import tempfile
from pathlib import Path

import baseline

ROOT = Path(__file__).resolve().parents[1]
TOPOLOGY = ROOT / "inventories" / "example" / "topology.orig"
FIRST_BLOCK = ipaddress.IPv4Network("198.18.0.0/29")


def inventory(path, hosts):
    lines = ["all:", "  children:", "    wcs_hosts:", "      vars:",
             "        ansible_connection: local",
             "        ansible_python_interpreter: %s" % sys.executable,
             "        wcs_host_facts_root: %s" % TOPOLOGY,
             "        wcs_network_parent: eno1",
             "        wcs_container_count: 2",
             "        wcs_image: flashphoner/webcallserver:latest",
             "      hosts:"]
    for index in range(hosts):
        block = ipaddress.IPv4Network((int(FIRST_BLOCK.network_address) + 8 * index, 29))
        lines.append("        wcs-bench-%03d: {wcs_network_block: %s}" % (index + 1, block))
    path.write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--hosts", default="10,50,200", help="comma-separated host counts")
    parser.add_argument("--baseline", default=baseline.RELEASE_1_0_0, help="git revision of the other side (default: 1.0.0)")
    args = parser.parse_args()
    counts = [int(n) for n in args.hosts.split(",")]
    work = Path(tempfile.mkdtemp(prefix="wcs-fleet-plan-"))
    try:
        old = baseline.add_tree(args.baseline, work / "baseline")
        rows = []
        for turn, count in enumerate(counts):
            inv = work / ("hosts-%d.yml" % count)
            inventory(inv, count)
            # "this" does what 1.0.0's preflight did (the plan and its checks); "this+audit" adds the host tuning
            # audit table that preflight prints since issue 14 (read from the same recorded tree)
            order = [("1.0.0", old, ()), ("this", ROOT, ("-e", "wcs_tuning_audit=false")), ("this+audit", ROOT, ())]
            if turn % 2:
                order.reverse()
            took = {}
            for label, tree, extra in order:
                print("preflight of %d hosts with %s ..." % (count, label), flush=True)
                took[label] = baseline.playbook(tree, "preflight", inv, *extra)[1]
                print("  %.1f s" % took[label], flush=True)
            rows.append((count, took["1.0.0"], took["this"], took["this+audit"]))
        print()
        header = ("hosts", "1.0.0 (s)", "this (s)", "ratio", "this+audit (s)", "ratio")
        print("%6s  %10s  %10s  %8s  %16s  %8s" % header)
        for count, old_s, new_s, audit_s in rows:
            figures = (count, old_s, new_s, old_s / new_s, audit_s, old_s / audit_s)
            print("%6d  %10.1f  %10.1f  %7.1fx  %16.1f  %7.1fx" % figures)
    finally:
        baseline.remove_tree(work / "baseline")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
