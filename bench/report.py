"""Write a benchmark run: JSON (everything), CSV (one line per row), markdown tables.

Example:
    >>> rows = [{"framework": "x", "name": "X", "backend": "cpu", "config": "d1_w64",
    ...          "status": "ok", "train": {"median": 2.0}}]
    >>> "| d1_w64 | 2.00 |" in phase_table(rows, "train", ["d1_w64"])
    True
"""

from __future__ import annotations

import csv
import json
import os

PHASES = {
    "train": "Training time per batch of 64 (ms)",
    "load": "Model load time (ms)",
    "warmup": "Warm-up time, first inference after load (ms)",
    "infer": "Inference time per sample (ms)",
}
STAT_KEYS = ("median", "min", "max", "q1", "q3", "n")


def fmt(v) -> str:
    if v is None:
        return ""
    return (
        f"{v:.0f}"
        if v >= 100
        else f"{v:.1f}"
        if v >= 10
        else f"{v:.2f}"
        if v >= 0.1
        else (f"{v:.3f}")
    )


def column(r) -> str:
    return f"{r['name']} · {r['backend']}"


def columns(rows, phase=None) -> list[str]:
    out = []
    for r in rows:
        c = column(r)
        if c not in out and (phase is None or any(column(x) == c and x.get(phase) for x in rows)):
            out.append(c)
    return out


def phase_table(rows, phase, configs) -> str:
    cols = columns(rows, phase)
    if not cols:
        return ""
    lines = [
        "| config | " + " | ".join(cols) + " | fastest in the browser |",
        "|---" * (len(cols) + 2) + "|",
    ]
    for cid in configs:
        cells, best = [], None
        for c in cols:
            r = next((x for x in rows if column(x) == c and x["config"] == cid), None)
            v = (
                (r or {}).get(phase, {}).get("median")
                if r and r.get("status") != "mismatch"
                else None
            )
            cells.append(fmt(v) if v is not None else (r or {}).get("status", "") if r else "")
            in_browser = r and not r.get("native")
            if v is not None and in_browser and (best is None or v < best[0]):
                best = (v, c)
        lines.append(f"| {cid} | " + " | ".join(cells) + f" | {best[1] if best else ''} |")
    return "\n".join(lines)


