/** One thing wrong with a service's configuration, named by where it is. */
export interface Problem {
  /** `mailboxes.0.upstream.auth.type`, a variable (`SMTP_SLOTS_RELAY_PROT`), a flag or a file. */
  path: string;
  message: string;
}

/** `path: message`, the one line shape every config problem is printed in. */
export const formatProblem = (problem: Problem): string => `${problem.path}: ${problem.message}`;

/** Dotted path of a position in a document (`mailboxes.0.address`); `root` for the document itself. */
export const joinPath = (path: readonly PropertyKey[], root = '(root)'): string => (path.length === 0 ? root : path.map(String).join('.'));
