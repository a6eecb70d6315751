import type { Severity } from './types.js';

/** Most severe first: the order of legends and of counts. */
export const SEVERITY_ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

export const SEVERITY_LABEL: Record<Severity, string> = {
  critical: 'CRITICAL',
  high: 'HIGH',
  medium: 'MEDIUM',
  low: 'LOW',
  info: 'INFO',
};

/** PDF colours: a strong one for the badge and a pale tint of it for the row background (text stays readable). */
export const SEVERITY_COLOUR: Record<Severity, { badge: string; tint: string }> = {
  critical: { badge: '#8b0000', tint: '#f6d5d5' },
  high: { badge: '#c2410c', tint: '#fde2cf' },
  medium: { badge: '#a16207', tint: '#fdf0c4' },
  low: { badge: '#1d4ed8', tint: '#dbe6fd' },
  info: { badge: '#475569', tint: '#e6eaef' },
};

/** The severities that occur in the given highlights, most severe first. */
export function severitiesPresent(severities: Iterable<Severity>): Severity[] {
  const present = new Set(severities);
  return SEVERITY_ORDER.filter((s) => present.has(s));
}
