# Chainer 5.4.0 (WgPy's patched build) for the benchmark's chainer rows: the grid MLP with the
# same weights (weights.npz; Chainer's Linear.W is the transpose of a Keras kernel), softmax
# cross-entropy, plain SGD as MomentumSGD(lr, momentum=0) (WgPy has no kernel for SGD's
# update; BUILD.md). On webgl/webgpu the model lives on the GPU through WgPy's CuPy shim.
import io

import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np

try:
    import cupy as cp  # WgPy's shim: present only when a wgpy_<backend> wheel is loaded
except ImportError:
    cp = None


class Net(chainer.ChainList):
    def forward(self, x):
        layers = list(self)
        for layer in layers[:-1]:
            x = F.relu(layer(x))
        return layers[-1](x)


class Runner:
    def __init__(self, raw, n_train, n_test, d):
        u8 = np.frombuffer(bytes(raw), np.uint8)
        self.xtr = u8[: n_train * d].reshape(n_train, d).astype(np.float32) / 255
        self.xte = u8[n_train * d : (n_train + n_test) * d].reshape(n_test, d).astype(np.float32)
        self.xte /= 255
        off = (n_train + n_test) * d
        self.ytr = u8[off : off + n_train].astype(np.int32)
        self.net = None

    def load(self, npz, lr):
        z = np.load(io.BytesIO(bytes(npz)))
        ws = sorted((k for k in z.files if k.startswith("w")), key=lambda k: int(k[1:]))
        net = Net(*[L.Linear(z[w].shape[0], z[w].shape[1]) for w in ws])
        for layer, w in zip(net, ws, strict=True):
            layer.W.array[...] = z[w].T
            layer.b.array[...] = z["b" + w[1:]]
        if cp is not None:
            net.to_gpu(0)
        self.net = net
        self.opt = chainer.optimizers.MomentumSGD(lr, momentum=0.0)
        self.opt.setup(net)
        return True

    def _dev(self, a):
        return cp.asarray(a) if cp is not None else a

    def predict(self, i):
        with chainer.using_config("train", False), chainer.no_backprop_mode():
            y = F.softmax(self.net(self._dev(self.xte[i : i + 1]))).array
        return (cp.asnumpy(y) if cp is not None else y)[0].tolist()

    def train(self, b, n):
        s = (b * n) % len(self.xtr)
        loss = F.softmax_cross_entropy(
            self.net(self._dev(self.xtr[s : s + n])), self._dev(self.ytr[s : s + n])
        )
        self.net.cleargrads()
        loss.backward()
        self.opt.update()
        return float(loss.array)
