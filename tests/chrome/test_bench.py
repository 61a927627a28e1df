"""The same-page benchmark end to end on the smallest configuration (d1_w64), in Chromium.

Every framework x backend that can run here must produce numbers for each of its phases and
predictions that agree with wasmdl's reference outputs (the page checks them before timing;
frameworks that train are also checked after one SGD step). Rows that cannot run here must say
why. A framework whose model file is broken must fail in its own row without stopping the
run. No timing assertions: numbers only have to exist and be positive.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))  # the top-level bench/ package

from bench import driver  # noqa: E402

# The per-framework mode (protocol=frames), quick; the interleaved default has its own test.
QUICK = {
    "protocol": "frames",
    "configs": "d1_w64",
    "repeats": 2,
    "budget": 150,
    "maxcall": 2000,
    "stall": 120,
}
# Rows that cannot run in this project, each with the reason the page must show.
UNAVAILABLE = {
    "webdnn:webassembly": "Emscripten",
    "webdnn:webgpu": "WebGPU",
}
TRAINERS = {"wasmdl", "tfjs", "convnetjs", "brainjs", "synaptic", "mind", "chainer"}
CHECKED_AFTER_STEP = {"wasmdl", "tfjs", "convnetjs", "chainer"}


def _key(row) -> str:
    return f"{row['framework']}:{row['backend']}"


def _positive(stat) -> bool:
    return bool(stat) and math.isfinite(stat["median"]) and stat["median"] > 0


@pytest.fixture(scope="module")
def bench_all(wasmdl_site, wasmdl_server, artifacts_dir, chrome_report):
    result = driver.run_page(wasmdl_server, {"fw": "all", **QUICK}, timeout=420, stall=120)
    (artifacts_dir / "bench_smallest.json").write_text(json.dumps(result["rows"], indent=1))
    chrome_report(
        "bench (d1_w64, all rows)",
        f"{len(result['rows'])} rows, {sum(r['status'] == 'ok' for r in result['rows'])} ok",
    )
    return result


def test_every_runnable_framework_produces_numbers(bench_all):
    problems = []
    for row in bench_all["rows"]:
        key = _key(row)
        if key in UNAVAILABLE:
            continue
        if row["status"] != "ok":
            problems.append(f"{key}: {row['status']}: {row.get('error')}")
            continue
        phases = ["load", "warmup", "infer"] + (["train"] if row["framework"] in TRAINERS else [])
        missing = [p for p in phases if not _positive(row.get(p))]
        if missing or not row.get("modelBytes") or not row.get("libraryBytes"):
            problems.append(f"{key}: no numbers for {missing} / sizes {row.get('modelBytes')}")
    assert not problems, "\n".join(problems)


def test_predictions_agree_across_frameworks(bench_all):
    ok = [r for r in bench_all["rows"] if r["status"] == "ok"]
    assert {"wasmdl", "tfjs", "convnetjs", "brainjs", "synaptic", "kerasjs", "webdnn", "ort"} <= {
        r["framework"] for r in ok
    }
    assert {"mind", "chainer", "paddlejs"} <= {r["framework"] for r in ok}
    for row in ok:
        check = row["check"]
        assert check["ok"] and check["argmaxAgree"] == check["n"] == 8, (_key(row), check)
        assert check["maxDiff"] <= 2e-4, (_key(row), check)
        if row["framework"] in CHECKED_AFTER_STEP:
            assert row["trainCheck"]["ok"], (_key(row), row["trainCheck"])


def test_rows_that_cannot_run_say_why(bench_all):
    rows = {_key(r): r for r in bench_all["rows"]}
    for key, word in UNAVAILABLE.items():
        assert rows[key]["status"] == "unavailable", rows[key]
        assert word.lower() in rows[key]["error"].lower(), rows[key]
    for name in ("brainjs", "synaptic"):  # the closest network, and the difference stated
        assert "no softmax" in rows[f"{name}:cpu"]["note"], rows[f"{name}:cpu"]


def test_broken_model_file_fails_its_row_only(wasmdl_site, wasmdl_server):
    src = Path(wasmdl_site) / "bench" / "models"
    broken = Path(wasmdl_site) / "bench" / "models-broken-test"
    shutil.rmtree(broken, ignore_errors=True)
    (broken / "d1_w64").mkdir(parents=True)
    try:
        for f in ["manifest.json", "data.bin"]:
            os.link(src / f, broken / f)
        for f in (src / "d1_w64").iterdir():
            if f.is_file():
                os.link(f, broken / "d1_w64" / f.name)
        (broken / "d1_w64" / "convnetjs.json").unlink()
        (broken / "d1_w64" / "convnetjs.json").write_text('{"layers": [')  # truncated
        query = {
            "fw": "convnetjs,tfjs:cpu",
            **QUICK,
            "phases": "load,infer",
            "models": "/bench/models-broken-test/",
        }
        rows = {_key(r): r for r in driver.run_page(wasmdl_server, query, 180, 60)["rows"]}
    finally:
        shutil.rmtree(broken, ignore_errors=True)
    assert rows["convnetjs:cpu"]["status"] == "failed", rows["convnetjs:cpu"]
    assert "json" in rows["convnetjs:cpu"]["error"].lower(), rows["convnetjs:cpu"]
    assert rows["tfjs:cpu"]["status"] == "ok" and _positive(rows["tfjs:cpu"]["infer"])


def test_order_config_runs_every_framework_per_configuration_alternating(wasmdl_server):
    """``order=config``: all frameworks on one configuration before the next, in reversed
    order every other configuration; the same rows and numbers as the default order."""
    query = {"fw": "convnetjs,brainjs", **QUICK, "configs": "d1_w64,d2_w64", "order": "config"}
    query["phases"] = "load,infer"
    rows = driver.run_page(wasmdl_server, query, 180, 60)["rows"]
    assert [(r["config"], r["framework"]) for r in rows] == [
        ("d1_w64", "convnetjs"), ("d1_w64", "brainjs"),
        ("d2_w64", "brainjs"), ("d2_w64", "convnetjs"),
    ]  # fmt: skip
    assert all(r["status"] == "ok" and _positive(r["infer"]) for r in rows), rows


def test_rounds_report_the_median_round(wasmdl_server):
    """``order=config&rounds=3``: one row per framework and configuration, each phase the
    statistics of its median round, with every round's median listed."""
    query = {"fw": "convnetjs,brainjs", **QUICK, "order": "config", "rounds": 3}
    query["phases"] = "load,infer"
    rows = driver.run_page(wasmdl_server, query, 180, 60)["rows"]
    assert [(r["config"], r["framework"]) for r in rows] == [
        ("d1_w64", "convnetjs"), ("d1_w64", "brainjs"),
    ]  # fmt: skip
    for r in rows:
        assert r["status"] == "ok" and r["rounds"] == 3, r
        per = r["infer"]["rounds"]
        assert len(per) == 3 and all(v > 0 for v in per), r
        assert r["infer"]["median"] == sorted(per)[1], r


