// Copies the Lua scripts next to the compiled code (dist/lua), where lua-loader.ts looks for them.
import { cpSync, rmSync } from 'node:fs';

const from = new URL('../src/lua/', import.meta.url);
const to = new URL('../dist/lua/', import.meta.url);
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
