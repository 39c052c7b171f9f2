// s2c-decoder.js: the JavaScript API of s2c-decoder.wasm (an ES module for browsers, workers and node 18+).
// The wasm module is the decode path of s2c-int and s2c-dec (Sources/QuantModel as Embedded Swift on the
// Sources/FixedPoint kernels, behind board/BoardDecoder.swift and wasm/s2c_wasm.c), so a stream decodes to
// the same pixels here as everywhere else, and is refused with the same messages.
//
//   import { createDecoder } from './s2c-decoder.js';
//   const dec = await createDecoder();                 // s2c-decoder.wasm next to this file (SIMD128 if the engine has it)
//   const info = dec.info(streamBytes);                // header only: size, quality, model fingerprint
//   await dec.loadModel('models/hybrid-t.s2cq');       // URL, Response, Blob, ArrayBuffer or bytes
//   const img = dec.decode(streamBytes, { onProgress: (done, total) => {} });
//   ctx.putImageData(new ImageData(img.rgba, img.width, img.height), 0, 0);
//
// Every call is synchronous except createDecoder and loadModel; decode blocks its thread, so pages run it
// in a worker (web/worker.js). Failures throw S2CError with a `kind` and the decoder's one-line message.

/** A refused input or a failed step. kind: 'stream' (not an s2c bitstream, truncated or corrupt),
 *  'model' (not a valid .s2cq), 'mismatch' (the stream was made with another model), 'state' (no model
 *  loaded), 'fetch' (a URL could not be read), 'trap' (the decoder stopped, e.g. out of memory: the
 *  decoder is reset and its model dropped), 'argument' (a bad argument). */
export class S2CError extends Error {
    constructor(kind, message) {
        super(message);
        this.name = 'S2CError';
        this.kind = kind;
    }
}

/** S2C_CPU_WASM_SIMD128 (Sources/FixedPoint/include/s2c_fixedpoint.h). */
export const CPU_WASM_SIMD128 = 1 << 16;

// A module using i8x16.popcnt: valid only where the engine implements SIMD128 (as wasm-feature-detect).
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65,
                                   0, 253, 15, 253, 98, 11]);

/** Whether this engine runs WebAssembly SIMD128. */
export function hasSimd128() {
    return WebAssembly.validate(SIMD_PROBE);
}

/** The model fingerprint of a .s2cq file's bytes (its last 8, little-endian) as '0x' + 16 hex digits,
 *  or null when it is too short to be one. Streams carry the fingerprint of the model they were made with. */
export function modelFingerprint(bytes) {
    const b = toBytes(bytes);
    if (b.length < 8) return null;
    return hex64(new DataView(b.buffer, b.byteOffset + b.length - 8, 8).getBigUint64(0, true));
}

function hex64(v) {
    return '0x' + BigInt.asUintN(64, BigInt(v)).toString(16).padStart(16, '0');
}

function toBytes(x) {
    if (x instanceof Uint8Array) return x;
    if (x instanceof ArrayBuffer) return new Uint8Array(x);
    if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    throw new S2CError('argument', 'expected bytes (Uint8Array, ArrayBuffer or a typed array)');
}

const isNode = typeof process !== 'undefined' && process.versions != null && process.versions.node != null;
// Web Crypto for WASI's random_get: a global in browsers and node 19+; node 18 has it in node:crypto.
const webCrypto = globalThis.crypto ?? (isNode ? (await import('node:crypto')).webcrypto : undefined);

/** Bytes of a URL (string or URL; file: URLs and paths under node), a Response, a Blob or bytes.
 *  onProgress(received, total or 0) while downloading. */