def size_table(rows, configs, libraries) -> str:
    cols = [c for c in columns(rows) if any(column(r) == c and r.get("modelBytes") for r in rows)]
    lines = ["| config | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for cid in configs:
        cells = []
        for c in cols:
            r = next((x for x in rows if column(x) == c and x["config"] == cid), {})
            b = r.get("modelBytes")
            cells.append(f"{b / 1024:.0f}" if b else "")
        lines.append(f"| {cid} | " + " | ".join(cells) + " |")
    lib = ["| library (framework/backend) | KiB | gzip KiB |", "|---|---|---|"]
    for k, v in sorted((libraries or {}).items()):
        if v:
            lib.append(f"| {k} | {v['bytes'] / 1024:.0f} | {v['gzip_bytes'] / 1024:.0f} |")
    return "\n".join(lines) + "\n\nLibrary sizes (what the page downloads):\n\n" + "\n".join(lib)


def ratio_table(rows, configs) -> str:
    """Browser / native ratios (paper §3) for training and inference."""

    def med(fw, backend, cid, phase):
        r = next(
            (
                x
                for x in rows
                if x["framework"] == fw
                and x["config"] == cid
                and (backend is None or x["backend"] == backend)
            ),
            None,
        )
        return (r or {}).get(phase, {}).get("median") if r and r.get("status") == "ok" else None

    pairs = [
        ("wasmdl numpy / wasmdl native", ("wasmdl", "numpy"), ("wasmdl-native", None)),
        ("wasmdl numpy / PyTorch", ("wasmdl", "numpy"), ("torch-native", None)),
        ("TF.js cpu / PyTorch", ("tfjs", "cpu"), ("torch-native", None)),
        ("TF.js wasm / PyTorch", ("tfjs", "wasm"), ("torch-native", None)),
    ]
    head = [f"{p} {n}" for n, _, _ in pairs for p in ("train", "infer")]
    lines = ["| config | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    sums = {h: [] for h in head}
    for cid in configs:
        cells = []
        for name, (bf, bb), (nf, nb) in pairs:
            for phase in ("train", "infer"):
                b, n = med(bf, bb, cid, phase), med(nf, nb, cid, phase)
                ratio = b / n if b and n else None
                if ratio:
                    sums[f"{phase} {name}"].append(ratio)
                cells.append(f"{ratio:.1f}×" if ratio else "")
        lines.append(f"| {cid} | " + " | ".join(cells) + " |")
    means = [f"{sum(v) / len(v):.1f}×" if v else "" for v in sums.values()]
    lines.append("| **mean** | " + " | ".join(means) + " |")
    return "\n".join(lines)


def notes(rows) -> str:
    seen, out = set(), []
    for r in rows:
        for text in (r.get("error"), r.get("note")):
            key = (column(r), r.get("status"), text)
            if text and key not in seen:
                seen.add(key)
                out.append(f"- **{column(r)}** ({r.get('status')}): {text}")
    return "\n".join(out)


def markdown(run: dict) -> str:
    rows, configs, env = run["rows"], run["configs"], run["env"]
    head = [
        f"# wasmdl same-page benchmark — {env.get('date', '')}",
        "",
        f"- machine: {env.get('machine', {}).get('cpu_model')} "
        f"({env.get('machine', {}).get('cpus')} cores), {env.get('machine', {}).get('platform')}",
        f"- browser: {env.get('browser')} ; flags: `{' '.join(env.get('flags', []))}`",
        f"- WebGL2: {env.get('webgl2')} ; WebGPU adapter: {env.get('webgpu')}",
        f"- protocol: {run['params']} ; wall time {run.get('wall_s', 0):.0f} s",
        "- medians over repeats (min/max/quartiles in the JSON and CSV); warm-up excluded "
        "from steady-state figures; every timed call reads its result back.",
    ]
    parts = ["\n".join(head)]
    for phase, title in PHASES.items():
        t = phase_table(rows, phase, configs)
        if t:
            parts.append(f"## {title}\n\n{t}")
    parts.append("## Model file sizes (KiB)\n\n" + size_table(rows, configs, run.get("libraries")))
    parts.append("## Browser / native (paper §3)\n\n" + ratio_table(rows, configs))
    parts.append("## Notes and failures\n\n" + notes(rows))
    return "\n\n".join(parts) + "\n"


def write_csv(rows, path) -> None:
    head = ["config", "depth", "width", "framework", "backend", "status"]
    head += [f"{p}_{k}" for p in PHASES for k in STAT_KEYS]
    head += [
        "warmup_first",
        "load_first",
        "check_max_abs_diff",
        "train_check_max_abs_diff",
        "model_bytes",
        "library_bytes",
        "library_gzip_bytes",
        "variant",
        "note",
        "error",
    ]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        for r in rows:
            vals = [
                r.get(k) for k in ("config", "depth", "width", "framework", "backend", "status")
            ]
            vals += [(r.get(p) or {}).get(k) for p in PHASES for k in STAT_KEYS]
            vals += [
                (r.get("warmup") or {}).get("first"),
                (r.get("load") or {}).get("first"),
                (r.get("check") or {}).get("maxDiff"),
                (r.get("trainCheck") or {}).get("maxDiff"),
                r.get("modelBytes"),
                r.get("libraryBytes"),
                r.get("libraryGzipBytes"),
                r.get("variant"),
                r.get("note"),
                r.get("error"),
            ]
            w.writerow(["" if v is None else v for v in vals])


def write_all(run: dict, out: str) -> dict:
    os.makedirs(out, exist_ok=True)
    paths = {k: os.path.join(out, f"bench.{k}") for k in ("json", "csv", "md")}
    with open(paths["json"], "w") as f:
        json.dump(run, f, indent=1)
    write_csv(run["rows"], paths["csv"])
    with open(paths["md"], "w") as f:
        f.write(markdown(run))
    return paths


def readme_section(run: dict) -> str:
    """The condensed tables the README shows: the four phases and the browser/native ratios."""
    env = run["env"]
    short = [
        dict(
            r,
            name=r["framework"].replace("-native", " native"),
            backend=r["backend"].replace(" (CPython)", ""),
        )
        for r in run["rows"]
    ]
    lines = [
        f"Latest full run: {env.get('date')}, {env.get('machine', {}).get('cpu_model')} "
        f"({env.get('machine', {}).get('cpus')} cores), {env.get('browser')} headless, "
        f"wall time {run.get('wall_s', 0) / 60:.1f} min (`python -m bench`)."
    ]
    for phase, title in PHASES.items():
        t = phase_table(short, phase, run["configs"])
        if t:
            lines.append(f"**{title}** (median)\n\n{t}")
    lines.append(
        "**Browser / native** (median ratios)\n\n" + ratio_table(run["rows"], run["configs"])
    )
    return "\n\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    with open(sys.argv[1]) as f:
        print(readme_section(json.load(f)))
