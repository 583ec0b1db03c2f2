import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/adapters'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFiles: ['<rootDir>/test/setup/reflect.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/setup/pristine-http.ts', '<rootDir>/test/setup/network.ts'],
  testTimeout: 20000,
  reporters: ['default', '<rootDir>/test/setup/summary-reporter.js'],
};

export default config;
