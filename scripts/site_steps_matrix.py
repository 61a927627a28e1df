"""Site build step: publish the support matrix written by the last test run as ``/matrix/``.

``bash scripts/test`` writes ``artifacts/support-matrix.{json,md}`` (scripts/support_matrix.py,
from each browser tier's results); this step turns them into ``site/matrix/index.html`` and
copies the JSON beside it. Without a test run yet, the page says so instead of inventing rows.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "artifacts" / "support-matrix.json"
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wasmdl support matrix</title>
<link rel="stylesheet" href="../assets/site.css"></head>
<body><main><h1>Support matrix</h1>
<p>Browser &times; backend &times; host, written by the test run (<code>bash scripts/test</code>),
not by hand. <code>xfail</code> marks a known gap, with the browser's own error.
Raw data: <a href="support-matrix.json">support-matrix.json</a>.</p>
{body}
</main></body></html>
"""


def table(head: list[str], rows: list[list[str]], table_id: str) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f'<table id="{table_id}"><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>'


def render(doc: dict) -> str:
    browsers = [
        [b["browser"], b.get("wasm_build", "?"), ", ".join(b.get("wasm_validates", [])),
         b.get("jspi", "?"), b.get("webgpu_api", "?"), b.get("webgl2", "?"), b["written"]]
        for b in doc["browsers"]
    ]  # fmt: skip
    rows = [
        [r["browser"], r["backend"], r["host"], r["status"], f"{r['passed']}/{r['tests']}",
         "; ".join(r["xfail"])]
        for r in doc["rows"]
    ]  # fmt: skip
    return (
        "<h2>Engines</h2>"
        + table(
            ["browser", "WASM build run", "validates", "JSPI", "WebGPU API", "WebGL2", "tested"],
            browsers,
            "engines",
        )  # fmt: skip
        + "<h2>Backends and hosts</h2>"
        + table(["browser", "backend", "host", "result", "passed", "gaps"], rows, "matrix")
    )


def build(site_dir: Path) -> None:
    out = site_dir / "matrix"
    out.mkdir(parents=True, exist_ok=True)
    if SOURCE.exists():
        doc = json.loads(SOURCE.read_text())
        (out / "support-matrix.json").write_text(json.dumps(doc, indent=1) + "\n")
        body = render(doc)
    else:
        body = '<p id="matrix-missing">No test run has written the matrix yet.</p>'
    (out / "index.html").write_text(PAGE.format(body=body))


if __name__ == "__main__":  # publish into the built site/ after a test run
    build(ROOT / "site")
    print(f"site_steps_matrix: {ROOT / 'site' / 'matrix' / 'index.html'}")
