import { workspaceProject } from '../vitest.project.js';

// End-to-end runs start fleets of real processes.
export default workspaceProject('e2e', { testTimeout: 180_000 });
