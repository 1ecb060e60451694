// app.js — photong's web page: a picture in, a melody with chords out, all in this browser.
//
// The networks run in a Web Worker (worker.js, around photong's WebAssembly module); this file handles the page:
// picking or dropping a picture, the options, progress and error text, the piano roll, playback and the MIDI link.
// <body data-state> is loading | ready | running | done | error and <body data-runs> counts finished pictures, so a
// test (tests/web/test_page.mjs) can wait for a result without guessing at texts.
'use strict';

const $ = id => document.getElementById(id);
const els = {
  picture: $('picture'), drop: $('drop'), seed: $('seed'), form: $('form'), progress: $('progress'), error: $('error'),
  result: $('result'), preview: $('preview'), tempo: $('tempo'), key: $('key'), summary: $('summary'),
  roll: $('roll'), play: $('play'), download: $('download'), version: $('version'),
};
// Piano-roll colours as the command line's --png draws them: melody orange, chords blue. Exact RGB values that
// the test looks for in the canvas.
const MELODY_COLOUR = 'rgb(240, 140, 0)';
const CHORD_COLOUR = 'rgb(47, 111, 220)';
const MAX_SEED = 18446744073709551615n;  // 2^64 - 1

let worker = null;
let busy = false;       // a picture is being read or generated: further picks are ignored until it is done
let nextId = 1;
let pending = null;     // {id, name, seed, t0} of the picture being generated
let shown = null;       // {json, midiUrl} of the result on the page
let audio = null;       // {ctx, t0, end, frame} while playing

const setState = s => { document.body.dataset.state = s; };
const showError = text => { els.error.textContent = text; };

function startWorker() {
  worker = new Worker('worker.js');
  worker.onmessage = e => onWorkerMessage(e.data);
  // Only uncaught errors get here: photong_web.js missing or broken (importScripts fails). Everything the worker
  // catches arrives as an 'error' message instead. A fresh worker is started for the next picture.
  worker.onerror = e => {
    e.preventDefault();
    worker.terminate();
    worker = null;
    fail(`the WebAssembly module could not be started (photong_web.js): ${e.message || 'unknown error'}`);
  };
  worker.postMessage({ type: 'load' });  // download the weights now, while the user looks for a picture
}

function onWorkerMessage(msg) {
  if (msg.type === 'progress') {
    els.progress.textContent = msg.text;
  } else if (msg.type === 'ready') {
    els.version.textContent = `${msg.version}, WebAssembly`;
    if (!busy) setState('ready');
  } else if (msg.type === 'result' && pending && msg.id === pending.id) {
    const seconds = (performance.now() - pending.t0) / 1000;
    showResult(msg.json, msg.midi, pending.name, pending.seed);
    els.progress.textContent = `done: ${pending.name} in ${seconds.toFixed(1)} s (the networks ${(msg.ms / 1000).toFixed(1)} s)`;
    finish('done');
  } else if (msg.type === 'error') {
    if (msg.id === undefined && busy) return;  // the preload failed; the pending picture's own error follows
    fail(msg.message);
  }
}

function fail(message) {
  showError(message);
  els.progress.textContent = busy ? 'failed (see below); pick another picture to try again' : '';
  if (busy) finish('error');
  else setState('error');
}

function finish(state) {
  busy = false;
  pending = null;
  els.picture.disabled = false;
  els.drop.classList.remove('busy');
  document.body.dataset.runs = String(Number(document.body.dataset.runs || 0) + 1);
  setState(state);
}

async function pick(file) {
  if (!file || busy) return;
  const seed = els.seed.value.trim();
  if (!/^[0-9]+$/.test(seed) || BigInt(seed) > MAX_SEED) {
    showError(`the seed must be an integer 0..${MAX_SEED}, got "${seed}"`);
    return;
  }
  busy = true;
  setState('running');
  stopPlaying();
  clearResult();
  showError('');
  els.picture.disabled = true;
  els.drop.classList.add('busy');
  pending = { id: nextId++, name: file.name, seed, t0: performance.now() };
  els.progress.textContent = `reading ${file.name} ...`;
  let bytes;
  try {
    bytes = await file.arrayBuffer();
  } catch (e) {
    fail(`cannot read ${file.name}: ${e.message}`);
    return;
  }
  els.preview.src = URL.createObjectURL(file);  // an unreadable picture simply shows nothing (onerror below)
  if (!worker) startWorker();
  els.progress.textContent = 'waiting for the models ...';
  worker.postMessage({ type: 'generate', id: pending.id, name: file.name, bytes, seed, form: els.form.value.trim() }, [bytes]);
}

