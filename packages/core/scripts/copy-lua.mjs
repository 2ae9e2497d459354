// Copies every Lua script under src/ to the same place under dist/ (src/lua → dist/lua,
// src/ha/lua → dist/ha/lua), where the loaders look for them relative to import.meta.url.
// Asset folders are replaced whole, so a renamed script leaves no stale copy behind.
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../src/', import.meta.url));
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const scripts = readdirSync(src, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith('.lua'))
  .map((entry) => relative(src, join(entry.parentPath ?? entry.path, entry.name)));
const assetFolder = (file) => {
  const parts = file.split(/[\\/]/);
  return parts.slice(0, parts.indexOf('lua') + 1).join('/');
};
for (const folder of new Set(scripts.map(assetFolder).filter((folder) => folder.endsWith('lua')))) {
  rmSync(join(dist, folder), { recursive: true, force: true });
}
for (const file of scripts) cpSync(join(src, file), join(dist, file));
