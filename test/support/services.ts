import { createServices, Services, ServicesOptions } from '../../src/composition-root';
import { loadConfig } from '../../src/config/app-config';
import { storesUnlessNamed } from './test-storage';

/** The composition root on a DATA_DIR (and its stores: test-storage.ts), configured as the service would be from these variables. */
export function openServices(dataDir: string, options: ServicesOptions & { env?: Record<string, string> } = {}): Promise<Services> {
  const { env, ...rest } = options;
  return createServices(loadConfig({ DATA_DIR: dataDir, ...storesUnlessNamed(dataDir, env), ...env }), rest);
}
