// The TensorFlow.js 4.22 oracle of tests/native/test_io_tfjs.py (Node, cpu backend).
//   node tfjs_oracle.cjs make <dir> <kind>     build a model, save model.json + shards in <dir>,
//                                               write <dir>/x.json (inputs) and <dir>/y.json
//   node tfjs_oracle.cjs predict <dir>          load <dir>/model.json (any number of shards,
//                                               quantized weights too) with tf.loadLayersModel,
//                                               predict <dir>/x.json, write <dir>/y.json
// Files go through tf.io.withSaveHandler / tf.io.fromMemory (file:// needs tfjs-node).
const fs = require("fs");
const path = require("path");
const tf = require("@tensorflow/tfjs");

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

const MODELS = {
  mlp: () => [
    tf.sequential({
      layers: [
        tf.layers.dense({ units: 16, activation: "relu", inputShape: [6] }),
        tf.layers.dropout({ rate: 0.2 }),
        tf.layers.dense({ units: 4, activation: "softmax" }),
      ],
    }),
    [5, 6],
  ],
  cnn: () => [
    tf.sequential({
      layers: [
        tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: "same", inputShape: [10, 9, 3] }),
        tf.layers.batchNormalization(),
        tf.layers.activation({ activation: "relu" }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", activation: "tanh" }),
        tf.layers.separableConv2d({ filters: 5, kernelSize: 2, activation: "elu" }),
        tf.layers.averagePooling2d({ poolSize: 2, strides: 1 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3 }),
      ],
    }),
    [2, 10, 9, 3],
  ],
  lstm: () => [
    tf.sequential({
      layers: [
        tf.layers.lstm({ units: 7, returnSequences: true, inputShape: [6, 4] }),
        tf.layers.lstm({ units: 5 }),
        tf.layers.dense({ units: 2 }),
      ],
    }),
    [3, 6, 4],
  ],
  gru: () => [
    tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 12, outputDim: 4, inputLength: 6 }),
        tf.layers.gru({ units: 6, returnSequences: true }),
        tf.layers.gru({ units: 3, goBackwards: true }),
        tf.layers.dense({ units: 2, activation: "sigmoid" }),
      ],
    }),
    [3, 6],
  ],
  functional: () => {
    const a = tf.input({ shape: [5] });
    const h = tf.layers.dense({ units: 8, activation: "relu" }).apply(a);
    const g = tf.layers.dense({ units: 8, activation: "tanh" }).apply(a);
    const s = tf.layers.add().apply([h, g]);
    const c = tf.layers.concatenate().apply([s, a]);
    const out = tf.layers.dense({ units: 3 }).apply(c);
    return [tf.model({ inputs: a, outputs: out }), [4, 5]];
  },
};

function randomize(model, r) {
  // non-default weights everywhere (BatchNorm statistics too); variances stay positive
  model.setWeights(
    model.getWeights().map((w) => {
      const v = Float32Array.from({ length: w.size }, () => r() * 0.5);
      if (w.name && w.name.includes("variance")) v.forEach((x, i) => (v[i] = Math.abs(x) + 0.5));
      return tf.tensor(v, w.shape);
    })
  );
}

async function make(dir, kind) {
  const [model, xshape] = MODELS[kind]();
  const r = rng(7);
  randomize(model, r);
  const n = xshape.reduce((a, b) => a * b, 1);
  const xs = kind === "gru" ? Array.from({ length: n }, () => Math.floor((r() + 1) * 6)) : Array.from({ length: n }, r);
  await model.save(
    tf.io.withSaveHandler(async (art) => {
      const data = Buffer.from(art.weightData);
      const shard = Math.ceil(data.length / 3) + 1; // several shards
      const paths = [];
      for (let i = 0; i * shard < data.length; i++) {
        paths.push(`group1-shard${i + 1}of${Math.ceil(data.length / shard)}.bin`);
        fs.writeFileSync(path.join(dir, paths[i]), data.subarray(i * shard, (i + 1) * shard));
      }
      const json = {
        format: "layers-model",
        generatedBy: art.generatedBy,
        convertedBy: null,
        modelTopology: art.modelTopology,
        weightsManifest: [{ paths, weights: art.weightSpecs }],
      };
      fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    })
  );
  fs.writeFileSync(path.join(dir, "x.json"), JSON.stringify({ shape: xshape, data: xs }));
  await predict(dir);
}

async function predict(dir) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, "model.json")));
  const specs = [];
  const buffers = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const data = Buffer.concat(buffers);
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData })
  );
  const x = JSON.parse(fs.readFileSync(path.join(dir, "x.json")));
  const y = model.predict(tf.tensor(x.data, x.shape));
  fs.writeFileSync(path.join(dir, "y.json"), JSON.stringify({ shape: y.shape, data: Array.from(y.dataSync()) }));
}

const [cmd, dir, kind] = process.argv.slice(2);
(cmd === "make" ? make(dir, kind) : predict(dir)).catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
