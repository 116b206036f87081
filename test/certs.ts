import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Certificates {
  ca: string;
  /** Server certificate and key for 127.0.0.1. */
  serverCert: string;
  serverKey: string;
  /** Client certificate and key by common name. */
  clients: Record<string, { cert: string; key: string }>;
}

/** A CA, a server certificate for 127.0.0.1 and client certificates, made with openssl. */
export function makeCertificates(dir: string, clientNames: string[]): Certificates {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=presente-test-ca',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
  );
  const sign = (name: string, cn: string, extensions: string) => {
    writeFileSync(file(`${name}.ext`), extensions);
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
    );
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.crt`),
    );
    return { cert: file(`${name}.crt`), key: file(`${name}.key`) };
  };
  const server = sign(
    'server',
    '127.0.0.1',
    'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  const clients: Certificates['clients'] = {};
  for (const name of clientNames) {
    clients[name] = sign(`client-${name}`, name, 'extendedKeyUsage=clientAuth\n');
  }
  return { ca: file('ca.crt'), serverCert: server.cert, serverKey: server.key, clients };
}
