// run-wasi.mjs: runs a WASI command module (e.g. the checkasm harness from `wasm/build.sh --check`)
// under node's WASI, passing the arguments and this process's exit status through.
// Usage: node --no-warnings wasm/run-wasi.mjs PROGRAM.wasm [ARGS...]
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const [program, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [program, ...args], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(program));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
