import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { soak } from '../bench/soak.js';
import { loadConfig } from '../src/config/load.js';

// The reduced soak: the benchmark's full run (npm run bench:soak) has 20,000 frames.
// 600 frames, so a few hundred kilobytes of noise in one row cannot read as a trend.
const FRAMES = 600;
const EVERY = 100;

describe('soak', () => {
  it('holds tensors, heap and RSS steady over the looped clip', async () => {
    const result = await soak({ frames: FRAMES, every: EVERY });
    assert.equal(result.rows.length, FRAMES / EVERY);
    assert.ok(result.steady.length >= 4);

    // Every analysis disposes of what it made: the count is the model's own weights.
    const tensors = new Set(result.rows.map((r) => r.tensors));
    assert.equal(tensors.size, 1, `tensor counts ${[...tensors].join(', ')}`);
    assert.ok(result.rows[0]!.tensors > 0);

    // The main heap after a full collection does not grow.
    assert.ok(result.heapSlopeMbPer1000 !== null);
    assert.ok(
      result.heapSlopeMbPer1000 < 1,
      `heap after gc grows ${result.heapSlopeMbPer1000} MB per 1,000 frames`,
    );

    // RSS stays under the default soft limit and near where the warm-up left it.
    const { config } = loadConfig({ env: {} });
    const warmUpMax = Math.max(
      ...result.rows.slice(0, result.rows.length - result.steady.length).map((r) => r.rssMb),
    );
    for (const row of result.steady) {
      assert.ok(row.rssMb < config.memory.soft_limit_mb, `rss ${row.rssMb} at ${row.frames}`);
      assert.ok(row.rssMb < warmUpMax + 64, `rss ${row.rssMb} MB at ${row.frames} frames`);
    }
  });
});
