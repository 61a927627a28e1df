"""Merge the browser tiers' matrix files into the support matrix (browser x backend x host).

Each browser tier of the test run writes ``artifacts/matrix/<runtime>.json`` (tests/matrix.py);
this merges them into ``artifacts/support-matrix.json`` and ``artifacts/support-matrix.md``.
``bash scripts/test`` runs it after the tiers; the site publishes the result as ``/matrix/``
(scripts/site_steps_matrix.py). Nothing here is written by hand.

Example:
    python scripts/support_matrix.py            # prints the Markdown table
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
MARK = {"pass": "pass", "partial": "pass, gaps xfail", "xfail": "xfail", "fail": "FAIL"}


def merge(folder: Path = ARTIFACTS / "matrix") -> dict:
    """All tiers' files as one document: ``{"browsers": [...], "rows": [...]}``."""
    tiers = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    rows = []
    for tier in tiers:
        facts = tier.get("facts", {})
        for cell in tier["cells"]:
            rows.append({"browser": tier["browser"], "runtime": tier["runtime"],
                         "wasm_build": facts.get("wasm_build", "?"), **cell})  # fmt: skip
    browsers = [{"runtime": t["runtime"], "browser": t["browser"], "written": t["written"],
                 **t.get("facts", {})} for t in tiers]  # fmt: skip
    return {"browsers": browsers, "rows": rows}


def markdown(doc: dict) -> str:
    lines = [
        "# wasmdl support matrix",
        "",
        "Written by the test run (`bash scripts/test`): each browser tier records the outcome of "
        "the tests of each backend and host; `xfail` is a known gap, with the browser's error.",
        "",
        "| browser | WASM build run (validated) | JSPI | WebGPU API | WebGL2 |",
        "|---|---|---|---|---|",
    ]
    for b in doc["browsers"]:
        validated = ", ".join(b.get("wasm_validates", [])) or "?"
        cols = [b["browser"], f"{b.get('wasm_build', '?')} ({validated})"]
        cols += [str(b.get(k, "?")) for k in ("jspi", "webgpu_api", "webgl2")]
        lines.append("| " + " | ".join(cols) + " |")
    lines += [
        "",
        "| browser | backend | host | result | tests | gaps |",
        "|---|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        gaps = "<br>".join(r["xfail"]) or ""
        lines.append(f"| {r['browser']} | {r['backend']} | {r['host']} | {MARK[r['status']]} | "
                     f"{r['passed']}/{r['tests']} passed | {gaps} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def write(out: Path = ARTIFACTS) -> dict:
    doc = merge(out / "matrix")
    (out / "support-matrix.json").write_text(json.dumps(doc, indent=1) + "\n")
    (out / "support-matrix.md").write_text(markdown(doc))
    return doc


def main() -> int:
    if not (ARTIFACTS / "matrix").is_dir():
        print("support_matrix: no artifacts/matrix/ (run a browser tier first)", file=sys.stderr)
        return 1
    doc = write()
    print(markdown(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
