// kernel: scatter_add -- the VJP of gather: O[outer, j, inner] = sum of G[outer, k, inner] over
//   every k with idx[k] == j (negative indices count from the end). One fragment per output
//   element loops over the K indices: no write races ({{S}}/{{T}}).
// textures: t0 G, t1 I (int32 indices); output O.
// params: [K, D, inner]: K indices, D = O.shape[axis], inner = product of O.shape[axis+1:].

uniform {{S}} t0;
uniform isampler2D t1;
out {{T}} o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int K = p[0];
  int D = p[1];
  int inner = p[2];
  int e = i % inner;
  int j = (i / inner) % D;
  int outer = i / (inner * D);
  {{T}} acc = {{T}}(0);
  for (int k = 0; k < K; k++) {
    int t = texelFetch(t1, at(2, k), 0).r;
    if (t < 0) t += D;
    if (t == j) acc += texelFetch(t0, at(1, (outer * K + k) * inner + e), 0).r;
  }
  o = acc;
}
