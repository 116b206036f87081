import type { FaceBox } from '../vision/protocol.js';

/** One face in one analysed frame, with the matcher's verdict when it was described. */
export interface Observation {
  box: FaceBox;
  /** Whether a descriptor was computed (faces below the minimum size are not described). */
  described: boolean;
  /** The matched user; null when described and unknown, or not described. */
  match: { userId: number; userCode: string; distance: number } | null;
}

interface Vote {
  userCode: string;
  count: number;
  distanceSum: number;
}

/** A face followed across frames. */
export interface Track {
  id: number;
  box: FaceBox;
  firstSeen: number;
  lastSeen: number;
  /** Analysed frames the face was found in. */
  hits: number;
  /** Analysed frames in a row it was missing from. */
  missed: number;
  votes: Map<number, Vote>;
  unknownVotes: number;
  /** The outcomes of the latest described frames (a user id, or null for unknown). */
  recent: (number | null)[];
  /** Set once the track has been attributed to a user. */
  decidedUserId: number | null;
  /** Matches in a row, since the decision, for one other user (someone took the place). */
  switchVotes: { userId: number; count: number } | null;
}

export type TrackDecision =
  | {
      kind: 'user';
      track: Track;
      userId: number;
      userCode: string;
      /** Mean distance of the votes for the user. */
      distance: number;
    }
  | { kind: 'unknown'; track: Track };

export interface TrackerOptions {
  /** Consistent matches a track needs before it is attributed (vision.min_frames). */
  minFrames: number;
  /** Analysed frames a face may be missing before its track ends. */
  maxMissed?: number;
  /** Box overlap (intersection over union) that continues a track. */
  minIou?: number;
}

export function iou(a: FaceBox, b: FaceBox): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** Distance between box centres, relative to the larger box width. */
function centroidDistance(a: FaceBox, b: FaceBox): number {
  const dx = a.x + a.width / 2 - (b.x + b.width / 2);
  const dy = a.y + a.height / 2 - (b.y + b.height / 2);
  return Math.hypot(dx, dy) / Math.max(a.width, b.width, 1);
}

/** Centres closer than this (in face widths) continue a track when boxes barely overlap. */
const MAX_CENTROID_DISTANCE = 0.6;

/**
 * Follows faces across analysed frames by box overlap, falling back to centre distance for
 * a face that moves fast, and decides who a track is by vote: a user needs `minFrames`
 * matches that are also a majority of the latest described frames (the last 2 × `minFrames`).
 * The window, not the whole track, because a person walks up to the door: far away the face
 * is described but not recognised, and those early frames must not outvote the close ones.
 * One frame never decides. Each track is attributed at most once.
 */
export class FaceTracker {
  private tracks: Track[] = [];
  private nextId = 1;
  private readonly minFrames: number;
  private readonly maxMissed: number;
  private readonly minIou: number;
  /** Tracks created since the start. */
  created = 0;

  constructor(options: TrackerOptions) {
    this.minFrames = options.minFrames;
    this.maxMissed = options.maxMissed ?? 5;
    this.minIou = options.minIou ?? 0.3;
  }

  get size(): number {
    return this.tracks.length;
  }

  /**
   * True while a face in view still needs frames to be decided: the loop keeps analysing
   * even when nothing moves. A face that stays undecided for three times the frames a
   * decision needs (a poster, someone unknown standing still) stops forcing analysis.
   */
  get wantsFrames(): boolean {
    return this.tracks.some((t) => t.decidedUserId === null && t.hits < this.minFrames * 3);
  }

  /** Adds the faces of one analysed frame; returns the decisions it completes. */
  update(observations: Observation[], timestamp: number): TrackDecision[] {
    const assigned = this.associate(observations);
    const decisions: TrackDecision[] = [];
    const touched = new Set<Track>();

    for (const [i, observation] of observations.entries()) {
      const track = assigned.get(i) ?? this.open(observation.box, timestamp);
      touched.add(track);
      track.box = observation.box;
      track.lastSeen = timestamp;
      track.hits++;
      track.missed = 0;
      this.vote(track, observation);
      const decision = this.decide(track);
      if (decision) decisions.push(decision);
    }

    const kept: Track[] = [];
    for (const track of this.tracks) {
      if (!touched.has(track)) track.missed++;
      if (track.missed > this.maxMissed) {
        const ended = this.end(track);
        if (ended) decisions.push(ended);
      } else {
        kept.push(track);
      }
    }
    this.tracks = kept;
    return decisions;
  }

