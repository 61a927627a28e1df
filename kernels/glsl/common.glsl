#version 300 es
// common prelude of every wasmdl fragment shader (kernels/glsl/<kernel>.glsl follows it).
// A tensor lives in one 2-D texture, row-major: flat element i sits at texel
// (i & (w - 1), i >> log2(w)), the width w a power of two (<= 4096). float32 tensors use R32F
// textures, int32 and bool (0/1) tensors R32I. One fragment computes one output element.
// uniforms set by kernels/shim.js for every draw:
//   u_n     output elements: fragments at or past it are discarded (the padding of the last row)
//   u_lw    log2 of the texture widths: [output, t0 .. t6] (an array texture: of its layers)
//   p       the kernel's parameters (int32 words; float parameters travel as their bits)
// samplers are t0..t6, bound to texture units 0..6 in that order.
precision highp float;
precision highp int;
precision highp sampler2D;
precision highp isampler2D;
precision highp sampler2DArray;

uniform int u_n;
uniform int u_lw[8];
uniform int p[64];

// flat index of this fragment's output element
int out_index() {
  ivec2 c = ivec2(gl_FragCoord.xy);
  return (c.y << u_lw[0]) + c.x;
}
// texel of flat element i in the texture whose log2 width is u_lw[k]
ivec2 at(int k, int i) {
  return ivec2(i & ((1 << u_lw[k]) - 1), i >> u_lw[k]);
}
