// `identity-accounts`: the service as a library. main.ts runs it; `identity-accounts/testing`
// (testing.ts) serves other projects' test suites.
export { createApp } from './app';
export { InvalidConfiguration, loadConfig } from './config/app-config';
export type { AppConfig } from './config/app-config';
