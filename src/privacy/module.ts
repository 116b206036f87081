import type { Module, Runtime } from '../daemon.js';
import { loadTemplateKey } from './crypto.js';
import { checkTemplateKey } from './keys.js';

/**
 * Checks the template key right after the database opens, before the model loads: a missing
 * or wrong key stops the start at once with a configuration error, instead of a matcher that
 * recognises nobody or a failure a minute later.
 */
export function privacyModule(runtime: Pick<Runtime, 'config' | 'db' | 'logger'>): Module {
  const logger = runtime.logger.child({ module: 'privacy' });
  return {
    name: 'privacy',
    async start() {
      const key = loadTemplateKey(runtime.config);
      const check = checkTemplateKey(runtime.db, key);
      logger.debug({ keyId: key?.id ?? null, ...check }, 'template key checked');
      if (key && check.unencrypted > 0) {
        logger.warn(
          { unencrypted: check.unencrypted },
          'some face templates are not encrypted; run presente templates rekey --new-key ' +
            'with the configured key file to encrypt them',
        );
      }
      if (!key && check.unencrypted > 0) {
        logger.debug({}, 'face templates are stored unencrypted (privacy.template_key_file)');
      }
    },
    async stop() {},
  };
}
