// app.js: the demo page (web/index.html): a picked or dropped .s2c file goes to the decoder worker
// (web/worker.js); the page shows its progress, the image and its numbers. One decode at a time.
// document.body.dataset.state ('starting', 'idle', 'busy', 'done', 'error') and .replies (a count of
// finished requests: decodes, model loads, failures) say where it stands, for web/test-chromium.mjs.
const $ = (id) => document.getElementById(id);
const worker = new Worker(new URL(`./worker.js${location.search}`, import.meta.url), { type: 'module' });
let nextId = 1;
let current = 0;  // the id of the request in flight, 0 when none
let maxStreamBytes = Infinity;  // from the decoder: larger files are refused before they are read

function setState(state, message) {
    document.body.dataset.state = state;
    $('message').textContent = message;
}

function replied() {
    current = 0;
    document.body.dataset.replies = Number(document.body.dataset.replies) + 1;
}

function kib(n) {
    return n < 10240 ? `${n} bytes` : n < 10 * 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
}

function show(r) {
    const canvas = $('image');
    canvas.width = r.width;
    canvas.height = r.height;
    canvas.dataset.channels = r.channels;
    canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(r.rgba), r.width, r.height), 0, 0);
    $('s-file').textContent = r.name;
    $('s-image').textContent = `${r.width} x ${r.height} ${r.gray ? 'gray' : 'RGB'}, ${r.tiles} tile${r.tiles > 1 ? 's' : ''}`;
    $('s-size').textContent = `${r.bytes} bytes`;
    $('s-bpp').textContent = r.bpp.toFixed(4);
    $('s-quality').textContent = r.quality;
    $('s-model').textContent = `${r.model ?? '?'} (${r.fingerprint})` + (r.modelMs ? `, loaded in ${r.modelMs.toFixed(0)} ms` : '');
    $('s-time').textContent = `${r.ms.toFixed(0)} ms`;
    $('s-kernels').textContent = r.kernels;
    $('stats').hidden = false;
    setState('done', `decoded ${r.name} in ${r.ms.toFixed(0)} ms`);
}

worker.onmessage = (e) => {
    const m = e.data;
    if (m.type === 'ready') {
        maxStreamBytes = m.maxStreamBytes;
        $('version').textContent = `${m.version}; kernels: ${m.kernels}`;
        if (document.body.dataset.state === 'starting') setState('idle', 'ready');
    } else if (m.type === 'log') {
        console.log(`decoder: ${m.line}`);
    } else if (m.id !== current) {
        // a reply to an abandoned request
    } else if (m.type === 'progress') {
        $('progress').max = m.total;
        $('progress').value = m.done;
        $('message').textContent = m.what === 'model' ? `loading the model: ${kib(m.done)} of ${kib(m.total)}`
                                                       : `decoding: tile ${m.done} of ${m.total}`;
    } else if (m.type === 'done') {
        show(m);
        replied();
    } else if (m.type === 'loaded') {
        replied();
        setState('idle', `loaded model ${m.name} (${m.fingerprint}) in ${m.ms.toFixed(0)} ms`);
    } else if (m.type === 'error') {
        replied();
        setState('error', `${m.kind === 'stream' ? 'not a valid s2c bitstream' : m.kind === 'model' ? 'not a valid model' : 'cannot decode'}: ${m.message}`);
    }
};
worker.onerror = (e) => setState('error', `the decoder failed to start: ${e.message ?? 'see the console'}`);

async function send(type, file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    current = nextId++;
    $('progress').value = 0;
    setState('busy', type === 'decode' ? `decoding ${file.name}…` : `loading ${file.name}…`);
    const msg = type === 'decode' ? { type, id: current, stream: bytes, name: file.name } : { type, id: current, bytes, name: file.name };
    worker.postMessage(msg, [bytes.buffer]);
}

function pick(file) {
    if (!file) return;
    if (current) {
        setState('busy', 'one decode at a time: wait for this one');
        return;
    }
    const type = file.name.endsWith('.s2cq') ? 'model' : 'decode';
    if (type === 'decode' && file.size > maxStreamBytes) {
        replied();
        setState('error', `not a valid s2c bitstream: ${file.name} is ${file.size} bytes, more than any valid one (${maxStreamBytes})`);
        return;
    }
    send(type, file).catch((e) => {
        replied();
        setState('error', `cannot read ${file.name}: ${e.message}`);
    });
}

$('stream').addEventListener('change', (e) => { pick(e.target.files[0]); e.target.value = ''; });
$('model').addEventListener('change', (e) => { pick(e.target.files[0]); e.target.value = ''; });
const drop = $('drop');
for (const t of ['dragenter', 'dragover']) document.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add('over'); });
document.addEventListener('dragleave', () => drop.classList.remove('over'));
document.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    pick(e.dataTransfer.files[0]);
});

fetch('models.json').then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`)))).then((list) => {
    worker.postMessage({ type: 'models', list: list.map((m) => ({ ...m, url: new URL(m.url, location.href).href })) });
    $('models').textContent = list.length
        ? list.map((m) => `${m.name} (${kib(m.bytes)}${m.default ? ', default' : ''})`).join(', ') : 'no models';
}, (e) => { $('models').textContent = `no models (models.json: ${e.message})`; });
