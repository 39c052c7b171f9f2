// test-node.mjs: s2c-decoder.wasm under node, as a user of s2c-decoder.js would run it:
//   - every committed conformance stream (Tests/Conformance/*.s2c with nano.s2cq, and
//     Tests/Conformance/<name>/*.s2c with Weights/<name>.s2cq for every shipped model) decodes to the
//     SHA-256 pinned in its expected.txt: the SIMD128 build with its SIMD kernels and forced to the C
//     reference (mask 0), and the scalar build; the RGBA output carries the same pixels; the Kodak-size
//     streams (Tests/Conformance/<name>/large) with the SIMD128 kernels only;
//   - refusals: empty, foreign, truncated and corrupted streams, a stream of another model, a broken
//     model file, and decoding with no model give S2CError of the right kind with the decoder's message,
//     which must be the one s2c-int prints for the same input when S2C_INT names its executable.
// Usage: node wasm/test-node.mjs DIR   (DIR: what wasm/build.sh wrote; run from the repository root)
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.argv[2] ?? 'out/wasm';
const { createDecoder, modelFingerprint, S2CError } = await import(pathToFileURL(join(dir, 's2c-decoder.js')));

let fails = 0, checks = 0;
const fail = (msg) => { fails++; console.log(`test-node: FAILED: ${msg}`); };
const check = (ok, msg) => { checks++; if (!ok) fail(msg); };
const sha = (b) => createHash('sha256').update(b).digest('hex');

/** The pixels of an RGBA image as the decoder holds them: RGB, or R alone when gray. */
function stripAlpha(rgba, channels) {
    const n = rgba.length / 4, out = new Uint8Array(n * channels);
    for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) out[i * channels + c] = rgba[i * 4 + c];
    return out;
}

// Conformance sets: the nano model's, then one per shipped model (each must have one).
const sets = [{ dir: 'Tests/Conformance', model: 'Tests/Conformance/nano.s2cq' }];
for (const f of readdirSync('Weights').filter((f) => f.endsWith('.s2cq')).sort()) {
    const name = f.slice(0, -5);
    if (!existsSync(`Tests/Conformance/${name}/expected.txt`)) fail(`shipped model Weights/${f} has no conformance set Tests/Conformance/${name}`);
    else sets.push({ dir: `Tests/Conformance/${name}`, model: `Weights/${f}` });
    // A Kodak-size stream (Tests/Conformance/<name>/large): SIMD128 only (the C paths take minutes on it).
    if (existsSync(`Tests/Conformance/${name}/large/expected.txt`)) sets.push({ dir: `Tests/Conformance/${name}/large`, model: `Weights/${f}`, simdOnly: true });
}

const runs = [
    { label: 'simd128', wasm: 's2c-decoder.wasm', mask: 0xffffffff, kernels: 'wasm SIMD128' },
    { label: 'simd128 build, C (mask 0)', wasm: 's2c-decoder.wasm', mask: 0, kernels: 'C reference' },
    { label: 'scalar build', wasm: 's2c-decoder-scalar.wasm', mask: 0xffffffff, kernels: 'C reference' },
];
const decoders = {};
for (const r of runs) {
    decoders[r.wasm] ??= await createDecoder({ wasm: join(dir, r.wasm), log: (l) => console.log(`  wasm: ${l}`) });
}
console.log(`test-node: ${decoders['s2c-decoder.wasm'].version}`);

