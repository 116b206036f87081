import type { TemplateKey } from '../privacy/crypto.js';
import { openDescriptor } from '../privacy/crypto.js';
import type { Db } from '../store/db.js';
import { DESCRIPTOR_LENGTH, loadActiveTemplates } from '../store/templates.js';

export interface MatchResult {
  /** The matched user, or null when the face is unknown. */
  userId: number | null;
  userCode: string | null;
  /** Distance to the nearest user's best template (Infinity with no templates). */
  distance: number;
  /** How much farther the second-nearest user is (Infinity with fewer than two users). */
  margin: number;
  /** The nearest user even when it is not a match, for tuning and duplicate checks. */
  nearestUserId: number | null;
  nearestUserCode: string | null;
}

export interface MatchSettings {
  /** Largest distance that can be a match (vision.match_threshold). */
  threshold: number;
  /** Smallest gap to the next user (vision.match_margin). */
  margin: number;
}

export interface TemplateEntry {
  userId: number;
  userCode: string;
  descriptor: Float32Array;
}

/**
 * 1:N identification. Every template sits in one Float32Array, 128 values each, so a match
 * is one pass over contiguous memory: the distance to every template, the best per user,
 * then the best and the second-best user.
 */
export class Matcher {
  private readonly descriptors: Float32Array;
  /** Per template: the index of its user in userIds/userCodes. */
  private readonly owner: Int32Array;
  private readonly userIds: number[] = [];
  private readonly userCodes: string[] = [];
  private readonly bestPerUser: Float64Array;
  /** Squared length of each template. */
  private readonly norms: Float64Array;
  private readonly probe = new Float64Array(DESCRIPTOR_LENGTH);

  constructor(
    entries: TemplateEntry[],
    private readonly settings: MatchSettings = { threshold: 0.5, margin: 0.05 },
  ) {
    this.descriptors = new Float32Array(entries.length * DESCRIPTOR_LENGTH);
    this.owner = new Int32Array(entries.length);
    const userIndex = new Map<number, number>();

    for (const [i, entry] of entries.entries()) {
      if (entry.descriptor.length !== DESCRIPTOR_LENGTH) {
        throw new Error(`template of ${entry.userCode} has ${entry.descriptor.length} values`);
      }
      let index = userIndex.get(entry.userId);
      if (index === undefined) {
        index = this.userIds.length;
        userIndex.set(entry.userId, index);
        this.userIds.push(entry.userId);
        this.userCodes.push(entry.userCode);
      }
      this.owner[i] = index;
      this.descriptors.set(entry.descriptor, i * DESCRIPTOR_LENGTH);
    }
    this.bestPerUser = new Float64Array(this.userIds.length);
    this.norms = new Float64Array(entries.length);
    for (const [i, entry] of entries.entries()) {
      let norm = 0;
      for (const value of entry.descriptor) norm += value * value;
      this.norms[i] = norm;
    }
  }

  /**
   * Templates of active users from the store, opened through the privacy layer. With a
   * modelId, templates made by another model (another descriptor space) are left out.
   */
  static fromStore(
    db: Db,
    key: TemplateKey | null,
    settings?: MatchSettings,
    modelId?: string,
  ): Matcher {
    const entries = loadActiveTemplates(db)
      .filter((row) => !modelId || row.modelId === modelId)
      .map((row) => ({
        userId: row.userId,
        userCode: row.userCode,
        descriptor: openDescriptor(row, key),
      }));
    return new Matcher(entries, settings);
  }

  /** The same templates minus one user's (the duplicate check at enrollment). */
  without(userId: number): Matcher {
    const entries: TemplateEntry[] = [];
    for (let t = 0; t < this.owner.length; t++) {
      const user = this.owner[t]!;
      if (this.userIds[user] === userId) continue;
      entries.push({
        userId: this.userIds[user]!,
        userCode: this.userCodes[user]!,
        descriptor: this.descriptors.subarray(t * DESCRIPTOR_LENGTH, (t + 1) * DESCRIPTOR_LENGTH),
      });
    }
    return new Matcher(entries, this.settings);
  }

  /** Number of templates. */
  get size(): number {
    return this.owner.length;
  }

  get users(): number {
    return this.userIds.length;
  }

  match(descriptor: Float32Array): MatchResult {
    const best = this.bestPerUser;
    best.fill(Number.POSITIVE_INFINITY);
    const all = this.descriptors;
    const owner = this.owner;
    const norms = this.norms;

    // |a - b|² = |a|² + |b|² - 2 a·b: one multiply-add per value, template norms precomputed.
    const probe = this.probe;
    probe.set(descriptor.subarray(0, DESCRIPTOR_LENGTH));
    let probeNorm = 0;
    for (let k = 0; k < DESCRIPTOR_LENGTH; k++) probeNorm += probe[k]! * probe[k]!;

    for (let t = 0, base = 0; t < owner.length; t++, base += DESCRIPTOR_LENGTH) {
      let d0 = 0;
      let d1 = 0;
      let d2 = 0;
      let d3 = 0;
      for (let k = 0; k < DESCRIPTOR_LENGTH; k += 4) {
        d0 += probe[k]! * all[base + k]!;
        d1 += probe[k + 1]! * all[base + k + 1]!;
        d2 += probe[k + 2]! * all[base + k + 2]!;
        d3 += probe[k + 3]! * all[base + k + 3]!;
      }
      const sum = Math.max(0, probeNorm + norms[t]! - 2 * (d0 + d1 + d2 + d3));
      const user = owner[t]!;
      if (sum < best[user]!) best[user] = sum;
    }

    let first = -1;
    let firstSq = Number.POSITIVE_INFINITY;
    let secondSq = Number.POSITIVE_INFINITY;
    for (let u = 0; u < best.length; u++) {
      const sq = best[u]!;
      if (sq < firstSq) {
        secondSq = firstSq;
        firstSq = sq;
        first = u;
      } else if (sq < secondSq) {
        secondSq = sq;
      }
    }

    const distance = Math.sqrt(firstSq);
    const margin = Math.sqrt(secondSq) - distance;
    const nearestUserId = first >= 0 ? this.userIds[first]! : null;
    const nearestUserCode = first >= 0 ? this.userCodes[first]! : null;
    const matched =
      first >= 0 && distance <= this.settings.threshold && margin >= this.settings.margin;
    return {
      userId: matched ? nearestUserId : null,
      userCode: matched ? nearestUserCode : null,
      distance,
      margin,
      nearestUserId,
      nearestUserCode,
    };
  }
}

/** Euclidean distance between two descriptors. */
export function descriptorDistance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let k = 0; k < a.length; k++) {
    const d = a[k]! - (b[k] ?? 0);
    sum += d * d;
  }
  return Math.sqrt(sum);
}

/** The match settings from the vision configuration section. */
export function matchSettings(vision: { match_threshold: number; match_margin: number }) {
  return { threshold: vision.match_threshold, margin: vision.match_margin };
}
