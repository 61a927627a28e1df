"""The interleaved benchmark protocol's pure parts (web/bench/interleave.js), run in Node:
round order rotation, calls per round, when to stop, and the per-round summaries and ratios
(BENCHMARK.md "Timing rules")."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs node")


@pytest.fixture(scope="module")
def js(tmp_path_factory):
    """Evaluate an expression over the module's exports (as `m`) in Node; return its JSON."""
    mod = tmp_path_factory.mktemp("interleave") / "interleave.mjs"  # an ES module for Node
    shutil.copyfile(ROOT / "web" / "bench" / "interleave.js", mod)

    def run(expr: str):
        code = f"import * as m from {json.dumps(str(mod))};\nconsole.log(JSON.stringify({expr}));"
        out = subprocess.run(
            ["node", "--input-type=module", "-e", code], capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout)

    return run


def test_rotation_puts_each_framework_first_in_turn(js):
    orders = js("[0, 1, 2, 3].map((r) => m.rotation(3, r))")
    assert orders == [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 1, 2]]
    assert [o[0] for o in orders[:3]] == [0, 1, 2]


def test_calls_per_round_fill_about_round_ms(js):
    assert js("m.callsPerRound(0.5, 75)") == 150
    assert js("m.callsPerRound(500, 75)") == 1  # a slow call: one per round
    assert js("m.callsPerRound(1e-6, 75, 5000)") == 5000  # capped
    assert js("m.callsPerRound(0, 75, 5000)") == 5000


def test_more_rounds_until_min_then_time_or_max(js):
    o = "{minRounds: 8, maxRounds: 30, phaseMs: 6000}"  # explicit, not the defaults
    assert js(f"m.moreRounds(3, 99999, {o})") is True  # under the minimum
    assert js(f"m.moreRounds(8, 100, {o})") is True
    assert js(f"m.moreRounds(8, 6001, {o})") is False
    assert js(f"m.moreRounds(30, 100, {o})") is False


def test_summarize_median_round_and_per_round_ratios(js):
    rounds = "[{a: 1, b: 2}, {a: 2, b: 3}, {a: 4, b: 4}]"
    s = js(f"m.summarize({rounds}, 'a')")
    assert s["a"]["median"] == 2 and s["a"]["ratio"] == 1
    assert s["b"]["samples"] == [2, 3, 4]  # every round kept
    assert s["b"]["ratios"] == [2, 1.5, 1]
    assert s["b"]["ratio"] == 1.5  # median of per-round ratios, not a ratio of medians
    assert s["b"]["n"] == 3 and s["b"]["min"] == 2 and s["b"]["max"] == 4


def test_summarize_skips_rounds_a_framework_missed(js):
    s = js("m.summarize([{a: 1, b: 2}, {a: 1}], 'a')")
    assert s["b"]["n"] == 1 and s["b"]["ratios"] == [2]
    assert js("m.summarize([{b: 2}], 'a')")["b"]["ratio"] is None  # no reference row


def test_quantiles_interpolate(js):
    q = js("m.quantiles([4, 1, 3, 2])")
    assert q == {"median": 2.5, "min": 1, "max": 4, "q1": 1.75, "q3": 3.25, "n": 4}


def test_defaults_follow_the_timing_rules(js):
    d = js("m.DEFAULTS")
    assert d["warmMinMs"] >= 1000 and d["warmMinCalls"] >= 20
    assert 50 <= d["roundMs"] <= 100


def test_live_frames_get_a_site_each_on_a_local_server(js):
    """Each live frame loads from its own f<k>.localhost site (its own renderer process) when
    the page is served locally; on any other host, from the page's origin."""
    loc = (
        "{protocol: 'http:', hostname: '127.0.0.1', port: '8000', origin: 'http://127.0.0.1:8000'}"
    )
    assert js(f"m.frameOrigin({loc}, 3)") == "http://f3.localhost:8000"
    other = "{protocol: 'https:', hostname: 'example.org', port: '', origin: 'https://example.org'}"
    assert js(f"m.frameOrigin({other}, 3)") == "https://example.org"
