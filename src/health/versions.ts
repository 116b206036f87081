import { createRequire } from 'node:module';
import { softwareVersion } from '../paths.js';

export interface Versions {
  presente: string;
  node: string;
  tfjs: string | null;
  face_api: string | null;
}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string | null {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

let cached: Versions | undefined;

/** Versions of the software that decides what the terminal does; read once. */
export function softwareVersions(): Versions {
  cached ??= {
    presente: softwareVersion,
    node: process.versions.node,
    tfjs: packageVersion('@tensorflow/tfjs-core'),
    face_api: packageVersion('@vladmandic/face-api'),
  };
  return cached;
}
