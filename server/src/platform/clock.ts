/** Time is an edge: services take a Clock so tests can move time without sleeping. */
export type Clock = { now(): Date };

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests can set and advance. */
export function createManualClock(start: Date | string = '2026-01-01T00:00:00.000Z') {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    set: (to: Date | string) => {
      current = new Date(to).getTime();
    },
    advance: (ms: number) => {
      current += ms;
    },
  };
}

/** A stored time as ISO 8601 text (rows give Date objects, or text from some drivers); null stays null. */
export function toIso(value: Date | string | null | undefined): string | null {
  return value ? new Date(value).toISOString() : null;
}