export async function readBytes(source, onProgress) {
    if (source instanceof Uint8Array || source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return toBytes(source);
    if (typeof Blob !== 'undefined' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
    if (typeof Response !== 'undefined' && source instanceof Response) return readResponse(source, String(source.url), onProgress);
    if (typeof source === 'string' || source instanceof URL) {
        let url = source;
        if (isNode && typeof source === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(source)) {
            const { pathToFileURL } = await import('node:url');
            url = pathToFileURL(source);
        }
        url = new URL(url, typeof location !== 'undefined' ? location.href : undefined);
        if (url.protocol === 'file:' && isNode) {
            const { readFile } = await import('node:fs/promises');
            try {
                return new Uint8Array(await readFile(url));
            } catch (e) {
                throw new S2CError('fetch', `cannot read ${url.pathname}: ${e.message}`);
            }
        }
        let response;
        try {
            response = await fetch(url);
        } catch (e) {
            throw new S2CError('fetch', `cannot fetch ${url}: ${e.message}`);
        }
        return readResponse(response, String(url), onProgress);
    }
    throw new S2CError('argument', 'expected a URL, a Response, a Blob or bytes');
}

async function readResponse(response, name, onProgress) {
    if (!response.ok) throw new S2CError('fetch', `cannot fetch ${name}: HTTP ${response.status} ${response.statusText}`);
    const total = Number(response.headers.get('content-length')) || 0;
    if (!onProgress || !response.body) return new Uint8Array(await response.arrayBuffer());
    const reader = response.body.getReader();
    const parts = [];
    let received = 0;
    for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        received += value.length;
        onProgress(received, total);
    }
    const out = new Uint8Array(received);
    let at = 0;
    for (const p of parts) {
        out.set(p, at);
        at += p.length;
    }
    return out;
}

/** Loads s2c-decoder.wasm (or `wasm`: a URL, Response, bytes or a compiled WebAssembly.Module) and
 *  returns a decoder. Default: s2c-decoder.wasm next to this module when the engine has SIMD128, else
 *  s2c-decoder-scalar.wasm (the C reference kernels, same pixels). `simd: false` picks the scalar one.
 *  `log(line)` receives anything the decoder prints (default console.warn). */
export async function createDecoder(options = {}) {
    let module = options.wasm;
    if (!(module instanceof WebAssembly.Module)) {
        if (module == null) {
            const simd = options.simd ?? hasSimd128();
            module = new URL(simd ? './s2c-decoder.wasm' : './s2c-decoder-scalar.wasm', import.meta.url);
        }
        const bytes = await readBytes(module);
        try {
            module = await WebAssembly.compile(bytes);
        } catch (e) {
            throw new S2CError('argument', `cannot compile the decoder module: ${e.message}` +
                               (hasSimd128() ? '' : ' (this engine has no WebAssembly SIMD128: use s2c-decoder-scalar.wasm)'));
        }
    }
    const dec = new S2CDecoder(module, options.log ?? ((line) => console.warn(line)));
    await dec._start();
    return dec;
}

const WASI_ESUCCESS = 0, WASI_EBADF = 8, WASI_ENOSYS = 52;

/** One decoder instance: holds at most one model; decodes one stream at a time. */
export class S2CDecoder {
    constructor(module, log) {
        this._module = module;
        this._log = log;
        this._modelBytes = 0;
    }

    async _start() {
        this._instance = null;
        this._model = null;
        this._fill = null;
        this._progress = null;
        let out = '';
        const self = this;
        const mem = () => self._exports.memory.buffer;
        const wasi = {
            fd_write(fd, iovs, iovsLen, nwritten) {
                if (fd !== 1 && fd !== 2) return WASI_EBADF;
                const v = new DataView(mem());
                let n = 0;
                for (let i = 0; i < iovsLen; i++) {
                    const p = v.getUint32(iovs + 8 * i, true), len = v.getUint32(iovs + 8 * i + 4, true);
                    out += new TextDecoder().decode(new Uint8Array(mem(), p, len));
                    n += len;
                }
                let nl;
                while ((nl = out.indexOf('\n')) >= 0) {
                    self._log(out.slice(0, nl));
                    out = out.slice(nl + 1);
                }
                v.setUint32(nwritten, n, true);
                return WASI_ESUCCESS;
            },
            fd_close: () => WASI_EBADF,
            fd_seek: () => WASI_ENOSYS,
            environ_sizes_get(count, size) {
                const v = new DataView(mem());
                v.setUint32(count, 0, true);
                v.setUint32(size, 0, true);
                return WASI_ESUCCESS;
            },
            environ_get: () => WASI_ESUCCESS,
            random_get(p, n) {
                const b = new Uint8Array(mem(), p, n);
                for (let i = 0; i < n; i += 65536) webCrypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)));
                return WASI_ESUCCESS;
            },
            proc_exit(code) {
                throw new WebAssembly.RuntimeError(`the decoder exited (status ${code})`);
            },
        };
        const s2c = {
            fill_model(dst, n) {
                const src = self._fill;
                if (!src || src.length !== n) return 1;
                new Uint8Array(mem(), dst, n).set(src);
                return 0;
            },
            progress(done, total) {
                if (self._progress) self._progress(done, total);
            },
        };
        this._instance = await WebAssembly.instantiate(this._module, { wasi_snapshot_preview1: wasi, s2c });
        this._exports = this._instance.exports;
        this._exports._initialize();
    }

    /** Runs f on the wasm exports; a trap (out of memory, a broken invariant) resets the instance. */
    _call(f) {
        try {
            return f(this._exports);
        } catch (e) {
            if (!(e instanceof WebAssembly.RuntimeError) && !(e instanceof RangeError)) throw e;
            const had = this._model;
            // A fresh instance from the compiled module; the old memory is dropped with the old one.
            this._exports = null;
            const restart = this._start();
            this._restarting = restart;
            throw new S2CError('trap', `the decoder stopped (${e.message}; out of memory?)` +
                               (had ? `; it was reset and model ${had} dropped: load it again` : '; it was reset'));
        }
    }

    async _ready() {
        if (this._restarting) {
            await this._restarting;
            this._restarting = null;
        }
    }

    _text(p) {
        const b = new Uint8Array(this._exports.memory.buffer, p);
        return new TextDecoder().decode(b.subarray(0, b.indexOf(0)));
    }

    _error() {
        return this._text(this._exports.s2c_wasm_error());
    }

    /** Copies bytes into wasm memory, calls f(ptr, n), frees them. */
    _withBytes(bytes, f) {
        return this._call((x) => {
            const p = x.s2c_wasm_alloc(bytes.length);
            if (!p) throw new WebAssembly.RuntimeError(`no memory for ${bytes.length} bytes`);
            try {
                new Uint8Array(x.memory.buffer, p, bytes.length).set(bytes);
                return f(p, bytes.length, x);
            } finally {
                x.s2c_wasm_free(p);
            }
        });
    }

    _checkAlive() {
        if (!this._exports) throw new S2CError('state', 'the decoder is restarting after a failure: await ready() first');
    }

    /** Resolves when the decoder can take calls again after a 'trap' error. */
    async ready() {
        await this._ready();
    }

    /** The largest bitstream a valid header can describe, in bytes (larger inputs are refused unread). */
    get maxStreamBytes() {
        this._checkAlive();
        return Number(this._exports.s2c_wasm_max_stream_bytes());
    }

    /** Release and format versions, e.g. "s2c 0.5.0 (bitstream versions 1-2, model file version 1)". */
    get version() {
        this._checkAlive();
        return this._text(this._exports.s2c_wasm_version());
    }

    /** The kernels the next decode runs: 'wasm SIMD128' or 'C reference'. */
    get kernels() {
        this._checkAlive();
        return this._exports.s2c_wasm_cpu_flags() & CPU_WASM_SIMD128 ? 'wasm SIMD128' : 'C reference';
    }

    /** Whether this build has the SIMD128 kernels. */
    get simd128() {
        this._checkAlive();
        return (this._exports.s2c_wasm_cpu_flags_detected() & CPU_WASM_SIMD128) !== 0;
    }

    /** Forces lower kernel paths for the next decodes, as S2C_CPU_MASK: 0 = C reference, ~0 = best. */
    setCpuMask(mask) {
        this._checkAlive();
        this._exports.s2c_wasm_set_cpu_mask(mask >>> 0);
    }

    /** The fingerprint ('0x...') of the loaded model, or null. */
    get model() {
        return this._model;
    }

    /** Parses and validates a stream (header, tile table, CRCs; no model needed) and returns its header:
     *  { width, height, channels (3 RGB, 1 gray), gray, tiles, quality (text, "4.5"), fingerprint ('0x...'),
     *    bytes, bpp }. Throws S2CError 'stream' with the decoder's message for anything else. */
    info(stream) {
        this._checkAlive();
        const bytes = toBytes(stream);
        // Refused before it is copied into the decoder's memory (as s2c-dec refuses such a file unread).
        if (bytes.length > this.maxStreamBytes) {
            throw new S2CError('stream', `the bitstream is ${bytes.length} bytes, more than any valid one (${this.maxStreamBytes})`);
        }
        return this._withBytes(bytes, (p, n, x) => {
            if (x.s2c_wasm_parse_stream(p, n)) throw new S2CError('stream', this._error());
            return this._streamInfo(bytes.length);
        });
    }

    _streamInfo(nbytes) {
        const x = this._exports;
        const buf = x.s2c_wasm_alloc(24);
        try {
            if (x.s2c_wasm_stream_info(buf, buf + 16)) throw new S2CError('state', this._error());
            const v = new DataView(x.memory.buffer, buf, 24);
            const width = v.getInt32(0, true), height = v.getInt32(4, true), channels = v.getInt32(8, true);
            return {
                width, height, channels, gray: channels === 1, tiles: v.getInt32(12, true),
                fingerprint: hex64(v.getBigUint64(16, true)),
                quality: this._text(x.s2c_wasm_text()),
                bytes: nbytes, bpp: (nbytes * 8) / (width * height),
            };
        } finally {
            x.s2c_wasm_free(buf);
        }
    }

    /** Loads a .s2cq model (URL, Response, Blob or bytes), replacing the loaded one; resolves to its
     *  fingerprint. onProgress(received, total) while downloading. */
    async loadModel(source, { onProgress } = {}) {
        await this._ready();
        const bytes = await readBytes(source, onProgress);
        return this.loadModelBytes(bytes);
    }

    /** loadModel for bytes already in hand (synchronous). */
    loadModelBytes(model) {
        this._checkAlive();
        const bytes = toBytes(model);
        this._model = null;
        this._fill = bytes;
        try {
            this._call((x) => {
                if (x.s2c_wasm_load_model(bytes.length)) throw new S2CError('model', this._error());
            });
        } finally {
            this._fill = null;
        }
        this._model = hex64(this._exports.s2c_wasm_model_fingerprint());
        this._modelBytes = bytes.length;
        return this._model;
    }

    /** Decodes a stream with the loaded model. Returns { ...info(stream), rgba (Uint8ClampedArray of
     *  width * height * 4, alpha 255, gray replicated), pixels (only with { pixels: true }: the decoder's
     *  own RGB or gray bytes, what the conformance hashes pin), ms (decode time) }.
     *  onProgress(done, total) after each tile. */
    decode(stream, { onProgress, pixels = false, rgba = true } = {}) {
        this._checkAlive();
        const bytes = toBytes(stream);
        const info = this.info(bytes);
        if (!this._model) throw new S2CError('state', `no model loaded: the bitstream needs model ${info.fingerprint}`);
        // The decoder refuses a stream of another model itself (its message, as s2c-int's); the kind is ours.
        const kind = info.fingerprint === this._model ? 'stream' : 'mismatch';
        const t0 = performance.now();
        this._progress = onProgress ?? null;
        try {
            this._call((x) => {  // info() left the parsed stream in the decoder
                if (x.s2c_wasm_decode()) throw new S2CError(kind, this._error());
            });
        } finally {
            this._progress = null;
        }
        const ms = performance.now() - t0;
        const out = { ...info, ms };
        const npx = info.width * info.height;
        this._call((x) => {
            if (rgba) {
                const p = x.s2c_wasm_rgba(npx);
                if (!p) throw new S2CError('trap', this._error());
                out.rgba = new Uint8ClampedArray(npx * 4);
                out.rgba.set(new Uint8Array(x.memory.buffer, p, npx * 4));
                x.s2c_wasm_free(p);
            }
            if (pixels) {
                const np = x.s2c_wasm_alloc(4);
                const p = x.s2c_wasm_pixels(np);
                const n = new DataView(x.memory.buffer).getInt32(np, true);
                x.s2c_wasm_free(np);
                if (!p) throw new S2CError('trap', this._error());
                out.pixels = new Uint8Array(x.memory.buffer, p, n).slice();
                x.s2c_wasm_free(p);
            }
        });
        return out;
    }

    /** Bytes of wasm memory the decoder holds now (it grows as needed and never shrinks). */
    get memoryBytes() {
        return this._exports ? this._exports.memory.buffer.byteLength : 0;
    }

    /** Drops the model and any kept stream or image (the wasm memory itself stays allocated). */
    release() {
        if (this._exports) this._exports.s2c_wasm_release();
        this._model = null;
    }
}
