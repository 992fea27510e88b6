/**
 * Imported first by the CLI (and by the bench's in-process orchestrator).
 *
 * undici parses HTTP with llhttp compiled to WebAssembly at its first
 * connection. V8's optimizing tier (TurboFan) then compiles llhttp's large
 * state machine on a background thread, and that compile alone takes ~35 MB
 * of transient memory: a third of a night's peak RSS (bench `pace`, 1 node ×
 * 8 guests: 121 MiB with it, 87 MiB without). Liftoff, V8's baseline wasm
 * compiler, parses our one request per second per task just as well. The flag
 * only affects WebAssembly compiled after it is set, and llhttp is the only
 * WebAssembly this process compiles.
 *
 * The other memory setting, a 1 MiB young generation, has to be given when
 * the process starts (V8 sizes its heap once): it is in cli.ts's shebang.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--liftoff-only');
