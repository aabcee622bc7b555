"""stream_quality: aggregates of a stream list (bounded labels, percentiles) and counters that survive stream churn."""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.mediaops.wcs.plugins.module_utils import stream_quality as sq

RELAXED = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
KEYS = {"video_rate": ("VIDEO_RATE", 1), "audio_rate": ("AUDIO_RATE", 1), "video_fps": ("VIDEO_FPS", 1),
        "video_nack": ("VIDEO_NACK", 1), "video_pli": ("VIDEO_PLI", 1), "video_lost": ("VIDEO_LOST", 1),
        "audio_lost": ("AUDIO_LOST", 1)}


def stream(msid, media="publish", status="PUBLISHING", provider="WebRTC", name=None, **metrics):
    out = {"name": name or "s-" + msid, "mediaSessionId": msid, "mediaType": media, "status": status,
           "mediaProvider": provider}
    if metrics:
        out["metrics"] = metrics
    return out


def test_aggregate_counts_rates_and_percentiles():
    streams = [stream("a", VIDEO_RATE=1000, AUDIO_RATE=64, VIDEO_FPS=30, VIDEO_NACK=3, VIDEO_LOST=1, AUDIO_LOST=2),
               stream("b", VIDEO_RATE=3000, AUDIO_RATE=64, VIDEO_FPS=25, VIDEO_PLI=1),
               stream("c", media="play", status="PLAYING", VIDEO_RATE=500),
               stream("d", media="play", status="PLAYING")]  # no metrics object
    agg = sq.aggregate(streams, KEYS)
    assert agg["streams"] == {("PUBLISHING", "publish", "WebRTC"): 2, ("PLAYING", "play", "WebRTC"): 2}
    assert agg["with_metrics"] == 3
    assert agg["bitrate"]["publish"] == {"0.5": 1064, "0.9": 3064, "0.99": 3064}
    assert agg["bitrate"]["play"] == {"0.5": 500, "0.9": 500, "0.99": 500}
    assert agg["fps"] == {"publish": {"0.5": 25, "0.9": 30, "0.99": 30}}
    assert agg["current"]["video_nack"] == 3 and agg["current"]["audio_lost"] == 2
    assert agg["current"]["video_rate"] == 4500


def test_scale_and_garbage_values():
    keys = {"video_rate": ("VIDEO_RATE", 1000)}
    assert sq.figures({"metrics": {"VIDEO_RATE": "2.5"}}, keys) == {"video_rate": 2500}
    for bad in (True, None, "x", float("nan"), float("inf"), [1], {}):
        assert sq.figures({"metrics": {"VIDEO_RATE": bad}}, keys) == {}
    assert sq.figures({"metrics": "nope"}, keys) == {} and sq.figures("nope", keys) == {}


def test_label_values_are_bounded_and_sanitised():
    streams = [stream(str(i), provider="Prov%d" % i, status="S%d" % (i % 3)) for i in range(40)]
    streams += [stream("x", provider="bad value{}", status=None, media="weird")]
    agg = sq.aggregate(streams, KEYS)
    providers = {k[2] for k in agg["streams"]}
    assert len(providers - {sq.OTHER}) <= sq.MAX_LABEL_VALUES and sq.OTHER in providers
    assert {k[0] for k in agg["streams"]} == {"S0", "S1", "S2", sq.OTHER}
    assert ("other", "other", "other") in agg["streams"]
    assert sum(agg["streams"].values()) == 41


def test_media_type_from_published_when_the_type_is_absent():
    assert sq.media_type({"published": True}) == "publish"
    assert sq.media_type({"published": False}) == "play"
    assert sq.media_type({}) == sq.OTHER


