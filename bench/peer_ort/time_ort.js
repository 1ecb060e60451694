#!/usr/bin/env node
// ONNX Runtime (CPU) speed peer: times one InceptionV3-features ONNX model.
// Usage: node time_ort.js MODEL.onnx [--threads 2] [--batch B] [--runs N] [--warmup N] [--check CHECK.safetensors] [--serve]
// Prints one JSON line: {"median_ms","min_ms","runs","threads","ort_version",...}.
// --serve: after the warm-up prints "ready", then times one inference per "run" line on stdin and prints its
// milliseconds, until "quit" (bench/peer_ort/interleave.py alternates it with photong's time_inception).
// Resolve onnxruntime-node from NODE_PATH or the usual places (run_peer.sh installs it under build/).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function parseArgs(argv) {
  const opt = {model: null, threads: 2, batch: 1, runs: 20, warmup: 3, check: null, serve: false};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--threads') opt.threads = parseInt(next(), 10);
    else if (a === '--runs') opt.runs = parseInt(next(), 10);
    else if (a === '--warmup') opt.warmup = parseInt(next(), 10);
    else if (a === '--check') opt.check = next();
    else if (a === '--batch') opt.batch = parseInt(next(), 10);
    else if (a === '--serve') opt.serve = true;
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else opt.model = a;
  }
  if (!opt.model || !(opt.threads > 0) || !(opt.batch > 0) || !(opt.runs > 0) || !(opt.warmup >= 0)) {
    throw new Error('usage: node time_ort.js MODEL.onnx [--threads 2] [--runs N] [--warmup N] [--check F]');
  }
  return opt;
}

// Minimal safetensors reader for F32 tensors (8-byte LE header length, JSON header, data).
function readSafetensors(path) {
  const buf = fs.readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const out = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (info.dtype !== 'F32') throw new Error(`${name}: dtype ${info.dtype}`);
    const [b, e] = info.data_offsets;
    const bytes = buf.subarray(8 + n + b, 8 + n + e);
    const data = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < data.length; i++) data[i] = bytes.readFloatLE(i * 4);
    out[name] = {shape: info.shape, data};
  }
  return out;
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(opt.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: opt.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inName = session.inputNames[0];
  const check = {};
  let input;
  if (opt.check) {
    const ref = readSafetensors(opt.check);
    input = new ort.Tensor('float32', ref.input.data, ref.input.shape);
    const got = (await session.run({[inName]: input}))[session.outputNames[0]];
    let maxDiff = 0, maxRef = 0;
    for (let i = 0; i < got.data.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(got.data[i] - ref.output.data[i]));
      maxRef = Math.max(maxRef, Math.abs(ref.output.data[i]));
    }
    if (got.data.length !== ref.output.data.length) throw new Error('output size differs from the check file');
    check.check_max_abs_diff = maxDiff;
    check.check_max_abs_ref = maxRef;
  } else {
    const data = new Float32Array(opt.batch * 3 * 299 * 299);
    let s = 12345;
    for (let i = 0; i < data.length; i++) {  // deterministic values in [-1, 1)
      s = (s * 1103515245 + 12345) >>> 0;
      data[i] = (s / 4294967296) * 2 - 1;
    }
    input = new ort.Tensor('float32', data, [opt.batch, 3, 299, 299]);
  }
  const feeds = {[inName]: input};
  for (let i = 0; i < opt.warmup; i++) await session.run(feeds);
  if (opt.serve) return serve(session, feeds);
  const times = [];
  for (let i = 0; i < opt.runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const round = (x) => Math.round(x * 1000) / 1000;
  const result = Object.assign({
    median_ms: round(median),
    min_ms: round(sorted[0]),
    runs: opt.runs,
    threads: opt.threads,
    ort_version: ort.env.versions ? ort.env.versions.node : 'unknown',
  }, check);
  console.log(JSON.stringify(result));
}

// One timed inference per "run" line on stdin, its milliseconds on stdout.
async function serve(session, feeds) {
  const readline = require('readline');
  console.log('ready');
  for await (const line of readline.createInterface({input: process.stdin})) {
    if (line === 'quit') break;
    if (line !== 'run') continue;
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    console.log((Number(process.hrtime.bigint() - t0) / 1e6).toFixed(3));
  }
  process.exit(0);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
