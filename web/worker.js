// worker.js: the demo page's decoder (web/app.js), off the page's thread, since a decode blocks for seconds.
// It holds one S2CDecoder (wasm/s2c-decoder.js) and picks each stream's model by the fingerprint the stream
// carries: the loaded one, else the page's list (models.json) fetched on demand, else it says which is missing.
//
// Messages in: { type: 'models', list } (models.json), { type: 'model', bytes, name } (a picked .s2cq),
// { type: 'decode', id, stream, name }. Out: { type: 'progress', id, what: 'model'|'tiles', done, total },
// { type: 'loaded', ... }, { type: 'done', id, ... , rgba }, { type: 'error', id, kind, message }.
import { createDecoder, S2CError } from './s2c-decoder.js';

let list = [];
let decoder = null;
let modelName = null;  // the loaded model's name (its manifest name or the picked file's name)
// The page's query, passed on by app.js: ?simd=0 loads s2c-decoder-scalar.wasm, ?cpu=0 runs the C
// reference kernels of the SIMD128 module (both give the same pixels; web/test-chromium.mjs checks).
const query = new URLSearchParams(self.location.search);
const started = createDecoder({ simd: query.get('simd') === '0' ? false : undefined,
                                log: (line) => postMessage({ type: 'log', line }) }).then((d) => {
    decoder = d;
    if (query.has('cpu')) d.setCpuMask(Number(query.get('cpu')));
    postMessage({ type: 'ready', version: d.version, kernels: d.kernels, maxStreamBytes: d.maxStreamBytes });
}, (e) => postMessage({ type: 'error', id: 0, kind: e.kind ?? 'internal', message: e.message }));

function fail(id, e) {
    postMessage({ type: 'error', id, kind: e instanceof S2CError ? e.kind : 'internal', message: e.message ?? String(e) });
}

async function decode(id, stream, name) {
    const info = decoder.info(stream);  // throws 'stream' for anything that is no valid bitstream
    let modelMs = 0;
    if (decoder.model !== info.fingerprint) {
        const entry = list.find((m) => m.fingerprint === info.fingerprint);
        if (!entry) {
            const known = list.map((m) => `${m.name} (${m.fingerprint})`).join(', ') || 'none';
            throw new S2CError('mismatch', `${name} was encoded with model ${info.fingerprint}, which this page does not ` +
                               `have (its models: ${known}${modelName ? `; loaded: ${modelName}` : ''}): pick that model's .s2cq file`);
        }
        const t0 = performance.now();
        modelName = null;
        await decoder.loadModel(entry.url, {
            onProgress: (done, total) => postMessage({ type: 'progress', id, what: 'model', done, total: total || entry.bytes }),
        });
        modelMs = performance.now() - t0;
        modelName = entry.name;
    }
    const img = decoder.decode(stream, { onProgress: (done, total) => postMessage({ type: 'progress', id, what: 'tiles', done, total }) });
    postMessage({ type: 'done', id, name, model: modelName, modelMs, kernels: decoder.kernels, ...img }, [img.rgba.buffer]);
}

onmessage = async (e) => {
    const m = e.data;
    await started;
    if (!decoder) return;
    try {
        await decoder.ready();
        if (m.type === 'models') {
            list = m.list;
        } else if (m.type === 'model') {
            const t0 = performance.now();
            modelName = null;
            const fingerprint = decoder.loadModelBytes(m.bytes);
            modelName = m.name;
            postMessage({ type: 'loaded', id: m.id, name: m.name, fingerprint, ms: performance.now() - t0 });
        } else if (m.type === 'decode') {
            await decode(m.id, m.stream, m.name);
        }
    } catch (err) {
        fail(m.id, err);
    }
};
