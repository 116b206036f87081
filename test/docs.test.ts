import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { commands } from '../src/commands/index.js';
import { REQUEST_NAMES, TOPIC_SPECS } from '../src/mqtt/topics.js';
import { root } from './helpers.js';

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const docs = readdirSync(join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => readFileSync(join(root, 'docs', f), 'utf8'))
  .join('\n');

describe('documentation', () => {
  it('names only commands that exist', () => {
    const names = new Set(commands.map((c) => c.name));
    const mentioned = new Set<string>();
    for (const match of readme.matchAll(/`presente ([a-z]+(?: [a-z]+)?)/g)) {
      const words = match[1]!.split(' ');
      const two = words.join(' ');
      mentioned.add(names.has(two) ? two : words[0]!);
    }
    assert.ok(mentioned.size > 5, 'the README names the commands');
    for (const name of mentioned) {
      const exists = names.has(name) || [...names].some((n) => n.startsWith(`${name} `));
      assert.ok(exists, `the README names presente ${name}, which does not exist`);
    }
  });

  it('gives the two commands for a fresh machine, and they exist', () => {
    const intro = readme.slice(0, readme.indexOf('\n## ', readme.indexOf('\n## ') + 1));
    assert.match(intro, /bash scripts\/demo\.sh/);
    assert.match(intro, /bash scripts\/test\.sh/);
    assert.ok(existsSync(join(root, 'scripts', 'demo.sh')));
    assert.ok(existsSync(join(root, 'scripts', 'test.sh')));
    assert.ok(readFileSync(join(root, 'scripts', 'test.sh'), 'utf8').includes('npm test'));
  });

  it('documents every topic and request of the topic map', () => {
    const mqttDoc = readFileSync(join(root, 'docs', 'MQTT.md'), 'utf8');
    for (const topic of Object.keys(TOPIC_SPECS)) {
      const named = [`## ${topic}`, `\`${topic}\``, `${topic}/<name>`].some((form) =>
        mqttDoc.includes(form),
      );
      assert.ok(named, `docs/MQTT.md does not name the topic ${topic}`);
    }
    assert.ok(mqttDoc.includes('request/<name>') && mqttDoc.includes('response/<name>'));
    for (const name of REQUEST_NAMES) {
      assert.ok(mqttDoc.includes(`| \`${name}\` |`), `docs/MQTT.md does not describe ${name}`);
    }
    assert.ok(docs.includes('<ha_prefix>/status'), 'Home Assistant birth topic');
  });

  it('has the documents a newcomer needs', () => {
    for (const file of [
      'ARCHITECTURE.md',
      'MQTT.md',
      'OPERATIONS.md',
      'TROUBLESHOOTING.md',
      'PRIVACY.md',
      'BENCHMARKS.md',
    ]) {
      assert.ok(existsSync(join(root, 'docs', file)), file);
    }
  });
});
