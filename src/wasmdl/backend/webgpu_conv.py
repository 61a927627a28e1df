"""WebGPU convolution kernels (filled in once the core's conv primitives are fixed)."""

CONV_KERNELS = {}
