// kernel: unpack4 -- an RGBA32F texture whose texel i holds flat elements 4i .. 4i + 3 laid out
//   as the float32 tensor (R32F). Entry name: the kernel that made the texels (conv2d).
// textures: t0 texels (RGBA32F); output O (R32F).
// params: []

uniform sampler2D t0;
out float o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  vec4 v = texelFetch(t0, at(1, i >> 2), 0);
  o = v[i & 3];  // an index, not a dot with a one-hot mask: inf * 0 would be NaN
}
