# Chainer 5.4.0 (WgPy's build) on the user workloads (web/bench/workloads.js): the README MLP,
# the MNIST CNN and LSTM(64) over the rows, all with Adam. On WgPy's GPU backends Adam's update
# has no kernel, so those rows show WgPy's own error (BUILD.md).
import chainer
import chainer.functions as F
import chainer.links as L
import numpy as np

try:
    import cupy as cp  # WgPy's shim, when a wgpy_<backend> wheel is loaded
except ImportError:
    cp = None


class MLP(chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.l1, self.l2 = L.Linear(784, 64), L.Linear(64, 10)

    def forward(self, x):
        return self.l2(F.relu(self.l1(x)))


class CNN(chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.c1, self.c2 = L.Convolution2D(1, 16, 3), L.Convolution2D(16, 32, 3)
            self.fc = L.Linear(32 * 5 * 5, 10)

    def forward(self, x):
        x = F.max_pooling_2d(F.relu(self.c1(x)), 2, cover_all=False)
        x = F.max_pooling_2d(F.relu(self.c2(x)), 2, cover_all=False)
        return self.fc(x)


class RNN(chainer.Chain):
    def __init__(self):
        super().__init__()
        with self.init_scope():
            self.lstm, self.fc = L.LSTM(28, 64), L.Linear(64, 10)

    def forward(self, x):
        self.lstm.reset_state()
        h = None
        for t in range(x.shape[1]):
            h = self.lstm(x[:, t])
        return self.fc(h)


MODELS = {"mlp_adam": (MLP, (784,)), "cnn": (CNN, (1, 28, 28)), "lstm": (RNN, (28, 28))}


class Workloads:
    def __init__(self, raw, n_train, n_test, d):
        u8 = np.frombuffer(bytes(raw), np.uint8)
        self.xtr = u8[: n_train * d].reshape(n_train, d).astype(np.float32) / 255
        self.xte = u8[n_train * d : (n_train + n_test) * d].reshape(n_test, d)
        self.xte = self.xte.astype(np.float32) / 255
        off = (n_train + n_test) * d
        self.ytr = u8[off : off + n_train].astype(np.int32)
        self.yte = u8[off + n_train : off + n_train + n_test].astype(np.int32)

    def _dev(self, a):
        return cp.asarray(a) if cp is not None else a

    def build(self, name):
        cls, self.shape = MODELS[name]
        self.net = cls()
        if cp is not None:
            self.net.to_gpu(0)
        self.opt = chainer.optimizers.Adam()
        self.opt.setup(self.net)
        return True

    def train(self, i, n=64):
        s = (i * n) % len(self.xtr)
        x = self._dev(self.xtr[s : s + n].reshape((n, *self.shape)))
        loss = F.softmax_cross_entropy(self.net(x), self._dev(self.ytr[s : s + n]))
        self.net.cleargrads()
        loss.backward()
        self.opt.update()
        return float(loss.array)

    def _predict(self, x):
        with chainer.using_config("train", False), chainer.no_backprop_mode():
            y = F.softmax(self.net(self._dev(x.reshape((len(x), *self.shape))))).array
        return cp.asnumpy(y) if cp is not None else y

    def predict(self, i):
        i %= len(self.xte)
        return self._predict(self.xte[i : i + 1])[0].tolist()

    def accuracy(self):
        p = np.concatenate(
            [self._predict(self.xte[s : s + 250]) for s in range(0, len(self.xte), 250)]
        )
        return float((p.argmax(1) == self.yte).mean())
