import type { CellValue } from './types.js';

/** How a value reads in both formats. An absent value shows as an em dash, so an empty cell is never ambiguous. */
export function formatValue(value: CellValue | CellValue[]): string {
  if (Array.isArray(value)) return value.length === 0 ? '—' : value.map(formatValue).join(', ');
  if (value === null) return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

export function formatOptional(value: string | null | undefined): string {
  return value === null || value === undefined || value === '' ? '—' : value;
}