def test_interleaved_protocol_smoke(wasmdl_site, wasmdl_server):
    """The default protocol: live frames, fresh for each configuration, stable warm-up,
    rotated rounds, ratios to wasmdl, every round kept; the page is cross-origin isolated and
    the threaded rows engage."""
    query = {
        "fw": "wasmdl:numpy,tfjs:wasm,tfjs:wasm-mt,convnetjs",
        "configs": "d1_w64,d2_w64",
        "minRounds": 4,
        "phaseMs": 500,
        "warmMinMs": 300,
        "warmMinCalls": 5,
    }
    res = driver.run_page(wasmdl_server, query, timeout=300, stall=120)
    assert res["env"]["crossOriginIsolated"] is True
    assert res["protocol"]["name"] == "interleaved"
    # every configuration runs in fresh frames (one model per page, a process each)
    origins = [r["frame"] for r in res["rows"]]
    assert len(res["rows"]) == 8 and len(set(origins)) == 8, origins
    for row in res["rows"]:
        key = (_key(row), row["config"])
        assert row["status"] == "ok", (key, row.get("error"))
        for phase in ("infer", "train"):
            s = row[phase]
            assert _positive(s) and len(s["samples"]) >= 4 and s["warm"]["calls"] >= 5, key
            assert s["ratio"] > 0 and len(s["ratios"]) == len(s["samples"]), key
    rows = {_key(r): r for r in res["rows"] if r["config"] == "d1_w64"}
    assert rows["wasmdl:numpy"]["train"]["ratio"] == 1
    assert rows["tfjs:wasm"]["info"]["threads"] == 1
    assert rows["tfjs:wasm-mt"]["info"]["threads"] >= 2


