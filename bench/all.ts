// Runs every benchmark in one process, one after another, and writes docs/BENCHMARKS.md:
// the machine, the date and each table. Ratios in a table come from a single run.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { packageRoot, softwareVersion } from '../src/paths.js';

interface Bench {
  title: string;
  module: string;
}

const benches: Bench[] = [
  { title: 'Vision', module: './vision.js' },
  { title: 'Pipeline beside the naive loop', module: './pipeline.js' },
  { title: 'Outbox drain', module: './outbox.js' },
  { title: 'Reports, retention and the template codec', module: './reports.js' },
  { title: 'Soak', module: './soak.js' },
];

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return [
    `- date: ${new Date().toISOString()}`,
    `- presente ${softwareVersion}, Node ${process.version}, ${process.platform}/${process.arch}`,
    `- ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory`,
  ].join('\n');
}

const sections: string[] = [];
for (const bench of benches) {
  process.stderr.write(`bench: ${bench.title}...\n`);
  const began = performance.now();
  try {
    const { run } = (await import(bench.module)) as { run: () => Promise<string> };
    const table = await run();
    const seconds = ((performance.now() - began) / 1000).toFixed(0);
    sections.push(`## ${bench.title}\n\n${table.trim()}\n\n(took ${seconds} s)`);
    process.stdout.write(`\n## ${bench.title}\n\n${table.trim()}\n`);
  } catch (err) {
    sections.push(`## ${bench.title}\n\nfailed: ${(err as Error).message}`);
    process.stderr.write(`bench: ${bench.title} failed: ${(err as Error).stack}\n`);
    process.exitCode = 1;
  }
}

const text = [
  '# Benchmarks',
  '',
  'Written by `npm run bench`; each table also has its own script (`npm run bench:vision`,',
  '`bench:pipeline`, `bench:outbox`, `bench:reports`, `bench:soak`). Figures from one run on this',
  'machine:',
  '',
  machine(),
  '',
  ...sections.flatMap((s) => [s, '']),
].join('\n');
writeFileSync(join(packageRoot, 'docs', 'BENCHMARKS.md'), text);
process.stderr.write('bench: wrote docs/BENCHMARKS.md\n');