@RELAXED
@given(st.lists(st.fixed_dictionaries({
    "name": st.one_of(st.none(), st.text(max_size=80)),
    "status": st.one_of(st.none(), st.integers(), st.text(max_size=40)),
    "mediaType": st.one_of(st.none(), st.sampled_from(["publish", "play", "x"])),
    "mediaProvider": st.one_of(st.none(), st.text(max_size=40)),
    "metrics": st.one_of(st.none(), st.dictionaries(st.sampled_from(["VIDEO_RATE", "AUDIO_RATE", "VIDEO_FPS", "X"]),
                                                    st.one_of(st.integers(-10, 10**9), st.floats(), st.text()))),
}), max_size=60))
def test_any_stream_list_gives_bounded_series(streams):
    agg = sq.aggregate(streams, KEYS)
    assert sum(agg["streams"].values()) == len(streams)
    for status, kind, provider in agg["streams"]:
        assert kind in ("publish", "play", sq.OTHER)
        assert status == sq.OTHER or sq.LABEL_VALUE.match(status)
        assert provider == sq.OTHER or sq.LABEL_VALUE.match(provider)
    assert len({k[0] for k in agg["streams"]}) <= sq.MAX_LABEL_VALUES + 1
    assert len({k[2] for k in agg["streams"]}) <= sq.MAX_LABEL_VALUES + 1
    for groups in (agg["bitrate"], agg["fps"]):
        for quantiles in groups.values():
            values = [quantiles[q] for q, _p in sq.QUANTILES]
            assert values == sorted(values) and all(math.isfinite(v) for v in values)
    rows, dropped = sq.per_stream(streams, KEYS, 5)
    assert len(rows) <= 5 and len(rows) + dropped == sum(1 for s in streams if isinstance(s["metrics"], dict))
    assert all(len(r["stream"]) <= sq.STREAM_LABEL_MAX and len(r["session"]) <= sq.STREAM_LABEL_MAX for r in rows)


@RELAXED
@given(st.lists(st.floats(-1e12, 1e12), min_size=1), st.floats(0, 100))
def test_percentile_is_a_value_between_min_and_max(values, pct):
    got = sq.percentile(values, pct)
    assert got in values and min(values) <= got <= max(values)
    assert sq.percentile(values, 100) == max(values) and sq.percentile(values, 0) == min(values)


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        sq.percentile([], 50)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_counters_keep_growing_while_streams_come_and_go():
    acc = sq.CounterAccumulator(KEYS, clock=Clock())
    # first read: the baseline, nothing counted (an exporter restart is not a burst of losses)
    assert acc.update("c1", [stream("a", VIDEO_NACK=100, VIDEO_LOST=7)])["video_nack"] == 0
    totals = acc.update("c1", [stream("a", VIDEO_NACK=110, VIDEO_LOST=7), stream("b", VIDEO_NACK=5)])
    assert totals["video_nack"] == 15 and totals["video_lost"] == 0  # a grew by 10, b is new: its 5
    totals = acc.update("c1", [stream("b", VIDEO_NACK=6)])  # a ended: the total does not go down
    assert totals["video_nack"] == 16
    totals = acc.update("c1", [stream("b", VIDEO_NACK=2)])  # b's counter restarted: its whole value
    assert totals["video_nack"] == 18
    assert set(totals) == set(sq.COUNTER_FIGURES)
    assert acc.update("c2", [stream("a", VIDEO_NACK=1000)])["video_nack"] == 0  # containers are apart


def test_a_container_not_read_for_long_is_forgotten():
    clock = Clock()
    acc = sq.CounterAccumulator(KEYS, forget_after=60, clock=clock)
    acc.update("old", [])
    clock.now = 30
    acc.update("new", [])
    clock.now = 61
    acc.update("new", [])
    assert acc.containers() == ["new"]


@RELAXED
@given(st.lists(st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 10**6), max_size=6), max_size=12))
def test_totals_never_go_down(reads):
    acc = sq.CounterAccumulator(KEYS, clock=Clock())
    last = 0.0
    for read in reads:
        total = acc.update("c", [stream(k, VIDEO_PLI=v) for k, v in read.items()])["video_pli"]
        assert total >= last
        last = total


def test_per_stream_rows_are_capped_hard():
    streams = [stream("%04d" % i, VIDEO_RATE=i) for i in range(sq.PER_STREAM_HARD_CAP + 20)]
    rows, dropped = sq.per_stream(streams, KEYS, 10 ** 6)
    assert len(rows) == sq.PER_STREAM_HARD_CAP and dropped == 20
    assert rows[0] == {"stream": "s-0000", "media_type": "publish", "session": "0000", "figures": {"video_rate": 0}}
    assert sq.per_stream(streams, KEYS, 0) == ([], len(streams))


def test_numbers_of_an_answer_are_ascii_and_bounded():
    for value in ("\u00b2", "\u0661", 10 ** 40, "1" * 5000, "1e999", float("nan"), True, [1], {"a": 1}):
        assert sq.number(value) is None
    assert sq.number(" 12.5 ") == 12.5 and sq.number(7) == 7.0