let streams = 0;
for (const set of sets) {
    const model = readFileSync(set.model);
    const lines = readFileSync(`${set.dir}/expected.txt`, 'utf8').trim().split('\n');
    const times = {};
    for (const r of set.simdOnly ? runs.slice(0, 1) : runs) {
        const dec = decoders[r.wasm];
        const t0 = performance.now();
        await dec.loadModel(model);
        const tModel = performance.now() - t0;
        check(dec.model === modelFingerprint(model), `${r.label}: loaded model ${dec.model}, file says ${modelFingerprint(model)}`);
        dec.setCpuMask(r.mask);
        check(dec.kernels === r.kernels, `${r.label}: kernels ${dec.kernels}, expected ${r.kernels}`);
        let ms = 0;
        for (const line of lines) {
            const [name, size, color, want] = line.split(' ');
            const stream = readFileSync(`${set.dir}/${name}`);
            let img;
            try {
                const tiles = [];
                img = dec.decode(stream, { pixels: true, onProgress: (d, t) => tiles.push(`${d}/${t}`) });
                check(tiles.length === img.tiles && tiles.at(-1) === `${img.tiles}/${img.tiles}`,
                      `${r.label} ${set.dir}/${name}: progress ${tiles.join(' ')} for ${img.tiles} tiles`);
            } catch (e) {
                fail(`${r.label} ${set.dir}/${name}: ${e.message}`);
                continue;
            }
            ms += img.ms;
            check(`${img.width}x${img.height}` === size && (img.gray ? 'gray' : 'rgb') === color,
                  `${r.label} ${set.dir}/${name}: ${img.width}x${img.height} ${img.gray ? 'gray' : 'rgb'}, expected ${size} ${color}`);
            const got = sha(img.pixels);
            check(got === want, `${r.label} ${set.dir}/${name}: pixels ${got}, expected ${want}`);
            const gotRGBA = sha(stripAlpha(img.rgba, img.channels));
            check(gotRGBA === want, `${r.label} ${set.dir}/${name}: RGBA pixels ${gotRGBA}, expected ${want}`);
            check(img.rgba.every((v, i) => i % 4 !== 3 || v === 255), `${r.label} ${set.dir}/${name}: alpha not 255`);
            if (r === runs[0]) streams++;
        }
        times[r.label] = `model ${tModel.toFixed(0)} ms, ${lines.length} streams ${ms.toFixed(0)} ms`;
    }
    console.log(`test-node: ${set.dir} (${set.model}): ${lines.length} streams at their pinned SHA-256; ` +
                Object.entries(times).map(([k, v]) => `${k}: ${v}`).join('; '));
}

// Refusals. Each case: the stream, the model to load (null: none), the kind, a pinned message part.
const dec = decoders['s2c-decoder.wasm'];
dec.setCpuMask(0xffffffff);
const good = readFileSync('Tests/Conformance/kodim23-70x50-q7.s2c');
const nano = readFileSync('Tests/Conformance/nano.s2cq');
const flipped = Uint8Array.from(good);
flipped[flipped.length >> 1] ^= 0x40;
const other = sets.length > 1 ? readFileSync(sets[1].model) : null;
const cases = [
    { name: 'empty.s2c', stream: new Uint8Array(0), model: nano, kind: 'stream', text: 'bitstream is empty' },
    { name: 'foreign.s2c', stream: readFileSync('Tests/Conformance/expected.txt'), model: nano, kind: 'stream', text: 'not an s2c bitstream' },
    { name: 'truncated.s2c', stream: good.subarray(0, 60), model: nano, kind: 'stream', text: 'truncated' },
    { name: 'flipped.s2c', stream: flipped, model: nano, kind: 'stream', text: 'corrupted' },
    { name: 'trailing.s2c', stream: Buffer.concat([good, Buffer.from([0])]), model: nano, kind: 'stream', text: 'trailing bytes' },
    { name: 'huge.s2c', stream: new Uint8Array(dec.maxStreamBytes + 1), model: nano, kind: 'stream', text: 'more than any valid one', noInt: true },
    { name: 'nomodel.s2c', stream: good, model: null, kind: 'state', text: 'no model loaded' },
    { name: 'badmodel.s2c', stream: good, model: nano.subarray(0, 1000), kind: 'model', text: '' },
    { name: 'flippedmodel.s2c', stream: good, model: (() => { const m = Uint8Array.from(nano); m[5000] ^= 1; return m; })(), kind: 'model', text: 'checksum' },
];
if (other) cases.push({ name: 'othermodel.s2c', stream: good, model: other, kind: 'mismatch', text: 'was encoded with model' });
const s2cInt = process.env.S2C_INT && existsSync(process.env.S2C_INT) ? process.env.S2C_INT : null;
const tmp = mkdtempSync(join(tmpdir(), 's2c-wasm-'));
for (const c of cases) {
    dec.release();
    let err = null;
    try {
        if (c.model) dec.loadModelBytes(c.model);
        dec.decode(c.stream);
    } catch (e) {
        err = e;
    }
    if (!(err instanceof S2CError)) { fail(`${c.name}: expected S2CError '${c.kind}', got ${err ? err.stack : 'a decoded image'}`); continue; }
    check(err.kind === c.kind, `${c.name}: kind '${err.kind}' (${err.message}), expected '${c.kind}'`);
    check(err.message.length > 0 && err.message.includes(c.text), `${c.name}: message '${err.message}' lacks '${c.text}'`);
    if (s2cInt && c.model && !c.noInt) {
        // The same input through s2c-int decode: its stderr must contain the wasm decoder's message.
        writeFileSync(join(tmp, c.name), c.stream);
        writeFileSync(join(tmp, 'model.s2cq'), c.model);
        let stderr = '';
        try {
            execFileSync(s2cInt, ['decode', join(tmp, c.name), '-o', join(tmp, 'out.png'), '--model', join(tmp, 'model.s2cq')],
                         { stdio: ['ignore', 'ignore', 'pipe'] });
            fail(`${c.name}: s2c-int decoded it`);
        } catch (e) {
            stderr = String(e.stderr ?? '');
        }
        check(stderr.includes(err.message), `${c.name}: s2c-int says '${stderr.trim()}', wasm says '${err.message}'`);
    }
}
rmSync(tmp, { recursive: true, force: true });
console.log(`test-node: ${cases.length} refusals with their kind and message` +
            (s2cInt ? ', each the message s2c-int prints for the same input' : ' (S2C_INT not set: messages not compared with s2c-int)'));

