"""Heap and container memory sizing for WCS containers.

Pure Python (no Ansible, no Docker). Flashphoner recommends a heap of 50% of RAM for one WCS instance; with several
containers on one host that half is split between them (the article's 25% each for two containers).

* Heap per container = ``share`` x RAM / count, rounded down to whole GiB (256 MiB steps below 4 GiB, so small
  hosts and test machines still get a usable heap); never below ``min_heap`` (512 MiB: WCS does not start
  reliably with less).
* Container memory limit = heap + off-heap room, room = max(``overhead`` x heap, ``min_overhead``) (for heaps
  under 2 GiB the floor is half the heap), rounded up to 256 MiB. The room is for what the JVM holds outside the
  heap: direct byte buffers of the media path (RTP/SRTP and WebSocket I/O), metaspace and code cache, thread
  stacks of a few hundred media threads, GC structures (ZGC's are sizeable) and glibc malloc arenas (run WCS
  with ``MALLOC_ARENA_MAX=4`` so the arenas stay bounded). A limit equal to the heap would get the container
  OOM-killed under load.
* The sum of the limits must fit in RAM minus a host reserve (default 5% of RAM, at least 1 GiB or a quarter of
  RAM on small hosts) for the kernel, page cache, dockerd and the exporters; otherwise a PlanError names the
  numbers and what to change.
"""
from __future__ import annotations

from ansible_collections.mediaops.wcs.plugins.module_utils.errors import PlanError
from ansible_collections.mediaops.wcs.plugins.module_utils.validate import check_number
# parse_size/format_size live in units.py; importable from here as before.
from ansible_collections.mediaops.wcs.plugins.module_utils.units import (  # noqa: F401 pylint: disable=unused-import
    GIB, KIB, MIB, format_size, parse_count, parse_size)

STEP = 256 * MIB


def _round_heap(size):
    step = GIB if size >= 4 * GIB else STEP
    return size // step * step


def _fraction(value, field, low, high):
    # the shared number kind: ASCII decimal text or a number, finite, never a boolean or a Unicode digit
    return check_number(value, field, low=low, high=high, low_open=True,
                        fix="give a fraction between %s and %s, e.g. 0.5" % (low, high))


def plan_heap(memory_bytes, count, share=0.5, heap=None, overhead=0.25, min_overhead="1g", host_reserve=None,
              min_heap="512m"):
    """One ``{heap, heap_bytes, memory, memory_bytes, overhead_bytes}`` per container, in container order.

    ``memory_bytes``: host RAM (the topology's ``memory_bytes``). ``heap``: an explicit heap for every container
    ('6g'), or a list with one heap per container; otherwise ``share`` of RAM split evenly.
    """
    memory = parse_size(memory_bytes, "memory_bytes")
    count = parse_count(count)
    floor = parse_size(min_heap, "min_heap")
    room_floor = parse_size(min_overhead, "min_overhead")
    overhead = _fraction(overhead, "overhead", 0, 4)
    if host_reserve is not None:
        reserve = parse_size(host_reserve, "host_reserve")
    else:
        reserve = max(min(GIB, memory // 4), memory // 20)

    if heap is None:
        share = _fraction(share, "share", 0, 1)
        heaps = [_round_heap(int(memory * share) // count)] * count
        field = "share"
    elif isinstance(heap, (list, tuple)):
        if len(heap) != count:
            raise PlanError("heap", list(heap), "give one heap per container (%d) or a single size" % count)
        heaps = [parse_size(h, "heap[%d]" % i) for i, h in enumerate(heap)]
        field = "heap"
    else:
        heaps = [parse_size(heap, "heap")] * count
        field = "heap"

    plans = []
    for index, size in enumerate(heaps):
        if size < floor:
            value = share if field == "share" else format_size(size)
            raise PlanError(field, value, "give each container at least %s of heap: run fewer containers, raise "
                            "share, or set heap explicitly" % format_size(floor),
                            why="container %d would get a heap of %s (host RAM %s, %d container(s))"
                            % (index + 1, format_size(size) if size else "0", _human(memory), count))
        # Small heaps get half their size as floor instead of the full min_overhead.
        room = max(int(size * overhead), min(room_floor, size // 2))
        limit = -(-(size + room) // STEP) * STEP
        plans.append({"heap": format_size(size), "heap_bytes": size, "memory": format_size(limit),
                      "memory_bytes": limit, "overhead_bytes": limit - size})
    total = sum(p["memory_bytes"] for p in plans)
    if total > memory - reserve:
        raise PlanError(field, share if field == "share" else heap,
                        "lower the heap (share or heap), run fewer containers, or lower overhead/host_reserve",
                        why="the container memory limits add up to %s, more than host RAM %s minus the host reserve "
                            "%s" % (_human(total), _human(memory), _human(reserve)))
    return plans


def _human(size):
    return "%.1f GiB" % (size / GIB) if size >= GIB else "%d MiB" % (size // MIB)
