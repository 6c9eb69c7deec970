import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'generated/', 'test/histories/**/*.json', '.data/', 'web/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { ignores: ['web/src/**'], languageOptions: { globals: globals.node } },
  {
    rules: {
      // Unused names are mistakes; a leading underscore says "on purpose".
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Test helpers read untyped JSON answers; production code does not use `any`.
      '@typescript-eslint/no-explicit-any': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
    },
  },
  {
    // The web app runs in the browser: its globals, not Node's.
    files: ['web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['test/**/*.ts'],
    // Tests read untyped JSON answers and print what a failure needs to be understood.
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-console': 'off' },
  },
  {
    files: ['scripts/**/*.ts', 'scripts/**/*.mjs', 'audit/cli.ts'],
    rules: { 'no-console': 'off' },
  },
  prettier,
  // After prettier's preset, which turns it off: the formatter wraps code at 160, this catches
  // the strings and comments it cannot wrap.
  { rules: { 'max-len': ['error', { code: 160, ignoreUrls: true }] } },
);
