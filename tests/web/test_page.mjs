// tests/web/test_page.mjs — photong's web page (web/) end to end in headless Chromium, against the native CLI.
//
//   node tests/web/test_page.mjs PHOTONG_CLI [OUT_DIR]     (or PHOTONG_CLI=... and PHOTONG_WEB_TEST_DIR=...)
//
// PHOTONG_CLI is build/examples/photong; OUT_DIR (default build/web-test/) receives the CLI's chelsea.mid, the page's
// download, page.png (a screenshot) and x.png (the bogus picture). Steps:
//   1. the CLI on skimage's chelsea.png, seed 1, --json: the expected tempo, key and MIDI bytes;
//   2. scripts/serve_web.sh --stage-only, then this script serves the staged site on a free 127.0.0.1 port;
//   3. a weight file answered with 404: the page names its URL and the HTTP status in #error;
//   4. a text file named x.png: the library's message in #error, and the page still takes a picture;
//   5. chelsea.png with seed 1: #tempo and #key as the CLI prints them, #error empty, a piano roll with melody and
//      chord colours on the canvas, Play/Stop, and the MIDI download equal to the CLI's file byte for byte.
// Exit 0 on pass, 1 on failure, 77 (skipped) when /usr/bin/chromium or the WebAssembly module (build-wasm/web/,
// scripts/build_wasm.sh) is missing. playwright-core comes from tests/web/node_modules (npm ci in tests/web).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const cli = process.argv[2] || process.env.PHOTONG_CLI;
const outDir = path.resolve(process.argv[3] || process.env.PHOTONG_WEB_TEST_DIR || path.join(root, 'build/web-test'));
const chromiumPath = '/usr/bin/chromium';
const picture = '/usr/lib/python3/dist-packages/skimage/data/chelsea.png';
const wasmDir = process.env.PHOTONG_WASM_DIR || path.join(root, 'build-wasm/web');
const site = process.env.PHOTONG_SITE_DIR || path.join(root, 'build-wasm/site');
const RESULT_TIMEOUT_MS = 5 * 60 * 1000;  // wasm on a busy 2-core machine is slow; the weights load first
// The piano roll's colours in web/app.js (MELODY_COLOUR, CHORD_COLOUR).
const MELODY_RGB = [240, 140, 0], CHORD_RGB = [47, 111, 220];

class Failure extends Error {}
const check = (ok, message) => { if (!ok) throw new Failure(message); };
const skip = why => { console.log(`skipped: ${why}`); process.exit(77); };
const seconds = ms => (ms / 1000).toFixed(1);

// A static server for the staged site (it holds links: fs follows them). `state.fail` names one URL path to answer
// with 404, for the missing-weight check; `state.missing` records every other 404 for the failure report.
function serve(dir) {
  const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
                 '.wasm': 'application/wasm', '.sha256': 'text/plain; charset=utf-8' };
  const state = { fail: null, missing: [] };
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    const file = path.join(dir, path.normalize(urlPath === '/' ? '/index.html' : urlPath));
    const notFound = () => { res.writeHead(404, { 'Content-Type': 'text/plain' }); res.end('not found\n'); };
    if (urlPath === state.fail || !file.startsWith(dir + path.sep)) return notFound();
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) { state.missing.push(urlPath); return notFound(); }
      res.writeHead(200, { 'Content-Type': MIME[path.extname(file)] || 'application/octet-stream', 'Content-Length': st.size,
                           'Cache-Control': 'no-store' });
      fs.createReadStream(file).pipe(res);
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, state }));
  });
}

// What the page shows; `runs` counts the pictures it has finished (web/app.js sets <body data-runs>).
const pageState = page => page.evaluate(() => ({
  state: document.body.dataset.state, runs: Number(document.body.dataset.runs),
  progress: document.getElementById('progress').textContent, error: document.getElementById('error').textContent,
  tempo: document.getElementById('tempo').textContent, key: document.getElementById('key').textContent,
  pickerDisabled: document.getElementById('picture').disabled, resultHidden: document.getElementById('result').hidden,
}));

