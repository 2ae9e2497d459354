import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** TypeScript that a tsconfig covers (production or test), so rules may use its types. */
const typedFiles = ['packages/*/src/**/*.ts', 'packages/*/bench/**/*.ts', 'test/src/**/*.ts'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '.artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The promise and exhaustiveness rules: a dropped promise loses its error, a promise where a
    // callback's return is ignored (an event handler) runs unobserved, a new union member must be handled.
    files: typedFiles,
    languageOptions: {
      parserOptions: {
        project: ['./packages/*/tsconfig.json', './packages/*/tsconfig.test.json', './test/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', console: 'readonly', process: 'readonly', fetch: 'readonly', EventSource: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', localStorage: 'readonly' } },
  },
);
