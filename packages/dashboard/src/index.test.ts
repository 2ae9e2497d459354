import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboardDir, vendorDir, vendorFiles } from './index.js';

describe('dashboard files', () => {
  it('has every chart library file the page loads in the folder served at /vendor/', () => {
    for (const file of vendorFiles) expect(existsSync(join(vendorDir, basename(file))), file).toBe(true);
    const page = readFileSync(join(dashboardDir, 'index.html'), 'utf8');
    expect(page).toContain('href="vendor/uPlot.min.css"');
    expect(readFileSync(join(dashboardDir, 'history-view.js'), 'utf8')).toContain("from './vendor/uPlot.esm.js'");
  });
});