// Sets the file input to `file` and waits for the page to finish it; returns the page's state and the time taken.
async function pickAndWait(page, file) {
  const before = (await pageState(page)).runs;
  const t0 = Date.now();
  await page.setInputFiles('#picture', file);
  await page.waitForFunction(n => Number(document.body.dataset.runs) > n, before, { timeout: RESULT_TIMEOUT_MS, polling: 200 });
  return { ms: Date.now() - t0, ...(await pageState(page)) };
}

async function main() {
  if (!fs.existsSync(chromiumPath)) skip(`${chromiumPath} is not installed (Debian: apt-get install chromium)`);
  for (const f of ['photong_web.js', 'photong_web.wasm'])
    if (!fs.existsSync(path.join(wasmDir, f))) skip(`the WebAssembly module is not built (${path.join(wasmDir, f)} is missing: scripts/build_wasm.sh)`);
  check(cli, 'usage: node tests/web/test_page.mjs PHOTONG_CLI [OUT_DIR] (PHOTONG_CLI: build/examples/photong)');
  check(fs.existsSync(picture), `${picture} is missing (Debian: apt-get install python3-skimage)`);
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    throw new Failure(`playwright-core is not installed (${e.message.split('\n')[0]}): run npm ci in ${here}`);
  }
  fs.mkdirSync(outDir, { recursive: true });
  fs.rmSync(path.join(outDir, 'page-failed.png'), { force: true });  // a screenshot from an earlier failed run

  // 1. The native CLI: what the page must show and download.
  const nativeMidiPath = path.join(outDir, 'chelsea.mid');
  let t0 = Date.now();
  const run = spawnSync(cli, [picture, '--seed', '1', '--json', '-o', nativeMidiPath, '--weights-dir', path.join(root, 'weights')],
                        { encoding: 'utf8', maxBuffer: 64 << 20 });
  check(run.status === 0, `the native CLI ${cli} failed (${run.error ? run.error.message : 'exit ' + run.status}):\n${run.stderr}`);
  const cliMs = Date.now() - t0;
  const native = JSON.parse(run.stdout);
  const nativeMidi = fs.readFileSync(nativeMidiPath);
  const wantTempo = `${native.bpm.toFixed(1)} BPM`, wantKey = native.key.name;
  console.log(`native CLI: ${wantTempo}, ${wantKey}, ${native.melody.length} melody + ${native.chords.length} chord notes, ` +
              `${nativeMidi.length} MIDI bytes in ${seconds(cliMs)} s`);

  // 2. Stage and serve the site.
  const stage = spawnSync('bash', [path.join(root, 'scripts/serve_web.sh'), '--stage-only'], { encoding: 'utf8' });
  check(stage.status === 0, `scripts/serve_web.sh --stage-only failed (exit ${stage.status}):\n${stage.stderr}`);
  const { server, state } = await serve(path.resolve(site));
  const base = `http://127.0.0.1:${server.address().port}/`;
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  const consoleLog = [], pageErrors = [];
  const watch = page => {
    page.on('console', m => consoleLog.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', e => pageErrors.push(String(e)));
  };
  let page = null;
  try {
    // 3. A weight file the server does not have.
    const missingPath = '/weights/bridge_valence.sha256';
    state.fail = missingPath;
    const broken = await browser.newPage();
    watch(broken);
    await broken.goto(base);
    await broken.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: RESULT_TIMEOUT_MS, polling: 200 });
    const b = await pageState(broken);
    check(b.error.includes(base.replace(/\/$/, '') + missingPath) && b.error.includes('404'),
          `a missing weight file: #error should name ${base.replace(/\/$/, '')}${missingPath} and HTTP 404, it says "${b.error}"`);
    console.log(`missing weight file: #error "${b.error}"`);
    await broken.close();
    state.fail = null;

    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    watch(page);
    await page.goto(base);

    // 4. Not a picture: the library's message, and the page stays usable (step 5 runs on the same page).
    const bogus = path.join(outDir, 'x.png');
    fs.writeFileSync(bogus, 'this is a text file, not a picture\n');
    const bad = await pickAndWait(page, bogus);
    check(bad.state === 'error' && bad.error.trim() !== '', `a text file named x.png: expected a message in #error, got state ${bad.state}, #error "${bad.error}"`);
    check(!bad.pickerDisabled, 'after the bogus picture the file input is still disabled');
    check(bad.resultHidden && bad.tempo === '' && bad.key === '', 'after the bogus picture a result is shown');
    console.log(`bogus picture (weights and models loaded first): #error "${bad.error}" after ${seconds(bad.ms)} s`);

    // 5. chelsea.png, seed 1 (the page's default).
    check(await page.inputValue('#seed') === '1', 'the seed field does not default to 1');
    const good = await pickAndWait(page, picture);
    check(good.state === 'done', `chelsea.png: the page ended in state ${good.state}, #error "${good.error}", #progress "${good.progress}"`);
    check(good.error === '', `chelsea.png: #error should be empty, it says "${good.error}"`);
    check(good.tempo === wantTempo, `#tempo is "${good.tempo}", the CLI says "${wantTempo}"`);
    check(good.key === wantKey, `#key is "${good.key}", the CLI says "${wantKey}"`);
    const px = await page.evaluate(([m, c]) => {
      const roll = document.getElementById('roll');
      const d = roll.getContext('2d').getImageData(0, 0, roll.width, roll.height).data;
      let melody = 0, chords = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i] === m[0] && d[i + 1] === m[1] && d[i + 2] === m[2]) melody++;
        else if (d[i] === c[0] && d[i + 1] === c[1] && d[i + 2] === c[2]) chords++;
      }
      return { melody, chords, width: roll.width, height: roll.height };
    }, [MELODY_RGB, CHORD_RGB]);
    check(px.melody > 200 && px.chords > 200,
          `the piano roll (${px.width}x${px.height}) has ${px.melody} melody-coloured and ${px.chords} chord-coloured pixels`);
    await page.screenshot({ path: path.join(outDir, 'page.png'), fullPage: true });

    await page.click('#play');
    check(await page.textContent('#play') === 'Stop', 'after Play the button does not say Stop');
    await page.waitForTimeout(500);
    await page.click('#play');
    check(await page.textContent('#play') === 'Play', 'after Stop the button does not say Play');

    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }), page.click('#download')]);
    check(download.suggestedFilename() === 'chelsea.mid', `the download is named "${download.suggestedFilename()}", not chelsea.mid`);
    const webMidiPath = path.join(outDir, 'web-chelsea.mid');
    await download.saveAs(webMidiPath);
    const webMidi = fs.readFileSync(webMidiPath);
    if (!webMidi.equals(nativeMidi)) {
      let i = 0;
      while (i < Math.min(webMidi.length, nativeMidi.length) && webMidi[i] === nativeMidi[i]) i++;
      throw new Failure(`the page's MIDI file (${webMidi.length} bytes, ${webMidiPath}) differs from the CLI's (${nativeMidi.length} bytes, ` +
                        `${nativeMidiPath}) from byte ${i}`);
    }
    check(pageErrors.length === 0, `uncaught errors on the page:\n${pageErrors.join('\n')}`);
    check(state.missing.length === 0, `the page asked for files the site does not have: ${state.missing.join(', ')}`);
    console.log(`chelsea.png, seed 1: ${good.tempo}, ${good.key}, MIDI ${webMidi.length} bytes equal to the CLI's; ` +
                `roll ${px.melody} melody + ${px.chords} chord pixels; screenshot ${path.join(outDir, 'page.png')}`);
    console.log(`timing: picking chelsea.png to the result took ${seconds(good.ms)} s in the browser (WebAssembly, weights ` +
                `already loaded; page says "${good.progress}"); the native CLI took ${seconds(cliMs)} s including its weights`);
  } catch (e) {
    if (page) {
      try {
        const s = await pageState(page);
        console.error(`page state: ${JSON.stringify(s)}`);
        await page.screenshot({ path: path.join(outDir, 'page-failed.png'), fullPage: true });
      } catch (_) { /* the page is gone */ }
    }
    if (consoleLog.length) console.error(`browser console (last 30 lines):\n${consoleLog.slice(-30).join('\n')}`);
    if (pageErrors.length) console.error(`page errors:\n${pageErrors.join('\n')}`);
    throw e;
  } finally {
    await browser.close();
    server.close();
  }
}

try {
  await main();
  console.log('web page test passed');
  process.exit(0);
} catch (e) {
  console.error(`FAIL: ${e instanceof Failure ? e.message : (e && e.stack) || e}`);
  process.exit(1);
}
