import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/** The repository root (this file is test/src/docs/repo-files.ts). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export const repoPath = (relative: string): string => join(repoRoot, relative);
export const repoFileExists = (relative: string): boolean => existsSync(repoPath(relative));
export const readRepoText = (relative: string): string => readFileSync(repoPath(relative), 'utf8');

/** YAML with `<<:` merge keys applied, as docker compose reads it. */
export function readRepoYaml<T = Record<string, unknown>>(relative: string): T {
  return parseYaml(readRepoText(relative), { merge: true }) as T;
}

/** True when `binary` can be run (promtool, systemd-analyze are optional on developer machines). */
export function hasTool(binary: string, probeArgs = ['--version']): boolean {
  const probe = spawnSync(binary, probeArgs, { encoding: 'utf8' });
  return !probe.error;
}

export interface DockerStage {
  name: string;
  from: string;
  lines: string[];
}

/** The stages of a Dockerfile by name (`FROM image AS name`), continuation lines joined. */
export function dockerfileStages(text: string): Map<string, DockerStage> {
  const stages = new Map<string, DockerStage>();
  let current: DockerStage | undefined;
  const logical = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  for (const line of logical) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      current = { name: from[2] ?? `stage-${stages.size}`, from: from[1]!, lines: [] };
      stages.set(current.name, current);
    } else current?.lines.push(line);
  }
  return stages;
}

/** The instructions of a stage including those it inherits from earlier stages (`FROM base AS x`). */
export function stageLines(stages: Map<string, DockerStage>, name: string): string[] {
  const stage = stages.get(name);
  if (!stage) return [];
  return [...(stages.has(stage.from) ? stageLines(stages, stage.from) : []), ...stage.lines];
}

/** Compose's `${NAME:-default}` / `${NAME}` interpolation with an empty environment. */
export function composeDefaults(value: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_all, _name: string, fallback?: string) => fallback ?? '');
}