function clearResult() {
  els.result.hidden = true;
  els.tempo.textContent = els.key.textContent = els.summary.textContent = '';
  if (shown) URL.revokeObjectURL(shown.midiUrl);
  if (els.preview.src) URL.revokeObjectURL(els.preview.src);
  els.preview.removeAttribute('src');
  els.download.removeAttribute('href');
  shown = null;
}

// "photo.jpg" -> "photo.mid", as the command line names its default output.
function midiName(name) {
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  return (stem || 'photong') + '.mid';
}

function showResult(json, midi, name, seed) {
  const midiUrl = URL.createObjectURL(new Blob([midi], { type: 'audio/midi' }));
  shown = { json, midiUrl };
  els.tempo.textContent = `${json.bpm.toFixed(1)} BPM`;  // as the command line prints it
  els.key.textContent = json.key.name;
  const end = Math.max(0, ...json.melody.concat(json.chords).map(n => n.end_s));
  // The seed as typed: json.seed went through JSON.parse, a double, which rounds seeds above 2^53.
  els.summary.textContent = `${json.melody.length} melody notes, ${json.chords.length} chord notes, ` +
    `${end.toFixed(1)} s; arousal ${json.arousal.toFixed(3)} (${json.arousal_source}), valence ${json.valence.toFixed(3)} ` +
    `(${json.valence_source}); seed ${seed}, form ${json.form}, temperature ${+json.temperature.toFixed(3)}`;
  els.download.href = midiUrl;
  els.download.download = midiName(name);
  els.download.textContent = `Download ${midiName(name)}`;
  els.result.hidden = false;  // before drawing: the canvas needs its laid-out size
  drawRoll(json, null);
}

// ---- Piano roll: time on x, pitch on y; chords under the melody. ----

function drawRoll(json, playhead) {
  const c = els.roll, dpr = window.devicePixelRatio || 1;
  const w = Math.round(c.clientWidth * dpr), h = Math.round(c.clientHeight * dpr);
  if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  const W = c.clientWidth, H = c.clientHeight, left = 40, bottom = 20, top = 6, right = 6;
  g.fillStyle = '#fbfaf7';
  g.fillRect(0, 0, W, H);
  const notes = json.melody.concat(json.chords);
  if (!notes.length) return;
  const lo = Math.min(...notes.map(n => n.pitch)) - 1, hi = Math.max(...notes.map(n => n.pitch)) + 1;
  const barS = 240 / json.bpm;  // 4/4: four quarter notes a bar
  const total = Math.max(json.bars * barS, ...notes.map(n => n.end_s));
  const plotW = W - left - right, rowH = (H - top - bottom) / (hi - lo + 1);
  const x = t => Math.round(left + (t / total) * plotW);
  const y = p => Math.round(top + (hi - p) * rowH);
  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'middle';
  for (let p = lo; p <= hi; p++) {
    if ([1, 3, 6, 8, 10].includes(p % 12)) {  // black keys: shaded rows
      g.fillStyle = '#f0eee8';
      g.fillRect(left, y(p), plotW, y(p - 1) - y(p));
    }
    if (p % 12 === 0) {  // every C, labelled (C4 = MIDI 60)
      g.fillStyle = '#666';
      g.fillText(`C${p / 12 - 1}`, 4, (y(p) + y(p - 1)) / 2);
      g.fillStyle = '#ddd';
      g.fillRect(left, y(p - 1), plotW, 1);
    }
  }
  g.textAlign = 'center';
  for (let b = 0; b * barS <= total + 1e-9; b++) {  // bar lines, numbered
    g.fillStyle = '#ccc';
    g.fillRect(x(b * barS), top, 1, H - top - bottom);
    if (b * barS < total - 1e-9) {
      g.fillStyle = '#666';
      g.fillText(String(b + 1), (x(b * barS) + x((b + 1) * barS)) / 2, H - bottom / 2);
    }
  }
  g.textAlign = 'start';
  const drawNotes = (list, colour) => {
    g.fillStyle = colour;
    for (const n of list) {
      const x0 = x(n.start_s), x1 = Math.max(x0 + 2, x(n.end_s) - 1);  // a 1-pixel gap between repeated notes
      g.fillRect(x0, y(n.pitch) + 1, x1 - x0, Math.max(1, y(n.pitch - 1) - y(n.pitch) - 1));
    }
  };
  drawNotes(json.chords, CHORD_COLOUR);
  drawNotes(json.melody, MELODY_COLOUR);
  if (playhead !== null) {
    g.fillStyle = '#d00';
    g.fillRect(x(Math.min(playhead, total)), top, 2, H - top - bottom);
  }
}

