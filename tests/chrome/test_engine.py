"""What the engine offers, for the support matrix (tests/matrix.py): the browser's name and
version, which WASM kernel builds it validates (``cpu_relaxed.wasm``: relaxed SIMD, FMA;
``cpu.wasm``: SIMD128) and the one wasmdl runs, JSPI, WebGPU and WebGL2 presence."""

import json

ENGINE = """
import json
import js
import wasmdl
from wasmdl._wasm import loader

ua = str(js.navigator.userAgent)
json.dumps({
    "user_agent": ua,
    "validates": {n: bool(js.WebAssembly.validate(loader._uint8(loader.kernel_bytes(n))))
                  for n in loader.MODULES},
    "runs": wasmdl.cpu_kernels()["module"],
    "jspi": bool(hasattr(js.WebAssembly, "Suspending")),
    "webgpu": bool(hasattr(js.navigator, "gpu")),
})
"""
BUILDS = {"cpu_relaxed.wasm": "relaxed-simd", "cpu.wasm": "simd128"}


def browser_name(ua: str) -> str:
    """``Firefox 153.0`` / ``Chromium 156.0.0.0`` from a user agent string."""
    for token in ua.split():
        for prefix, name in (("Firefox/", "Firefox"), ("Chrome/", "Chromium"),
                             ("HeadlessChrome/", "Chromium")):  # fmt: skip
            if token.startswith(prefix):
                return f"{name} {token[len(prefix) :]}"
    return ua


def test_engine_facts(selenium_wasmdl, support_matrix, chrome_report):
    facts = json.loads(selenium_wasmdl.run_async(ENGINE))
    webgl2 = selenium_wasmdl.run_js('return !!new OffscreenCanvas(4, 4).getContext("webgl2")')
    build = BUILDS[facts["runs"]]
    support_matrix.update(
        browser=browser_name(facts["user_agent"]),
        user_agent=facts["user_agent"],
        wasm_build=build,
        wasm_validates=[BUILDS[n] for n, ok in facts["validates"].items() if ok],
        jspi=facts["jspi"],
        webgpu_api=facts["webgpu"],
        webgl2=webgl2,
    )
    chrome_report("engine", support_matrix)
    assert facts["validates"]["cpu.wasm"], facts  # SIMD128: every engine wasmdl supports
    # wasmdl runs the best build the engine validates
    assert facts["runs"] == next(n for n, ok in facts["validates"].items() if ok), facts
