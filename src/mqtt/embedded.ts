import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../log.js';

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * An in-process broker (aedes, memory only) on localhost, for a demo without a broker. It keeps
 * nothing across restarts; the outbox still does, so nothing recorded is lost.
 */
export async function startEmbeddedBroker(port: number, log: Logger): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `mqtt://127.0.0.1:${actualPort}`;
  log.warn({ url }, 'no broker configured: started an embedded broker on localhost (demo only)');
  return {
    url,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        broker.close(() => undefined);
      }),
  };
}