  /** Ends every track (the input ended); returns the unknown faces among them. */
  flush(): TrackDecision[] {
    const decisions = this.tracks.map((t) => this.end(t)).filter((d) => d !== null);
    this.tracks = [];
    return decisions;
  }

  private open(box: FaceBox, timestamp: number): Track {
    const track: Track = {
      id: this.nextId++,
      box,
      firstSeen: timestamp,
      lastSeen: timestamp,
      hits: 0,
      missed: 0,
      votes: new Map(),
      unknownVotes: 0,
      recent: [],
      decidedUserId: null,
      switchVotes: null,
    };
    this.tracks.push(track);
    this.created++;
    return track;
  }

  /** Greedy assignment of observations to tracks, best overlap first. */
  private associate(observations: Observation[]): Map<number, Track> {
    const pairs: { obs: number; track: Track; score: number }[] = [];
    for (const [i, observation] of observations.entries()) {
      for (const track of this.tracks) {
        const overlap = iou(observation.box, track.box);
        if (overlap >= this.minIou) {
          pairs.push({ obs: i, track, score: 1 + overlap });
          continue;
        }
        const distance = centroidDistance(observation.box, track.box);
        if (distance <= MAX_CENTROID_DISTANCE) pairs.push({ obs: i, track, score: 1 - distance });
      }
    }
    pairs.sort((a, b) => b.score - a.score);

    const assigned = new Map<number, Track>();
    const taken = new Set<Track>();
    for (const { obs, track } of pairs) {
      if (assigned.has(obs) || taken.has(track)) continue;
      assigned.set(obs, track);
      taken.add(track);
    }
    return assigned;
  }

  private vote(track: Track, observation: Observation): void {
    if (!observation.described) return;
    if (track.decidedUserId !== null) {
      this.watchForSwitch(track, observation);
      return;
    }
    track.recent.push(observation.match?.userId ?? null);
    if (track.recent.length > this.minFrames * 2) track.recent.shift();
    if (!observation.match) {
      track.unknownVotes++;
      return;
    }
    const { userId, userCode, distance } = observation.match;
    const vote = track.votes.get(userId) ?? { userCode, count: 0, distanceSum: 0 };
    vote.count++;
    vote.distanceSum += distance;
    track.votes.set(userId, vote);
  }

  /**
   * After a decision, someone else can step into the same place before the track ends (a
   * queue at the door). `minFrames` matches in a row for another user start the vote afresh.
   */
  private watchForSwitch(track: Track, observation: Observation): void {
    const userId = observation.match?.userId;
    if (userId === undefined || userId === track.decidedUserId) {
      track.switchVotes = null;
      return;
    }
    const count = track.switchVotes?.userId === userId ? track.switchVotes.count + 1 : 1;
    track.switchVotes = { userId, count };
    if (count < this.minFrames) return;
    track.decidedUserId = null;
    track.switchVotes = null;
    track.votes = new Map();
    track.unknownVotes = 0;
    track.recent = [];
    for (let i = 0; i < count; i++) this.vote(track, observation);
  }

  private decide(track: Track): TrackDecision | null {
    if (track.decidedUserId !== null) return null;
    const counts = new Map<number, number>();
    let userId: number | undefined;
    for (const id of track.recent) {
      if (id === null) continue;
      const count = (counts.get(id) ?? 0) + 1;
      counts.set(id, count);
      if (userId === undefined || count > (counts.get(userId) ?? 0)) userId = id;
    }
    if (userId === undefined) return null;
    const count = counts.get(userId) ?? 0;
    if (count < this.minFrames || count * 2 <= track.recent.length) return null;
    const vote = track.votes.get(userId)!;
    track.decidedUserId = userId;
    return {
      kind: 'user',
      track,
      userId,
      userCode: vote.userCode,
      distance: vote.distanceSum / vote.count,
    };
  }

  /** A track that ends without a user but was described often enough is an unknown face. */
  private end(track: Track): TrackDecision | null {
    if (track.decidedUserId !== null || track.unknownVotes < this.minFrames) return null;
    return { kind: 'unknown', track };
  }
}
