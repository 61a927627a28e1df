// kernel: sgd_colsum -- plain SGD on a bias whose gradient is the leading-axis sum of a 2-D x:
//   p - lr * sum(x[:, j]) (maximize: + lr * sum), the column sum added in row order as the sum
//   kernel does, written to a new texture whose id p's handle takes over (webgl_step.py).
// textures: t0 P (N), t1 X (M x N), t2 HP = [lr, ...]; output P'.
// params: [M, N, maximize]

uniform sampler2D t0;
uniform sampler2D t1;
uniform sampler2D t2;
out float o;

void main() {
  int i = out_index();
  if (i >= u_n) discard;
  int M = p[0], N = p[1];
  float s = 0.0;
  for (int r = 0; r < M; r++) s += texelFetch(t1, at(2, r * N + i), 0).r;
  float d = p[2] != 0 ? -s : s;
  o = texelFetch(t0, at(1, i), 0).r - d * texelFetch(t2, at(3, 0), 0).r;
}
