// Copies the Lua scripts next to the compiled code (dist/lua), where lua-loader.ts looks for them.
import { cpSync, rmSync } from 'node:fs';

const from = new URL('../src/lua/', import.meta.url);
const to = new URL('../dist/lua/', import.meta.url);
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });

// The quorum backend's redlock scripts (src/ha/lua → dist/ha/lua, next to quorum-slots.js).
const haTo = new URL('../dist/ha/lua/', import.meta.url);
rmSync(haTo, { recursive: true, force: true });
cpSync(new URL('../src/ha/lua/', import.meta.url), haTo, { recursive: true });
