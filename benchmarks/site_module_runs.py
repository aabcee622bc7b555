"""Remote module runs of a no-op `site` per host: this tree against the 1.0.0 release, side by side in one run.

Counted from the run itself (`-vvv` prints "Using module file ..." once per module run on the host), for 1 and 2
containers (as many as this 2-CPU machine allows with one core each), on an engine of the benchmark's own (private
dockerd `wcsbench`, bridge `wcsbenchbr0` 192.0.2.248/30; veth `wcspl0` with router netns `wcspl0-ns`; block
198.51.100.208/28; names `wcst-pl-*`), everything removed at the end. The 1.0.0 side is a temporary git worktree.

    sudo python benchmarks/site_module_runs.py [--baseline <rev>]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import labkit  # noqa: E402  pylint: disable=wrong-import-position

import baseline  # noqa: E402  pylint: disable=wrong-import-position


def inventory(path, engine_host, parent, count, conf_root):
    path.write_text("\n".join([
        "all:", "  children:", "    wcs_hosts:", "      hosts:", "        localhost:",
        "          ansible_connection: local",
        "          ansible_python_interpreter: %s" % sys.executable,
        "      vars:",
        "        wcs_container_count: %d" % count,
        "        wcs_name_prefix: wcst-pl-",
        "        wcs_image: mediaops/wcs-emulator:test",
        "        wcs_pull: never",
        "        wcs_docker_host: %s" % engine_host,
        "        wcs_network_name: wcst-pl-net",
        "        wcs_network_driver: macvlan",
        "        wcs_network_parent: %s" % parent,
        "        wcs_network_block: 198.51.100.208/28",
        "        wcs_reserved_cpus: []",
        "        wcs_heap: 512m",
        "        wcs_conf_root: %s" % conf_root,
        "        wcs_password: bench-only",
        ""]))


def module_runs(output):
    return Counter(line.rsplit("/", 1)[-1].strip() for line in output.splitlines() if "Using module file" in line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--baseline", default=baseline.RELEASE_1_0_0, help="git revision of the other side (default: 1.0.0)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wcs-site-runs-"))
    engine = labkit.Engine("wcsbench", bridge=("wcsbenchbr0", "192.0.2.249/30"))
    links = labkit.Links()
    rows = []
    try:
        old = baseline.add_tree(args.baseline, work / "baseline")
        engine.up()
        parent = links.veth("wcspl0", host_cidr="198.51.100.210/28", router_cidr="198.51.100.209/28")
        for count in (1, 2):
            # "this" with the firewall (on by default since 1.1.0) and without it, the work 1.0.0 did
            for label, tree, extra in (("1.0.0", old, ()), ("this", ROOT, ()),
                                       ("this-fw", ROOT, ("-e", "wcs_firewall_enabled=false"))):
                engine.clean()
                inv = work / ("hosts-%s-%d.yml" % (label, count))
                inventory(inv, engine.host, parent, count, work / ("conf-%s-%d" % (label, count)))
                print("site with %d container(s), %s: first converge ..." % (count, label), flush=True)
                baseline.playbook(tree, "site", inv, *extra)
                print("  no-op converge with -vvv ...", flush=True)
                out, took = baseline.playbook(tree, "site", inv, "-vvv", *extra)
                runs = module_runs(out)
                rows.append((count, label, sum(runs.values()), took, runs))
        print()
        print("%10s  %-8s  %12s  %10s  %s" % ("containers", "tree", "module runs", "no-op (s)", "which"))
        for count, label, total, took, runs in rows:
            print("%10d  %-8s  %12d  %10.1f  %s" % (count, label, total, took,
                                                    ", ".join("%s x%d" % (k, v) for k, v in sorted(runs.items()))))
        print()
        print("1.0.0: 4 + 5 per container (a 64-core host with 8 containers: %d); this tree: 5 for the deployment "
              "whatever the count, plus 1 for the firewall (this-fw: turned off)." % (4 + 5 * 8))
    finally:
        engine.down()
        links.remove()
        baseline.remove_tree(work / "baseline")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
