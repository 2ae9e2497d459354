import { workspaceProject } from '../../vitest.project.js';

export default workspaceProject('service-kit');
