import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Directory holding the dashboard's static files (index.html, scripts, styles). The
 * coordinator serves it at `/`. Resolved next to this module, so it points at `src/static`
 * when run from source and at `dist/static` once built.
 */
export const dashboardDir: string = fileURLToPath(new URL('./static', import.meta.url));

/**
 * The chart library's files the page loads from `/vendor/`, as paths inside the `uplot` package.
 * `build:assets` copies them beside the built page; nothing is fetched from elsewhere.
 */
export const vendorFiles: readonly string[] = ['uplot/dist/uPlot.esm.js', 'uplot/dist/uPlot.min.css'];

/**
 * Directory the coordinator serves at `/vendor/`. Built, it is the copy in `dist/static/vendor`
 * (so a deployed dashboard needs no `uplot` package); from source, the installed package's own
 * `dist` folder (where every file of `vendorFiles` lives).
 */
export const vendorDir: string = existsSync(join(dashboardDir, 'vendor'))
  ? join(dashboardDir, 'vendor')
  : dirname(createRequire(import.meta.url).resolve(vendorFiles[0]!));
