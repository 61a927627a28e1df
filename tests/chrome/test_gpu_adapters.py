"""What the page sees: a WebGL2 context and a WebGPU adapter (needs --enable-unsafe-webgpu)."""

WEBGL2_INFO = """
const gl = new OffscreenCanvas(4, 4).getContext("webgl2");
if (!gl) return null;
const dbg = gl.getExtension("WEBGL_debug_renderer_info");
return {
  renderer: dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER),
  version: gl.getParameter(gl.VERSION),
  float_render_targets: !!gl.getExtension("EXT_color_buffer_float"),
};
"""

WEBGPU_INFO = """
if (!navigator.gpu) return {error: "navigator.gpu is undefined"};
const adapter = await navigator.gpu.requestAdapter();
if (!adapter) return {error: "requestAdapter() returned null"};
const info = adapter.info || {};
const device = await adapter.requestDevice();
const ok = !!device.queue;
device.destroy();
return {vendor: info.vendor, architecture: info.architecture, description: info.description,
        is_fallback: !!(info.isFallbackAdapter || adapter.isFallbackAdapter), device: ok};
"""


def test_webgl2_context(selenium_wasmdl, chrome_report):
    info = selenium_wasmdl.run_js(WEBGL2_INFO)
    chrome_report("WebGL2", info)
    print("WebGL2:", info)
    assert info is not None, "getContext('webgl2') returned null"
    assert info["version"].startswith("WebGL 2.0"), info
    assert info["renderer"], info


def test_webgpu_adapter(selenium_wasmdl, chrome_report):
    info = selenium_wasmdl.run_js(WEBGPU_INFO)
    chrome_report("WebGPU", info)
    print("WebGPU:", info)
    assert "error" not in info, f"WebGPU with --enable-unsafe-webgpu: {info['error']}"
    assert info["device"] is True, info
    assert info["architecture"] or info["vendor"], info