def test_a_crashed_page_is_reported_at_once_not_waited_for():
    """A crash of the bench page's own renderer ends the wait with a named error instead of
    a 40-minute stall; here the crash is chrome://crash. (A framework's frame has a process
    of its own: its crash is the next test's.)"""
    import time

    from bench.driver import Chromium, PageCrashed

    with Chromium() as browser:
        assert browser.evaluate("1 + 1") == 2
        browser.navigate("chrome://crash")
        t0 = time.time()
        with pytest.raises(PageCrashed, match="renderer crashed"):
            for _ in range(3):  # the crash event may follow the navigation's reply
                browser.evaluate("1 + 1", timeout=30)
                time.sleep(0.5)
        assert time.time() - t0 < 20


def _runner_in_live_page(server, fw, body):
    """Run ``body`` (JS statements ending in a return) on a live page of framework ``fw`` with
    its runner set up on the CPU: ``A`` the runner, ``H`` the harness, ``man`` the manifest,
    ``ctx`` the runner's context (models, data), ``base`` the models' URL."""
    from bench.driver import Chromium

    script = f"""(async () => {{
      const A = (await import('/bench/runners/{fw}.js')).default;
      const H = await import('/bench/harness.js');
      const base = '/bench/models/';
      const man = await (await fetch(base + 'manifest.json')).json();
      const ctx = {{ vendor: '/vendor/', base, manifest: man,
                    data: await H.loadData(base, man.data) }};
      await A.setup('cpu', ctx);
{body}
    }})()"""
    with Chromium() as browser:
        browser.navigate(f"{server}/bench/live.html?fw={fw}&backend=cpu")
        for _ in range(100):  # the page's module has loaded once its log element exists
            if browser.evaluate("!!document.getElementById('log')"):
                break
        return browser.evaluate(script, timeout=240)


def test_synaptic_without_optimize_trains_like_its_optimized_path(wasmdl_site, wasmdl_server):
    """Above `optimizeMaxConnections` the synaptic runner turns synaptic's `optimize()` off (its
    generated function crashes Chromium's renderer on d8_w256). Here the limit is lowered so
    that d1_w64 takes that path: the page's check against wasmdl's outputs passes, the row's
    note says what ran, and a training batch on synaptic's per-neuron path gives the outputs
    of its optimized path from the same weights."""
    body = """
      const entry = man.configs.find((c) => c.id === 'd1_w64');
      const ref = (await (await fetch(base + 'd1_w64/reference.json')).json()).linear_out;
      const run = async (limit) => {
        A.optimizeMaxConnections = limit;
        const net = await A.load(entry, ctx);
        const before = [];
        for (let i = 0; i < ref.length; i++) before.push(await A.predict(net, ctx.data.sample(i)));
        await A.trainStep(net, ctx.data.batch(1, man.batch));
        const after = [];
        for (let i = 0; i < 4; i++) {
          after.push(Array.from(await A.predict(net, ctx.data.sample(i))));
        }
        const moved = Math.max(...after.flatMap(
          (row, i) => row.map((v, j) => Math.abs(v - before[i][j]))));
        return { check: H.compare(before, ref, 1e-4), after, moved, note: A.describe(net),
                 optimized: net.optimized !== false };
      };
      const plain = await run(0), optimized = await run(1e9);
      A.optimizeMaxConnections = 500000;
      return { plain, optimized };"""
    res = _runner_in_live_page(wasmdl_server, "synaptic", body)
    plain, optimized = res["plain"], res["optimized"]
    assert plain["check"]["ok"] and optimized["check"]["ok"], res
    assert plain["optimized"] is False and optimized["optimized"] is True
    assert plain["moved"] > 1e-3 and optimized["moved"] > 1e-3, res  # the batch trained
    assert optimized["note"] is None
    assert "optimize() off" in plain["note"] and "50816 connections > 0" in plain["note"]
    for a, b in zip(plain["after"], optimized["after"], strict=True):
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 1e-4 * max(1, *map(abs, b))


