// @ts-check
// The configuration `nest new` generated up to Nest 11 (ESLint, typescript-eslint's type-checked
// rules, Prettier as a lint rule), adapted to ES modules: sourceType 'module'.
import eslint from '@eslint/js';
import eslintPluginPrettierRecommended from 'eslint-plugin-prettier/recommended';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Package imports a file may not make, beside the deep ones no file may make. */
function layers(rules) {
  const deep = {
    group: ['@podium/*/*', '!@podium/*/package.json', '**/libs/*/src/**'],
    message: "Import a podium package by its name: its exports are its API, not its files.",
  };
  return rules.map(({ files, forbidden, message }) => ({
    files,
    ignores: forbidden.length ? ['**/*.spec.ts'] : [],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: forbidden.length
            ? [deep, { group: forbidden, message }]
            : [deep],
        },
      ],
    },
  }));
}

export default tseslint.config(
  {
    ignores: [
      'eslint.config.mjs',
      'dist/**',
      'coverage/**',
      'bench/results/**',
      '**/public/**',
      'test/**/*.js',
      'jest.config.js',
      // A project of its own (npm run test:example type-checks and tests it on the packed packages).
      'examples/own-app/**',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  eslintPluginPrettierRecommended,
  {
    languageOptions: {
      globals: {
        ...globals.node,
        ...globals.jest,
      },
      sourceType: 'module',
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-floating-promises': 'warn',
      '@typescript-eslint/no-unsafe-argument': 'warn',
      'prettier/prettier': ['error', { endOfLine: 'auto' }],
    },
  },
  // Layers, from the bottom: @podium/redis (connections, targets, Lua loading, key placement)
  // imports no other podium package; the engine, @podium/core, only @podium/redis: it knows
  // no Olympics; the test kit, @podium/testing, builds on those two. The Olympics domain
  // (@podium/orders) and its listeners are an app of the engine, above it. Everywhere, a
  // package is imported by its name only: its exports are its API. Specs may import what
  // they test with.
  ...layers([
    {
      files: ['**/*.ts'],
      forbidden: [],
    },
    {
      files: ['libs/redis/src/**/*.ts'],
      forbidden: ['@podium/*'],
      message: '@podium/redis is the bottom layer: it imports no other podium package.',
    },
    {
      files: ['libs/core/src/**/*.ts'],
      forbidden: ['@podium/*', '!@podium/redis'],
      message: 'The engine, @podium/core, builds on @podium/redis only: it knows no Olympics and no test kit.',
    },
    {
      files: ['libs/testing/src/**/*.ts'],
      forbidden: ['@podium/*', '!@podium/redis', '!@podium/core'],
      message: 'The test kit, @podium/testing, builds on @podium/core and @podium/redis only: it knows no Olympics.',
    },
    {
      files: ['libs/orders/src/**/*.ts'],
      forbidden: ['@podium/listeners', '@podium/testing'],
      message: 'The Olympics domain, @podium/orders, builds on the engine, not on its listeners or the test kit.',
    },
  ]),
  {
    // Tests read HTTP answers through supertest, whose `body` is `any` by design, and assert
    // on them with expect(): the unsafe-any rules would only add casts there.
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/support/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
