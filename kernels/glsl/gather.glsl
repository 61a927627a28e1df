// kernel: gather -- numpy.take(X, idx, axis): O[outer, k, inner] = X[outer, idx[k], inner]
//   ({{S}}/{{T}}; negative indices count from the end, as in numpy).
// textures: t0 X, t1 I (int32 indices); output O.
// params: [K, D, inner]: K indices, D = X.shape[axis], inner = product of X.shape[axis+1:].

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
  int k = (i / inner) % K;
  int outer = i / (inner * K);
  int j = texelFetch(t1, at(2, k), 0).r;
  if (j < 0) j += D;
  j = clamp(j, 0, D - 1);
  o = texelFetch(t0, at(1, (outer * D + j) * inner + e), 0).r;
}
