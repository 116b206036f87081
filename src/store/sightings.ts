import type { Db } from './db.js';

/** An unknown face seen at the door: time and camera only, never an image or descriptor. */
export interface Sighting {
  /** UTC ISO 8601. */
  occurredAt: string;
  camera: string;
  /** Distance to the nearest enrolled user, when there was one. */
  distance: number | null;
}

export function insertSighting(db: Db, sighting: Sighting): void {
  db.prepare(
    `INSERT INTO sightings (occurred_at, camera, distance)
     VALUES (@occurredAt, @camera, @distance)`,
  ).run(sighting);
}

export function countSightings(db: Db): number {
  return (db.prepare('SELECT count(*) AS n FROM sightings').get() as { n: number }).n;
}