def test_brainjs_trains_at_the_per_sample_rate_and_stays_alive(wasmdl_site, wasmdl_server):
    """brain.js trains per sample, so its runner sets the grid's rate divided by the batch size
    (64 steps then move the weights as far as one step on the batch mean, as for synaptic). At
    the grid's 0.15 per sample its ReLU network put out zeros after one batch; at this rate,
    after five batches, its outputs are alive and have moved."""
    body = """
      const entry = man.configs.find((c) => c.id === 'd2_w64');
      const net = await A.load(entry, ctx);
      const outs = async () => {
        const rows = [];
        for (let i = 0; i < 8; i++) rows.push(Array.from(await A.predict(net, ctx.data.sample(i))));
        return rows;
      };
      const before = await outs();
      for (let b = 1; b <= 5; b++) await A.trainStep(net, ctx.data.batch(b, man.batch));
      const after = await outs();
      return { rate: net.trainOpts.learningRate, want: man.learning_rate / man.batch,
               before, after };"""
    res = _runner_in_live_page(wasmdl_server, "brainjs", body)
    assert res["rate"] == res["want"] and 0 < res["rate"] < 0.01, res["rate"]
    after = [v for row in res["after"] for v in row]
    moved = max(abs(a - b) for ra, rb in zip(res["after"], res["before"], strict=True)
                for a, b in zip(ra, rb, strict=True))  # fmt: skip
    assert sum(v > 0 for v in after) >= 8, res["after"]  # not a dead network (zeros)
    assert moved > 1e-3, moved


def test_a_crashed_frame_fails_its_calls_at_once(wasmdl_site, wasmdl_server):
    """A framework's live frame runs in a renderer process of its own. When that process dies
    (here: the frame allocates until V8 gives up), the driver hears Chromium's
    Target.targetCrashed and tells the page, and the frame's pending call fails at once with a
    named error instead of waiting out callTimeoutMs; later calls fail the same way; the page
    and its other frames go on."""
    import time

    from bench.driver import Chromium

    with Chromium() as browser:
        browser.watch_frames()
        browser.navigate(wasmdl_server + "/bench/live.html?fw=convnetjs&backend=cpu")
        for _ in range(100):  # wait for the module to load
            if browser.evaluate("!!document.getElementById('log')"):
                break
            time.sleep(0.1)
        browser.evaluate(
            """(async () => {
              const m = await import('/bench/interleave.js');
              const make = (id) => new m.LiveFrame({ fw: { id }, backend: 'cpu' }, document.body,
                                                   '/bench/models/');
              window.doomed = make('synaptic');
              window.other = make('convnetjs');
              for (const f of [doomed, other]) await f.call('setup', {}, 60000);
              await doomed.call('prepare', { config: 'd1_w64', tol: 1e-3 }, 60000);
              return 1;
            })()""",
            timeout=120,
        )
        frame = next(
            t
            for t in browser.targets.values()
            if t["type"] == "iframe" and "fw=synaptic" in t["url"]
        )
        session = browser.send(
            "Target.attachToTarget", {"targetId": frame["targetId"], "flatten": True}
        )["sessionId"]
        browser.post(  # on the frame's session; it never answers
            "Runtime.evaluate",
            {
                "expression": "setTimeout(() => { const a = []; "
                "while (true) a.push(new Array(1e7).fill(1.5)); }, 0); 1"
            },
            session=session,
        )
        time.sleep(0.5)  # the frame is allocating now: a call posted to it stays pending
        browser.evaluate(
            "window.pending = doomed.call('warm', { phase: 'infer' }, 300000)"
            ".then(() => 'answered', (e) => e.message); 1"
        )
        t0, ended = time.time(), []
        while not ended and time.time() - t0 < 60:
            time.sleep(0.5)
            browser.evaluate("1")  # reads the events that arrived
            ended = browser.end_crashed_frames()
        assert ended == ["synaptic:cpu"], (ended, browser.crashed_targets)
        message = browser.evaluate("pending", timeout=10)
        assert "warm: the frame's renderer process" in message and "gone" in message, message
        assert time.time() - t0 < 60
        later = browser.evaluate("doomed.call('release').then(() => 'ok', (e) => e.message)")
        assert later.startswith("release: the frame's renderer process"), later
        # the page and the other frame are alive
        assert browser.evaluate(
            "other.call('prepare', { config: 'd1_w64', tol: 1e-3 }).then((p) => p.check.ok)",
            timeout=60,
        )
