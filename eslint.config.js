// @ts-check
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

const LIBS = ['core', 'adapters', 'composition', 'generation', 'delivery', 'results', 'insights', 'archive'];

/** A lib may import only the libs before it, and only through their barrels. */
const boundaries = LIBS.map((lib, i) => ({
  files: [`libs/${lib}/src/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: [...LIBS.slice(i).map((l) => `@app/${l}`), '@app/migrations'],
            message: `libs/${lib} may import only ${LIBS.slice(0, i).join(', ') || 'no other lib'} (core ← adapters ← composition ← generation ← delivery ← results ← insights ← archive).`,
          },
          { group: ['@app/*/*'], message: 'Import another lib only through its barrel (@app/<lib>).' },
          { group: ['**/libs/**', '../../../*/src/**'], message: 'Never reach into another lib by a relative path.' },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'data/**',
      'eslint.config.js',
      'test/support/*.cjs',
      'scripts/*.mjs',
      'scripts/*.cjs',
      'scripts/bundle-shims/*.cjs',
      'apps/web/src/api/generated/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  ...boundaries,
  {
    files: ['apps/web/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat['recommended-latest'],
  },
  {
    // The web app reaches the server only through the generated client (configured in src/api/client.ts) and the one
    // live-events hook; a raw request elsewhere would skip its types, its error shape and its credentials.
    files: ['apps/web/**/*.{ts,tsx}'],
    ignores: ['apps/web/src/api/client.ts', 'apps/web/src/api/live-events.ts', 'apps/web/*.config.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'Use the generated client (apps/web/src/api/generated) instead of fetch.' },
        { name: 'XMLHttpRequest', message: 'Use the generated client (apps/web/src/api/generated).' },
        { name: 'WebSocket', message: 'Live events come through useLiveEvents (src/api/live-events.ts).' },
        { name: 'EventSource', message: 'Live events come through useLiveEvents (src/api/live-events.ts).' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'window', property: 'fetch', message: 'Use the generated client instead of fetch.' },
        { object: 'globalThis', property: 'fetch', message: 'Use the generated client instead of fetch.' },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['socket.io-client'],
              message: 'Live events come through useLiveEvents (src/api/live-events.ts).',
            },
            { group: ['axios', 'ky', 'ofetch', 'openapi-fetch'], message: 'Use the generated client.' },
            {
              group: ['**/api/generated/client', '**/api/generated/client/*'],
              message: 'Use the generated SDK and query options, configured in src/api/client.ts.',
            },
            {
              group: ['@app/*', '**/libs/**'],
              message: 'The web app talks to the server over HTTP, never by importing its code.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/**/*.ts'],
    ignores: ['apps/web/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // `@app/core/http` is core's second barrel: the HTTP-only pieces the API and the worker serve;
              // `@app/core/start` its third: how an app starts, before any of the rest loads.
              group: ['@app/*/*', '!@app/core/http', '!@app/core/start'],
              message: 'Import a lib only through its barrel (@app/<lib>, @app/core/http or @app/core/start).',
            },
            { group: ['**/libs/**'], message: 'Import a lib through its barrel, never by path.' },
            { group: ['**/apps/**'], message: 'Apps never import each other.' },
          ],
        },
      ],
    },
  },
  {
    // Tests and benchmarks read untyped JSON bodies all day; type-aware "unsafe" rules add noise there.
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      'no-console': 'off',
    },
  },
);
