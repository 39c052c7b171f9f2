// test-chromium.mjs: the demo page (web/, as web/build.sh assembles it) in headless Chromium, used as a
// person would: a .s2c file picked in its file input, the image read back from its canvas.
//   - the page starts (module worker, s2c-decoder.wasm, models.json);
//   - every committed conformance stream decodes to the SHA-256 pinned in its expected.txt (the canvas's
//     RGB, or R alone for gray, alpha 255 everywhere): the nano streams with nano.s2cq picked in the page's
//     model input (bytes), each shipped model's with the model the page fetches by fingerprint (URL);
//   - the Kodak-size stream of the default model (Tests/Conformance/<default>/large) shows, and the test
//     saves a screenshot of the page;
//   - the small sets with the C reference kernels of the SIMD128 module (?cpu=0), nano's set with the
//     scalar module (?simd=0); the progress bar ends at each stream's tile count;
//   - a corrupt stream, a foreign file and a stream of a model the page lacks give the page's error state
//     with the decoder's message.
// Chromium runs with --remote-debugging-pipe: the DevTools protocol over fds 3 and 4, no extra packages.
// Usage: node web/test-chromium.mjs [WEB_DIR [OUT_DIR]]   (defaults out/web, out/web-check; run from the
// repository root; CHROMIUM names the browser, default chromium)
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';

const web = resolve(process.argv[2] ?? 'out/web');
const outDir = resolve(process.argv[3] ?? 'out/web-check');
mkdirSync(outDir, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 's2c-chromium-'));
let fails = 0, checks = 0;
const fail = (msg) => { fails++; console.log(`test-chromium: FAILED: ${msg}`); };
const check = (ok, msg) => { checks++; if (!ok) fail(msg); };
// Whatever hangs (the browser, the page), the test ends: 15 minutes, far above its ~1 minute.
setTimeout(() => {
    fail('still running after 15 minutes');
    try { chrome.kill(); } catch { /* not started yet */ }
    process.exit(1);
}, 15 * 60 * 1000).unref();

// A static server for WEB_DIR (what `python3 -m http.server` would do, with the MIME types modules need).
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
                '.wasm': 'application/wasm', '.s2cq': 'application/octet-stream' };
