// Copies the page into dist/static and the chart library's files (from node_modules) into
// dist/static/vendor, so the built dashboard serves every file it loads: no CDN, no network.
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { vendorFiles } from '../dist/index.js';

const require = createRequire(import.meta.url);
rmSync('dist/static', { recursive: true, force: true });
cpSync('src/static', 'dist/static', { recursive: true });
mkdirSync('dist/static/vendor');
for (const file of vendorFiles) cpSync(require.resolve(file), `dist/static/vendor/${basename(file)}`);
