/** `['roles', '0']` under body → `body.roles[0]`: the same notation services use for their own field errors. */
export function fieldPath(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (out, part) => (typeof part === 'number' || /^\d+$/.test(String(part)) ? `${out}[${String(part)}]` : `${out}.${String(part)}`),
    prefix,
  );
}