const server = createServer((req, res) => {
    const path = join(web, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!path.startsWith(web) || !existsSync(path) || !extname(path)) { res.writeHead(404).end(); return; }
    const body = readFileSync(path);
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream', 'content-length': body.length });
    res.end(body);
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const origin = `http://127.0.0.1:${server.address().port}`;

const chrome = spawn(process.env.CHROMIUM ?? 'chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check',
    '--disable-extensions', '--disable-background-networking', '--disable-breakpad', `--user-data-dir=${join(tmp, 'profile')}`,
    '--remote-debugging-pipe', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
let chromeLog = '';
chrome.stderr.on('data', (d) => { chromeLog = (chromeLog + d).slice(-4000); });
const exited = new Promise((ok) => chrome.on('exit', (code, sig) => ok(`chromium exited (${code ?? sig})`)));

// The DevTools protocol: JSON messages, each ended by a NUL byte.
let nextId = 1, inbuf = Buffer.alloc(0);
const pending = new Map(), listeners = [];
chrome.stdio[4].on('data', (d) => {
    inbuf = Buffer.concat([inbuf, d]);
    let end;
    while ((end = inbuf.indexOf(0)) >= 0) {
        const msg = JSON.parse(inbuf.subarray(0, end).toString());
        inbuf = inbuf.subarray(end + 1);
        if (msg.id && pending.has(msg.id)) {
            const { ok, no, method } = pending.get(msg.id);
            pending.delete(msg.id);
            if (msg.error) no(new Error(`${method}: ${msg.error.message}`)); else ok(msg.result);
        } else if (msg.method) {
            for (const l of listeners) l(msg);
        }
    }
});
function cdp(method, params = {}, sessionId) {
    const id = nextId++;
    chrome.stdio[3].write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    return Promise.race([new Promise((ok, no) => pending.set(id, { ok, no, method })),
                         exited.then((why) => { throw new Error(`${method}: ${why}\n${chromeLog}`); })]);
}
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

let session;
const page = (method, params) => cdp(method, params, session);
async function evaluate(expression) {
    const r = await page('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value;
}
// Before the page has parsed (just after navigating) there is no body, or no page of ours yet: 'loading'.
const stateOf = () => evaluate('document.body && document.getElementById("message") ? ({ state: document.body.dataset.state, ' +
                               'replies: Number(document.body.dataset.replies), message: document.getElementById("message").textContent }) ' +
                               ': ({ state: "loading", replies: -1, message: "" })');
async function waitFor(pred, what, seconds = 300) {
    const t0 = Date.now();
    for (;;) {
        const s = await stateOf();
        if (pred(s)) return s;
        if (Date.now() - t0 > seconds * 1000) throw new Error(`timed out after ${seconds} s waiting for ${what} (page: ${s.state}: ${s.message})`);
        await sleep(50);
    }
}
/** Picks `file` in the page's input `#id`, as a person would; resolves to the page's state when it settles. */
async function pickFile(id, file) {
    const before = await stateOf();
    const { result } = await page('Runtime.evaluate', { expression: `document.getElementById(${JSON.stringify(id)})` });
    const t0 = Date.now();
    await page('DOM.setFileInputFiles', { files: [resolve(file)], objectId: result.objectId });
    const s = await waitFor((s) => s.replies !== before.replies, `${file}`);
    return { ...s, wallMs: Date.now() - t0 };
}
// The canvas's pixels as the decoder holds them (RGB, or one byte a pixel when gray), hashed in the page.
const canvasHash = () => evaluate(`(async () => {
    const c = document.getElementById('image'), ch = Number(c.dataset.channels), n = c.width * c.height;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, px = new Uint8Array(n * ch);
    let opaque = true;
    for (let i = 0; i < n; i++) {
        for (let k = 0; k < ch; k++) px[i * ch + k] = d[i * 4 + k];
        if (d[i * 4 + 3] !== 255) opaque = false;
    }
    const h = new Uint8Array(await crypto.subtle.digest('SHA-256', px));
    return { size: c.width + 'x' + c.height, color: ch === 1 ? 'gray' : 'rgb', opaque,
             sha: Array.from(h, (b) => b.toString(16).padStart(2, '0')).join(''),
             ms: document.getElementById('s-time').textContent, model: document.getElementById('s-model').textContent,
             tiles: Number(document.getElementById('s-image').textContent.match(/(\\d+) tiles?$/)[1]),
             progress: document.getElementById('progress').value + '/' + document.getElementById('progress').max };
})()`);

try {
    await cdp('Target.getTargets').then(async ({ targetInfos }) => {
        const t = targetInfos.find((x) => x.type === 'page');
        session = (await cdp('Target.attachToTarget', { targetId: t.targetId, flatten: true })).sessionId;
    });
    listeners.push((m) => {
        if (m.sessionId !== session) return;
        if (m.method === 'Runtime.exceptionThrown') console.log(`  page exception: ${m.params.exceptionDetails.exception?.description ?? m.params.exceptionDetails.text}`);
        if (m.method === 'Runtime.consoleAPICalled') console.log(`  page console: ${m.params.args.map((a) => a.value ?? a.description).join(' ')}`);
    });
    await page('Runtime.enable');
    await page('Page.enable');
    await page('DOM.enable');
    await page('Emulation.setDeviceMetricsOverride', { width: 1100, height: 1000, deviceScaleFactor: 1, mobile: false });
    /** Opens the page (index.html + query); resolves to its footer (version; kernels). */
    async function open(query) {
        await page('Page.navigate', { url: `${origin}/index.html${query}` });
        const ready = await waitFor((s) => s.state !== 'starting' && s.state !== 'loading', 'the page to start', 60);
        check(ready.state === 'idle', `page${query} did not start: ${ready.state}: ${ready.message}`);
        return evaluate('document.getElementById("version").textContent');
    }
    console.log(`test-chromium: ${await evaluate('navigator.userAgent.match(/Chrom[a-z]*\\/[0-9.]+/)[0]')}, ${await open('')}`);

    const manifest = JSON.parse(readFileSync(join(web, 'models.json'), 'utf8'));
    const def = manifest.find((m) => m.default);
    // Conformance sets: nano (its model picked in the page first), then each shipped model's (fetched by
    // the page), then the default model's Kodak-size stream.
    const sets = [{ dir: 'Tests/Conformance', pickModel: 'Tests/Conformance/nano.s2cq' }];
    for (const m of manifest) {
        if (!existsSync(`Tests/Conformance/${m.name}/expected.txt`)) { fail(`model ${m.name} has no conformance set`); continue; }
        sets.push({ dir: `Tests/Conformance/${m.name}` });
        if (existsSync(`Tests/Conformance/${m.name}/large/expected.txt`)) sets.push({ dir: `Tests/Conformance/${m.name}/large`, large: m.name });
    }
    check(def && sets.some((s) => s.large === def.name), `no Kodak-size stream of the default model (Tests/Conformance/${def?.name}/large)`);
    let streams = 0;
    async function decodeSets(label, sets) {
        for (const set of sets) {
            if (set.pickModel) {
                const s = await pickFile('model', set.pickModel);
                check(s.state === 'idle' && s.message.startsWith('loaded model'), `${label}${set.pickModel}: ${s.state}: ${s.message}`);
            }
            const times = [];
            for (const line of readFileSync(`${set.dir}/expected.txt`, 'utf8').trim().split('\n')) {
                const [name, size, color, want] = line.split(' ');
                const s = await pickFile('stream', `${set.dir}/${name}`);
                if (s.state !== 'done') { fail(`${label}${set.dir}/${name}: ${s.state}: ${s.message}`); continue; }
                const got = await canvasHash();
                check(got.sha === want, `${label}${set.dir}/${name}: canvas ${got.sha}, expected ${want}`);
                check(got.size === size && got.color === color, `${label}${set.dir}/${name}: canvas ${got.size} ${got.color}, expected ${size} ${color}`);
                check(got.opaque, `${label}${set.dir}/${name}: alpha not 255`);
                // The progress bar ends at the stream's tile count (one progress report per tile).
                check(got.progress === `${got.tiles}/${got.tiles}`, `${label}${set.dir}/${name}: progress ${got.progress}, ${got.tiles} tiles`);
                times.push(`${name} ${got.ms}`);
                streams++;
                if (set.large) {
                    const shot = await page('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
                    const file = join(outDir, `${name.replace(/\.s2c$/, '')}.png`);
                    writeFileSync(file, Buffer.from(shot.data, 'base64'));
                    console.log(`test-chromium: screenshot ${file} (${got.model}; page wall time ${s.wallMs} ms)`);
                }
            }
            console.log(`test-chromium: ${label}${set.dir}: ${times.length} streams at their pinned SHA-256 (decode times: ${times.join(', ')})`);
        }
    }
    await decodeSets('', sets);
    // The C reference kernels, in the SIMD128 module (?cpu=0: the small sets; C takes a minute on the
    // Kodak-size stream) and in the scalar module (?simd=0: nano's set; the scalar module is 3x slower
    // again, and test-node.mjs runs it on every set).
    for (const query of ['?cpu=0', '?simd=0']) {
        const version = await open(query);
        check(version.endsWith('kernels: C reference'), `page${query}: ${version}`);
        await decodeSets(`${query} `, query === '?simd=0' ? sets.slice(0, 1) : sets.filter((s) => !s.large));
    }
    await open('');

    // Refusals, each shown as the page's error with the decoder's message.
    const good = readFileSync('Tests/Conformance/kodim23-70x50-q7.s2c');
    const flipped = Uint8Array.from(good);
    flipped[flipped.length >> 1] ^= 0x40;
    const unknown = Uint8Array.from(good);  // the nano stream while nano (picked, not in the page's list) ...
    const cases = [
        { name: 'flipped.s2c', bytes: flipped, text: 'corrupted' },
        { name: 'foreign.s2c', bytes: readFileSync('Tests/Conformance/expected.txt'), text: 'not an s2c bitstream' },
        { name: 'empty.s2c', bytes: new Uint8Array(0), text: 'bitstream is empty' },
        // ... is no longer loaded (the last set's model is): the page names the model it lacks.
        { name: 'unknown-model.s2c', bytes: unknown, text: 'which this page does not have' },
    ];
    for (const c of cases) {
        writeFileSync(join(tmp, c.name), c.bytes);
        const s = await pickFile('stream', join(tmp, c.name));
        check(s.state === 'error' && s.message.includes(c.text), `${c.name}: page ${s.state}: '${s.message}', expected an error with '${c.text}'`);
    }
    console.log(`test-chromium: ${cases.length} refusals shown as errors with the decoder's message`);
    // The page still decodes after the errors.
    const again = await pickFile('stream', `${sets[1].dir}/${readFileSync(`${sets[1].dir}/expected.txt`, 'utf8').split(' ')[0]}`);
    check(again.state === 'done', `decode after the refusals: ${again.state}: ${again.message}`);
    if (fails) console.log(`test-chromium: ${fails} of ${checks} checks FAILED`);
    else console.log(`test-chromium: OK (${streams} decodes of the conformance streams (SIMD128, then with C kernels) at their pinned SHA-256 from the canvas; ${checks} checks)`);
} catch (e) {
    fail(e.stack ?? e.message);
} finally {
    // Chromium writes its profile until it has exited: wait for that (at most 10 s) before removing it.
    chrome.kill();
    await Promise.race([exited, sleep(10000)]);
    server.close();
    try {
        rmSync(tmp, { recursive: true, force: true, maxRetries: 5 });
    } catch (e) {
        console.log(`test-chromium: could not remove ${tmp}: ${e.message}`);
    }
}
process.exit(fails ? 1 : 0);
