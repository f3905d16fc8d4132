// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const LIBS = ['core', 'adapters', 'composition', 'generation', 'delivery'];

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
            message: `libs/${lib} may import only ${LIBS.slice(0, i).join(', ') || 'no other lib'} (core ← adapters ← composition ← generation ← delivery).`,
          },
          { group: ['@app/*/*'], message: 'Import another lib only through its barrel (@app/<lib>).' },
          { group: ['**/libs/**', '../../../*/src/**'], message: 'Never reach into another lib by a relative path.' },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', 'eslint.config.js', 'test/support/*.cjs'] },
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
    files: ['apps/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@app/*/*'], message: 'Import a lib only through its barrel (@app/<lib>).' },
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