// Robustness: the committed fuzz inputs (fuzz/corpus/bitstream with nano, or the shipped model they name;
// fuzz/corpus/model), then 200 mutations of them (a seeded xorshift: byte flips, truncations, runs of
// 0x00 / 0xff): each decodes or is refused with an S2CError that is not a trap; never another exception.
let rng = 0x2545f491;
const rnd = (n) => { rng ^= rng << 13; rng >>>= 0; rng ^= rng >>> 17; rng ^= rng << 5; rng >>>= 0; return rng % n; };
// A fuzz input named <model>-... is a stream of shipped model <model>; the others are nano's.
const shipped = readdirSync('Weights').filter((f) => f.endsWith('.s2cq')).map((f) => f.slice(0, -5))
    .sort((a, b) => b.length - a.length);  // longest name first: a model whose name extends another's is matched first
const modelOf = (f) => { const n = shipped.find((m) => f.startsWith(`${m}-`)); return n ? readFileSync(`Weights/${n}.s2cq`) : nano; };
let decoded = 0, refused = 0;
function robust(label, stream, model) {
    try {
        if (dec.model !== modelFingerprint(model)) dec.loadModelBytes(model);
        dec.decode(stream, { rgba: false });
        decoded++;
    } catch (e) {
        if (!(e instanceof S2CError) || e.kind === 'trap') fail(`${label}: ${e.stack ?? e}`);
        refused++;
    }
}
const corpus = 'fuzz/corpus/bitstream';
const seeds = existsSync(corpus) ? readdirSync(corpus).filter((f) => f.endsWith('.s2c')).sort() : [];
const seedBytes = seeds.map((f) => ({ f, b: readFileSync(`${corpus}/${f}`), m: modelOf(f) }));
for (const { f, b, m } of seedBytes) robust(f, b, m);
for (let i = 0; i < 200 && seedBytes.length; i++) {
    const { f, b, m } = seedBytes[rnd(seedBytes.length)];
    if (m !== nano) continue;  // shipped models' decodes take seconds each; nano's mutations cover the parser equally
    const x = Uint8Array.from(b);
    const op = rnd(4);
    if (op === 0) for (let j = 1 + rnd(4); j > 0; j--) x[rnd(x.length)] ^= 1 << rnd(8);
    if (op === 3) { const at = rnd(x.length), n = 1 + rnd(16); x.fill(rnd(2) ? 0xff : 0, at, at + n); }
    robust(`${f} mutation ${i} (op ${op})`, op === 1 ? x.subarray(0, rnd(x.length)) : op === 2 ? x.subarray(rnd(x.length)) : x, m);
}
let models = 0;
for (const f of existsSync('fuzz/corpus/model') ? readdirSync('fuzz/corpus/model').sort() : []) {
    try {
        dec.loadModelBytes(readFileSync(`fuzz/corpus/model/${f}`));
    } catch (e) {
        if (!(e instanceof S2CError) || e.kind !== 'model') fail(`fuzz/corpus/model/${f}: ${e.stack ?? e}`);
    }
    models++;
}
// Still decodes after all that.
dec.loadModelBytes(nano);
check(sha(dec.decode(good, { pixels: true, rgba: false }).pixels) === readFileSync('Tests/Conformance/expected.txt', 'utf8')
      .split('\n').find((l) => l.startsWith('kodim23-70x50-q7.s2c ')).split(' ')[3], 'decode after the robustness cases');
console.log(`test-node: robustness: ${seeds.length} fuzz inputs + mutations: ${decoded} decoded, ${refused} refused with S2CError; ` +
            `${models} fuzz model files loaded or refused`);

if (fails) {
    console.log(`test-node: ${fails} of ${checks} checks FAILED`);
    process.exit(1);
}
console.log(`test-node: OK (${streams} conformance streams in ${sets.length} sets, 3 kernel paths (SIMD128 only for large/); ${checks} checks)`);
