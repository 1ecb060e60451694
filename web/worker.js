// worker.js — runs photong's WebAssembly module (photong_web.js + photong_web.wasm, built by scripts/build_wasm.sh)
// off the page's thread: photong_generate_encoded is one synchronous call of several seconds, which on the page's
// own thread would freeze it (no progress text, no buttons) until the melody is done.
//
// Messages from the page (app.js):
//   {type: 'load'}                                   download the weights and load the models now (the page sends
//                                                    this at once, so they are ready by the time a picture comes)
//   {type: 'generate', id, name, bytes, seed, form}  bytes: the picture's encoded file (ArrayBuffer); seed: a decimal
//                                                    string 0..2^64-1; form: "" (the model's own) or "AABA", "none", ...
// Messages to the page:
//   {type: 'progress', text}                         what is happening now
//   {type: 'ready', version}                         the models are loaded
//   {type: 'result', id, json, midi, ms}             json: photong_result_json parsed; midi: ArrayBuffer of the
//                                                    Standard MIDI File; ms: time inside photong_generate_encoded
//   {type: 'error', id, message}                     id is undefined when loading failed outside a generate
'use strict';

importScripts('photong_web.js');  // defines createPhotongModule (-sMODULARIZE=1 -sEXPORT_NAME=createPhotongModule)

// The weight files the native build reads from weights/ (PipelineWeights::in_directory), each with its sha256 file.
// Served from weights/ beside the page (scripts/serve_web.sh stages them there).
const WEIGHT_STEMS = ['inception_v3', 'bridge_embedding', 'bridge_arousal', 'bridge_valence', 'hierdec_mel16_photong', 'image_latent_map'];
const WEIGHTS_DIR = '/weights';  // in the module's in-memory file system (MEMFS)

// What the library's progress stages (photong_options_set_progress) mean, for the page.
const STAGE_TEXT = {
  'features': 'features: InceptionV3 looks at the picture',
  'bridges': "bridges: the picture's features give the melody code, tempo and key",
  'decode': 'decode: MusicVAE writes the melody',
  'touch-up': 'touch-up: scale, tempo, final tonic and chords',
};
const STATUS_NAME = ['OK', 'invalid argument', 'failed', 'out of memory', 'internal error'];

const progress = text => self.postMessage({ type: 'progress', text });
const mb = bytes => (bytes / 1e6).toFixed(1);

let loading = null;  // Promise of {M, pipeline}; reset after a failure so that the next picture tries again

// Throws the library's own message (photong_last_error) for a non-OK status.
function check(M, status, what) {
  if (status === 0) return;
  const message = M.UTF8ToString(M._photong_last_error());
  throw new Error(message || `${what} failed (${STATUS_NAME[status] || 'status ' + status})`);
}

// Downloads every file in `names` from weights/ at once, reporting the bytes received of the total announced by
// the responses' Content-Length. A missing file fails with its URL and HTTP status.
async function downloadWeights(names) {
  const abort = new AbortController();
  try {
    const responses = await Promise.all(names.map(async name => {
      const url = new URL('weights/' + name, self.location.href).href;
      let res;
      try {
        res = await fetch(url, { signal: abort.signal });
      } catch (e) {
        throw new Error(`cannot download the weight file ${url}: ${e.message}`);
      }
      if (!res.ok) throw new Error(`cannot download the weight file ${url}: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`);
      return { name, url, res, size: Number(res.headers.get('Content-Length')) || 0 };
    }));
    const total = responses.reduce((sum, r) => sum + r.size, 0);
    let received = 0, lastReport = 0;
    const report = () => {
      const now = performance.now();
      if (now - lastReport < 100) return;  // ~10 messages a second is plenty
      lastReport = now;
      progress(total ? `downloading weights (${mb(received)} of ${mb(total)} MB)` : `downloading weights (${mb(received)} MB)`);
    };
    return await Promise.all(responses.map(async r => {
      // Straight into one buffer of the announced size (the 86 MB InceptionV3 file would otherwise exist twice).
      let bytes = new Uint8Array(r.size), n = 0;
      const reader = r.res.body.getReader();
      for (;;) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch (e) {
          throw new Error(`cannot download the weight file ${r.url}: ${e.message}`);
        }
        if (chunk.done) break;
        if (n + chunk.value.length > bytes.length) {  // no or a wrong Content-Length: grow
          const bigger = new Uint8Array(Math.max(2 * bytes.length, n + chunk.value.length));
          bigger.set(bytes.subarray(0, n));
          bytes = bigger;
        }
        bytes.set(chunk.value, n);
        n += chunk.value.length;
        received += chunk.value.length;
        report();
      }
      return { name: r.name, bytes: n === bytes.length ? bytes : bytes.slice(0, n) };
    }));
  } catch (e) {
    abort.abort();  // the other downloads are of no use now
    throw e;
  }
}

