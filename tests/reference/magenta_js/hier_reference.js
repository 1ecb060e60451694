// Greedy magenta.js decode of a hierarchical MusicVAE decoder (ConductorDecoder, hierdec-mel_16bar layout) for
// deterministic latent codes.
// Usage: node hier_reference.js CHECKPOINT_URL OUT.json   (run by make_hier_reference.sh, which serves the checkpoint)
// Env: NUM_CODES (8), LOGIT_CODES (2).
'use strict';
const fs = require('fs');
const tf = require('@tensorflow/tfjs');
const mvae = require('@magenta/music/node/music_vae');
// node/core bundles the Melody class next to the Tone.js player, which does not load in Node; playback is never
// used here, so `tone` is replaced by an inert stub (as in reference.js).
const Module = require('module');
const origLoad = Module._load;
Module._load = function(request, parent, isMain) {
  if (request === 'tone') return new Proxy({}, {get: (t, k) => (k === '__esModule' ? false : function() { return {}; })});
  return origLoad.apply(this, arguments);
};
const {Melody} = require('@magenta/music/node/core').melodies;
Module._load = origLoad;

const [url, outPath] = process.argv.slice(2);
if (!url || !outPath) {
  console.error('usage: node hier_reference.js CHECKPOINT_URL OUT.json');
  process.exit(2);
}
const NUM_CODES = parseInt(process.env.NUM_CODES || '8', 10);
const LOGIT_CODES = Math.min(NUM_CODES, parseInt(process.env.LOGIT_CODES || '2', 10));
const Z_DIMS = 512;
const MIN_PITCH = 21, MAX_PITCH = 108, NUM_STEPS = 256, NUM_SEGMENTS = 16;

// z: as reference.js, with its own seed and 512 values per code.
const Z_SEED = 20241122;
const Z_GENERATOR = `mulberry32(seed=${Z_SEED}) uniforms u=(uint32)/2^32, Box-Muller pairs: r=sqrt(-2 ln(1-u1)), ` +
    'z0=r*cos(2*pi*u2), z1=r*sin(2*pi*u2), double precision then rounded to float32, row-major [N,512]';
function mulberry32(a) {
  return function() {
    a |= 0; a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(Z_SEED);
const z = new Float32Array(NUM_CODES * Z_DIMS);
for (let k = 0; k < z.length; k += 2) {
  const u1 = rand(), u2 = rand();
  const r = Math.sqrt(-2 * Math.log(1 - u1));
  z[k] = r * Math.cos(2 * Math.PI * u2);
  if (k + 1 < z.length) z[k + 1] = r * Math.sin(2 * Math.PI * u2);
}

async function main() {
  await tf.setBackend('cpu');
  await tf.ready();
  const model = new mvae.MusicVAE(url);
  await model.initialize();
  const depth = model.dataConverter.depth;
  if (depth !== 90) throw new Error('unexpected depth ' + depth);
  const conductor = model.decoder;
  if (!conductor.splitDecoder) throw new Error('not a ConductorDecoder: check config.json numSegments');
  if (conductor.numSteps !== NUM_SEGMENTS) throw new Error('conductor steps ' + conductor.numSteps);
  if (conductor.lstmCellVars.length !== 2) throw new Error('conductor layers: ' + conductor.lstmCellVars.length);
  if (conductor.zDims !== Z_DIMS) throw new Error('zDims ' + conductor.zDims);
  const core = conductor.splitDecoder.coreDecoders;
  if (core.length !== 1 || core[0].lstmCellVars.length !== 2) throw new Error('unexpected core decoder');

  // Capture the core decoder's output projection: it calls this.sample(logits, temperature) once per step with
  // logits [batch, 90] (16 bars x 16 steps, in order); greedy sampling is oneHot(argMax(logits)).
  const stepLogits = [];
  const origSample = core[0].sample;
  if (typeof origSample !== 'function') throw new Error('core decoder has no sample()');
  core[0].sample = function(logits, temperature) {
    stepLogits.push(logits.dataSync().slice());
    return origSample.call(this, logits, temperature);
  };

  const t0 = Date.now();
  const zt = tf.tensor2d(z, [NUM_CODES, Z_DIMS]);
  const seqs = await model.decode(zt);  // no temperature: greedy
  const decodeSeconds = (Date.now() - t0) / 1000;
  zt.dispose();
  core[0].sample = origSample;
  if (stepLogits.length !== NUM_STEPS) throw new Error('captured ' + stepLogits.length + ' steps, expected 256');

  const events = [], eventsNs = [], logits = [], minMargin = [];
  for (let n = 0; n < NUM_CODES; ++n) {
    let margin = Infinity;
    for (let t = 0; t < NUM_STEPS; ++t) {
      const row = stepLogits[t].subarray(n * depth, (n + 1) * depth);
      let best = 0;
      for (let k = 1; k < depth; ++k) if (row[k] > row[best]) best = k;  // first maximum, as tf.argMax
      let second = -Infinity;
      for (let k = 0; k < depth; ++k) if (k !== best && row[k] > second) second = row[k];
      margin = Math.min(margin, row[best] - second);
      events.push(best);
      if (n < LOGIT_CODES) for (let k = 0; k < depth; ++k) logits.push(row[k]);
    }
    minMargin.push(margin);
    const mel = Melody.fromNoteSequence(seqs[n], MIN_PITCH, MAX_PITCH, true, NUM_STEPS);
    for (let t = 0; t < NUM_STEPS; ++t) eventsNs.push(mel.events[t]);
  }
  // Cross-check: rebuilding the NoteSequence from our argmax events gives what magenta.js returned.
  for (let n = 0; n < NUM_CODES; ++n) {
    const ns = new Melody(Int32Array.from(events.slice(n * NUM_STEPS, (n + 1) * NUM_STEPS)),
                                MIN_PITCH, MAX_PITCH).toNoteSequence();
    const a = JSON.stringify(ns.notes.map(x => [x.pitch, x.quantizedStartStep, x.quantizedEndStep]));
    const b = JSON.stringify(seqs[n].notes.map(x => [x.pitch, x.quantizedStartStep, x.quantizedEndStep]));
    if (a !== b) throw new Error('code ' + n + ': notes differ from argmax events\n' + a + '\n' + b);
  }
  const out = {
    magenta_version: require('@magenta/music/package.json').version,
    tfjs_version: tf.version.tfjs,
    backend: tf.getBackend(),
    node_version: process.version,
    z_generator: Z_GENERATOR,
    num_codes: NUM_CODES, num_steps: NUM_STEPS, num_segments: NUM_SEGMENTS, depth, logit_codes: LOGIT_CODES,
    decode_seconds: decodeSeconds,
    z: Array.from(z), events, events_ns: eventsNs, logits, min_margin: minMargin,
  };
  fs.writeFileSync(outPath, JSON.stringify(out));
  console.log(`decoded ${NUM_CODES} codes x ${NUM_STEPS} steps in ${decodeSeconds.toFixed(2)} s (magenta.js ` +
              `${out.magenta_version}, tfjs ${out.tfjs_version}, ${out.backend})`);
  for (let n = 0; n < Math.min(NUM_CODES, 2); ++n) {
    console.log(`  z[${n}] first 32 events: ${events.slice(n * NUM_STEPS, n * NUM_STEPS + 32).join(' ')}`);
  }
  console.log(`  smallest margins: ${minMargin.map(m => m.toExponential(2)).join(' ')}`);
}
main().catch(e => { console.error(e); process.exit(1); });