// ---- Playback: one oscillator per note with an attack / decay / release envelope. ----

function voice(ctx, out, note, t0, wave, level) {
  const start = t0 + note.start_s, end = t0 + Math.max(note.end_s, note.start_s + 0.05);
  const osc = ctx.createOscillator();
  osc.type = wave;
  osc.frequency.value = 440 * 2 ** ((note.pitch - 69) / 12);
  const env = ctx.createGain(), peak = level * note.velocity / 127;
  env.gain.setValueAtTime(0, start);
  env.gain.linearRampToValueAtTime(peak, start + 0.012);      // attack
  env.gain.setTargetAtTime(peak * 0.5, start + 0.012, 0.25);  // decay towards a sustain
  env.gain.setTargetAtTime(0, end, 0.04);                    // release at the note's end
  osc.connect(env).connect(out);
  osc.start(start);
  osc.stop(end + 0.3);
}

function play() {
  if (!shown) return;
  stopPlaying();
  const ctx = new AudioContext();
  const master = ctx.createGain();
  master.gain.value = 0.7;
  const limiter = ctx.createDynamicsCompressor();  // chords + melody can stack up to ~5 voices
  master.connect(limiter).connect(ctx.destination);
  const t0 = ctx.currentTime + 0.1, { melody, chords } = shown.json;
  for (const n of chords) voice(ctx, master, n, t0, 'sine', 0.12);
  for (const n of melody) voice(ctx, master, n, t0, 'triangle', 0.3);
  const end = Math.max(0, ...melody.concat(chords).map(n => n.end_s)) + 0.4;
  audio = { ctx, t0, end, frame: 0 };
  els.play.textContent = 'Stop';
  const tick = () => {
    if (!audio) return;
    const t = audio.ctx.currentTime - audio.t0;
    if (t > audio.end) { stopPlaying(); return; }
    drawRoll(shown.json, Math.max(0, t));
    audio.frame = requestAnimationFrame(tick);
  };
  tick();
}

function stopPlaying() {
  if (!audio) return;
  cancelAnimationFrame(audio.frame);
  audio.ctx.close();
  audio = null;
  els.play.textContent = 'Play';
  if (shown) drawRoll(shown.json, null);
}

// ---- Wiring ----

els.picture.addEventListener('change', () => {
  const file = els.picture.files[0];
  els.picture.value = '';  // emptied at once, so that picking the same file again (after an error, say) is a change too
  pick(file);
});
els.play.addEventListener('click', () => (audio ? stopPlaying() : play()));
els.preview.addEventListener('error', () => els.preview.removeAttribute('src'));
// Dropping works anywhere on the page; the drop zone lights up while something is dragged over the page.
document.addEventListener('dragover', e => { e.preventDefault(); els.drop.classList.add('over'); });
document.addEventListener('dragleave', e => { if (!e.relatedTarget) els.drop.classList.remove('over'); });
document.addEventListener('drop', e => {
  e.preventDefault();
  els.drop.classList.remove('over');
  const file = e.dataTransfer && e.dataTransfer.files[0];
  if (file) pick(file);
  else showError('nothing to read was dropped: drop a picture file');
});
window.addEventListener('resize', () => { if (shown && !audio) drawRoll(shown.json, null); });

setState('loading');
startWorker();