async function loadPipeline() {
  const t0 = performance.now();
  // The module compiles while the weights download.
  const modulePromise = createPhotongModule({ locateFile: f => new URL(f, self.location.href).href });
  modulePromise.catch(() => {});  // awaited below; no "unhandled rejection" while the download still runs
  const names = WEIGHT_STEMS.flatMap(stem => [stem + '.safetensors', stem + '.sha256']);
  const files = await downloadWeights(names);
  progress('loading models (the WebAssembly module)');
  let M;
  try {
    M = await modulePromise;
  } catch (e) {
    throw new Error(`the WebAssembly module photong_web.wasm could not be loaded: ${e.message || e}`);
  }
  const total = files.reduce((sum, f) => sum + f.bytes.length, 0);
  progress(`loading models (checking and reading ${mb(total)} MB of weights)`);
  M.FS.mkdir(WEIGHTS_DIR);  // a fresh module each time: the directory is new
  // canOwn: MEMFS keeps our buffers instead of copying them.
  for (const f of files) M.FS.writeFile(`${WEIGHTS_DIR}/${f.name}`, f.bytes, { canOwn: true });
  const out = M._malloc(4);
  try {
    M.setValue(out, 0, 'i32');
    // verify_checksums 1 (each file against its .sha256), threads 1 (the module has no threads).
    check(M, M.ccall('photong_pipeline_create', 'number', ['string', 'number', 'number', 'number'], [WEIGHTS_DIR, 1, 1, out]),
          'photong_pipeline_create');
    const pipeline = M.getValue(out, 'i32');
    const version = M.UTF8ToString(M._photong_version());
    progress(`ready (${version}; models loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    self.postMessage({ type: 'ready', version });
    return { M, pipeline };
  } finally {
    M._free(out);
    // The pipeline holds its own copy of every tensor: the files are not needed any more.
    for (const f of files) {
      try { M.FS.unlink(`${WEIGHTS_DIR}/${f.name}`); } catch (e) { /* already gone */ }
    }
  }
}

function ensurePipeline() {
  if (!loading) {
    loading = loadPipeline();
    loading.catch(() => { loading = null; });
  }
  return loading;
}

async function generate({ id, bytes, seed, form }) {
  const { M, pipeline } = await ensurePipeline();
  const picture = new Uint8Array(bytes);
  const t0 = performance.now();
  const since = () => ((performance.now() - t0) / 1000).toFixed(1);
  const options = M._photong_options_create();
  if (!options) throw new Error('out of memory (photong_options_create)');
  let callback = 0, picturePtr = 0, out = 0, result = 0;
  try {
    check(M, M._photong_options_set_seed(options, BigInt(seed)), 'photong_options_set_seed');  // uint64: a BigInt (-sWASM_BIGINT)
    if (form) check(M, M.ccall('photong_options_set_form', 'number', ['number', 'string'], [options, form]), 'photong_options_set_form');
    // Called synchronously from inside photong_generate_encoded; postMessage still reaches the page at once.
    callback = M.addFunction((stagePtr, userData) => {
      const stage = M.UTF8ToString(stagePtr);
      progress(`[${since()} s] ${STAGE_TEXT[stage] || stage} ...`);
    }, 'vii');
    check(M, M._photong_options_set_progress(options, callback, 0), 'photong_options_set_progress');
    picturePtr = M._malloc(Math.max(1, picture.length));
    out = M._malloc(4);
    if (!picturePtr || !out) throw new Error('out of memory (the picture does not fit in the module\'s memory)');
    M.HEAPU8.set(picture, picturePtr);  // M.HEAPU8 again after every malloc: memory growth replaces the view
    M.setValue(out, 0, 'i32');
    check(M, M._photong_generate_encoded(pipeline, picturePtr, picture.length, options, out), 'photong_generate_encoded');
    result = M.getValue(out, 'i32');
    const json = JSON.parse(M.UTF8ToString(M._photong_result_json(result)));
    M.setValue(out, 0, 'i32');
    const midiPtr = M._photong_result_midi(result, out);  // `out` reused as the size_t* (32-bit)
    const midiSize = M.getValue(out, 'i32') >>> 0;
    const midi = M.HEAPU8.slice(midiPtr, midiPtr + midiSize).buffer;  // a copy: the result's bytes die with it
    const ms = performance.now() - t0;
    self.postMessage({ type: 'result', id, json, midi, ms }, [midi]);
  } finally {
    if (result) M._photong_result_destroy(result);
    if (out) M._free(out);
    if (picturePtr) M._free(picturePtr);
    M._photong_options_destroy(options);
    if (callback) M.removeFunction(callback);
  }
}

// One request at a time, in order (generate awaits the weights, so requests could otherwise interleave).
let queue = Promise.resolve();
self.onmessage = e => {
  const msg = e.data;
  queue = queue.then(async () => {
    try {
      if (msg.type === 'load') await ensurePipeline();
      else if (msg.type === 'generate') await generate(msg);
    } catch (err) {
      self.postMessage({ type: 'error', id: msg.id, message: String((err && err.message) || err) });
    }
  });
};
