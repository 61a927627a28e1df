// kernel: slice_grad_sum -- the rewrite's sum of slice VJPs (wasmdl.rewrite ACCUMULATIONS):
//   O = BASE + each window gradient G_w added where element i lies on its window's lattice
//   start + q * step, in window order (the order of the sum it replaces). A draw takes up to 6
//   windows; more windows are more draws, each reading the previous one's result as its base.
//   Python generates (webgl_index._window_code): UNIFORMS (samplers), COORDS (the output
//   coordinates c0..), BASE (the previous result or zero) and ADDS (per window, straight-line
//   lattice tests on the dimensions it does not cover whole -- no division for unit steps --
//   and the gradient's flat index, then one fetch). T is the element type.
// textures: t0 the base (when BASE reads it), then one gradient per window; output O.
// params: [nd, shape[nd], nwin, (starts[nd], steps[nd], counts[nd]) per window]
//   (GLSL leaves % and / of negative ints undefined: the lattice test works on magnitudes.)

{{UNIFORMS}}
out {{T}} o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  {{COORDS}}
  {{T}} acc = {{BASE}};
  {{ADDS}}
  o = acc;
}
