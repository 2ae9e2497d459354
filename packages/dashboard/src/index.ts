import { fileURLToPath } from 'node:url';

/**
 * Directory holding the dashboard's static files (index.html, scripts, styles). The
 * coordinator serves it at `/`. Resolved next to this module, so it points at `src/static`
 * when run from source and at `dist/static` once built.
 */
export const dashboardDir: string = fileURLToPath(new URL('./static', import.meta.url));
