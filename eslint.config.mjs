// @ts-check
// The configuration `nest new` generated up to Nest 11 (ESLint, typescript-eslint's type-checked
// rules, Prettier as a lint rule), adapted to ES modules: sourceType 'module'.
import eslint from '@eslint/js';
import eslintPluginPrettierRecommended from 'eslint-plugin-prettier/recommended';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'eslint.config.mjs',
      'dist/**',
      'coverage/**',
      'bench/results/**',
      '**/public/**',
      'test/*.js',
      'jest.config.js',
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
  {
    // Layers: the infrastructure (connections, targets, Lua loading, key placement) imports
    // nothing of podium's engine or of the Olympics domain; its specs may use the test kit.
    files: ['libs/redis/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@podium/*'],
              message:
                '@podium/redis is the bottom layer: it imports no other podium package.',
            },
          ],
        },
      ],
    },
  },
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
